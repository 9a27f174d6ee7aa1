"""advopt: tune black-box simulators to reference data with adversarial divergences.

The public API: :func:`tune`, :class:`Space`/:class:`Parameter`, the simulator plug-in
functions (:func:`get_simulator`, :func:`check_simulator`), the records
(:class:`TuneResult`, :class:`Evaluation`, :class:`Status`), and the reference I/O; for
published histograms, :func:`tune_histograms`, :class:`HistogramReference`,
:class:`HistogramTuneResult` and the analysis registry (:func:`get_analysis`).
Names are imported on first use, so that ``advopt --help`` and error paths of the CLI do
not pay for importing torch and scikit-learn.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what a type checker sees of the names below (tests/test_public_api.py keeps them equal)
    from advopt.data import Sample, load_sample, save_sample
    from advopt.divergence import BoostingDivergence, DivergenceEstimate, MLPDivergence, make_divergence
    from advopt.histograms.analysis import get_analysis, registered_analyses
    from advopt.histograms.reference import HistogramReference
    from advopt.histograms.result import HistogramTuneResult
    from advopt.histograms.tune import tune_histograms
    from advopt.optimizers import BayesOptimizer, RandomSearch, make_optimizer
    from advopt.pooled.estimator import PooledOptimizer
    from advopt.records.result import Evaluation, Status, TuneResult
    from advopt.resuming import resume
    from advopt.simulator import FunctionSimulator, Simulator, check_simulator, get_simulator, registered_simulators
    from advopt.space import Parameter, Space
    from advopt.tuner import tune

__version__ = "0.1.0"

_WHERE = {
    "Sample": "advopt.data", "load_sample": "advopt.data", "save_sample": "advopt.data",
    "BoostingDivergence": "advopt.divergence", "DivergenceEstimate": "advopt.divergence",
    "MLPDivergence": "advopt.divergence", "make_divergence": "advopt.divergence",
    "BayesOptimizer": "advopt.optimizers", "RandomSearch": "advopt.optimizers", "make_optimizer": "advopt.optimizers",
    "PooledOptimizer": "advopt.pooled.estimator",
    "Evaluation": "advopt.records.result", "Status": "advopt.records.result", "TuneResult": "advopt.records.result",
    "FunctionSimulator": "advopt.simulator", "Simulator": "advopt.simulator", "check_simulator": "advopt.simulator",
    "get_simulator": "advopt.simulator", "registered_simulators": "advopt.simulator",
    "Parameter": "advopt.space", "Space": "advopt.space",
    "tune": "advopt.tuner", "resume": "advopt.resuming",
    "HistogramReference": "advopt.histograms.reference", "HistogramTuneResult": "advopt.histograms.result",
    "get_analysis": "advopt.histograms.analysis", "registered_analyses": "advopt.histograms.analysis",
    "tune_histograms": "advopt.histograms.tune",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'advopt' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
