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


def generated_section_is_current(page, begin: str, end: str, section: str, how: str) -> None:
    """A docs section a test generates (between ``begin`` and ``end``, markers included) must
    be ``section``; ``ADVOPT_WRITE_TABLES=1`` rewrites it first."""
    import os

    text = page.read_text()
    if os.environ.get("ADVOPT_WRITE_TABLES"):
        start, stop = text.index(begin), text.index(end) + len(end)
        page.write_text(text[:start] + section + text[stop:])
        text = page.read_text()
    assert section in text, f"{page.name}: a generated section is out of date: ADVOPT_WRITE_TABLES=1 pytest {how}"
