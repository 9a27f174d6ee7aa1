"""Pythia8 e+e- -> gamma*/Z -> hadrons at the Z pole, with the 20 TuneMC parameters.

``PythiaEE`` generates e+e- -> gamma*/Z -> q qbar (q = d u s c b) at sqrt(s) = 91.189 GeV
(option ``sqrt_s``) with the Monash tune (``Tune:ee = 7``, Pythia's default), no
initial-state photon radiation (``PDF:lepton = off``), and returns one row of
:data:`simulators.observables.FEATURE_NAMES` per event (event shapes, multiplicities,
momentum spectrum, identified-hadron counts; see that module).

Parameters
----------
Any real-valued Pythia parameter (``Settings::parm``) can be tuned by name; values are
set with ``readString("Name = value")``. Parameters not given in a call keep the value
they have after the fixed settings (the Monash values unless ``settings`` changes
them). :attr:`PythiaEE.default_space` is the TuneMC set with the ranges below and
:attr:`PythiaEE.truth` its Monash values.

Checked against the installed pythia8mc 8.317.2 (``Tune:ee = 7``): every Monash value
below equals Pythia's own default, and every requested range lies inside Pythia's
allowed ``[min, max]``, so no range had to be clipped to Pythia's limits. Differences
found:

* ``StringZ:aExtraSQuark``: Pythia allows down to -1.0; the default space keeps the
  requested 0.0 lower bound (narrower than Pythia's, so nothing to clip).
* ``StringFlav:decupletSup``: requested 0.0-1.0, but at exactly 0.0 Pythia 8.317 stalls
  (measured: 10 events took 33 s, 1000 events did not finish in 30 s; at 0.01 and above
  the rate is normal -- presumably the flavour selection keeps rejecting combinations
  that only a decuplet baryon can take, such as sss), so the default space starts at
  0.01. ``check_space`` logs a warning for a space that reaches below 0.01.
* All other ranges coincide with or lie inside Pythia's own limits (alphaSvalue
  0.06-0.25, pTmin and pTminChgQ 0.1-2.0, bLund 0.2-2.0, probabilities 0-1,
  vector-meson weights 0-3 are exactly Pythia's limits).

Seeds, caching, speed
---------------------
* One Pythia object per worker process and per fixed configuration (``sqrt_s``,
  ``settings``), cached in the module-level dict ``_GENERATORS`` (a cache in ``__main__``
  would be pickled by value and rebuilt on every task). The instance itself holds only
  its options, so it pickles in microseconds.
* ``init()`` (~75 ms) runs again only when the parameter point differs from the one the
  object was last initialised with. ``Random:setSeed = on`` / ``Random:seed = 1`` make
  ``init()`` itself reproducible, so a re-initialised object behaves exactly like a fresh
  one.
* Every call reseeds after init: ``pythia.rndm.init(seed_to_pythia(seed))`` (Pythia accepts
  seeds 1..900,000,000; the seed is hashed into that range, so seeds 9e8 apart no longer
  share a stream). Same (params, n, seed) -> bit-identical array in any process.
* Events come from ``Pythia.nextBatch`` in chunks of ``_CHUNK`` = 250 events and are
  reduced to features by the compiled kernel :func:`simulators.observables.event_features`.
  Each nextBatch call costs ~0.9 ms on top of the events, and batches of 1000+ events
  were measured slower per event than 250 (the arrays fall out of cache).
* A failed event (``next()`` returns false) is skipped by ``nextBatch``
  (``errorMode='skip'``) and more are generated until ``n`` good events exist; the
  sequence stays deterministic because it only depends on the random-number stream.

Requires the ``pythia`` extra (``pip install 'advopt[pythia]'``: pythia8mc, awkward, numba).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping

import numpy as np

from simulators.observables import FEATURE_NAMES, N_FEATURES

logger = logging.getLogger(__name__)

#: TuneMC parameters: name -> (low, high, Monash value). See the module docstring for the
#: comparison with Pythia's own defaults and limits.
TUNEMC: dict[str, tuple[float, float, float]] = {
    "TimeShower:alphaSvalue": (0.06, 0.25, 0.1365),
    "TimeShower:pTmin": (0.1, 2.0, 0.5),
    "TimeShower:pTminChgQ": (0.1, 2.0, 0.5),
    "StringPT:sigma": (0.0, 1.0, 0.335),
    "StringZ:bLund": (0.2, 2.0, 0.98),
    "StringZ:aExtraSQuark": (0.0, 2.0, 0.0),
    "StringZ:aExtraDiquark": (0.0, 2.0, 0.97),
    "StringZ:rFactC": (0.0, 2.0, 1.32),
    "StringZ:rFactB": (0.0, 2.0, 0.855),
    "StringFlav:probStoUD": (0.0, 1.0, 0.217),
    "StringFlav:probQQtoQ": (0.0, 1.0, 0.081),
    "StringFlav:probSQtoQQ": (0.0, 1.0, 0.915),
    "StringFlav:probQQ1toQQ0": (0.0, 1.0, 0.0275),
    "StringFlav:etaSup": (0.0, 1.0, 0.60),
    "StringFlav:etaPrimeSup": (0.0, 1.0, 0.12),
    "StringFlav:decupletSup": (0.01, 1.0, 1.0),  # 0.0 stalls Pythia 8.317: see module docstring
    "StringFlav:mesonUDvector": (0.0, 3.0, 0.50),
    "StringFlav:mesonSvector": (0.0, 3.0, 0.55),
    "StringFlav:mesonCvector": (0.0, 3.0, 0.88),
    "StringFlav:mesonBvector": (0.0, 3.0, 2.20),
}

SEED_RANGE = 900_000_000
_DECUPLET_SAFE = 0.01
_CHUNK = 250
_MAX_EMPTY_BATCHES = 20

# Per-process caches: fixed configuration -> generator; Pythia's parameter limits.
_GENERATORS: dict[tuple, "_Generator"] = {}
_LIMITS: dict[str, tuple[str, float, float, float]] | None = None


def _import_pythia():
    try:
        import pythia8mc
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the pythia-ee simulator needs pythia8mc, awkward and numba: pip install 'advopt[pythia]'"
        ) from err
    return pythia8mc


def seed_to_pythia(seed: int) -> int:
    """Map any integer seed onto Pythia's allowed range 1..900,000,000 through a hash
    (SeedSequence): a plain ``seed % 9e8`` gave seeds 9e8 apart one stream, 4-5 of the 32-bit
    task seeds each; hashed, two seeds share a stream only by chance (9e8 streams: for P
    tasks of a run, about P^2 / 1.8e9)."""
    key = int(seed) % 2**64  # negative seeds too
    return int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0] % SEED_RANGE) + 1


def base_settings(sqrt_s: float) -> tuple[str, ...]:
    """The fixed setting lines of the e+e- -> hadrons configuration (before user lines)."""
    return (
        "Beams:idA = 11",
        "Beams:idB = -11",
        f"Beams:eCM = {float(sqrt_s)!r}",
        "PDF:lepton = off",
        "WeakSingleBoson:ffbar2gmZ = on",
        "23:onMode = off",
        "23:onIfAny = 1 2 3 4 5",
        "Tune:ee = 7",
        "Print:quiet = on",
        "Check:event = off",
        "Next:numberCount = 0",
        "Random:setSeed = on",
        "Random:seed = 1",
    )


def pythia_limits() -> dict[str, tuple[str, float, float, float]]:
    """Pythia's real parameters: lower-case name -> (Name, min, max, default).

    ``min``/``max`` are -inf/inf where Pythia sets no limit. Cached per process.
    """
    global _LIMITS
    if _LIMITS is None:
        pythia8mc = _import_pythia()
        settings = pythia8mc.Pythia("", False).settings
        limits = {}
        for key, parm in settings.getParmMap("").items():
            low = parm.valMin if parm.hasMin else -math.inf
            high = parm.valMax if parm.hasMax else math.inf
            limits[key.lower()] = (parm.name, float(low), float(high), float(parm.valDefault))
        _LIMITS = limits
    return _LIMITS


def _check_name(name: str) -> tuple[str, float, float, float]:
    if not isinstance(name, str):
        raise ValueError(f"Pythia parameter names are strings, got {name!r}")
    entry = pythia_limits().get(name.lower())
    if entry is None:
        raise ValueError(f"{name!r} is not a real-valued Pythia parameter (check the spelling, e.g. 'TimeShower:alphaSvalue')")
    return entry


def _check_value(name: str, value) -> float:
    _, low, high, _ = _check_name(name)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Pythia parameter {name!r}: value must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"Pythia parameter {name!r}: value must be finite, got {value!r}")
    if value < low or value > high:
        raise ValueError(f"Pythia parameter {name!r}: value {value!r} is outside Pythia's allowed range [{low}, {high}]")
    return value


class _Generator:
    """One Pythia object with fixed settings; re-initialised when the parameter point changes."""

    def __init__(self, sqrt_s: float, settings: tuple[str, ...]):
        pythia8mc = _import_pythia()
        import awkward  # noqa: F401  (nextBatch needs it; fail here with a clear error)

        self.sqrt_s = float(sqrt_s)
        self.pythia = pythia8mc.Pythia("", False)
        for line in base_settings(sqrt_s) + tuple(settings):
            if not self.pythia.readString(line):
                raise ValueError(f"Pythia rejected the setting {line!r}")
        self.current: dict[str, float] | None = None
        self.base: dict[str, float] = {}  # value of each touched parameter before any tuning

    def configure(self, params: Mapping[str, float]) -> None:
        """Set ``params`` (validated, lower-case keys) and init(), unless already there."""
        if params == self.current:
            return
        touched = set(params) | set(self.current or ())
        for key in touched:
            if key not in self.base:
                self.base[key] = float(self.pythia.settings.parm(key))
        self.current = None
        for key in sorted(touched):
            value = params.get(key, self.base[key])
            if not self.pythia.readString(f"{key} = {value!r}"):
                raise ValueError(f"Pythia rejected {key} = {value!r}")
        if not self.pythia.init():
            raise RuntimeError(f"Pythia init() failed for parameters {dict(params)}")
        self.current = dict(params)

    def batches(self, n: int, seed: int):
        """``n`` events from ``seed``, as :class:`advopt.histograms.analysis.EventRecord` chunks."""
        from advopt.histograms.analysis import EventRecord

        self.pythia.rndm.init(seed_to_pythia(seed))
        done = 0
        empty = 0
        while done < n:
            batch = self.pythia.nextBatch(min(_CHUNK, n - done), "skip")
            prt = batch.layout.content("prt")
            n_got = len(prt)
            if n_got == 0:
                empty += 1
                if empty >= _MAX_EMPTY_BATCHES:
                    raise RuntimeError("Pythia failed to generate any event in many attempts")
                continue
            empty = 0
            rec = prt.content
            mom = rec.content("p")
            yield EventRecord(
                np.asarray(prt.offsets.data, dtype=np.int64),
                rec.content("id").data,
                rec.content("status").data,
                rec.content("mother1").data,
                mom.content("px").data,
                mom.content("py").data,
                mom.content("pz").data,
                mom.content("e").data,
                self.sqrt_s,
            )
            done += n_got

    def generate(self, n: int, seed: int) -> np.ndarray:
        from simulators.observables import event_features

        out = np.empty((n, N_FEATURES), dtype=np.float64)
        done = 0
        for ev in self.batches(n, seed):
            event_features(ev.offsets, ev.pid, ev.status, ev.mother1, ev.px, ev.py, ev.pz, ev.e, self.sqrt_s, out, done)
            done += ev.n_events
        return out



def _generator(sqrt_s: float, settings: tuple[str, ...]) -> _Generator:
    key = (float(sqrt_s), tuple(settings))
    gen = _GENERATORS.get(key)
    if gen is None:
        gen = _Generator(*key)
        _GENERATORS[key] = gen
    return gen


def _drop_generator(sqrt_s: float, settings: tuple[str, ...]) -> None:
    # a failed readString/init poisons the object: the next call builds a fresh one
    _GENERATORS.pop((float(sqrt_s), tuple(settings)), None)


class PythiaEE:
    """e+e- -> gamma*/Z -> hadrons with Pythia8 (Monash tune), features per event.

    Options
    -------
    sqrt_s : centre-of-mass energy in GeV (default 91.189).
    settings : extra Pythia setting lines, read after the fixed configuration
        (e.g. ``["23:onIfAny = 1 2 3"]``). Rejected lines raise ``ValueError`` at construction.

    ``simulate(params, n, seed)`` returns an ``(n, len(feature_names))`` float64 array.
    Raises ``ValueError`` for an unknown parameter or a value outside Pythia's limits
    (before any event is generated) and ``RuntimeError`` if Pythia cannot initialise.
    """

    def __init__(self, sqrt_s: float = 91.189, settings: Iterable[str] = ()):
        if isinstance(settings, str):
            settings = [settings]
        try:
            sqrt_s = float(sqrt_s)
        except (TypeError, ValueError):
            raise ValueError(f"sqrt_s must be a number in GeV, got {sqrt_s!r}") from None
        if not (math.isfinite(sqrt_s) and sqrt_s > 10.0):
            raise ValueError(f"sqrt_s must be a finite energy above 10 GeV, got {sqrt_s!r}")
        self.sqrt_s = sqrt_s
        self.settings = tuple(str(line) for line in settings)
        self.feature_names = FEATURE_NAMES
        self.default_space = {name: (low, high) for name, (low, high, _) in TUNEMC.items()}
        self.truth = {name: monash for name, (_, _, monash) in TUNEMC.items()}
        if self.settings:
            try:
                _generator(self.sqrt_s, self.settings)  # validate the lines now
            except ValueError:
                _drop_generator(self.sqrt_s, self.settings)
                raise

    def __repr__(self) -> str:
        extra = f", settings={list(self.settings)!r}" if self.settings else ""
        return f"PythiaEE(sqrt_s={self.sqrt_s!r}{extra})"

    # pickling: only the options travel (the cached Pythia object stays in the worker)
    def __getstate__(self) -> dict:
        return {"sqrt_s": self.sqrt_s, "settings": self.settings}

    def __setstate__(self, state: dict) -> None:
        self.sqrt_s = state["sqrt_s"]
        self.settings = tuple(state["settings"])
        self.feature_names = FEATURE_NAMES
        self.default_space = {name: (low, high) for name, (low, high, _) in TUNEMC.items()}
        self.truth = {name: monash for name, (_, _, monash) in TUNEMC.items()}

    def check_space(self, space) -> None:
        """Raise ``ValueError`` (one line, naming the parameter) if Pythia cannot take ``space``.

        ``space`` is an :class:`advopt.space.Space` or a dict ``{name: (low, high)}``.
        Checks that every name is a real-valued Pythia parameter and that both bounds lie
        within Pythia's own limits. Generates nothing.
        """
        from advopt.space import Space

        for p in Space.from_dict(space):
            _, low, high, _ = _check_name(p.name)
            if p.name.lower() == "stringflav:decupletsup" and p.low < _DECUPLET_SAFE:
                logger.warning("StringFlav:decupletSup below %s makes Pythia 8.317 stall on some events", _DECUPLET_SAFE)
            if p.low < low:
                raise ValueError(f"{p.name}: lower bound {p.low} is below Pythia's minimum {low}")
            if p.high > high:
                raise ValueError(f"{p.name}: upper bound {p.high} is above Pythia's maximum {high}")

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        """Generate ``n`` events at parameter point ``params`` with ``seed``: (n, d) float64."""
        n = _check_n(n)
        gen = self._configured(params)
        if n == 0:
            return np.empty((0, N_FEATURES), dtype=np.float64)
        return gen.generate(n, seed)

    def start_values(self, names) -> dict[str, float]:
        """Each named parameter's value under the fixed settings (Monash unless ``settings``
        change it): where a tune of these parameters starts from, for comparison."""
        gen = _generator(self.sqrt_s, self.settings)
        return {name: float(gen.base.get(_check_name(name)[0].lower(), gen.pythia.settings.parm(name))) for name in names}

    def fill_histograms(self, params: Mapping[str, float], n: int, seed: int, analyses, booking):
        """Generate ``n`` events at ``params`` with ``seed`` and return the analyses' fills of
        ``booking``'s bins (:class:`advopt.histograms.analysis.Fills`). The analyses see the
        whole event record, so identified-hadron spectra can count decayed hadrons."""
        from advopt.histograms.analysis import fill_events

        n = _check_n(n)
        return fill_events(analyses, self._configured(params).batches(n, seed), booking)

    def _configured(self, params: Mapping[str, float]) -> "_Generator":
        if not isinstance(params, Mapping):
            raise ValueError(f"params must be a mapping name -> value, got {type(params).__name__}")
        clean: dict[str, float] = {}
        for name, value in params.items():
            value = _check_value(name, value)
            key = name.lower()
            if key in clean and clean[key] != value:
                raise ValueError(f"Pythia parameter {name!r} given twice with different values")
            clean[key] = value
        gen = _generator(self.sqrt_s, self.settings)
        try:
            gen.configure(clean)
        except (ValueError, RuntimeError):
            _drop_generator(self.sqrt_s, self.settings)
            raise
        return gen


def _check_n(n) -> int:
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return n
