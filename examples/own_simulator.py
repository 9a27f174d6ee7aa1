"""Your own simulator, tuned from a script.

    python examples/own_simulator.py [--budget 60000] [--workers 2]

A simulator is any object with ``simulate(params, n, seed) -> array (n, d)`` that gives the
same array for the same arguments. This one draws a decay-time spectrum smeared by a
detector resolution; the reference is pseudo-data at known values, so the script can say
whether the tune found them.
"""

from __future__ import annotations

import argparse

import numpy as np

import advopt


class SmearedLifetime:
    """Decay times with lifetime ``tau``, smeared by a Gaussian resolution ``sigma``, and the
    number of tracks per decay (Poisson, mean ``tracks``)."""

    feature_names = ("t", "n_tracks")
    default_space = {"tau": (0.5, 3.0), "sigma": (0.05, 0.5), "tracks": (2.0, 8.0)}

    def simulate(self, params, n, seed):
        rng = np.random.default_rng(seed)
        t = rng.exponential(params["tau"], n) + rng.normal(0.0, params["sigma"], n)
        tracks = rng.poisson(params["tracks"], n)
        return np.column_stack([t, tracks]).astype(float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=200_000, help="simulated events, every one counted")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--run-dir", default=None, help="keep the run (config, history, result) here")
    args = parser.parse_args()

    simulator = SmearedLifetime()
    print(advopt.check_simulator(simulator))  # shape, finiteness, determinism, seeding
    truth = {"tau": 1.6, "sigma": 0.2, "tracks": 4.5}
    reference = simulator.simulate(truth, 20_000, seed=2024)  # your data would go here

    result = advopt.tune(simulator, reference, budget=args.budget, workers=args.workers, seed=1, truth=truth,
                         run_dir=args.run_dir, progress=False)
    print(result.summary())


if __name__ == "__main__":
    main()
