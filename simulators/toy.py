"""Toy simulators with known truth, for closure tests and benchmarks: the common plumbing
and the simple densities.

Every toy keeps the advopt simulator contract (see ``advopt.simulator``):
``simulate(params, n, seed)`` returns a float64 array of shape ``(n, d)``; the same
``(params, n, seed)`` gives a bit-identical array (only ``np.random.default_rng(seed)`` is
used, never global random state); ``feature_names``, ``default_space`` (a plain dict
``{name: (low, high)}``) and ``truth`` (inside the default space, neither at its centre
nor at a bound) are plain attributes, so the objects pickle to worker processes. This
module holds their shared validation (:class:`ToySimulator` and the option checks) and the simple
densities :class:`Gaussian`, :class:`MixedGaussians` and :class:`CamelBack`; the rotated patterns and shells live in
:mod:`simulators.toys_geometric`, the physics-like toys in :mod:`simulators.toys_physics`.

Registered in the entry-point group ``advopt.simulators`` (as ``MODULE:<class>``) as
``xor``, ``swiss-roll``, ``gaussian``, ``mixed-gaussians``, ``camel``, ``degenerate``, ``ring``, ``nsphere``, ``weinberg`` and
``smeared-decay``.

Sources:

- Gaussian: a task of M. Borisyak, T. Gaintseva, A. Ustyuzhanin, "Adaptive divergence for
  rapid adversarial optimization", PeerJ Comput. Sci. 6:e274 (2020).
- Camel back: A. Butter, S. Diefenbacher, G. Kasieczka, B. Nachman, T. Plehn,
  "GANplifying event samples", SciPost Phys. 10, 139 (2021), arXiv:2008.06545 (shape as
  in the paper; parameter values chosen here).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping

import numpy as np

__all__ = ["Gaussian", "MixedGaussians", "CamelBack", "Degenerate"]


# -- shared validation (public entry points validate, private helpers compute) -------------
class ToySimulator:
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


def nonnegative_float(owner: str, name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: option {name!r} must be a number, got {value!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}: option {name!r} must be a finite number >= 0, got {value}")
    return value


def int_at_least(owner: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{owner}: option {name!r} must be an integer >= {minimum}, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{owner}: option {name!r} must be an integer >= {minimum}, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{owner}: option {name!r} must be an integer >= {minimum}, got {value}")
    return value


# -- simple densities ------------------------------------------------------------------------
class Gaussian(ToySimulator):
    """An isotropic Gaussian in ``dim`` dimensions: ``x ~ N(mean * 1, width^2 * I)``.

    The simplest closure test (also a task of Borisyak et al. 2020). Parameters: ``mean``
    (the same for every coordinate) and ``width`` (standard deviation, > 0), both in the
    units of x. Default space ``mean in [-2, 2]``, ``width in [0.5, 2]``; truth
    ``mean = 0.5``, ``width = 1.0``.

    Options: ``dim`` (number of coordinates, default 1).
    """

    def __init__(self, *, dim: int = 1, **unknown):
        self._reject_unknown_options(unknown)
        self.dim = int_at_least("Gaussian", "dim", dim, 1)
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


class MixedGaussians(ToySimulator):
    """Independent Gaussians, each with its own mean and width, seen through a fixed mixing.

    ``y_i ~ N(mean_i, width_i^2)`` for ``i < features``, observed as ``x = M y`` with
    ``M = I + 0.5 S`` (S the cyclic shift: each coordinate leaks half of itself into the one
    before), so every parameter moves two observed coordinates and the likelihood stays
    exact (``y = M^-1 x``, a constant Jacobian). ``2 * features`` parameters (``mean0``,
    ..., ``width0``, ...): a toy for the 7 to 19 parameters between the camel back and the
    twenty-parameter Pythia tune, whose maximum-likelihood limit is known.

    Default space ``mean_i in [-2, 2]``, ``width_i in [0.5, 2]``; truth: means cycling
    through 0.5, -0.3, 0.8, -0.6, 0.2 and widths through 1.0, 0.8, 1.3, 0.9, 1.1.
    Options: ``features`` (default 5, so 10 parameters).
    """

    _TRUE_MEANS = (0.5, -0.3, 0.8, -0.6, 0.2)
    _TRUE_WIDTHS = (1.0, 0.8, 1.3, 0.9, 1.1)

    def __init__(self, *, features: int = 5, **unknown):
        self._reject_unknown_options(unknown)
        self.features = int_at_least("MixedGaussians", "features", features, 2)
        self._options = {"features": self.features}
        self.feature_names = tuple(f"x{i}" for i in range(self.features))
        indices = range(self.features)
        self.default_space = {**{f"mean{i}": (-2.0, 2.0) for i in indices}, **{f"width{i}": (0.5, 2.0) for i in indices}}
        self.truth = {**{f"mean{i}": self._TRUE_MEANS[i % 5] for i in indices},
                      **{f"width{i}": self._TRUE_WIDTHS[i % 5] for i in indices}}
        self.mixing = np.eye(self.features) + 0.5 * np.roll(np.eye(self.features), 1, axis=1)

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        widths = np.array([p[f"width{i}"] for i in range(self.features)])
        for i, width in enumerate(widths):
            self._positive(f"width{i}", width)
        means = np.array([p[f"mean{i}"] for i in range(self.features)])
        rng = np.random.default_rng(seed)
        y = means + widths * rng.standard_normal((self._n(n), self.features))
        return y @ self.mixing.T


class CamelBack(ToySimulator):
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


class Degenerate(ToySimulator):
    """A toy whose data do not decide every parameter: what an honest fit must report.

    Per event three observables: ``x ~ N(mean, width^2)``; a multiplicity
    ``k ~ Poisson(2 + 4 rate)`` (discrete); ``y ~ N(left + right, 0.5^2)``, so only the sum
    of ``left`` and ``right`` is seen (a ridge along left - right). ``inert`` changes
    nothing at all. Default space: mean in [-2, 2], width in [0.5, 2], rate, left, right and
    inert in [0, 1]; truth mean 0.5, width 1.0, rate 0.4, left 0.3, right 0.6, inert 0.3.
    """

    def __init__(self, **unknown):
        self._reject_unknown_options(unknown)
        self.feature_names = ("x", "multiplicity", "y")
        self.default_space = {"mean": (-2.0, 2.0), "width": (0.5, 2.0), "rate": (0.0, 1.0), "left": (0.0, 1.0),
                              "right": (0.0, 1.0), "inert": (0.0, 1.0)}
        self.truth = {"mean": 0.5, "width": 1.0, "rate": 0.4, "left": 0.3, "right": 0.6, "inert": 0.3}

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        p = self._params(params)
        self._positive("width", p["width"])
        if not p["rate"] >= -0.5:
            raise ValueError(f"Degenerate: parameter 'rate' must be >= -0.5 (a positive Poisson mean), got {p['rate']}")
        n = self._n(n)
        rng = np.random.default_rng(seed)
        x = p["mean"] + p["width"] * rng.standard_normal(n)
        k = rng.poisson(2.0 + 4.0 * p["rate"], n).astype(np.float64)
        y = p["left"] + p["right"] + 0.5 * rng.standard_normal(n)
        return np.column_stack([x, k, y])
