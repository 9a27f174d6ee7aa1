"""Every random stream of a run, keyed from the run seed: one place for every purpose.

A task's seed is keyed by (run seed, iteration, index in batch, purpose, chunk), so that
simulation, reference subsampling and the discriminator of one evaluation draw independent
streams, and no stream depends on how many workers there are or who ran what.
"""

from __future__ import annotations

import numpy as np

# The tuning loop (advopt/simulation_batches.py, advopt/methods/per_point.py)
SIMULATION = 0
REFERENCE = 1
DISCRIMINATOR = 2
# AVO (advopt/avo/)
PROPOSAL = 20
REFERENCE_SPLIT = 21
# Pseudo-data of a config's [reference] simulate_at (advopt/config.py)
CONFIG_REFERENCE = 99
# The report's regenerated samples and its classifier (advopt/report/samples.py)
REPORT_START, REPORT_TUNED, REPORT_REFERENCE, REPORT_CLASSIFIER = 201, 202, 203, 204
# The pooled estimator (advopt/pooled/estimator.py): numpy streams keyed [seed, count, purpose]
POOLED_DESIGN = 3  # [seed, round, 3]: a round's Sobol design
POOLED_SUBSAMPLE = 4  # [seed, round, fold, 4]: a network's training subsample
POOLED_RESAMPLING = 8  # [seed, points, 8]: the halves of the last fit's points
# ... and its networks, through pooled_seed(seed, round, fold, purpose)
POOLED_NETWORK_INIT = 1
POOLED_NETWORK_TRAINING = 2


def task_seed(run_seed: int, iteration: int, index: int, purpose: int, chunk: int = 0) -> int:
    """A 32-bit seed keyed by (run seed, iteration, index in batch, purpose, chunk)."""
    sequence = np.random.SeedSequence(int(run_seed), spawn_key=(int(iteration), int(index), int(purpose), int(chunk)))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def pooled_seed(run_seed: int, round_number: int, fold: int, purpose: int) -> int:
    """A 32-bit seed for one of the pooled estimator's networks, keyed by (round, fold, purpose)."""
    sequence = np.random.SeedSequence(int(run_seed), spawn_key=(int(round_number), int(fold), int(purpose), 9))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])
