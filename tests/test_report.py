"""advopt report / advopt status: figures, the HTML page, the saved report samples, the CLI.

One short real tune of the Gaussian toy (from a TOML config, as `advopt tune` runs it) is
shared by the module; the report simulates 2,000 events per point for its plots.
"""

import json
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("mplhep")
pytest.importorskip("hist")

import advopt  # noqa: E402
from advopt.config import load_config, tune_arguments  # noqa: E402
from advopt.report import SAMPLES_FILE, build_report, make_report  # noqa: E402
from advopt.records.progress import read_run, run_status  # noqa: E402

REPORT_EVENTS = 2_000
CONFIG = """
seed = 3

[simulator]
name = "gaussian"

[reference]
simulate_at = "truth"
events = 3000

[divergence]
kind = "mlp"
max_epochs = 30

[optimizer]
kind = "bayes"
batch_size = 2
n_initial_points = 4

[budget]
events = 6000
events_per_point = 1000

[execution]
workers = 1
"""
EXPECTED_FIGURES = ("convergence", "trajectories", "surrogate", "observables_1", "roc")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "advopt", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    config_path = base / "gauss.toml"
    config_path.write_text(CONFIG)
    run = base / "run"
    result = advopt.tune(**tune_arguments(load_config(config_path), {"run_dir": str(run)}))
    assert len(result.history) == 6
    return run


@pytest.fixture(scope="module")
def page(run_dir):
    return make_report(run_dir, simulate_events=REPORT_EVENTS)


def _is_png(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND"
    return width, height


class _Page(HTMLParser):
    """Collects images and links and checks that every element is closed in order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.links, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_report_writes_every_figure_and_one_self_contained_page(run_dir, page):
    assert page == run_dir / "report" / "report.html"
    out = page.parent
    pngs = {p.stem: p for p in out.glob("*.png")}
    assert set(EXPECTED_FIGURES) <= set(pngs)
    for png in pngs.values():
        width, height = _is_png(png)
        assert width > 300 and height > 300

    text = page.read_text()
    parser = _Page()
    parser.feed(text)
    parser.close()
    assert not parser.errors and parser.stack == [], (parser.errors, parser.stack)
    assert text.lstrip().startswith("<!DOCTYPE html>")
    by_name = {img["alt"]: img for img in parser.images}
    assert set(by_name) == set(pngs)
    for name, img in by_name.items():
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        import base64

        assert base64.b64decode(img["src"][len(prefix):]) == pngs[name].read_bytes()
    # views with no network: nothing fetched, no scripts
    assert "<script" not in text.lower()
    assert "http://" not in text and "https://" not in text
    assert all(link.startswith("#") for link in parser.links)
    # says how many events the report simulated, and that the budget does not count them
    assert f"{REPORT_EVENTS:,} simulated events at each of the start and tuned points" in text
    assert "not counted in its budget" in text
    assert "mean" in text and "width" in text  # the parameter table
    result = advopt.TuneResult.load(run_dir / "result.json")  # each parameter's status beside its interval
    assert "<th>status</th>" in text and all(f"<td>{status}</td>" in text for status in result.parameter_status.values())


def test_report_samples_are_saved_with_their_points(run_dir, page):
    samples = run_dir / SAMPLES_FILE
    loaded = advopt.load_sample(samples)
    with np.load(samples) as archive:
        meta = json.loads(str(archive["metadata"]))
    assert meta["counts"] == [REPORT_EVENTS, REPORT_EVENTS, REPORT_EVENTS]
    assert loaded.events.shape == (3 * REPORT_EVENTS, 1)
    run = read_run(run_dir)
    assert meta["start"] == run.history[0].params
    assert meta["tuned"] == run.result.best_params
    assert meta["events_per_point"] == REPORT_EVENTS


def test_redraw_reuses_the_saved_samples_and_never_simulates(run_dir, page, monkeypatch, tmp_path):
    samples = run_dir / SAMPLES_FILE
    before = samples.stat().st_mtime_ns

    def refuse(*args, **kwargs):
        raise AssertionError("the report simulated again")

    import simulators.toy

    monkeypatch.setattr(simulators.toy.Gaussian, "simulate", refuse)
    again = make_report(run_dir, tmp_path / "again")
    assert samples.stat().st_mtime_ns == before
    assert (tmp_path / "again" / "observables_1.png").is_file()
    assert "reuse" in again.read_text()


def test_figures_show_what_they_claim(run_dir, page):
    report = build_report(run_dir)  # reuses the samples
    run = report.run
    assert set(EXPECTED_FIGURES) <= set(report.figures)

    convergence = report.figures["convergence"].axes[0]
    assert convergence.get_xlabel() == "simulated events (cumulative)"
    assert "divergence" in convergence.get_ylabel()
    legend = [t.get_text() for t in convergence.get_legend().get_texts()]
    assert legend[0].startswith("evaluation")
    assert any(text.startswith("budget 6,000") for text in legend)
    points = convergence.containers[0]
    assert len(points.lines[0].get_xdata()) == len(run.history)
    assert list(points.lines[0].get_xdata()) == [1000 * (i + 1) for i in range(len(run.history))]

    panels = [ax for ax in report.figures["trajectories"].axes if ax.get_ylabel() in ("mean", "width")]
    assert [ax.get_ylabel() for ax in panels] == ["mean", "width"]
    for ax, name in zip(panels, ("mean", "width")):
        truth_lines = [line for line in ax.lines if line.get_label() == "truth"]
        assert len(truth_lines) == 1 and truth_lines[0].get_ydata()[0] == pytest.approx(run.truth[name])
        assert ax.get_ylim()[0] <= run.resolved["space"][name]["low"]
        assert f"tuned {run.result.best_params[name]:.4g}" in ax.get_title(loc="left")

    observables = report.figures["observables_1"]
    top, ratio = observables.axes[:2]
    assert ratio.get_xlabel() == "x" and top.get_ylabel() == "1/N dN/dx" and ratio.get_ylabel() == "sim / ref"
    labelled = [c.get_label() for c in top.containers if not c.get_label().startswith("_")]
    assert labelled == ["reference", "start", "tuned"]  # three histograms, each with error bars
    assert len(top.patches) == 2  # start and tuned drawn as steps; the reference as points
    assert [t.get_text() for t in observables.legends[0].get_texts()] == ["reference", "start", "tuned"]
    assert any("chi^2" in t.get_text() for t in top.texts)

    roc = report.figures["roc"].axes[0]
    curves = [line.get_label() for line in roc.lines]
    assert curves[0].startswith("indistinguishable")
    assert curves[1].startswith("start: AUC") and curves[2].startswith("tuned: AUC")
    for auc, error in report.aucs.values():
        assert 0.3 < auc <= 1.0 and 0 < error < 0.1

    surrogate = report.figures["surrogate"]
    assert [ax.get_xlabel() for ax in surrogate.axes if ax.get_visible()] == ["mean", "width"]
    assert "surrogate mean" in [t.get_text() for t in surrogate.legends[0].get_texts()]


def test_many_features_make_pages_of_small_panels():
    from advopt.report import observable_figures

    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(27)]
    reference = rng.normal(size=(500, 27))
    counts = rng.poisson(10, size=(500, 27)) * 2.0  # an even-valued multiplicity, like n_charged
    pages = observable_figures(np.c_[reference, counts], np.c_[reference, counts], np.c_[reference, counts],
                               names + [f"n{i}" for i in range(27)])
    assert len(pages) == 5  # 54 features, 12 a page
    assert sum(len(page.axes) for page in pages) == 2 * 54  # a main and a ratio panel per feature
    last = pages[-1].axes
    assert last[-1].get_xlabel() == "n26"
    edges = last[0].patches[0].get_data().edges
    assert np.allclose(np.diff(edges), np.diff(edges)[0]) and np.diff(edges)[0] % 2 == 0  # one bin per even value


def test_script_run_without_config_gets_the_other_plots(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    run = tmp_path / "script-run"
    advopt.tune(simulator, reference[:2000], optimizer="bayes", budget=4000, events_per_point=1000, run_dir=run, seed=1,
                optimizer_options={"n_initial_points": 3}, divergence_options={"max_epochs": 20})
    page = make_report(run, simulate_events=1000)
    names = {p.stem for p in page.parent.glob("*.png")}
    assert {"convergence", "trajectories", "surrogate"} <= names and "roc" not in names
    assert "started from a script" in page.read_text()
    page = make_report(run, tmp_path / "with-sim", simulate_events=1000, simulator=simulator, reference=reference[:2000])
    assert (tmp_path / "with-sim" / "observables_1.png").is_file()


def test_a_pooled_run_shows_its_estimate_per_round(tmp_path, gaussian_reference):
    """The pooled fit does not use a point's own value: the convergence figure shows the
    estimate each round was centred on with its band, and the result; the progress line the
    current estimate."""
    from advopt.report.run_figures import round_estimates

    simulator, reference = gaussian_reference
    run = tmp_path / "pooled-run"
    result = advopt.tune(simulator, reference[:2000], optimizer="pooled", budget=20_000, run_dir=run, seed=2)
    rounds = round_estimates(read_run(run))
    assert len(rounds) >= 3 and [spent for spent, _ in rounds] == sorted(spent for spent, _ in rounds)
    for _, estimate in rounds:
        assert set(estimate) == {"mean", "width"}
        assert all(low <= value <= high for value, low, high in estimate.values())
    # the last round was centred on the fit before it: within its band of the final result
    last = rounds[-1][1]
    assert all(abs(last[name][0] - result.best_params[name]) <= 3 * (last[name][2] - last[name][1]) for name in last)
    page = make_report(run, simulate_events=500)
    assert "the diamond is the result with its final 68% interval" in page.read_text()
    status = run_status(run)
    assert "the latest round was centred on" in status and "best      divergence" not in status


def test_missing_plot_extra_is_one_clear_error(run_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "mplhep", None)
    with pytest.raises(ValueError, match=r"pip install 'advopt\[plot\]'"):
        make_report(run_dir)


def test_bad_events_and_bad_run_dir_raise_value_errors(run_dir, tmp_path):
    with pytest.raises(ValueError, match="--events"):
        make_report(run_dir, simulate_events=5)
    with pytest.raises(ValueError, match="no such directory"):
        make_report(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="holds no advopt run"):
        run_status(tmp_path)


def _run_in_progress(run_dir: Path, target: Path, complete: int) -> Path:
    """A copy of ``run_dir`` as a running tune leaves it: ``complete`` history lines, half
    of the next one, no result.json."""
    target.mkdir()
    (target / "config.json").write_text((run_dir / "config.json").read_text())
    lines = (run_dir / "history.jsonl").read_text().splitlines(keepends=True)
    (target / "history.jsonl").write_text("".join(lines[:complete]) + lines[complete][: len(lines[complete]) // 2])
    return target


def test_status_of_a_run_in_progress_through_the_cli(run_dir, tmp_path):
    running = _run_in_progress(run_dir, tmp_path / "running", complete=3)
    done = _cli("status", running)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "running or stopped" in out and "still being written" in out
    assert "3,000 of 6,000 simulated (50%)" in out
    assert "evals     3 (0 failed)" in out
    history = read_run(running).history
    best = min(history, key=lambda e: e.value)
    assert f"divergence {best.value:.4g} +- {best.stderr:.2g}" in out
    assert f"mean={best.params['mean']:.5g}" in out
    assert "since the run started" in out
    assert (running / "history.jsonl").read_text().count("\n") == 3  # read, never repaired


def test_status_of_a_finished_run_through_the_cli(run_dir, page):
    done = _cli("status", run_dir)
    assert done.returncode == 0, done.stderr
    assert "finished (result.json written)" in done.stdout
    assert "6,000 of 6,000 simulated (100%)" in done.stdout
    assert "closure:" in done.stdout and "wall time" in done.stdout


def test_status_and_report_of_a_bad_run_dir_exit_2_with_one_line(tmp_path):
    for command in ("status", "report"):
        done = _cli(command, tmp_path / "missing")
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.strip().count("\n") == 0
        assert done.stderr.startswith("advopt: error: run_dir: no such directory")


def test_report_through_the_cli(run_dir, page, tmp_path):
    out = tmp_path / "cli-report"
    done = _cli("report", run_dir, "-o", out, "--events", REPORT_EVENTS)
    assert done.returncode == 0, done.stderr
    assert str(out / "report.html") in done.stdout
    assert {p.stem for p in out.glob("*.png")} >= set(EXPECTED_FIGURES)
