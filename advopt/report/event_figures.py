"""Figures of the events: normalised histograms of every observable with ratio panels, and the
ROC curves of a classifier between each simulated sample and the reference."""

from __future__ import annotations

import math

from advopt.report.common import COLORS, FEATURES_PER_PAGE, numpy_module, plotting, report_style


def observable_figures(reference, start, tuned, feature_names, per_page: int = FEATURES_PER_PAGE,
                       labels: tuple[str, str, str] = ("reference", "start", "tuned")) -> list:
    """Pages of normalised histograms (reference as points, start dashed, tuned solid) with
    ratio-to-reference panels, ``per_page`` features a page. Returns matplotlib Figures."""
    np, mpl = numpy_module(), plotting()
    import mplhep

    names = list(feature_names)
    pages = []
    for first in range(0, len(names), per_page):
        chunk = list(range(first, min(first + per_page, len(names))))
        ncols = 1 if len(chunk) == 1 else 2 if len(chunk) <= 4 else 3 if len(chunk) <= 9 else 4
        nrows = math.ceil(len(chunk) / ncols)
        single = len(chunk) == 1
        with report_style():
            figure = mpl.figure.Figure(figsize=(9.0, 8.5) if single else (5.2 * ncols, 4.9 * nrows + 0.7),
                                       layout="constrained")
            figure.get_layout_engine().set(h_pad=0.03, w_pad=0.05, hspace=0.0, wspace=0.02)
            outer = figure.add_gridspec(nrows, ncols)
            for slot, column in enumerate(chunk):
                inner = outer[slot // ncols, slot % ncols].subgridspec(2, 1, height_ratios=(3, 1))
                top = figure.add_subplot(inner[0])
                bottom = figure.add_subplot(inner[1], sharex=top)
                _histogram_panel(np, mplhep, top, bottom, names[column],
                                 reference[:, column], start[:, column], tuned[:, column], labels, single)
            handles, texts = figure.axes[0].get_legend_handles_labels()
            figure.legend(handles, texts, loc="outside upper center", ncols=3, frameon=False, fontsize="small")
            pages.append(figure)
    return pages


def roc_figure(reference, start, tuned, seed: int):
    """ROC curves of a HistGradientBoosting classifier between each simulated sample and
    the reference (trained on 2/3, evaluated on 1/3). Returns (Figure, {label: (auc, err)})."""
    np, mpl = numpy_module(), plotting()
    aucs = {}
    with report_style():
        figure = mpl.figure.Figure(figsize=(8.5, 8.0), layout="constrained")
        ax = figure.add_subplot()
        ax.plot([0, 1], [0, 1], color="0.5", ls=":", lw=1.2, label="indistinguishable (AUC 0.5)")
        for label, sample, style in (("start", start, "--"), ("tuned", tuned, "-")):
            fpr, tpr, auc, error = _roc(np, sample, reference, seed)
            aucs[label] = (auc, error)
            ax.plot(fpr, tpr, ls=style, lw=2.2, color=COLORS[label], label=f"{label}: AUC = {auc:.3f} $\\pm$ {error:.3f}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("reference events classed simulated (FPR)", fontsize="small")
        ax.set_ylabel("simulated events classed simulated (TPR)", fontsize="small")
        ax.legend(loc="lower right", fontsize="x-small", frameon=False)
    return figure, aucs


def _histogram_panel(np, mplhep, top, bottom, name, reference, start, tuned, labels, single) -> None:
    from matplotlib.ticker import MaxNLocator

    edges, spike, integer = _binning(np, [reference, start, tuned])
    widths = np.diff(edges)
    hists = {}
    for key, data in zip(("reference", "start", "tuned"), (reference, start, tuned)):
        shown = data if spike is None else data[data != spike]
        counts = _counts(shown, edges)
        hists[key] = (counts / (len(data) * widths), np.sqrt(counts) / (len(data) * widths))
    ref, ref_err = hists["reference"]
    mplhep.histplot(ref, edges, yerr=ref_err, histtype="errorbar", color=COLORS["reference"], ax=top,
                    label=f"{labels[0]}", markersize=4 if not single else 6, flow=None)
    mplhep.histplot(hists["start"][0], edges, yerr=hists["start"][1], histtype="step", ls="--", lw=1.6,
                    color=COLORS["start"], ax=top, label=labels[1], flow=None)
    mplhep.histplot(hists["tuned"][0], edges, yerr=hists["tuned"][1], histtype="step", lw=1.8,
                    color=COLORS["tuned"], ax=top, label=labels[2], flow=None)
    top.set_ylabel("1/N dN/dx", fontsize="x-small" if not single else "small")
    peak = max(np.max(ref + ref_err), np.max(hists["tuned"][0]), np.max(hists["start"][0]))
    if _steeply_falling(np, ref):
        top.set_yscale("log")
        floor = np.min(ref[ref > 0]) if (ref > 0).any() else peak * 1e-3
        top.set_ylim(floor / 3, peak * 6)
    else:
        top.set_ylim(0, peak * 1.35)
    if integer:
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.tick_params(labelbottom=False, labelsize="x-small" if not single else "small")
    chi2 = {key: _chi2(np, hists[key], hists["reference"]) for key in ("start", "tuned")}
    lines = [f"$\\chi^2$/ndf {labels[1]} {chi2['start'][0]:.1f}/{chi2['start'][1]}",
             f"$\\chi^2$/ndf {labels[2]} {chi2['tuned'][0]:.1f}/{chi2['tuned'][1]}"]
    if spike is not None:
        share = {key: float(np.mean(d == spike)) for key, d in zip(("reference", "start", "tuned"), (reference, start, tuned))}
        lines.append(f"at {spike:g} (not shown): ref {share['reference']:.0%}, start {share['start']:.0%}, "
                     f"tuned {share['tuned']:.0%}")
    right_heavy = np.argmax(ref) >= len(ref) / 2 if ref.size else False
    top.text(0.03 if right_heavy else 0.97, 0.95, "\n".join(lines), transform=top.transAxes,
             ha="left" if right_heavy else "right", va="top",
             fontsize="xx-small" if not single else "x-small", linespacing=1.3)
    # ratio panel: simulation / reference, reference's own uncertainty as a band
    with np.errstate(divide="ignore", invalid="ignore"):
        band = np.where(ref > 0, ref_err / ref, np.nan)
        bottom.stairs(1 + np.nan_to_num(band), edges, baseline=1 - np.nan_to_num(band), fill=True,
                      color=COLORS["band"], alpha=0.7, lw=0)
        for key, style in (("start", "--"), ("tuned", "-")):
            ratio = np.where(ref > 0, hists[key][0] / ref, np.nan)
            error = np.where(ref > 0, hists[key][1] / ref, np.nan)
            centres = 0.5 * (edges[1:] + edges[:-1])
            bottom.stairs(ratio, edges, color=COLORS[key], ls=style, lw=1.4, baseline=None)
            bottom.errorbar(centres, ratio, yerr=error, fmt="none", color=COLORS[key], lw=1, capsize=0)
    bottom.axhline(1.0, color="black", lw=0.8)
    bottom.set_ylim(*_ratio_limits(np, ref, ref_err, [hists["start"][0], hists["tuned"][0]]))
    bottom.set_ylabel("sim / ref", fontsize="xx-small" if not single else "x-small")
    bottom.set_xlabel(name, fontsize="x-small" if not single else "small")
    bottom.tick_params(labelsize="x-small" if not single else "small")
    bottom.set_xlim(edges[0], edges[-1])


def _steeply_falling(np, ref) -> bool:
    """Log scale for distributions that fall by orders of magnitude from a peak at the low
    edge (event shapes like D or the aplanarity; counts that are almost always 0)."""
    positive = ref[ref > 0]
    if positive.size < 2:
        return False
    if len(ref) <= 8:
        return bool(positive.max() / positive.min() > 30)
    return bool(np.argmax(ref) < 0.15 * len(ref) and positive.max() / np.median(positive) > 10)


def _ratio_limits(np, ref, ref_err, simulated) -> tuple[float, float]:
    """A symmetric ratio range around 1 (+-0.1, 0.2, 0.5 or 1) that holds 90% of the ratios
    of the bins where the reference is known to better than 15%."""
    with np.errstate(divide="ignore", invalid="ignore"):
        good = (ref > 0) & (ref_err < 0.15 * ref)
        ratios = np.concatenate([values[good] / ref[good] for values in simulated]) if good.any() else np.array([1.0])
    spread = float(np.quantile(np.abs(ratios - 1), 0.9)) if ratios.size else 0.0
    for half in (0.1, 0.2, 0.5, 1.0):
        if spread < 0.9 * half:
            return 1 - half, 1 + half
    return 0.0, 2.0


def _binning(np, samples):
    """Bin edges for a feature, a value left out of the plot (a spike holding > 20% of the
    events of a continuous feature, like 0 for 'x_b of events without a b') or None, and
    whether the feature is integer-valued.

    Integer-valued features get one bin per integer (wider when the range is large);
    continuous ones 40 equal bins over the central 99.6% of the pooled events."""
    pooled = np.concatenate([np.asarray(s, dtype=float) for s in samples])
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        return np.array([0.0, 1.0]), None, False
    integer = bool(np.all(pooled == np.round(pooled)))
    spike = None
    if not integer:
        values, counts = np.unique(pooled, return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] > 0.2 * pooled.size and counts[top] < pooled.size:
            spike = float(values[top])
            pooled = pooled[pooled != spike]
    if integer:
        low, high = np.quantile(pooled, [0.001, 0.999])
        low, high = math.floor(low), math.ceil(high)
        # values on a lattice (the charged multiplicity is always even): one bin per lattice step
        present = np.unique(pooled).astype(np.int64)
        lattice = int(np.gcd.reduce(np.diff(present))) if present.size > 1 else 1
        step = lattice * max(1, math.ceil((high - low + lattice) / lattice / 40))
        first = low - 0.5 * lattice
        return np.arange(first, high + 0.5 * lattice + step, step, dtype=float), None, True
    low, high = np.quantile(pooled, [0.002, 0.998])
    if not high > low:
        low, high = low - 0.5, high + 0.5
    n_bins = int(np.clip(np.sqrt(pooled.size / 3) / 2, 10, 40))
    return np.linspace(low, high, n_bins + 1), spike, False


def _counts(values, edges):
    import hist
    import numpy as np

    histogram = hist.Hist(hist.axis.Variable(edges, underflow=True, overflow=True))
    histogram.fill(np.asarray(values, dtype=float))
    return histogram.values(flow=False).astype(float)


def _chi2(np, simulated, reference) -> tuple[float, int]:
    value, error = simulated
    ref, ref_error = reference
    variance = error**2 + ref_error**2
    used = variance > 0
    return float(np.sum((value[used] - ref[used]) ** 2 / variance[used])), int(used.sum())


def _roc(np, simulated, reference, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    n = min(len(simulated), len(reference))
    sim = simulated[rng.permutation(len(simulated))[:n]]
    ref = reference[rng.permutation(len(reference))[:n]]
    cut = (2 * n) // 3
    x_train = np.vstack([sim[:cut], ref[:cut]])
    y_train = np.r_[np.ones(cut), np.zeros(cut)]
    x_test = np.vstack([sim[cut:], ref[cut:]])
    y_test = np.r_[np.ones(n - cut), np.zeros(n - cut)]
    from threadpoolctl import threadpool_limits

    classifier = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=seed % 2**32)
    # One OpenMP thread: in a process that has loaded torch, sklearn's OpenMP threads were
    # measured to spin against torch's (a 1 s fit took 8-15 s); one thread is fast enough.
    with threadpool_limits(limits=1, user_api="openmp"):
        classifier.fit(x_train, y_train)
    score = classifier.predict_proba(x_test)[:, 1]
    fpr, tpr, _ = roc_curve(y_test, score)
    auc = float(roc_auc_score(y_test, score))
    return fpr, tpr, auc, _auc_error(auc, n - cut, n - cut)


def _auc_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982) standard error of an AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return math.sqrt(max(variance, 0.0))


