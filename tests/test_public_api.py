"""Pins the public API: removing or renaming any of these breaks users' scripts."""

import inspect

import pytest

import advopt

PUBLIC = {
    "BayesOptimizer", "BoostingDivergence", "DivergenceEstimate", "Evaluation", "FunctionSimulator",
    "MLPDivergence", "Parameter", "PooledOptimizer", "RandomSearch", "Sample", "Simulator", "Space", "Status", "TuneResult",
    "check_simulator", "get_simulator", "load_sample", "make_divergence", "make_optimizer",
    "registered_simulators", "save_sample", "tune",
}


def test_exported_names():
    assert set(advopt.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(advopt, name)


def test_tune_signature():
    parameters = inspect.signature(advopt.tune).parameters
    assert list(parameters)[:3] == ["simulator", "reference", "space"]
    for keyword in ("optimizer", "divergence", "budget", "events_per_point", "batch_size", "n_workers", "executor",
                    "run_dir", "seed", "truth", "callback"):
        assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY


def test_result_fields():
    fields = set(advopt.TuneResult.__dataclass_fields__)
    assert {"best_params", "uncertainty", "interval68", "history", "events_used", "budget"} <= fields
    assert {"params", "value", "stderr", "n_events", "seed", "status", "reason"} <= set(advopt.Evaluation.__dataclass_fields__)
    assert {s.value for s in advopt.Status} == {"ok", "failed", "invalid"}


def test_default_route():
    """Neither named: the pooled estimator; a divergence alone: Bayesian optimisation over it;
    the pooled estimator with a divergence: refused (it would go unused)."""
    from advopt.tuner import default_route

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
