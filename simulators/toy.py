"""Toy simulators with known truth, for closure tests and benchmarks.

Every class here keeps the advopt simulator contract (see ``advopt.simulator``):
``simulate(params, n, seed)`` returns a float64 array of shape ``(n, d)``; the same
``(params, n, seed)`` gives a bit-identical array (only ``np.random.default_rng(seed)`` is
used, never global random state); ``feature_names``, ``default_space`` (a plain dict
``{name: (low, high)}``) and ``truth`` (inside the default space, neither at its centre
nor at a bound) are plain attributes, so the objects pickle to worker processes.

Registered in the entry-point group ``advopt.simulators`` as ``xor``, ``swiss-roll``,
``gaussian``, ``camel``, ``ring``, ``nsphere``, ``weinberg`` and ``smeared-decay``.

Sources:

- XOR and Swiss roll: M. Borisyak, T. Gaintseva, A. Ustyuzhanin, "Adaptive divergence for
  rapid adversarial optimization", PeerJ Comput. Sci. 6:e274 (2020); research code
  HSE-LAMBDA/rapid-ao (``advopt/tasks/xor.py``, ``advopt/tasks/roll.py``).
- Camel back, Gaussian ring, n-sphere shell: A. Butter, S. Diefenbacher, G. Kasieczka,
  B. Nachman, T. Plehn, "GANplifying event samples", SciPost Phys. 10, 139 (2021),
  arXiv:2008.06545 (shapes as in the paper; parameter values chosen here).
- Weinberg: G. Louppe, J. Hermans, K. Cranmer, "Adversarial Variational Optimization of
  Non-Differentiable Simulators", AISTATS 2019, arXiv:1707.07113; code glouppe/paper-avo
  (``code/weinberg.py``), after L. Heinrich and K. Cranmer (cranmer/active_sciencing).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping

import numpy as np

__all__ = [
    "XorRotation",
    "SwissRollRotation",
    "Gaussian",
    "CamelBack",
    "GaussianRing",
    "NSphereShell",
    "Weinberg",
    "SmearedDecay",
]


# -- shared validation (public entry points validate, private helpers compute) -------------
class _Toy:
    """Common plumbing: parameter/option validation and the (n, seed) checks."""

    feature_names: tuple[str, ...]
    default_space: dict[str, tuple[float, float]]
    truth: dict[str, float]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self.default_space)

    def _reject_unknown_options(self, unknown: Mapping) -> None:
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown option(s) {', '.join(sorted(map(repr, unknown)))}"
            )

    def _params(self, params: Mapping[str, float]) -> dict[str, float]:
        """Check names (none unknown) and finiteness; a parameter left out keeps its nominal
        value (the truth), as a space naming only some parameters expects. Return floats."""
        if not isinstance(params, Mapping):
            raise ValueError(
                f"{type(self).__name__}: params must be a mapping name -> value, got {type(params).__name__}"
            )
        expected = self.parameter_names
        unknown = sorted(set(params) - set(expected))
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown parameter(s) {', '.join(map(repr, unknown))} "
                             f"(expected {', '.join(expected)})")
        params = {**self.truth, **params}
        values = {}
        for name in expected:
            try:
                value = float(params[name])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{type(self).__name__}: parameter {name!r} must be a number, got {params[name]!r}"
                ) from None
            if not math.isfinite(value):
                raise ValueError(f"{type(self).__name__}: parameter {name!r} must be finite, got {value}")
            values[name] = value
        return values

    def _positive(self, name: str, value: float) -> None:
        if not value > 0:
            raise ValueError(f"{type(self).__name__}: parameter {name!r} must be > 0, got {value}")

    def _n(self, n) -> int:
        try:
            n = operator.index(n)
        except TypeError:
            raise ValueError(f"{type(self).__name__}: n must be an integer, got {n!r}") from None
        if n < 0:
            raise ValueError(f"{type(self).__name__}: n must be >= 0, got {n}")
        return n

    def __repr__(self) -> str:
        options = getattr(self, "_options", {})
        inside = ", ".join(f"{k}={v!r}" for k, v in options.items())
        return f"{type(self).__name__}({inside})"


def _nonnegative_float(owner: str, name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: option {name!r} must be a number, got {value!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}: option {name!r} must be a finite number >= 0, got {value}")
    return value


def _int_at_least(owner: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{owner}: option {name!r} must be an integer >= {minimum}, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{owner}: option {name!r} must be an integer >= {minimum}, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{owner}: option {name!r} must be an integer >= {minimum}, got {value}")
    return value


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate row vectors counter-clockwise by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    return points @ rotation.T


# -- Borisyak et al. (2020): rotated 2-d patterns --------------------------------------------
class XorRotation(_Toy):
    """Elongated Gaussian "petals" (the XOR task of Borisyak et al. 2020) rotated by an angle.

    Models nothing physical: a fixed 2-d pattern whose only parameter is a rotation, a test
    that a divergence can see a change of shape without a change of the marginal means.

    Pattern (as in the research code HSE-LAMBDA/rapid-ao, ``tasks/xor.py``): each event is
    ``z @ A + s * (2, 2)`` with ``z ~ N(0, I_2)``, ``A = [[0.25, 0.5], [0.5, 0.25]]`` and a
    fair sign ``s = +-1``: two petals centred at ``(2, 2)`` and ``(-2, -2)``, each
    elongated along the diagonal (std 0.75 along it, 0.25 across). With option
    ``petals=4`` half of the events are turned by 90 degrees first, giving the four-blob
    XOR picture with petals at ``(+-2, +-2)``, each elongated radially.

    Parameter: ``angle`` (radians), a counter-clockwise rotation of the whole pattern.
    (The research code multiplies row vectors by ``[[c, -s], [s, c]]``, i.e. turns them
    clockwise; the sign convention does not matter for tuning and the truth is the same.)

    Identifiability: the two-petal pattern is symmetric under a rotation by pi, the
    four-petal one under pi/2 (``symmetry_period``). The default space is that of the
    paper, ``angle in [-pi/16, pi/2]`` (width 1.77 < pi), and ``[-pi/16, pi/4]`` for
    ``petals=4`` (width 0.98 < pi/2): narrower than the period, so no two angles in it
    give the same distribution. Truth: ``angle = 0`` as in the paper (the unrotated
    pattern), 0.2 rad above the lower bound and away from the centre.

    Options: ``petals`` (2, default, as in the paper; or 4).
    """

    feature_names = ("x", "y")

    def __init__(self, *, petals: int = 2, **unknown):
        self._reject_unknown_options(unknown)
        if isinstance(petals, bool) or petals not in (2, 4):
            raise ValueError(f"XorRotation: option 'petals' must be 2 or 4, got {petals!r}")
        self.petals = int(petals)
        self._options = {"petals": self.petals}
        self.symmetry_period = math.pi if self.petals == 2 else math.pi / 2
        high = math.pi / 2 if self.petals == 2 else math.pi / 4
        self.default_space = {"angle": (-math.pi / 16, high)}
        self.truth = {"angle": 0.0}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        angle = self._params(params)["angle"]
        n = self._n(n)
        rng = np.random.default_rng(seed)
        return _rotate(_petals(rng, n, self.petals), angle)


_PETAL_SHAPE = np.array([[0.25, 0.5], [0.5, 0.25]])


def _petals(rng: np.random.Generator, n: int, petals: int) -> np.ndarray:
    z = rng.standard_normal((n, 2))
    sign = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    points = z @ _PETAL_SHAPE + 2.0 * sign[:, None]
    if petals == 4:
        turn = rng.random(n) < 0.5  # turn half the events by +90 degrees: (x, y) -> (-y, x)
        turned = np.column_stack([-points[:, 1], points[:, 0]])
        points = np.where(turn[:, None], turned, points)
    return points


class SwissRollRotation(_Toy):
    """A 2-d Swiss roll (spiral) rotated by an angle, the second task of Borisyak et al. 2020.

    Pattern (as in HSE-LAMBDA/rapid-ao, ``tasks/roll.py``, itself after scikit-learn's
    ``make_swiss_roll``): ``t = 1.5 pi (1 + 2 u)`` with ``u ~ U(0, 1)``, event
    ``(t cos t, t sin t) / 10`` plus independent Gaussian noise of std ``noise`` in each
    coordinate; then the whole pattern is rotated counter-clockwise by ``angle``.

    Parameter: ``angle`` (radians). The spiral has no rotational symmetry (period 2 pi);
    the default space is the paper's, ``[-pi/16, pi]``, truth ``angle = 0`` (unrotated).

    Options: ``noise`` (std of the Gaussian noise per coordinate, same units as the
    coordinates; default 0.05 as in the research code; 0 gives points exactly on the spiral).
    """

    feature_names = ("x", "y")
    symmetry_period = 2 * math.pi

    def __init__(self, *, noise: float = 0.05, **unknown):
        self._reject_unknown_options(unknown)
        self.noise = _nonnegative_float("SwissRollRotation", "noise", noise)
        self._options = {"noise": self.noise}
        self.default_space = {"angle": (-math.pi / 16, math.pi)}
        self.truth = {"angle": 0.0}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        angle = self._params(params)["angle"]
        n = self._n(n)
        rng = np.random.default_rng(seed)
        t = 1.5 * np.pi * (1.0 + 2.0 * rng.random(n))
        points = np.column_stack([t * np.cos(t), t * np.sin(t)]) / 10.0
        noise = rng.standard_normal((n, 2))
        if self.noise > 0:
            points = points + self.noise * noise
        return _rotate(points, angle)


# -- simple densities ------------------------------------------------------------------------
class Gaussian(_Toy):
    """An isotropic Gaussian in ``dim`` dimensions: ``x ~ N(mean * 1, width^2 * I)``.

    The simplest closure test (also a task of Borisyak et al. 2020). Parameters: ``mean``
    (the same for every coordinate) and ``width`` (standard deviation, > 0), both in the
    units of x. Default space ``mean in [-2, 2]``, ``width in [0.5, 2]``; truth
    ``mean = 0.5``, ``width = 1.0``.

    Options: ``dim`` (number of coordinates, default 1).
    """

    def __init__(self, *, dim: int = 1, **unknown):
        self._reject_unknown_options(unknown)
        self.dim = _int_at_least("Gaussian", "dim", dim, 1)
        self._options = {"dim": self.dim}
        self.feature_names = ("x",) if self.dim == 1 else tuple(f"x{i}" for i in range(self.dim))
        self.default_space = {"mean": (-2.0, 2.0), "width": (0.5, 2.0)}
        self.truth = {"mean": 0.5, "width": 1.0}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        self._positive("width", p["width"])
        n = self._n(n)
        rng = np.random.default_rng(seed)
        return p["mean"] + p["width"] * rng.standard_normal((n, self.dim))


class CamelBack(_Toy):
    """The 1-d "camel back" of Butter et al. (GANplifying event samples, 2020).

    Density ``a N(x; mu1, s1) + (1 - a) N(x; mu2, s2)``: two Gaussian humps. Parameters:
    ``a`` (weight of the first hump, in [0, 1]), ``mu1``, ``s1`` (mean and std of the first
    hump), ``mu2``, ``s2`` (of the second), in the units of x; stds must be > 0.

    Default space: ``a in [0.1, 0.7]``, ``mu1 in [-2, 1.5]``, ``s1 in [0.5, 2]``,
    ``mu2 in [2.5, 6]``, ``s2 in [0.5, 2]``. The ``mu1`` range lies wholly below the ``mu2``
    range, so the humps cannot swap labels and the truth is unique. Truth: an asymmetric
    camel ``a = 0.3``, ``mu1 = 0``, ``s1 = 1``, ``mu2 = 4``, ``s2 = 1``.
    """

    feature_names = ("x",)

    def __init__(self, **unknown):
        self._reject_unknown_options(unknown)
        self._options = {}
        self.default_space = {
            "a": (0.1, 0.7),
            "mu1": (-2.0, 1.5),
            "s1": (0.5, 2.0),
            "mu2": (2.5, 6.0),
            "s2": (0.5, 2.0),
        }
        self.truth = {"a": 0.3, "mu1": 0.0, "s1": 1.0, "mu2": 4.0, "s2": 1.0}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        if not 0.0 <= p["a"] <= 1.0:
            raise ValueError(f"CamelBack: parameter 'a' must be in [0, 1], got {p['a']}")
        self._positive("s1", p["s1"])
        self._positive("s2", p["s2"])
        n = self._n(n)
        rng = np.random.default_rng(seed)
        first = rng.random(n) < p["a"]
        z = rng.standard_normal(n)
        x = np.where(first, p["mu1"] + p["s1"] * z, p["mu2"] + p["s2"] * z)
        return x[:, None]


# -- Butter et al. (2020): ring and shell ------------------------------------------------------
class NSphereShell(_Toy):
    """A spherical shell in ``dim`` dimensions (Butter et al., GANplifying event samples, 2020).

    Each event: a direction uniform on the unit sphere S^(dim-1) times a radius
    ``r ~ N(radius, width^2)``. Parameters: ``radius`` (mean radius) and ``width`` (Gaussian
    std of the radius, > 0), in the units of x. Default space ``radius in [1, 6]``,
    ``width in [0.1, 2]``; truth ``radius = 4``, ``width = 0.5``. (Where ``width`` is not
    small compared with ``radius``, a negative draw of r puts the point on the opposite
    side; the distribution stays well defined.)

    Options: ``dim`` (number of coordinates, >= 2, default 5).
    """

    _min_dim = 2

    def __init__(self, *, dim: int = 5, **unknown):
        self._reject_unknown_options(unknown)
        self.dim = _int_at_least(type(self).__name__, "dim", dim, self._min_dim)
        self._options = {"dim": self.dim}
        self.feature_names = tuple(f"x{i}" for i in range(self.dim))
        self.default_space = {"radius": (1.0, 6.0), "width": (0.1, 2.0)}
        self.truth = {"radius": 4.0, "width": 0.5}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        self._positive("width", p["width"])
        n = self._n(n)
        rng = np.random.default_rng(seed)
        return _shell(rng, n, self.dim, p["radius"], p["width"])


def _shell(rng: np.random.Generator, n: int, dim: int, radius: float, width: float) -> np.ndarray:
    if dim == 2:  # a uniform angle is cheaper and exact
        phi = rng.uniform(0.0, 2.0 * np.pi, n)
        direction = np.column_stack([np.cos(phi), np.sin(phi)])
    else:
        direction = rng.standard_normal((n, dim))
        norm = np.linalg.norm(direction, axis=1)
        norm[norm == 0.0] = 1.0  # probability zero; keeps the output finite
        direction /= norm[:, None]
    r = radius + width * rng.standard_normal(n)
    return direction * r[:, None]


class GaussianRing(NSphereShell):
    """A 2-d Gaussian ring (Butter et al., GANplifying event samples, 2020).

    Each event: polar angle uniform in [0, 2 pi), radius ``r ~ N(radius, width^2)``.
    Parameters: ``radius`` and ``width`` (> 0), in the units of x and y. Default space
    ``radius in [1, 6]``, ``width in [0.1, 2]``; truth ``radius = 4``, ``width = 0.5``.
    No options.
    """

    def __init__(self, **unknown):
        self._reject_unknown_options(unknown)
        super().__init__(dim=2)
        self._options = {}
        self.feature_names = ("x", "y")


# -- Louppe, Hermans, Cranmer (AVO): Weinberg-angle toy -------------------------------------
class Weinberg(_Toy):
    """Forward-backward asymmetry toy for e+e- -> mu+mu- (Louppe, Hermans, Cranmer, AVO 2017).

    One feature, ``cos_theta`` of the outgoing muon, drawn from the toy differential
    cross section of the AVO paper's code (after Heinrich and Cranmer)::

        dsigma/dcos(theta)  ~  1 + cos^2(theta) + A cos(theta),
        A = 2 * gf_scale * tanh(10 (sqrt_s - MZ) / MZ),   MZ = 90 GeV (the toy's value),

    on [-1, 1], normalised by 8/3. The forward-backward asymmetry is A_FB = 3 A / 8:
    negative below the Z, zero at sqrt_s = MZ, positive above, its size scaled by
    ``gf_scale``. Where ``|A| > 2`` (corners of the default space) the formula would turn
    negative near cos(theta) = -sign(A); the density is clipped at zero there, which is
    what the original accept-reject sampler did implicitly. This is a toy
    parametrisation, not the electroweak cross section.

    Parameters: ``sqrt_s`` (centre-of-mass energy, GeV) and ``gf_scale`` (the Fermi
    constant in units of its nominal value, dimensionless). The paper's example varies the
    *beam energy* ``E_beam = sqrt_s / 2`` in [40, 50] GeV with truth 42 GeV, and G_f in
    [0.5, 1.5] with truth 0.9; in terms of sqrt_s that is the default space
    ``sqrt_s in [80, 100]`` GeV, ``gf_scale in [0.5, 1.5]``, truth ``sqrt_s = 84``,
    ``gf_scale = 0.9``.

    Sampling: vectorised accept-reject against the flat envelope ``2 + |A|`` (exact, the
    maximum of the convex density on [-1, 1]); acceptance >= 27% in the default space.

    Options: ``smearing`` (std of a Gaussian detector resolution added to cos(theta),
    result clipped to [-1, 1]; default 0, as in the original which has none).
    """

    feature_names = ("cos_theta",)
    MZ = 90.0  # GeV, the value in the original toy (not the PDG 91.19)

    def __init__(self, *, smearing: float = 0.0, **unknown):
        self._reject_unknown_options(unknown)
        self.smearing = _nonnegative_float("Weinberg", "smearing", smearing)
        self._options = {"smearing": self.smearing}
        self.default_space = {"sqrt_s": (80.0, 100.0), "gf_scale": (0.5, 1.5)}
        self.truth = {"sqrt_s": 84.0, "gf_scale": 0.9}

    @classmethod
    def asymmetry_coefficient(cls, sqrt_s: float, gf_scale: float) -> float:
        """The coefficient A of cos(theta) in the unnormalised cross section."""
        return 2.0 * gf_scale * math.tanh(10.0 * (sqrt_s - cls.MZ) / cls.MZ)

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        self._positive("sqrt_s", p["sqrt_s"])
        n = self._n(n)
        rng = np.random.default_rng(seed)
        x = _sample_weinberg(rng, n, self.asymmetry_coefficient(p["sqrt_s"], p["gf_scale"]))
        if self.smearing > 0:
            x = np.clip(x + self.smearing * rng.standard_normal(n), -1.0, 1.0)
        return x[:, None]


def _sample_weinberg(rng: np.random.Generator, n: int, a: float) -> np.ndarray:
    """Accept-reject from max(0, 1 + c^2 + a c) on [-1, 1], vectorised in batches."""
    envelope = 2.0 + abs(a)
    # expected acceptance = integral / (2 * envelope); the unclipped integral is 8/3 (the
    # clipped one is a little larger), so this is a slight underestimate; loops top up.
    efficiency = max((8.0 / 3.0) / (2.0 * envelope), 0.05)
    out = np.empty(n)
    filled = 0
    while filled < n:
        want = n - filled
        batch = int(want / efficiency * 1.1) + 16
        c = rng.uniform(-1.0, 1.0, batch)
        u = rng.random(batch) * envelope
        accepted = c[u < 1.0 + c * c + a * c]
        take = min(want, accepted.size)
        out[filled:filled + take] = accepted[:take]
        filled += take
    return out


# -- a detector toy: an exponential decay seen through a Gaussian resolution ------------------
class SmearedDecay(_Toy):
    """Decay times ``t ~ Exponential(mean = lifetime)`` measured with a Gaussian detector
    resolution: one feature ``t_measured = t + resolution * z``, ``z ~ N(0, 1)``.

    The measured density is the exponentially modified Gaussian (``scipy.stats.exponnorm``
    with ``K = lifetime / resolution``, ``scale = resolution``), so a maximum-likelihood fit
    gives the statistical limit of a tune. Both parameters shape the same peak, and the
    resolution is seen only in the rising edge: a correlated, detector-like pair.

    Parameters: ``lifetime`` (> 0) and ``resolution`` (> 0), in the units of t. Default
    space ``lifetime in [0.5, 2]``, ``resolution in [0.1, 1]``; truth ``lifetime = 1.2``,
    ``resolution = 0.3``.
    """

    feature_names = ("t_measured",)

    def __init__(self, **unknown):
        self._reject_unknown_options(unknown)
        self._options = {}
        self.default_space = {"lifetime": (0.5, 2.0), "resolution": (0.1, 1.0)}
        self.truth = {"lifetime": 1.2, "resolution": 0.3}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        self._positive("lifetime", p["lifetime"])
        self._positive("resolution", p["resolution"])
        n = self._n(n)
        rng = np.random.default_rng(seed)
        t = rng.exponential(p["lifetime"], n)
        return (t + p["resolution"] * rng.standard_normal(n))[:, None]
