"""Branch-and-bound search pieces of the exact thrust, as compiled (numba) kernels.

Thrust is a maximum over sign choices, T = max_eps |sum eps_i p_i| / sum |p_i|. Here are
the two exact searches :func:`simulators.thrust.thrust` combines: :func:`enumerate_signs`
tries every sign of a few "active" particles (Gray code, one flip per step), and
:func:`branch_and_bound` maximises over the axes inside a set of spherical triangles,
bounding each triangle's cap and splitting it in four until it is solved exactly or
dropped. ``FACES`` (10 icosahedron faces covering the sphere modulo n -> -n) is the
starting cover when the whole sphere must be searched; ``_MAX_DEPTH`` and ``_MAX_OPEN``
bound the recursion (see :func:`simulators.thrust.thrust` for the algorithm as a whole).
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.thrust_search needs numba: pip install 'advopt[pythia]'") from err


def _hemisphere_faces() -> np.ndarray:
    """10 icosahedron faces (one of each antipodal pair): they cover the sphere modulo n -> -n."""
    phi = (1.0 + 5.0**0.5) / 2.0
    verts = []
    for a in (-1.0, 1.0):
        for b in (-phi, phi):
            verts += [(0.0, a, b), (a, b, 0.0), (b, 0.0, a)]
    v = np.array(verts)
    faces = []
    n = len(v)
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                if all(abs(np.linalg.norm(v[x] - v[y]) - 2.0) < 1e-9 for x, y in ((i, j), (j, k), (i, k))):
                    faces.append((v[i], v[j], v[k]))
    faces = np.array(faces) / np.linalg.norm(v[0])
    generic = np.array([0.2718281828, 0.3141592653, 0.9092974268])
    keep = faces.sum(axis=1) @ generic > 0.0
    out = faces[keep]
    assert out.shape == (10, 3, 3)
    return np.ascontiguousarray(out)


FACES = _hemisphere_faces()
_MAX_DEPTH = 48          # cap radius 0.65 rad / 2**48: far below float64 resolution
_MAX_OPEN = 5            # a cap crossed by <= this many particle planes is solved exactly


@njit(cache=True)
def branch_and_bound(x, y, z, p, idx, nact, v0x, v0y, v0z, tris, ntri, best, bx, by, bz):
    """Maximise |sum eps_i p_i| over the spherical triangles ``tris[:ntri]``.

    Only the ``nact`` particles ``idx[:nact]`` may change sign inside the triangles; the
    others are pre-summed (with their fixed signs) into V0. ``best``/``b*`` is the best
    sum known so far (a lower bound). Returns the updated (best, bx, by, bz).
    """
    cap = ntri + 3 * (_MAX_DEPTH + 1)
    stack = np.empty((cap, 3, 3))
    depth = np.empty(cap, np.int64)
    nstack = 0
    for f in range(ntri):
        stack[nstack] = tris[f]
        depth[nstack] = 0
        nstack += 1
    open_idx = np.empty(_MAX_OPEN, np.int64)
    while nstack > 0:
        nstack -= 1
        t = stack[nstack]
        d0 = depth[nstack]
        ax, ay, az = t[0, 0], t[0, 1], t[0, 2]
        bx_, by_, bz_ = t[1, 0], t[1, 1], t[1, 2]
        cx_, cy_, cz_ = t[2, 0], t[2, 1], t[2, 2]
        ux = ax + bx_ + cx_
        uy = ay + by_ + cy_
        uz = az + bz_ + cz_
        un = math.sqrt(ux * ux + uy * uy + uz * uz)
        ux /= un
        uy /= un
        uz /= un
        cosa = min(ux * ax + uy * ay + uz * az, ux * bx_ + uy * by_ + uz * bz_, ux * cx_ + uy * cy_ + uz * cz_)
        cosa = min(max(cosa - 1e-12, 0.0), 1.0)  # widen the cap a hair against rounding
        sina = math.sqrt(1.0 - cosa * cosa)
        # fixed-sign particles add up to one linear function F.n (bounded as a whole);
        # open ones (their plane p_i.n = 0 crosses the cap) are bounded one by one
        fx, fy, fz = v0x, v0y, v0z
        open_bound = 0.0
        ox = oy = oz = 0.0
        nopen = 0
        for k in range(nact):
            i = idx[k]
            d = x[i] * ux + y[i] * uy + z[i] * uz
            ad = abs(d)
            if ad < p[i] * sina:
                if nopen < _MAX_OPEN:
                    open_idx[nopen] = i
                nopen += 1
                if ad >= p[i] * cosa:
                    open_bound += p[i]
                else:
                    open_bound += ad * cosa + math.sqrt(max(p[i] * p[i] - ad * ad, 0.0)) * sina
                if d >= 0.0:
                    ox += x[i]
                    oy += y[i]
                    oz += z[i]
                else:
                    ox -= x[i]
                    oy -= y[i]
                    oz -= z[i]
            elif d >= 0.0:
                fx += x[i]
                fy += y[i]
                fz += z[i]
            else:
                fx -= x[i]
                fy -= y[i]
                fz -= z[i]
        vx, vy, vz = fx + ox, fy + oy, fz + oz  # the sum with the signs at the centre
        vn = math.sqrt(vx * vx + vy * vy + vz * vz)
        if vn > best:
            best, bx, by, bz = vn, vx, vy, vz
        # max over the cap of F.n is |F| cos(max(0, angle(F, c) - a))
        fn = math.sqrt(fx * fx + fy * fy + fz * fz)
        fd = fx * ux + fy * uy + fz * uz
        if fd >= fn * cosa:
            bound = fn + open_bound
        else:
            bound = fd * cosa + math.sqrt(max(fn * fn - fd * fd, 0.0)) * sina + open_bound
        if bound <= best:
            continue
        if nopen <= _MAX_OPEN:
            # F plus every sign choice of the open particles: the cap is solved exactly
            for mask in range(1 << nopen):
                sx, sy, sz = fx, fy, fz
                for k in range(nopen):
                    i = open_idx[k]
                    if (mask >> k) & 1:
                        sx += x[i]
                        sy += y[i]
                        sz += z[i]
                    else:
                        sx -= x[i]
                        sy -= y[i]
                        sz -= z[i]
                sn = math.sqrt(sx * sx + sy * sy + sz * sz)
                if sn > best:
                    best, bx, by, bz = sn, sx, sy, sz
            continue
        if d0 >= _MAX_DEPTH:
            continue  # cap narrower than rounding: the centre value is the answer
        # split into 4: corner triangles and the middle one
        abx, aby, abz = ax + bx_, ay + by_, az + bz_
        n_ = math.sqrt(abx * abx + aby * aby + abz * abz)
        abx, aby, abz = abx / n_, aby / n_, abz / n_
        bcx, bcy, bcz = bx_ + cx_, by_ + cy_, bz_ + cz_
        n_ = math.sqrt(bcx * bcx + bcy * bcy + bcz * bcz)
        bcx, bcy, bcz = bcx / n_, bcy / n_, bcz / n_
        cax, cay, caz = cx_ + ax, cy_ + ay, cz_ + az
        n_ = math.sqrt(cax * cax + cay * cay + caz * caz)
        cax, cay, caz = cax / n_, cay / n_, caz / n_
        tri = (
            (ax, ay, az, abx, aby, abz, cax, cay, caz),
            (abx, aby, abz, bx_, by_, bz_, bcx, bcy, bcz),
            (cax, cay, caz, bcx, bcy, bcz, cx_, cy_, cz_),
            (abx, aby, abz, bcx, bcy, bcz, cax, cay, caz),
        )
        for q in tri:
            s = stack[nstack]
            s[0, 0], s[0, 1], s[0, 2] = q[0], q[1], q[2]
            s[1, 0], s[1, 1], s[1, 2] = q[3], q[4], q[5]
            s[2, 0], s[2, 1], s[2, 2] = q[6], q[7], q[8]
            depth[nstack] = d0 + 1
            nstack += 1
    return best, bx, by, bz


@njit(cache=True)
def enumerate_signs(x, y, z, idx, nact, v0x, v0y, v0z, best, bx, by, bz):
    """max over all 2^nact signs of |V0 + sum eps_k p_idx[k]|, updating (best, b*)."""
    sx, sy, sz = v0x, v0y, v0z
    for k in range(nact):
        i = idx[k]
        sx -= x[i]
        sy -= y[i]
        sz -= z[i]
    best2 = best * best if best > 0.0 else -1.0
    plus = 0  # bit k set: particle idx[k] currently has sign +1
    for g in range(1 << nact):
        if g > 0:
            k = 0
            while not (g >> k) & 1:
                k += 1
            i = idx[k]
            if (plus >> k) & 1:
                sx -= 2.0 * x[i]
                sy -= 2.0 * y[i]
                sz -= 2.0 * z[i]
            else:
                sx += 2.0 * x[i]
                sy += 2.0 * y[i]
                sz += 2.0 * z[i]
            plus ^= 1 << k
        s2 = sx * sx + sy * sy + sz * sz
        if s2 > best2:
            best2, bx, by, bz = s2, sx, sy, sz
    return math.sqrt(best2), bx, by, bz
