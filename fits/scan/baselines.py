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

from fits.scan.constraints import Constraint, in_target_region, log_likelihood
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
        X = np.atleast_2d(X)
        observed = self.simulator(X)
        frame = pd.DataFrame(X, columns=list(self.simulator.space.names))
        frame[list(observed.columns)] = observed.to_numpy()
        frame["in_target"] = in_target_region(observed, self.constraints)
        frame["log_likelihood"] = log_likelihood(observed, self.constraints)
        self.frames.append(frame)
        return frame["log_likelihood"].to_numpy()

    def tested(self, budget: int, method: str) -> pd.DataFrame:
        tested = pd.concat(self.frames, ignore_index=True).iloc[:budget].copy()
        tested["origin"] = method
        return tested


def _uniform(rec: _Recorder, budget: int, rng: np.random.Generator) -> None:
    rec.log_likelihood(rec.simulator.space.sample_uniform(budget, rng))


def _emcee(rec: _Recorder, budget: int, rng: np.random.Generator, n_walkers: int = 32) -> None:
    import emcee

    space = rec.simulator.space
    n_walkers = max(n_walkers, 2 * space.n_dim + 2)

    def log_prob(X: np.ndarray) -> np.ndarray:
        inside = space.contains(X)
        out = np.full(len(X), -np.inf)
        if inside.any():
            out[inside] = rec.log_likelihood(X[inside])
        return out

    sampler = emcee.EnsembleSampler(n_walkers, space.n_dim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    start = space.sample_uniform(n_walkers, rng)
    for _ in sampler.sample(start, iterations=100 * budget):  # proposals outside the box
        if rec.n_calls >= budget:  # cost no call, so steps are counted by calls
            break


def _ultranest(
    rec: _Recorder, budget: int, rng: np.random.Generator, min_num_live_points: int = 100
) -> None:
    import ultranest

    space = rec.simulator.space

    def log_like(X: np.ndarray) -> np.ndarray:
        return np.maximum(rec.log_likelihood(X), -1e100)

    sampler = ultranest.ReactiveNestedSampler(
        list(space.names), log_like, space.unit_cube_transform, vectorized=True
    )
    np.random.seed(int(rng.integers(2**31)))  # noqa: NPY002 (UltraNest uses the global generator)
    sampler.run(min_num_live_points=min_num_live_points, max_ncalls=budget,
                show_status=False, viz_callback=False)


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
