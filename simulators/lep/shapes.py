"""Event shapes of one set of momenta (DELPHI 1996's list), as a compiled kernel.

:func:`event_shapes` fills, for ``m`` particles, the values of :data:`SHAPE_NAMES` and the
event axes the inclusive spectra are measured against:

* thrust T, major M, minor m (exact, :func:`simulators.lep.common.thrust_axes`), oblateness
  O = M - m;
* sphericity S = 3/2 (l2 + l3), aplanarity A = 3/2 l3, planarity P = l2 - l3, eigenvalues of
  the quadratic tensor sum p_a p_b / sum |p|^2 (:func:`simulators.lep.common.sphericity_axes`);
* C = 3 (l1 l2 + l2 l3 + l3 l1) and D = 27 l1 l2 l3 of the linearised tensor
  sum p_a p_b / |p| / sum |p| (Parisi);
* hemispheres split by the plane perpendicular to the thrust axis (p.n1 > 0 against the
  rest): M_high^2, M_low^2 and |M_high^2 - M_low^2| over E_vis^2 (E_vis the set's summed
  energy), B_k = sum_{i in k} |p_i x n1| / (2 sum_i |p_i|), B_max, B_min, B_sum = B_max + B_min,
  B_diff = |B_max - B_min| (Rivet's ``Hemispheres``).

Axes written to ``axes`` (18 numbers): n1 (thrust), n2 (major), n3 (minor), then e1, e2, e3 of
the sphericity tensor (its largest, middle, smallest eigenvalue).
"""

from __future__ import annotations

import math

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.shapes needs numba: pip install 'advopt[pythia]'") from err

from simulators.lep.common import sphericity_axes, thrust_axes

SHAPE_NAMES: tuple[str, ...] = (
    "one_minus_thrust", "thrust_major", "thrust_minor", "oblateness",
    "sphericity", "aplanarity", "planarity", "c_parameter", "d_parameter",
    "heavy_mass", "light_mass", "mass_difference",
    "b_max", "b_min", "b_sum", "b_diff",
)
N_SHAPES = len(SHAPE_NAMES)


@njit(cache=True)
def event_shapes(x, y, z, en, p, m, qa, qb, ang, out, axes):
    """Shapes of the first ``m`` momenta (``p`` their magnitudes, ``en`` energies) into
    ``out[0:N_SHAPES]`` and the axes into ``axes[0:18]``; ``qa``, ``qb``, ``ang`` are scratch
    arrays of length >= m (for the thrust major)."""
    (tval, n1x, n1y, n1z, major, n2x, n2y, n2z, minor, n3x, n3y, n3z,
     t11, t22, t33, t12, t13, t23) = thrust_axes(x, y, z, p, m, qa, qb, ang)
    s11 = s22 = s33 = s12 = s13 = s23 = 0.0
    evis = psum = 0.0
    e_a = px_a = py_a = pz_a = b_a = 0.0
    e_b = px_b = py_b = pz_b = b_b = 0.0
    for i in range(m):
        xi, yi, zi = x[i], y[i], z[i]
        s11 += xi * xi
        s22 += yi * yi
        s33 += zi * zi
        s12 += xi * yi
        s13 += xi * zi
        s23 += yi * zi
        evis += en[i]
        psum += p[i]
        d = xi * n1x + yi * n1y + zi * n1z
        cx = yi * n1z - zi * n1y
        cy = zi * n1x - xi * n1z
        cz = xi * n1y - yi * n1x
        pt = math.sqrt(cx * cx + cy * cy + cz * cz)
        if d > 0.0:
            e_a += en[i]
            px_a += xi
            py_a += yi
            pz_a += zi
            b_a += pt
        else:
            e_b += en[i]
            px_b += xi
            py_b += yi
            pz_b += zi
            b_b += pt
    l1, l2, l3, e1x, e1y, e1z, e2x, e2y, e2z, e3x, e3y, e3z = sphericity_axes(s11, s22, s33, s12, s13, s23)
    minors = t11 * t22 - t12 * t12 + t11 * t33 - t13 * t13 + t22 * t33 - t23 * t23
    det = t11 * (t22 * t33 - t23 * t23) - t12 * (t12 * t33 - t23 * t13) + t13 * (t12 * t23 - t22 * t13)
    out[0] = 1.0 - tval
    out[1] = major
    out[2] = minor
    out[3] = major - minor
    out[4] = 1.5 * (l2 + l3)
    out[5] = 1.5 * l3
    out[6] = l2 - l3
    out[7] = 3.0 * minors
    out[8] = 27.0 * det
    m2a = e_a * e_a - px_a * px_a - py_a * py_a - pz_a * pz_a
    m2b = e_b * e_b - px_b * px_b - py_b * py_b - pz_b * pz_b
    if evis > 0.0:
        e2 = evis * evis
        out[9] = max(m2a, m2b) / e2
        out[10] = min(m2a, m2b) / e2
        out[11] = abs(m2a - m2b) / e2
    else:
        out[9] = out[10] = out[11] = 0.0
    if psum > 0.0:
        b_a /= 2.0 * psum
        b_b /= 2.0 * psum
    out[12] = max(b_a, b_b)
    out[13] = min(b_a, b_b)
    out[14] = b_a + b_b
    out[15] = abs(b_a - b_b)
    axes[0], axes[1], axes[2] = n1x, n1y, n1z
    axes[3], axes[4], axes[5] = n2x, n2y, n2z
    axes[6], axes[7], axes[8] = n3x, n3y, n3z
    axes[9], axes[10], axes[11] = e1x, e1y, e1z
    axes[12], axes[13], axes[14] = e2x, e2y, e2z
    axes[15], axes[16], axes[17] = e3x, e3y, e3z
