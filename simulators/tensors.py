"""Momentum tensors and the eigen-solvers of real symmetric 3x3 matrices, as compiled (numba) kernels.

:func:`sphericity_eigenvalues` gives the eigenvalues of the quadratic (power 2, sphericity
and aplanarity) or linearised (power 1, C and D parameters) momentum tensor of a set of
momenta. The closed-form solvers underneath, :func:`sym3_eigenvalues` (trigonometric
method, eigenvalues in descending order) and :func:`sym3_eigvec` (unit eigenvector of a
given eigenvalue from the largest cross product of rows), are shared with the thrust
(:mod:`simulators.thrust`, its starting axis) and the event kernel
(:mod:`simulators.observables`, sphericity and aplanarity).
"""

from __future__ import annotations

import math

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.tensors needs numba: pip install 'advopt[pythia]'") from err


@njit(cache=True)
def sym3_eigvec(a11, a22, a33, a12, a13, a23, lam):
    """Unit eigenvector of a symmetric 3x3 matrix for eigenvalue ``lam`` (largest cross product of rows)."""
    r1x, r1y, r1z = a11 - lam, a12, a13
    r2x, r2y, r2z = a12, a22 - lam, a23
    r3x, r3y, r3z = a13, a23, a33 - lam
    c1x, c1y, c1z = r1y * r2z - r1z * r2y, r1z * r2x - r1x * r2z, r1x * r2y - r1y * r2x
    c2x, c2y, c2z = r1y * r3z - r1z * r3y, r1z * r3x - r1x * r3z, r1x * r3y - r1y * r3x
    c3x, c3y, c3z = r2y * r3z - r2z * r3y, r2z * r3x - r2x * r3z, r2x * r3y - r2y * r3x
    n1 = c1x * c1x + c1y * c1y + c1z * c1z
    n2 = c2x * c2x + c2y * c2y + c2z * c2z
    n3 = c3x * c3x + c3y * c3y + c3z * c3z
    if n1 >= n2 and n1 >= n3:
        ex, ey, ez, nn = c1x, c1y, c1z, n1
    elif n2 >= n3:
        ex, ey, ez, nn = c2x, c2y, c2z, n2
    else:
        ex, ey, ez, nn = c3x, c3y, c3z, n3
    if nn <= 0.0:
        return 0.0, 0.0, 0.0
    nn = math.sqrt(nn)
    return ex / nn, ey / nn, ez / nn


@njit(cache=True)
def sym3_eigenvalues(a11, a22, a33, a12, a13, a23):
    """Eigenvalues of a real symmetric 3x3 matrix, descending (trigonometric method)."""
    p1 = a12 * a12 + a13 * a13 + a23 * a23
    q = (a11 + a22 + a33) / 3.0
    if p1 <= 1e-300:
        l1, l2, l3 = a11, a22, a33
    else:
        b11, b22, b33 = a11 - q, a22 - q, a33 - q
        p2 = b11 * b11 + b22 * b22 + b33 * b33 + 2.0 * p1
        pp = math.sqrt(p2 / 6.0)
        det = b11 * (b22 * b33 - a23 * a23) - a12 * (a12 * b33 - a23 * a13) + a13 * (a12 * a23 - b22 * a13)
        r = det / (2.0 * pp * pp * pp)
        r = min(max(r, -1.0), 1.0)
        phi = math.acos(r) / 3.0
        l1 = q + 2.0 * pp * math.cos(phi)
        l3 = q + 2.0 * pp * math.cos(phi + 2.0 * math.pi / 3.0)
        l2 = 3.0 * q - l1 - l3
    # sort descending
    if l1 < l2:
        l1, l2 = l2, l1
    if l2 < l3:
        l2, l3 = l3, l2
    if l1 < l2:
        l1, l2 = l2, l1
    return l1, l2, l3


@njit(cache=True)
def sphericity_eigenvalues(x, y, z, m, power):
    """Eigenvalues (descending) of sum |p|^(power-2) p_a p_b / sum |p|^power (power 2 or 1)."""
    s11 = s22 = s33 = s12 = s13 = s23 = 0.0
    norm = 0.0
    for i in range(m):
        p2 = x[i] * x[i] + y[i] * y[i] + z[i] * z[i]
        if power == 2:
            w = 1.0
            norm += p2
        else:
            pa = math.sqrt(p2)
            if pa <= 0.0:
                continue
            w = 1.0 / pa
            norm += pa
        s11 += w * x[i] * x[i]
        s22 += w * y[i] * y[i]
        s33 += w * z[i] * z[i]
        s12 += w * x[i] * y[i]
        s13 += w * x[i] * z[i]
        s23 += w * y[i] * z[i]
    if norm <= 0.0:
        return 0.0, 0.0, 0.0
    return sym3_eigenvalues(s11 / norm, s22 / norm, s33 / norm, s12 / norm, s13 / norm, s23 / norm)
