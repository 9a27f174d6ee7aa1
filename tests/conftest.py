import numpy as np
import pytest


@pytest.fixture
def gaussian_reference():
    """20k pseudo-data events of the Gaussian toy at mean 0.5, width 1 (its truth)."""
    import advopt

    simulator = advopt.get_simulator("gaussian")
    return simulator, simulator.simulate(simulator.truth, 20_000, 4242)


def shifted_gaussian(params, n, seed):
    """A plain-function simulator: 2-d Gaussian with a tunable mean shift."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, (n, 2)) + params["shift"]
