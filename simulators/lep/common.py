"""Per-event pieces LEP analyses share, as compiled (numba) kernels: the thrust axes (thrust,
major, minor) and the sphericity axes of a set of momenta.

* :func:`thrust_axes`: the thrust T and axis n1 are the exact global maximum of
  :func:`simulators.thrust.thrust`. The thrust major M maximises sum|p.n| / sum|p| over the
  axes n perpendicular to n1, and is exact too: projected onto the plane perpendicular to
  n1 and folded into a half-plane (q -> -q), the momenta sorted by angle split, for any
  axis in the plane, into a prefix with one sign and a suffix with the other, so
  M = max_k |sum_{i<k} q_i - sum_{i>=k} q_i| / sum|p| over the m + 1 splits. The minor
  axis is n3 = n1 x n2 and the thrust minor m = sum|p.n3| / sum|p|; the oblateness is
  M - m. (Rivet's ``Thrust`` finds both maxima with an iteration from a few starting axes;
  on Z events that lands on the same maxima except where it stops at a local one.)
* :func:`sphericity_axes`: eigenvalues l1 >= l2 >= l3 of the quadratic momentum tensor
  sum p_a p_b / sum |p|^2 with the eigenvectors of l1 (sphericity axis), l2 (the in-plane,
  "major" axis) and l3 (the out-of-plane, "minor" axis, normal to the event plane).

Scratch arrays come from the caller (no allocation per event).
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.common needs numba: pip install 'advopt[pythia]'") from err

from simulators.tensors import sym3_eigenvalues, sym3_eigvec
from simulators.thrust import thrust_core


@njit(cache=True, inline="always")
def _perpendicular(ax, ay, az):
    """A unit vector perpendicular to the unit vector a."""
    if abs(ax) < 0.9:
        ux, uy, uz = 0.0, -az, ay
    else:
        ux, uy, uz = az, 0.0, -ax
    n = math.sqrt(ux * ux + uy * uy + uz * uz)
    return ux / n, uy / n, uz / n


@njit(cache=True)
def thrust_axes(x, y, z, p, m, qa, qb, ang):
    """Thrust, major and minor of ``m`` momenta (``p`` their magnitudes).

    Returns ``(T, n1x, n1y, n1z, M, n2x, n2y, n2z, mn, n3x, n3y, n3z, t11, t22, t33, t12,
    t13, t23)``: the three values with their axes and the normalised linearised tensor
    sum p_a p_b / |p| / sum |p| (for the C parameter). ``qa``, ``qb``, ``ang`` are float64
    scratch arrays of length >= m.
    """
    tval, n1x, n1y, n1z, t11, t22, t33, t12, t13, t23 = thrust_core(x, y, z, p, m)
    psum = 0.0
    for i in range(m):
        psum += p[i]
    # orthonormal basis (u, v) of the plane perpendicular to n1
    ux, uy, uz = _perpendicular(n1x, n1y, n1z)
    vx, vy, vz = n1y * uz - n1z * uy, n1z * ux - n1x * uz, n1x * uy - n1y * ux
    # projected momenta folded into the half-plane b > 0 (or b == 0, a >= 0), with angles
    tot_a = tot_b = 0.0
    for i in range(m):
        a = x[i] * ux + y[i] * uy + z[i] * uz
        b = x[i] * vx + y[i] * vy + z[i] * vz
        if b < 0.0 or (b == 0.0 and a < 0.0):
            a = -a
            b = -b
        # insertion by angle in [0, pi) (pseudo-angle -a / (|a| + b), increasing with it):
        # keep qa, qb, ang sorted
        s = abs(a) + b
        t = -a / s if s > 0.0 else 0.0
        k = i
        while k > 0 and ang[k - 1] > t:
            ang[k] = ang[k - 1]
            qa[k] = qa[k - 1]
            qb[k] = qb[k - 1]
            k -= 1
        ang[k] = t
        qa[k] = a
        qb[k] = b
        tot_a += a
        tot_b += b
    # splits: V_k = sum_{i<k} q_i - sum_{i>=k} q_i, starting from -total
    sa = -tot_a
    sb = -tot_b
    best = sa * sa + sb * sb
    ba, bb = sa, sb
    for i in range(m):
        sa += 2.0 * qa[i]
        sb += 2.0 * qb[i]
        v = sa * sa + sb * sb
        if v > best:
            best = v
            ba, bb = sa, sb
    norm = math.sqrt(best)
    if norm > 0.0:
        ca, cb = ba / norm, bb / norm
    else:
        ca, cb = 1.0, 0.0
    n2x, n2y, n2z = ca * ux + cb * vx, ca * uy + cb * vy, ca * uz + cb * vz
    n3x, n3y, n3z = n1y * n2z - n1z * n2y, n1z * n2x - n1x * n2z, n1x * n2y - n1y * n2x
    major = 0.0
    minor = 0.0
    for i in range(m):
        major += abs(x[i] * n2x + y[i] * n2y + z[i] * n2z)
        minor += abs(x[i] * n3x + y[i] * n3y + z[i] * n3z)
    if psum > 0.0:
        major /= psum
        minor /= psum
    return (tval, n1x, n1y, n1z, major, n2x, n2y, n2z, minor, n3x, n3y, n3z,
            t11, t22, t33, t12, t13, t23)


@njit(cache=True)
def sphericity_axes(s11, s22, s33, s12, s13, s23):
    """Eigen-decomposition of the quadratic momentum tensor from its sums
    ``s_ab = sum p_a p_b`` (not yet normalised).

    Returns ``(l1, l2, l3, e1x, e1y, e1z, e2x, e2y, e2z, e3x, e3y, e3z)``, eigenvalues of
    the normalised tensor in descending order with their unit eigenvectors; e2 = e3 x e1
    (so the three axes are orthonormal even where l2 and l3 are nearly degenerate), and any
    perpendicular axes where the tensor is degenerate.
    """
    norm = s11 + s22 + s33
    if norm <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0
    a11, a22, a33 = s11 / norm, s22 / norm, s33 / norm
    a12, a13, a23 = s12 / norm, s13 / norm, s23 / norm
    l1, l2, l3 = sym3_eigenvalues(a11, a22, a33, a12, a13, a23)
    e1x, e1y, e1z = sym3_eigvec(a11, a22, a33, a12, a13, a23, l1)
    if e1x == 0.0 and e1y == 0.0 and e1z == 0.0:
        e1x, e1y, e1z = 0.0, 0.0, 1.0
    e3x, e3y, e3z = sym3_eigvec(a11, a22, a33, a12, a13, a23, l3)
    # orthogonalise against e1 (rounding, near-degenerate l1 = l2) and fall back if needed
    d = e3x * e1x + e3y * e1y + e3z * e1z
    e3x, e3y, e3z = e3x - d * e1x, e3y - d * e1y, e3z - d * e1z
    n3 = math.sqrt(e3x * e3x + e3y * e3y + e3z * e3z)
    if n3 < 1e-6:
        e3x, e3y, e3z = _perpendicular(e1x, e1y, e1z)
    else:
        e3x, e3y, e3z = e3x / n3, e3y / n3, e3z / n3
    e2x, e2y, e2z = e3y * e1z - e3z * e1y, e3z * e1x - e3x * e1z, e3x * e1y - e3y * e1x
    return l1, l2, l3, e1x, e1y, e1z, e2x, e2y, e2z, e3x, e3y, e3z


def booked_bins(booking, paths) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A booking as a compiled kernel takes it: the slot of each of ``paths`` (-1: not booked)
    and the flat ``first``, ``lows``, ``highs``, checked (each booked histogram's bins
    ascending, low < high)."""
    slots = booking.slots(paths)
    first = np.ascontiguousarray(booking.first, dtype=np.int64)
    lows = np.ascontiguousarray(booking.lows, dtype=np.float64)
    highs = np.ascontiguousarray(booking.highs, dtype=np.float64)
    for h, k in enumerate(slots):
        if k >= 0:
            lo, hi = int(first[k]), int(first[k + 1])
            if np.any(np.diff(lows[lo:hi]) <= 0) or np.any(highs[lo:hi] < lows[lo:hi]):
                raise ValueError(f"{paths[h]}: booked bins must be ascending with low < high")
    return slots, first, lows, highs


class BookedAnalysis:
    """What the compiled analyses share: a booking turned into kernel arrays once, and
    again only when the booking changes. ``paths`` lists the analysis's histograms in its
    kernel's numbering; a subclass whose kernel needs more than :func:`booked_bins`
    overrides ``_prepare``."""

    paths: tuple[str, ...] = ()

    def __init__(self):
        self._prepared_for = None
        self._prepared = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def prepared(self, booking):
        if self._prepared_for is not booking:
            self._prepared = self._prepare(booking)
            self._prepared_for = booking
        return self._prepared

    def _prepare(self, booking):
        return booked_bins(booking, self.paths)
