"""advopt: tune black-box simulators to reference data with adversarial divergences.

The public API: :func:`tune`, :class:`Space`/:class:`Parameter`, the simulator plug-in
functions (:func:`get_simulator`, :func:`check_simulator`), the records
(:class:`TuneResult`, :class:`Evaluation`, :class:`Status`), and the reference I/O.
"""

from advopt.data import Sample, load_sample, save_sample
from advopt.divergence import BoostingDivergence, DivergenceEstimate, MLPDivergence, make_divergence
from advopt.optimizers import BayesOptimizer, RandomSearch, make_optimizer
from advopt.result import Evaluation, Status, TuneResult
from advopt.simulator import (
    FunctionSimulator,
    Simulator,
    check_simulator,
    get_simulator,
    registered_simulators,
)
from advopt.space import Parameter, Space
from advopt.tuner import tune

__version__ = "0.1.0"

__all__ = [
    "BayesOptimizer",
    "BoostingDivergence",
    "DivergenceEstimate",
    "Evaluation",
    "FunctionSimulator",
    "MLPDivergence",
    "Parameter",
    "RandomSearch",
    "Sample",
    "Simulator",
    "Space",
    "Status",
    "TuneResult",
    "check_simulator",
    "get_simulator",
    "load_sample",
    "make_divergence",
    "make_optimizer",
    "registered_simulators",
    "save_sample",
    "tune",
]
