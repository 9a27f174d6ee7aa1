"""The simulation's share of the pooled fit's covariance, measured by refitting on half its points.

The delta method states that share from the chosen polynomial's prediction noise. It misses
what the fit does beyond one polynomial: Lepski's rule picks among kernel widths and
polynomials the candidate whose *stated* share is least, and a stated share that is small by
chance is picked more often (six Pythia parameters: a kept candidate stated aExtraDiquark's
sd as 0.016 where the same candidate states 0.04-0.16 on fresh references). Half-sampling
repeats the whole fit, candidate choice included, on random halves of the simulated points
(each with its summary means, counts and covariances; the reference as it is). Drawn without
replacement from n points, a half's solution scatters about the full one with the full fit's
variance times n/m - 1 = 1, so their spread is the simulation's share as the procedure has it.
A pairs bootstrap (n draws with replacement) was measured and not kept: a repeated point counts
as two independent ones in the stated shares, Lepski's rule then stops at the narrowest kernel
more often, and on a linear toy it overstated the spread 1.5x (half-sampling: 1.0-1.2x).
"""

from __future__ import annotations

import numpy as np

from advopt.pooled.candidates import candidate_solutions, joint_reference_covariance, widest_consistent

# The per-point arrays of a fold's moments (the rest belongs to the reference).
_PER_POINT = ("means", "counts", "covs")


def subset_moments(moments: list[dict], pick: np.ndarray) -> list[dict]:
    """Every fold's moments with only the points ``pick`` (indices)."""
    return [{**m, **{key: m[key][pick] for key in _PER_POINT}} for m in moments]


def half_sample_solutions(points: np.ndarray, moments: list[dict], centre: np.ndarray, widths: list[np.ndarray],
                          rng: np.random.Generator, replicates: int) -> np.ndarray:
    """The fit's solutions (replicates, dim) on ``replicates`` random halves of the points; a
    half that leaves no candidate fitted gives no row."""
    joint = joint_reference_covariance(moments)  # the reference is the same in every half
    solutions = []
    for _ in range(replicates):
        pick = np.sort(rng.choice(len(points), len(points) // 2, replace=False))
        best = widest_consistent(candidate_solutions(points[pick], subset_moments(moments, pick), centre, widths,
                                                     joint_reference_cov=joint))
        if best is not None:
            solutions.append(best[1])
    return np.array(solutions).reshape(-1, points.shape[1])


def half_sample_covariance(solutions: np.ndarray, full_solution: np.ndarray) -> np.ndarray | None:
    """The halves' mean squared deviation from the full fit's solution (the full fit's
    simulation covariance), or None with fewer than two halves."""
    if len(solutions) < 2:
        return None
    deviations = solutions - full_solution
    return np.atleast_2d(deviations.T @ deviations / len(deviations))


def resampled_simulation_share(fit_inputs: tuple, centre: np.ndarray, rng: np.random.Generator,
                               replicates: int) -> tuple[np.ndarray | None, str]:
    """The simulation's share of a fit's covariance from ``replicates`` halves of its points
    (``fit_inputs``: points, moments, centre, widths), or (None, why) when it cannot be
    measured: the stated share, the delta method's, is then all there is."""
    stated = "the simulation's share of the covariance is the delta method's, which understates it after the fit's choice"
    if not replicates:
        return None, f"resamplings = 0: {stated}"
    solutions = half_sample_solutions(*fit_inputs, rng, replicates)
    covariance = half_sample_covariance(solutions, centre)
    if covariance is None:
        return None, f"{len(solutions)} of {replicates} half-samples of the points gave a fit: {stated}"
    return covariance, ""
