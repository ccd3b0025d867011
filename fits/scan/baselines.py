"""Reference scans at a fixed number of simulator calls: uniform sampling, emcee, UltraNest.

Each runs on the scan's likelihood (the sum of its terms' log-likelihoods on the simulator's
values, :func:`fits.scan.steering.evaluate`) with a uniform prior on the box, records every
point at which the simulator was called, in order (the samplers' probes of the likelihood
included), and keeps the first ``budget`` of them, so that all methods are compared at equal
cost. The samplers are the project's emcee and UltraNest wrappers
(:func:`fits.emcee_fit.run_emcee`, :func:`fits.ultranest_fit.run_ultranest`, in memory), i.e.
the field's standard ones (emcee: Foreman-Mackey et al., arXiv:1202.3665; UltraNest:
Buchner, arXiv:2101.09604); the Machine Learning Scan paper (arXiv:1708.06615) compared with
an MCMC and with MultiNest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fits.emcee_fit import run_emcee
from fits.priors import Prior
from fits.scan.simulators import Simulator
from fits.scan.steering import Steering, evaluate, steer
from fits.ultranest_fit import run_ultranest
from likelihoods import Term

__all__ = ["BASELINES", "run_baseline"]


class _Recorder:
    """Calls the simulator and keeps every point and output, in call order."""

    def __init__(self, simulator: Simulator, steering: list[Steering]) -> None:
        self.simulator, self.steering = simulator, steering
        self.frames: list[pd.DataFrame] = []

    @property
    def n_calls(self) -> int:
        return sum(len(f) for f in self.frames)

    def log_likelihood(self, X: np.ndarray) -> np.ndarray:
        frame = evaluate(self.simulator, self.steering, np.atleast_2d(X))
        self.frames.append(frame)
        return frame["log_likelihood"].to_numpy()

    def tested(self, budget: int, method: str) -> pd.DataFrame:
        tested = pd.concat(self.frames, ignore_index=True).iloc[:budget].copy()
        tested["origin"] = method
        return tested


def _box(rec: _Recorder) -> Prior:
    space = rec.simulator.space
    return Prior(space, list(space.names))


def _uniform(rec: _Recorder, budget: int, rng: np.random.Generator) -> None:
    rec.log_likelihood(rec.simulator.space.sample_uniform(budget, rng))


def _emcee(rec: _Recorder, budget: int, rng: np.random.Generator, n_walkers: int = 32) -> None:
    space = rec.simulator.space
    n_walkers = max(n_walkers, 2 * space.n_dim + 2)
    seed = int(rng.integers(2**31))
    start = space.sample_uniform(n_walkers, rng)
    # proposals outside the box cost no call, so the run is stopped by calls, not steps
    run_emcee(rec.log_likelihood, _box(rec), None, n_walkers=n_walkers, n_steps=100 * budget,
              initial=start, stop_when_converged=False, max_ncalls=budget, burn=0, seed=seed)


def _ultranest(
    rec: _Recorder, budget: int, rng: np.random.Generator, min_num_live_points: int = 100
) -> None:
    run_ultranest(rec.log_likelihood, _box(rec), None, min_num_live_points=min_num_live_points,
                  max_ncalls=budget, seed=int(rng.integers(2**31)))


BASELINES = {"uniform": _uniform, "emcee": _emcee, "ultranest": _ultranest}


def run_baseline(
    method: str,
    simulator: Simulator,
    terms: Sequence[Term],
    budget: int,
    seed: int = 0,
    n_sigma: float | Mapping[str, float] = 2.0,
    **options: object,
) -> pd.DataFrame:
    """The first ``budget`` points at which ``method`` called the simulator.

    Parameters
    ----------
    method : {"uniform", "emcee", "ultranest"}
    simulator : Simulator
    terms : sequence of Term
        The scan's likelihood terms, on outputs of ``simulator`` (as for
        :class:`~fits.scan.loop.ActiveScan`).
    budget : int
        Simulator calls to compare at.
    seed : int
    n_sigma : float or mapping of term name to float
        Target-region half-widths, as for :class:`~fits.scan.loop.ActiveScan`.
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
    rec = _Recorder(simulator, steer(simulator, terms, n_sigma))
    BASELINES[method](rec, budget, np.random.default_rng(seed), **options)
    return rec.tested(budget, method)
