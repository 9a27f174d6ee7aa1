"""Figures of the tuning itself, from the history: convergence, parameter trajectories, the
Bayesian surrogate and the variational proposal."""

from __future__ import annotations

import math
import warnings

from advopt.report.common import COLORS, divergence_label, numpy_module, plotting, report_style
from advopt.report.samples import run_seed
from advopt.records.progress import RunFiles


def convergence_figure(run: RunFiles):
    """Divergence +- standard error against cumulative simulated events, the lowest so far
    and the budget."""
    np, mpl = numpy_module(), plotting()
    with report_style():
        figure = mpl.figure.Figure(figsize=(10, 6.5), layout="constrained")
        ax = figure.add_subplot()
        x = np.cumsum([e.n_events for e in run.history])
        ok = np.array([e.ok for e in run.history])
        values = np.array([e.value for e in run.history], dtype=float)
        errors = np.array([e.stderr for e in run.history], dtype=float)
        if ok.any():
            ax.errorbar(x[ok], values[ok], yerr=errors[ok], fmt="o", ms=5, color=COLORS["tuned"], elinewidth=1.2,
                        capsize=0, label="evaluation $\\pm$ stat. error", zorder=3)
            running = np.minimum.accumulate(np.where(ok, values, np.inf))
            shown = np.isfinite(running)
            ax.step(x[shown], running[shown], where="post", color="0.25", lw=1.8, label="lowest estimate so far")
        if (~ok).any():
            ax.plot(x[~ok], np.full((~ok).sum(), 0.96), "x", color=COLORS["truth"], ms=9, mew=2,
                    transform=ax.get_xaxis_transform(), label=f"failed ({(~ok).sum()})", zorder=4)
        if run.result is not None and math.isfinite(run.result.best_value):
            ax.plot([run.events_used], [run.result.best_value], "*", ms=16, color=COLORS["start"], zorder=5,
                    label=f"result (surrogate minimum) {run.result.best_value:.3g}")
        ax.axhline(0.0, color="0.5", lw=0.8)
        if run.budget:
            ax.axvline(run.budget, color="0.3", ls="--", lw=1.5, label=f"budget {run.budget:,} events")
            ax.set_xlim(0, run.budget * 1.04)
        ax.set_xlabel("simulated events (cumulative)")
        ax.set_ylabel(divergence_label(run.divergence))
        ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
        if ok.any():
            low = min(0.0, float(np.nanmin(values[ok] - errors[ok])))
            high = float(np.nanmax(values[ok] + errors[ok]))
            ax.set_ylim(low - 0.05 * (high - low), high + 0.12 * (high - low))
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("evaluation"))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper right", fontsize="x-small",
                  frameon=False)
        ax.set_title(f"{len(run.history)} evaluations, {run.events_used:,} events", fontsize="small", loc="left")
    return figure


def round_estimates(run: RunFiles) -> list[tuple[int, dict]]:
    """(events spent when it was asked, {name: [value, low, high]}) for each estimate a fitting
    optimiser recorded beside the points it asked (the pooled route's rounds), in order."""
    out, spent = [], 0
    for evaluation in run.history:
        estimate = evaluation.details.get("estimate")
        if estimate and (not out or out[-1][1] != estimate):
            out.append((spent, estimate))
        spent += evaluation.n_events
    return out


def estimate_figure(run: RunFiles):
    """One panel per parameter: the estimate and its 68% band at each round against the
    events spent, the result with its interval at the end, the truth where known."""
    np, mpl = numpy_module(), plotting()
    names, rounds = run.parameter_names, round_estimates(run)
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    right = max(run.budget or 0, run.events_used)
    with report_style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols + 1.5, 3.8 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        x = np.array([spent for spent, _ in rounds], dtype=float)
        for ax, name in zip(axes, names):
            band = np.array([estimate[name] for _, estimate in rounds], dtype=float).reshape(-1, 3)
            ax.errorbar(x, band[:, 0], yerr=[band[:, 0] - band[:, 1], band[:, 2] - band[:, 0]], fmt="o-", ms=5,
                        color="0.35", lw=1.0, capsize=2, label="estimate a round was centred on, 68%")
            if run.result is not None and math.isfinite(run.result.best_params.get(name, math.nan)):
                best = run.result.best_params[name]
                low, high = run.result.interval68.get(name, (best, best))
                ax.errorbar([run.events_used], [best], yerr=[[best - low], [high - best]], fmt="D", ms=8, capsize=3,
                            color=COLORS["tuned"], label="result, 68% interval")
            if name in run.truth:
                ax.axhline(run.truth[name], color=COLORS["truth"], ls="--", lw=1.4, label="truth")
            ax.set_xlim(0, right * 1.06)
            ax.set_ylabel(name, fontsize="small")
            ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
            ax.tick_params(labelbottom=True)
        for ax in axes[len(names):]:
            ax.set_visible(False)
        for ax in axes[max(0, len(names) - ncols): len(names)]:
            ax.set_xlabel("simulated events (cumulative)", fontsize="small")
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False, fontsize="x-small")
    return figure


def trajectory_figure(run: RunFiles):
    """One panel per parameter: evaluated values against cumulative events (coloured by
    divergence), the truth and the tuned value with its 68% interval."""
    np, mpl = numpy_module(), plotting()
    names = run.parameter_names
    space = run.resolved.get("space") or {}
    ncols = min(len(names), 3) if len(names) > 1 else 1
    nrows = math.ceil(len(names) / ncols)
    with report_style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols + 1.5, 4.6 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        x = np.cumsum([e.n_events for e in run.history])
        ok = np.array([e.ok for e in run.history])
        values = np.array([e.value for e in run.history], dtype=float)
        good = values[ok]
        norm = mpl.colors.Normalize(vmin=float(np.min(good)) if good.size else 0.0,
                                    vmax=float(np.max(good)) if good.size else 1.0)
        cmap = mpl.colormaps["viridis"]
        scatter = None
        tuned = run.tuned_params()
        right = max(run.budget or 0, run.events_used)
        for ax, name in zip(axes, names):
            ax.set_xlim(0, right * 1.06)
            y = np.array([e.params.get(name, np.nan) for e in run.history], dtype=float)
            ax.plot(x, y, color="0.8", lw=0.8, zorder=1)
            if ok.any():
                scatter = ax.scatter(x[ok], y[ok], c=values[ok], cmap=cmap, norm=norm, s=40, zorder=3,
                                     edgecolors="0.3", linewidths=0.5)
            if (~ok).any():
                ax.plot(x[~ok], y[~ok], "x", color=COLORS["truth"], ms=7, mew=1.8, zorder=4, label="failed")
            facts = []
            if name in run.truth:
                ax.axhline(run.truth[name], color=COLORS["truth"], ls="--", lw=1.6, label="truth", zorder=2)
            if run.result is None and tuned is not None and name in tuned:
                facts.append(f"best so far {tuned[name]:.4g}")
            if run.result is not None and name in run.result.best_params and math.isfinite(run.result.best_params[name]):
                best = run.result.best_params[name]
                low, high = run.result.interval68.get(name, (best, best))
                edge = run.events_used + 0.03 * right
                ax.axhline(best, color=COLORS["tuned"], lw=1.2, alpha=0.6, zorder=2)
                # the interval comes from posterior draws of the minimum and need not contain ``best``
                ax.axhspan(low, high, color=COLORS["tuned"], alpha=0.12, zorder=0)
                ax.vlines([edge], low, high, color=COLORS["tuned"], lw=2.5, zorder=5)
                ax.plot([edge], [best], "D", color=COLORS["tuned"], ms=8, zorder=6, label="tuned, 68% interval")
                facts.append(f"tuned {best:.4g}, 68% [{low:.4g}, {high:.4g}]")
            bounds = space.get(name)
            if bounds:
                if bounds.get("log"):
                    ax.set_yscale("log")
                pad = 0.02 * (bounds["high"] - bounds["low"])
                ax.set_ylim(bounds["low"] - (0 if bounds.get("log") else pad), bounds["high"] + pad)
            if name in run.truth:
                facts.append(f"truth {run.truth[name]:.4g}")
            ax.set_title("; ".join(facts), fontsize="xx-small", loc="left")
            ax.set_ylabel(name, fontsize="small")
            ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
        for ax in axes[len(names):]:
            ax.set_visible(False)
        for k, ax in enumerate(axes[: len(names)]):
            ax.tick_params(labelbottom=True)
            if k + ncols >= len(names):
                ax.set_xlabel("simulated events (cumulative)", fontsize="small")
        legend = {}
        for ax in axes[: len(names)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                legend.setdefault(label, handle)
        if legend:
            figure.legend(list(legend.values()), list(legend), loc="outside upper center", ncols=len(legend),
                          frameon=False, fontsize="x-small")
        if scatter is not None:
            bar = figure.colorbar(scatter, ax=list(axes[: len(names)]), shrink=0.9, pad=0.01)
            bar.set_label(divergence_label(run.divergence), fontsize="small")
    return figure


def surrogate_figure(run: RunFiles):
    """A Gaussian process refitted to the history, cut along each parameter through the
    tuned point (mean, 1 and 2 sd). None with fewer than 3 successful evaluations."""
    np, mpl = numpy_module(), plotting()
    from advopt.space import Space

    names = run.parameter_names
    ok = [e for e in run.history if e.ok and all(n in e.params for n in names)]
    if len(ok) < 3 or not run.resolved.get("space"):
        return None
    space = Space.from_dict(run.resolved["space"])
    units = np.array([space.to_unit({n: min(max(e.params[n], space[n].low), space[n].high) for n in names})
                      for e in ok])
    values = np.array([e.value for e in ok])
    variances = np.array([e.stderr for e in ok]) ** 2
    gp = _fit_gp(units, values, variances, run_seed(run, 0))
    tuned = run.tuned_params()
    centre = space.to_unit({n: min(max(tuned[n], space[n].low), space[n].high) for n in names})
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    grid = np.linspace(0.0, 1.0, 201)
    with report_style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols, 4.6 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
        for k, (ax, name) in enumerate(zip(axes, names)):
            points = np.repeat(centre[None], len(grid), axis=0)
            points[:, k] = grid
            mean, sd = gp.predict(points, return_std=True)
            xs = np.array([space[name].from_unit(u) for u in grid])
            ax.fill_between(xs, mean - 2 * sd, mean + 2 * sd, color=COLORS["tuned"], alpha=0.12, lw=0,
                            label="surrogate $\\pm 2\\sigma$")
            ax.fill_between(xs, mean - sd, mean + sd, color=COLORS["tuned"], alpha=0.25, lw=0,
                            label="surrogate $\\pm 1\\sigma$")
            ax.plot(xs, mean, color=COLORS["tuned"], lw=2, label="surrogate mean")
            ax.errorbar([e.params[name] for e in ok], values, yerr=np.sqrt(variances), fmt="o", ms=3.5,
                        color="0.45", alpha=0.6, elinewidth=0.8, label="evaluations (projected)")
            ax.axvline(tuned[name], color=COLORS["tuned"], lw=1.2, ls=":", label=f"tuned {tuned[name]:.4g}")
            if run.result is not None and name in run.result.interval68:
                low, high = run.result.interval68[name]
                if math.isfinite(low) and math.isfinite(high):
                    ax.axvspan(low, high, color=COLORS["tuned"], alpha=0.08, lw=0, label="68% interval")
            if name in run.truth:
                ax.axvline(run.truth[name], color=COLORS["truth"], ls="--", lw=1.6, label="truth")
            if space[name].log:
                ax.set_xscale("log")
            ax.set_xlim(space[name].low, space[name].high)
            ax.set_xlabel(name, fontsize="small")
            ax.axhline(0.0, color="0.5", lw=0.8)
            if k % ncols == 0:
                ax.set_ylabel(divergence_label(run.divergence), fontsize="small")
        for ax in axes[len(names):]:
            ax.set_visible(False)
        low = min(0.0, float(np.min(values - np.sqrt(variances))))
        high = float(np.max(values + np.sqrt(variances)))
        axes[0].set_ylim(low - 0.05 * (high - low), high + 0.1 * (high - low))
        seen = {}
        for ax in axes[: len(names)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                key = "tuned" if label.startswith("tuned") else label
                seen.setdefault(key, (handle, "tuned" if key == "tuned" else label))
        figure.legend([h for h, _ in seen.values()], [t for _, t in seen.values()], loc="outside upper center",
                      ncols=min(len(seen), 4), frameon=False, fontsize="x-small")
    return figure


def proposal_figure(run: RunFiles):
    """Variational runs: the proposal's mean and width per parameter against events, read
    from each evaluation's ``details`` (``proposal_mean``/``proposal_sd`` by parameter name,
    or ``proposal: {mean, sd}``). None when the history does not record them."""
    np, mpl = numpy_module(), plotting()
    names = run.parameter_names
    rows = []
    x = np.cumsum([e.n_events for e in run.history])
    for events, evaluation in zip(x, run.history):
        details = evaluation.details or {}
        proposal = details.get("proposal") if isinstance(details.get("proposal"), dict) else {}
        mean = details.get("proposal_mean", proposal.get("mean"))
        sd = details.get("proposal_sd", details.get("proposal_std", proposal.get("sd", proposal.get("std"))))
        if isinstance(mean, dict) and isinstance(sd, dict) and all(n in mean and n in sd for n in names):
            rows.append((events, [float(mean[n]) for n in names], [float(sd[n]) for n in names]))
    if not rows:
        return None
    events = np.array([r[0] for r in rows])
    means = np.array([r[1] for r in rows])
    sds = np.array([r[2] for r in rows])
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    with report_style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols, 4.6 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        for k, (ax, name) in enumerate(zip(axes, names)):
            ax.fill_between(events, means[:, k] - sds[:, k], means[:, k] + sds[:, k], color=COLORS["tuned"],
                            alpha=0.25, lw=0, label="proposal $\\pm 1$ sd")
            ax.plot(events, means[:, k], color=COLORS["tuned"], lw=2, label="proposal mean")
            if name in run.truth:
                ax.axhline(run.truth[name], color=COLORS["truth"], ls="--", lw=1.6, label="truth")
            ax.set_ylabel(name, fontsize="small")
            ax.set_xlabel("simulated events (cumulative)", fontsize="small")
            ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
        for ax in axes[len(names):]:
            ax.set_visible(False)
        axes[0].legend(fontsize="xx-small", frameon=False)
    return figure


def _fit_gp(units, values, variances, seed: int):
    """sklearn GP like the Bayesian optimiser's: Matern 5/2 with one length scale per
    parameter, normalised targets, each point's squared standard error as its noise."""
    np = numpy_module()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from skopt.learning.gaussian_process.kernels import WhiteKernel  # skopt's, as the optimiser's kernel is

    from advopt.optimizers.bayes import surrogate_kernel

    kernel = surrogate_kernel(units.shape[1]) + WhiteKernel(1e-3, (1e-6, 1e-1))
    scale = values.var() if values.var() > 0 else 1.0
    gp = GaussianProcessRegressor(kernel=kernel, alpha=np.maximum(variances / scale, 1e-10), normalize_y=True,
                                  n_restarts_optimizer=2, random_state=seed % 2**32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(units, values)
    return gp


