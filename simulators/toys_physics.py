"""Physics-like toy simulators: a forward-backward asymmetry and a smeared decay.

:class:`Weinberg` draws the muon angle of e+e- -> mu+mu- from the toy cross section of the
AVO paper (parameters: centre-of-mass energy and a Fermi-constant scale, optionally with a
detector smearing); :class:`SmearedDecay` measures exponential decay times through a
Gaussian resolution, a correlated, detector-like parameter pair with a known likelihood.
They keep the contract and validation of :class:`simulators.toy.ToySimulator` and are re-exported
by :mod:`simulators.toy`, under whose name they are registered (``weinberg``,
``smeared-decay``).

Sources:

- Weinberg: G. Louppe, J. Hermans, K. Cranmer, "Adversarial Variational Optimization of
  Non-Differentiable Simulators", AISTATS 2019, arXiv:1707.07113; code glouppe/paper-avo
  (``code/weinberg.py``), after L. Heinrich and K. Cranmer (cranmer/active_sciencing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from simulators.toy import nonnegative_float, ToySimulator

__all__ = ["Weinberg", "SmearedDecay"]


# -- Louppe, Hermans, Cranmer (AVO): Weinberg-angle toy -------------------------------------
class Weinberg(ToySimulator):
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
        self.smearing = nonnegative_float("Weinberg", "smearing", smearing)
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
class SmearedDecay(ToySimulator):
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
