"""Tests for DELPHI_1996_S3430090 (simulators/lep/delphi_1996.py) and PDG_HADRON_MULTIPLICITIES
(simulators/lep/pdg_multiplicities.py) on real Pythia events.

Event shapes and jet resolutions are compared with Pythia's own ``Thrust``, ``Sphericity`` and
``ClusterJet`` classes on the same events (generated one ``next()`` at a time and copied into
an :class:`EventRecord`); the fills with per-event values computed independently; the
normalisations with full-range bookings; the identified counts with a plain Python count. The
Monash chi-square against the published numbers (100k events) and the throughput are ``slow``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("awkward")
pytest.importorskip("numba")

import pythia8mc  # noqa: E402

from advopt.histograms.analysis import Booking, EventRecord, Fills, bin_values, check_analysis, get_analysis  # noqa: E402
from advopt.histograms.yoda import read_histograms  # noqa: E402
from simulators import pythia as sp  # noqa: E402
from simulators.lep.delphi_1996 import PATHS as DELPHI_PATHS  # noqa: E402
from simulators.lep.delphi_1996 import SPECIES as DELPHI_SPECIES
from simulators.lep.delphi_1996 import Delphi1996
from simulators.lep.jets import jade_scratch, jade_ymax  # noqa: E402
from simulators.lep.pdg_multiplicities import SPECIES as PDG_SPECIES  # noqa: E402
from simulators.lep.pdg_multiplicities import PdgMultiplicities
from simulators.lep.shapes import N_SHAPES, SHAPE_NAMES, event_shapes  # noqa: E402
from simulators.pdg import charge3  # noqa: E402
from simulators.pythia import PythiaEE  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "advopt" / "histograms" / "data"
SHARED = Path("/work/shared/data/lep")


def _ref(name: str):
    path = DATA / f"{name}.yoda"
    return read_histograms(path if path.exists() else SHARED / f"{name}.yoda")


@pytest.fixture(scope="module")
def delphi_ref():
    return _ref("DELPHI_1996_S3430090")


@pytest.fixture(scope="module")
def pdg_ref():
    return _ref("PDG_HADRON_MULTIPLICITIES")


def _booking(ref, paths):
    return Booking.from_bins({p: (ref[p].lows, ref[p].highs) for p in paths})


@pytest.fixture(scope="module")
def replay():
    """300 Monash events at 91.2 GeV, one next() at a time: the flat record and, per event and
    per particle set (0 charged, 1 visible), Pythia's own shape and jet-resolution values."""
    pythia = pythia8mc.Pythia("", False)
    for line in sp.base_settings(91.2):
        assert pythia.readString(line)
    assert pythia.init()
    pythia.rndm.init(sp.seed_to_pythia(1996))
    tools = []
    for select in (3, 2):
        tools.append((pythia8mc.Thrust(select), pythia8mc.Sphericity(2.0, select), pythia8mc.Sphericity(1.0, select),
                      pythia8mc.ClusterJet("Durham", select, 2, False, False),
                      pythia8mc.ClusterJet("Jade", select, 2, False, False)))
    records, rows = [], []
    while len(records) < 300:
        if not pythia.next():
            continue
        event = pythia.event
        rec = np.array([(p.id(), p.status(), p.mother1(), p.px(), p.py(), p.pz(), p.e()) for p in event])
        final = rec[:, 1] > 0
        charged = final & np.array([charge3(int(i)) != 0 for i in rec[:, 0]])
        visible = final & ~np.isin(np.abs(rec[:, 0]), (12, 14, 16))
        row = []
        for (thr, sph2, sph1, dur, jade), sel in zip(tools, (charged, visible)):
            thr.analyze(event)
            sph2.analyze(event)
            sph1.analyze(event)
            lam = [sph1.eigenValue(i) for i in (1, 2, 3)]
            evis2 = rec[sel, 6].sum() ** 2
            ys = []
            for n in (2, 3, 4):
                dur.analyze(event, 0.0, 0.0, n, n)
                jade.analyze(event, 0.0, 0.0, n, n)
                # the n+1 -> n merge, and the largest stored merge y (running maximum)
                ys += [max((dur.distance(i) for i in range(dur.distanceSize())), default=0.0) / evis2,
                       max((jade.distance(i) for i in range(jade.distanceSize())), default=0.0) / evis2]
            row.append([1.0 - thr.thrust(), thr.tMajor(), thr.tMinor(), thr.oblateness(), sph2.sphericity(),
                        sph2.aplanarity(), sph2.eigenValue(2) - sph2.eigenValue(3),
                        3.0 * (lam[0] * lam[1] + lam[1] * lam[2] + lam[2] * lam[0]), 27.0 * lam[0] * lam[1] * lam[2]] + ys)
        rows.append(row)
        records.append(rec)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in records])]).astype(np.int64)
    flat = np.concatenate(records)
    ints = [np.ascontiguousarray(flat[:, k]).astype(np.int64) for k in range(3)]
    floats = [np.ascontiguousarray(flat[:, k]) for k in range(3, 7)]
    return EventRecord(offsets, *ints, *floats, 91.2), records, np.array(rows)


def _sets(rec):
    """(charged, visible) momenta (x, y, z, e, |p|) of one event record."""
    final = rec[:, 1] > 0
    charged = final & np.array([charge3(int(i)) != 0 for i in rec[:, 0]])
    visible = final & ~np.isin(np.abs(rec[:, 0]), (12, 14, 16))
    out = []
    for sel in (charged, visible):
        x, y, z, e = (np.ascontiguousarray(rec[sel, k]) for k in (3, 4, 5, 6))
        out.append((x, y, z, e, np.sqrt(x * x + y * y + z * z)))
    return out


def _our_shapes(records):
    """Per event and set: the 16 shapes, the 18 axis numbers, Durham and Jade ymax[0..4]."""
    shapes = np.empty((len(records), 2, N_SHAPES))
    axes = np.empty((len(records), 2, 18))
    ys = np.empty((len(records), 2, 2, 5))
    w, iw, dm = jade_scratch(400)
    dw, diw = np.empty((9, 400)), np.empty((2, 400), np.int64)
    qa, qb, ang = np.empty(400), np.empty(400), np.empty(400)
    from simulators.lep.durham import durham_ymax
    for k, rec in enumerate(records):
        for s, (x, y, z, e, p) in enumerate(_sets(rec)):
            event_shapes(x, y, z, e, p, len(x), qa, qb, ang, shapes[k, s], axes[k, s])
            durham_ymax(x, y, z, e, len(x), ys[k, s, 0], 4, dw, diw)
            jade_ymax(x, y, z, e, len(x), ys[k, s, 1], 4, w, iw, dm)
    return shapes, axes, ys


# -- the contract ----------------------------------------------------------------------------
def test_delphi_paths_cover_the_reference(delphi_ref):
    ana = check_analysis(get_analysis("simulators.lep.delphi_1996:Delphi1996"))
    assert ana.name == "DELPHI_1996_S3430090" and len(delphi_ref) == 104
    filled, skipped = set(ana.histograms), set(ana.unsupported)
    assert len(filled) == len(DELPHI_PATHS) == 86 and not filled & skipped
    assert filled | skipped == set(delphi_ref)
    assert skipped == {f"/DELPHI_1996_S3430090/d{d:02d}-x01-y01" for d in [9, 10, *range(41, 57)]}
    for path, kind in ana.histograms.items():
        assert kind == ("mean" if len(delphi_ref[path].lows) == 1 else "density"), path


def test_pdg_paths_are_the_91_gev_points(pdg_ref):
    ana = check_analysis(get_analysis("simulators.lep.pdg_multiplicities:PdgMultiplicities"))
    assert ana.name == "PDG_HADRON_MULTIPLICITIES" and len(pdg_ref) == 116
    at_z = {p for p, h in pdg_ref.items() if len(h.lows) == 1 and h.lows[0] <= 91.2 < h.highs[0]}
    assert set(ana.histograms) == at_z and len(at_z) == 51
    assert all(kind == "mean" for kind in ana.histograms.values())
    # the titled species of the .plot file, and the values that show the PDG convention
    assert pdg_ref["/PDG_HADRON_MULTIPLICITIES/d01-x01-y03"].values[0] == pytest.approx(17.02)  # pi+ + pi-
    assert len({p for p, _, _ in PDG_SPECIES}) == 51


def test_event_shapes_and_jets_match_pythia(replay):
    events, records, pythia_rows = replay
    shapes, _, ys = _our_shapes(records)
    for s in range(2):
        ours = shapes[:, s, :9]
        theirs = pythia_rows[:, s, :9]
        # thrust, sphericity family, C, D: Pythia's thrust is exact too; its major may differ
        for c in (0, 4, 5, 6, 7, 8):
            np.testing.assert_allclose(ours[:, c], theirs[:, c], atol=1e-9, rtol=1e-6, err_msg=SHAPE_NAMES[c])
        for c in (1, 2, 3):  # thrust major / minor: the same maximum on almost every event
            agree = np.isclose(ours[:, c], theirs[:, c], rtol=1e-6, atol=1e-9)
            assert agree.mean() > 0.97, (SHAPE_NAMES[c], agree.mean())
            assert np.all(ours[:, 1] >= theirs[:, 1] - 1e-9)  # ours is the exact maximum
        for n in range(3):  # D_n: Durham, Jade vs the running maximum of ClusterJet's merges
            for alg in range(2):
                agree = np.isclose(ys[:, s, alg, n + 2], pythia_rows[:, s, 9 + 2 * n + alg], rtol=1e-7, atol=1e-12)
                assert agree.mean() > 0.99, (s, n, alg, agree.mean())


def test_jade_matches_brute_force(replay):
    _, records, _ = replay
    w, iw, dm = jade_scratch(64)
    ym = np.zeros(6)
    for rec in records[:5]:
        x, y, z, e, p = _sets(rec)[0]
        jets = [np.array([x[i], y[i], z[i], e[i]]) for i in range(len(x))]
        q2 = e.sum() ** 2
        expect = {}
        run = 0.0
        while len(jets) > 1:
            best = None
            for i in range(len(jets)):
                for j in range(i + 1, len(jets)):
                    a, b = jets[i], jets[j]
                    c = a[:3] @ b[:3] / (np.linalg.norm(a[:3]) * np.linalg.norm(b[:3]))
                    d = 2 * a[3] * b[3] * (1 - c) / q2
                    if best is None or d < best[0]:
                        best = (d, i, j)
            d, i, j = best
            run = max(run, d)
            jets[i] = jets[i] + jets[j]
            del jets[j]
            expect[len(jets)] = run
        jade_ymax(x, y, z, e, len(x), ym, 5, w, iw, dm)
        for n in range(1, 6):
            assert ym[n] == pytest.approx(expect[n], rel=1e-10)


def test_fill_matches_per_event_values(replay, delphi_ref):
    events, records, _ = replay
    ana = Delphi1996()
    booking = _booking(delphi_ref, ana.histograms)
    fills = Fills.empty(booking)
    ana.fill(events, booking, fills)
    assert fills.n_events == len(records)
    shapes, axes, ys = _our_shapes(records)

    def check(path, per_event_values, weights=None):
        h = delphi_ref[path]
        sums = np.zeros(len(h.lows))
        sq = np.zeros(len(h.lows))
        for k, vals in enumerate(per_event_values):
            vals = np.atleast_1d(vals)
            w = np.ones(len(vals)) if weights is None else np.atleast_1d(weights[k])
            row = np.zeros(len(h.lows))
            for v, wt in zip(vals, w):
                b = np.searchsorted(h.lows, v, side="right") - 1
                if b >= 0 and v < h.highs[b]:
                    row[b] += wt
            sums += row
            sq += row**2
        got = booking.bins_of(path)
        np.testing.assert_allclose(fills.sums[got], sums, rtol=1e-9, atol=1e-12, err_msg=path)
        np.testing.assert_allclose(fills.squares[got], sq, rtol=1e-9, atol=1e-12, err_msg=path)

    for s in range(2):
        for k in range(N_SHAPES):
            check(f"/DELPHI_1996_S3430090/d{11 + k:02d}-x01-y0{s + 1}", shapes[:, s, k])
        many = np.array([len(_sets(rec)[s][0]) >= 5 for rec in records])  # D_4 needs 5 particles
        check(f"/DELPHI_1996_S3430090/d31-x01-y0{s + 1}", [v if ok else np.nan for v, ok in zip(ys[:, s, 0, 4], many)])
        check(f"/DELPHI_1996_S3430090/d28-x01-y0{s + 1}", ys[:, s, 1, 2])  # Jade D_2
    charged = [_sets(rec)[0] for rec in records]
    ebeam = 45.6
    check("/DELPHI_1996_S3430090/d07-x01-y01", [c[4] / ebeam for c in charged])
    check("/DELPHI_1996_S3430090/d08-x01-y01", [-np.log(c[4] / ebeam) for c in charged])
    for s in range(2):  # |y_T| against this set's thrust axis, p_T out against the sphericity minor
        n1 = axes[:, s, 0:3]
        pl = [np.abs(np.c_[c[0], c[1], c[2]] @ n1[k]) for k, c in enumerate(charged)]
        check(f"/DELPHI_1996_S3430090/d05-x01-y0{s + 1}",
              [0.5 * np.log((c[3] + p) / (c[3] - p)) for c, p in zip(charged, pl)])
        check(f"/DELPHI_1996_S3430090/d04-x01-y0{s + 1}",
              [np.abs(np.c_[c[0], c[1], c[2]] @ axes[k, s, 15:18]) for k, c in enumerate(charged)])
    cosines, weights, acos_, aw = [], [], [], []
    for x, y, z, e, p in charged:
        i, j = np.triu_indices(len(x), 1)
        c = (x[i] * x[j] + y[i] * y[j] + z[i] * z[j]) / (p[i] * p[j])
        w = e[i] * e[j] / e.sum() ** 2
        cosines.append(c)
        weights.append(w)
        acos_.append(np.where(c < 0, c, -c))
        aw.append(np.where(c < 0, w, -w))
    check("/DELPHI_1996_S3430090/d33-x01-y01", cosines, weights)
    check("/DELPHI_1996_S3430090/d34-x01-y01", acos_, aw)
    nch = np.array([len(c[0]) for c in charged], float)
    b = booking.bins_of("/DELPHI_1996_S3430090/d35-x01-y01")
    assert fills.sums[b][0] == nch.sum() and fills.squares[b][0] == (nch**2).sum()


def _produced_counts(records, ids):
    """Plain count: |status| >= 81, |id| in ids, first mother not the same |id|."""
    out = []
    for rec in records:
        a = np.abs(rec[:, 0]).astype(int)
        mo = rec[:, 2].astype(int)
        ok = (np.abs(rec[:, 1]) >= 81) & np.isin(a, ids)
        ok &= ~((mo > 0) & (mo < len(rec)) & (a[np.clip(mo, 0, len(rec) - 1)] == a))
        out.append(ok.sum())
    return np.array(out, float)


def test_identified_counts(replay, delphi_ref, pdg_ref):
    events, records, _ = replay
    for ana, ref, species in ((Delphi1996(), delphi_ref, [(f"/DELPHI_1996_S3430090/d{d:02d}-x01-y{y:02d}", ids)
                                                         for d, y, _, ids in DELPHI_SPECIES]),
                              (PdgMultiplicities(), pdg_ref, [(f"/PDG_HADRON_MULTIPLICITIES/{p}", ids)
                                                              for p, _, ids in PDG_SPECIES])):
        booking = _booking(ref, ana.histograms)
        fills = Fills.empty(booking)
        ana.fill(events, booking, fills)
        assert fills.n_events == len(records)
        for path, ids in species:
            c = _produced_counts(records, ids)
            b = booking.bins_of(path)
            assert fills.sums[b][0] == c.sum() and fills.squares[b][0] == (c**2).sum(), path
    # pi+-, K+-, p: the produced count is the final-state count
    fs = [sum(((r[:, 1] > 0) & (np.abs(r[:, 0]) == a)).sum() for r in records) for a in (211, 321, 2212)]
    assert fs == [_produced_counts(records, [a]).sum() for a in (211, 321, 2212)]
    # another energy: the 91 GeV means are not filled
    other = EventRecord(*[getattr(events, f) for f in ("offsets", "pid", "status", "mother1", "px", "py", "pz", "e")], 35.0)
    ana = PdgMultiplicities()
    booking = _booking(pdg_ref, ana.histograms)
    fills = Fills.empty(booking)
    ana.fill(other, booking, fills)
    assert fills.n_events == len(records) and not fills.sums.any()


def test_partial_booking_fills_the_same_bins(replay, delphi_ref):
    events, _, _ = replay
    ana = Delphi1996()
    full = _booking(delphi_ref, ana.histograms)
    some = ["/DELPHI_1996_S3430090/d32-x01-y02", "/DELPHI_1996_S3430090/d07-x01-y01",
            "/DELPHI_1996_S3430090/d40-x01-y06", "/DELPHI_1996_S3430090/d01-x01-y02"]
    part = _booking(delphi_ref, some)
    f_full, f_part = Fills.empty(full), Fills.empty(part)
    ana.fill(events, full, f_full)
    ana.fill(events, part, f_part)
    for p in some:
        np.testing.assert_array_equal(f_part.sums[part.bins_of(p)], f_full.sums[full.bins_of(p)])
        np.testing.assert_array_equal(f_part.squares[part.bins_of(p)], f_full.squares[full.bins_of(p)])


def test_normalisation():
    """Full-range bookings: a shape integrates to 1, a spectrum to <N_ch>, EEC to its pair sum."""
    ana = Delphi1996()
    p = "/DELPHI_1996_S3430090/"
    bins = {p + "d11-x01-y01": ([0.0, 0.1], [0.1, 0.6]), p + "d27-x01-y02": ([0.0], [1.0]),
            p + "d07-x01-y01": ([0.0, 0.5], [0.5, 1.01]), p + "d06-x01-y01": ([0.0], [20.0]),
            p + "d33-x01-y01": ([-1.0], [1.0 + 1e-12]), p + "d35-x01-y01": ([90.7], [91.7])}
    booking = Booking.from_bins({k: (np.array(lo), np.array(hi)) for k, (lo, hi) in bins.items()})
    fills = PythiaEE(sqrt_s=91.2).fill_histograms({}, 2000, 7, [ana], booking)
    kinds = {k: ana.histograms[k] for k in bins}
    v = bin_values(fills, booking, kinds)
    area = {k: float(np.sum(v.values[booking.bins_of(k)] * booking.widths()[booking.bins_of(k)])) for k in bins}
    nch = area[p + "d35-x01-y01"]
    assert 19.5 < nch < 21.5  # Monash in this Pythia: about 20.5 (data 20.92)
    assert area[p + "d11-x01-y01"] == pytest.approx(1.0, abs=1e-12)
    assert area[p + "d27-x01-y02"] == pytest.approx(1.0, abs=1e-12)
    assert area[p + "d07-x01-y01"] == pytest.approx(nch, rel=1e-12)
    assert area[p + "d06-x01-y01"] == pytest.approx(nch, rel=1e-12)
    assert 0.40 < area[p + "d33-x01-y01"] < 0.48  # sum_{i<j} E_i E_j / E^2 = (1 - sum E_i^2 / E^2) / 2


def _chi2(ana, ref, n, seed):
    booking = _booking(ref, ana.histograms)
    fills = PythiaEE(sqrt_s=91.2).fill_histograms({}, n, seed, [ana], booking)
    v = bin_values(fills, booking, ana.histograms)
    out = {}
    for path in ana.histograms:
        b = booking.bins_of(path)
        d, e = ref[path].values, ref[path].errors
        out[path] = float(np.sum((d - v.values[b]) ** 2 / (e**2 + v.errors[b] ** 2)))
    return out


@pytest.mark.slow
def test_chi2_at_monash(delphi_ref, pdg_ref):
    for ana, ref in ((Delphi1996(), delphi_ref), (PdgMultiplicities(), pdg_ref)):
        chi = _chi2(ana, ref, 100_000, 2024)
        for path, c in chi.items():
            print(f"{path:45s} {len(ref[path].values):3d} bins  chi2 {c:9.1f}")
        total = sum(chi.values())
        print(f"{ana.name}: total chi2 {total:.1f} over {sum(len(ref[p].values) for p in chi)} bins")
        assert math.isfinite(total)


@pytest.mark.slow
def test_throughput():
    n = 10_000
    sim = PythiaEE(sqrt_s=91.2)
    for ana, name in ((Delphi1996(), "DELPHI_1996_S3430090"), (PdgMultiplicities(), "PDG_HADRON_MULTIPLICITIES")):
        ref = _ref(name)
        booking = _booking(ref, ana.histograms)
        sim.fill_histograms({}, 100, 1, [ana], booking)  # compile, init
        t0 = time.perf_counter()
        sim.fill_histograms({}, n, 3, [], booking)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        sim.fill_histograms({}, n, 3, [ana], booking)
        t_all = time.perf_counter() - t0
        print(f"{name}: Pythia alone {n / t_gen:.0f} ev/s, Pythia + analysis {n / t_all:.0f} ev/s")
        assert t_all < 5 * t_gen
