"""Reference scans at a fixed number of simulator calls: uniform sampling, emcee, UltraNest.

Each runs on the scan's Gaussian likelihood (:func:`fits.scan.constraints.log_likelihood`)
with a uniform prior on the box, records every point at which the simulator was called, in
order, and keeps the first ``budget`` of them, so that all methods are compared at equal cost.
The samplers are the field's standard ones (emcee: Foreman-Mackey et al., arXiv:1202.3665;
UltraNest: Buchner, arXiv:2101.09604); the Machine Learning Scan paper (arXiv:1708.06615)
compared with an MCMC and with MultiNest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fits.scan.constraints import Constraint, evaluate
from fits.scan.samplers import emcee_in_box, ultranest_in_box
from fits.scan.simulators import Simulator

__all__ = ["BASELINES", "run_baseline"]


class _Recorder:
    """Calls the simulator and keeps every point and output, in call order."""

    def __init__(self, simulator: Simulator, constraints: list[Constraint]) -> None:
        self.simulator, self.constraints = simulator, constraints
        self.frames: list[pd.DataFrame] = []

    @property
    def n_calls(self) -> int:
        return sum(len(f) for f in self.frames)

    def log_likelihood(self, X: np.ndarray) -> np.ndarray:
        frame = evaluate(self.simulator, self.constraints, np.atleast_2d(X))
        self.frames.append(frame)
        return frame["log_likelihood"].to_numpy()

    def tested(self, budget: int, method: str) -> pd.DataFrame:
        tested = pd.concat(self.frames, ignore_index=True).iloc[:budget].copy()
        tested["origin"] = method
        return tested


def _uniform(rec: _Recorder, budget: int, rng: np.random.Generator) -> None:
    rec.log_likelihood(rec.simulator.space.sample_uniform(budget, rng))


def _emcee(rec: _Recorder, budget: int, rng: np.random.Generator, n_walkers: int = 32) -> None:
    space = rec.simulator.space
    sampler = emcee_in_box(space, rec.log_likelihood, n_walkers, rng)
    start = space.sample_uniform(sampler.nwalkers, rng)
    for _ in sampler.sample(start, iterations=100 * budget):  # proposals outside the box
        if rec.n_calls >= budget:  # cost no call, so steps are counted by calls
            break


def _ultranest(
    rec: _Recorder, budget: int, rng: np.random.Generator, min_num_live_points: int = 100
) -> None:
    def log_like(X: np.ndarray) -> np.ndarray:
        return np.maximum(rec.log_likelihood(X), -1e100)

    ultranest_in_box(rec.simulator.space, log_like, rng,
                     min_num_live_points=min_num_live_points, max_ncalls=budget)


BASELINES = {"uniform": _uniform, "emcee": _emcee, "ultranest": _ultranest}


def run_baseline(
    method: str,
    simulator: Simulator,
    constraints: list[Constraint],
    budget: int,
    seed: int = 0,
    **options: object,
) -> pd.DataFrame:
    """The first ``budget`` points at which ``method`` called the simulator.

    Parameters
    ----------
    method : {"uniform", "emcee", "ultranest"}
    simulator : Simulator
    constraints : list of Constraint
    budget : int
        Simulator calls to compare at.
    seed : int
    **options
        ``n_walkers`` (emcee, default 32), ``min_num_live_points`` (UltraNest, default 100).

    Returns
    -------
    DataFrame
        Parameters, observables, ``in_target``, ``log_likelihood`` and ``origin`` (the method),
        in call order; fewer than ``budget`` rows if the method stopped earlier.
    """
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; choose one of {', '.join(BASELINES)}")
    rec = _Recorder(simulator, constraints)
    BASELINES[method](rec, budget, np.random.default_rng(seed), **options)
    return rec.tested(budget, method)
