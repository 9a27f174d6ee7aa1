"""Geometric toy simulators: 2-d patterns turned by a rotation angle, and Gaussian shells.

:class:`XorRotation` (elongated Gaussian petals) and :class:`SwissRollRotation` (a noisy
spiral) have a rotation angle as their only parameter, a test that a divergence sees a
change of shape without a change of the marginal means; :class:`NSphereShell` (a spherical
shell in ``dim`` dimensions) and :class:`GaussianRing` (its 2-d case) have a mean radius and
a radial width. They keep the contract and validation of :class:`simulators.toy.ToySimulator` and
are re-exported by :mod:`simulators.toy`, under whose name they are registered (``xor``,
``swiss-roll``, ``nsphere``, ``ring``).

Sources:

- XOR and Swiss roll: M. Borisyak, T. Gaintseva, A. Ustyuzhanin, "Adaptive divergence for
  rapid adversarial optimization", PeerJ Comput. Sci. 6:e274 (2020); research code
  HSE-LAMBDA/rapid-ao (``advopt/tasks/xor.py``, ``advopt/tasks/roll.py``).
- Gaussian ring, n-sphere shell: A. Butter, S. Diefenbacher, G. Kasieczka, B. Nachman,
  T. Plehn, "GANplifying event samples", SciPost Phys. 10, 139 (2021), arXiv:2008.06545
  (shapes as in the paper; parameter values chosen here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from simulators.toy import int_at_least, nonnegative_float, ToySimulator

__all__ = ["XorRotation", "SwissRollRotation", "NSphereShell", "GaussianRing"]


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate row vectors counter-clockwise by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    return points @ rotation.T


# -- Borisyak et al. (2020): rotated 2-d patterns --------------------------------------------
class XorRotation(ToySimulator):
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


class SwissRollRotation(ToySimulator):
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
        self.noise = nonnegative_float("SwissRollRotation", "noise", noise)
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


# -- Butter et al. (2020): ring and shell ------------------------------------------------------
class NSphereShell(ToySimulator):
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
        self.dim = int_at_least(type(self).__name__, "dim", dim, self._min_dim)
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
