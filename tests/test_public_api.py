"""Pins the public API: removing or renaming any of these breaks users' scripts."""

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import advopt

PUBLIC = {
    "BayesOptimizer", "BoostingDivergence", "DivergenceEstimate", "Evaluation", "FunctionSimulator",
    "MLPDivergence", "Parameter", "PooledOptimizer", "RandomSearch", "Sample", "Simulator", "Space", "Status", "TuneResult",
    "check_simulator", "get_simulator", "load_sample", "make_divergence", "make_optimizer",
    "registered_simulators", "resume", "save_sample", "tune",
    "HistogramReference", "HistogramTuneResult", "get_analysis", "registered_analyses", "tune_histograms",
}


def test_exported_names():
    assert set(advopt.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(advopt, name)


def test_type_checkers_see_every_exported_name_where_it_lives():
    """advopt imports its names lazily; the TYPE_CHECKING block says the same to mypy."""
    tree = ast.parse(Path(advopt.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    seen = {alias.name: node.module for node in block.body for alias in node.names}
    assert seen == advopt._WHERE


def test_the_public_api_and_a_users_script_type_check():
    """mypy over the public API's modules and examples/own_simulator.py, a user's script
    (settings in pyproject.toml)."""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=root, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


TUNE_PARAMETERS = {  # name: default ("-" for none); the config's fields under the same names (README)
    "simulator": "-", "reference": "-", "space": None, "optimizer": None, "divergence": None, "budget": 200_000,
    "events_per_point": None, "batch_size": None, "workers": 1, "backend": None, "execution_options": None,
    "run_dir": None, "seed": 0, "truth": None, "fixed": None, "optimizer_options": None, "divergence_options": None,
    "simulator_options": None, "reference_features": None, "chunk_size": None, "max_events_per_point": None,
    "growth_threshold": 0.01, "reference_per_point": 1.0, "progress": None, "config": None, "callback": None,
    "resume": False,
}


def test_tune_signature():
    parameters = inspect.signature(advopt.tune).parameters
    assert {name: "-" if p.default is p.empty else p.default for name, p in parameters.items()} == TUNE_PARAMETERS
    assert list(parameters)[:3] == ["simulator", "reference", "space"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(parameters.values())[3:])


def test_config_fields_map_one_to_one_onto_tune_arguments():
    from advopt.config import SECTIONS, tune_arguments

    assert SECTIONS == {"seed", "simulator", "parameters", "fixed", "reference", "divergence", "optimizer", "budget",
                        "execution"}
    config = {"seed": 4, "simulator": {"name": "gaussian"}, "parameters": {"mean": [-1.0, 1.0]},
              "reference": {"simulate_at": "truth", "events": 100, "per_point": 2, "features": ["x"]},
              "optimizer": {"kind": "bayes", "batch_size": 3, "n_initial_points": 4},
              "divergence": {"kind": "mlp", "hidden": [8]},
              "budget": {"events": 9_000, "events_per_point": 300, "chunk_size": 100, "max_events_per_point": 600,
                         "growth_threshold": 0.02},
              "execution": {"workers": 2, "backend": "local", "retries": 1, "task_timeout": 60}}
    arguments = tune_arguments(config)
    assert set(arguments) <= set(TUNE_PARAMETERS)
    assert {k: arguments[k] for k in ("seed", "budget", "events_per_point", "chunk_size", "max_events_per_point",
                                      "growth_threshold", "batch_size", "workers", "backend", "reference_per_point",
                                      "optimizer", "divergence")} == {
        "seed": 4, "budget": 9_000, "events_per_point": 300, "chunk_size": 100, "max_events_per_point": 600,
        "growth_threshold": 0.02, "batch_size": 3, "workers": 2, "backend": "local", "reference_per_point": 2,
        "optimizer": "bayes", "divergence": "mlp"}
    assert arguments["execution_options"] == {"retries": 1, "task_timeout": 60}
    assert arguments["optimizer_options"] == {"n_initial_points": 4} and arguments["divergence_options"] == {"hidden": [8]}


def test_result_fields():
    fields = set(advopt.TuneResult.__dataclass_fields__)
    assert {"best_params", "uncertainty", "interval68", "history", "events_used", "budget"} <= fields
    assert {"params", "value", "stderr", "n_events", "seed", "status", "reason"} <= set(advopt.Evaluation.__dataclass_fields__)
    assert {s.value for s in advopt.Status} == {"ok", "failed", "invalid"}


def test_default_route():
    """Neither named: the pooled estimator; a divergence alone: Bayesian optimisation over it;
    the pooled estimator with a divergence: refused (it would go unused)."""
    from advopt.methods.registry import default_route

    assert default_route(None, None) == ("pooled", "mlp")
    assert default_route(None, "chi2") == ("bayes", "chi2")
    assert default_route("random", None) == ("random", "mlp")
    with pytest.raises(ValueError, match="^divergence: the pooled optimizer uses no divergence"):
        default_route("pooled", "chi2")


def test_every_third_party_import_is_declared():
    """What advopt/ and simulators/ import is installed by its own pyproject (threadpoolctl was imported but
    not declared: it only arrived through scikit-learn)."""
    import ast
    import sys
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    declared = {requirement.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
                for requirement in declared}
    distribution = {"sklearn": "scikit-learn", "skopt": "scikit-optimize", "yaml": "pyyaml", "distributed": "dask",
                    "dask_jobqueue": "dask-jobqueue", "pyarrow": "pyarrow"}
    imported = set()
    for path in [*(root / "advopt").rglob("*.py"), *(root / "simulators").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name not in ("advopt", "simulators")}
    undeclared = sorted(name for name in third_party if distribution.get(name, name).lower() not in declared)
    assert not undeclared
