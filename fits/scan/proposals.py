"""Proposals: draw points with density proportional to an acquisition a(x) in [0, 1].

``rejection`` (default, as the Machine Learning Scan)
    Exact rejection sampling: uniform candidates in the box, each kept with probability
    ``a(x)`` (every acquisition of :mod:`fits.scan.acquisition` is bounded by 1). Its cost is
    one acquisition evaluation per ``1 / mean(a)`` candidates: 1e4 per kept point when the
    region fills 1e-4 of the box (the 7-D shell).
``importance``
    Sampling-importance-resampling (Rubin 1988; Smith & Gelfand 1992): candidates from a
    defensive mixture ``q = eps U + (1 - eps) K`` (uniform ``U`` and Gaussian kernels ``K``
    around anchor points, the tested points found in the target region so far; Owen & Zhou
    2000), weights ``w = a U / q``, and ``n`` of them drawn without replacement with
    probabilities proportional to ``w``. Consistent rather than exact (it tends to ``a`` as
    the candidates grow), and far cheaper where the region is small.
``mcmc``
    emcee's affine-invariant ensemble on ``log a(x)`` inside the box (walkers start at the
    best of a uniform draw), run by :func:`fits.emcee_fit.run_emcee` in memory.
``ultranest``
    UltraNest's nested sampling of ``log a(x)`` by :func:`fits.ultranest_fit.run_ultranest`;
    its weighted posterior points resampled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from fits.emcee_fit import run_emcee
from fits.priors import Prior
from fits.ultranest_fit import run_ultranest
from surrogates.params import Interval
from surrogates.space import ParameterSpace

__all__ = ["PROPOSALS", "Proposal", "propose"]

Score = Callable[[np.ndarray], np.ndarray]


@dataclass
class Proposal:
    """Proposed points and how they were found.

    Attributes
    ----------
    X : ndarray of shape (n, n_dim)
    info : dict
        ``n_candidates`` (acquisition evaluations), ``n_accepted`` and, for rejection
        sampling, ``n_filled`` (points taken as the best candidates because too few were
        accepted within ``max_candidates``).
    """

    X: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _kernel_log_density(X: np.ndarray, anchors: np.ndarray, width: np.ndarray) -> np.ndarray:
    """log of the mean of Gaussian densities N(x; anchor, diag(width^2)), shape (n,)."""
    x, c = X / width, anchors / width
    sq = (x * x).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2.0 * x @ c.T
    log_norm = np.log(width).sum() + 0.5 * X.shape[1] * np.log(2 * np.pi) + np.log(len(anchors))
    return logsumexp(-0.5 * np.maximum(sq, 0.0), axis=1) - log_norm


def rejection(
    score: Score,
    space: ParameterSpace,
    n: int,
    rng: np.random.Generator,
    *,
    batch: int = 32768,
    max_candidates: int = 4_000_000,
) -> Proposal:
    """Rejection-sample ``n`` points from ``a(x)`` on the box (see the module docstring).

    Parameters
    ----------
    batch, max_candidates : int
        Candidates per round and in all. When fewer than ``n`` are kept within
        ``max_candidates``, the rest are the best remaining candidates (``info["n_filled"]``).
    """
    kept, best_X, best_a = [], np.empty((0, space.n_dim)), np.empty(0)
    n_kept = drawn = 0
    while n_kept < n and drawn < max_candidates:
        X = space.sample_uniform(batch, rng)
        drawn += batch
        a = score(X)
        keep = rng.uniform(size=len(X)) < a
        kept.append(X[keep])
        n_kept += int(keep.sum())
        pool_X, pool_a = np.vstack([best_X, X[~keep]]), np.concatenate([best_a, a[~keep]])
        order = np.argsort(pool_a)[::-1][:n]
        best_X, best_a = pool_X[order], pool_a[order]
    X = np.vstack(kept)[:n]
    n_filled = n - len(X)
    if n_filled:
        X = np.vstack([X, best_X[:n_filled]])
    return Proposal(X, {"n_candidates": drawn, "n_accepted": n_kept, "n_filled": n_filled})


def importance(
    score: Score,
    space: ParameterSpace,
    n: int,
    rng: np.random.Generator,
    *,
    anchors: np.ndarray | None = None,
    uniform_weight: float = 0.2,
    bandwidth: float = 0.05,
    max_anchors: int = 256,
    batch: int = 32768,
    min_ess: float = 4.0,
    max_candidates: int = 1_000_000,
) -> Proposal:
    """Sampling-importance-resampling of ``n`` points from ``a(x)`` (see the module docstring).

    Parameters
    ----------
    anchors : ndarray of shape (m, n_dim), optional
        Centres of the kernel part of the candidate mixture; none: uniform candidates.
    uniform_weight : float
        ``eps``, the uniform share of the candidates (0 < eps <= 1).
    bandwidth : float
        Kernel standard deviation as a fraction of each box edge.
    max_anchors : int
        Anchors used (a random subset beyond this).
    batch : int
        Candidates per round.
    min_ess : float
        Draw candidates until the effective sample size of the weights,
        ``(sum w)^2 / sum w^2``, reaches ``min_ess * n`` (or ``max_candidates``).
    """
    if not 0 < uniform_weight <= 1:
        raise ValueError(f"uniform_weight must be in (0, 1]; got {uniform_weight}")
    width = bandwidth * (space.high - space.low)
    log_volume = np.log(space.high - space.low).sum()
    eps = 1.0 if anchors is None or len(anchors) == 0 else uniform_weight
    if eps < 1 and len(anchors) > max_anchors:
        anchors = anchors[rng.choice(len(anchors), max_anchors, replace=False)]
    Xs, ws = [], []
    drawn, ess = 0, 0.0
    while ess < min_ess * n and drawn < max_candidates:
        n_uniform = rng.binomial(batch, eps)
        X = space.sample_uniform(n_uniform, rng)
        if eps < 1:
            centres = anchors[rng.integers(len(anchors), size=batch - n_uniform)]
            local = centres + rng.normal(size=centres.shape) * width
            X = np.vstack([X, local[space.contains(local)]])
            log_q = np.logaddexp(
                np.log(eps) - log_volume, np.log1p(-eps) + _kernel_log_density(X, anchors, width)
            )
            w = score(X) * np.exp(-log_volume - log_q)
        else:
            w = score(X)
        drawn += batch
        Xs.append(X)
        ws.append(w)
        w_all = np.concatenate(ws)
        ess = w_all.sum() ** 2 / max((w_all**2).sum(), 1e-300)
    X, w = np.vstack(Xs), np.concatenate(ws)
    n_positive = int((w > 0).sum())
    if n_positive < n:
        raise ValueError(
            f"importance proposal: only {n_positive} candidates with a(x) > 0 for {n} points"
        )
    pick = rng.choice(len(X), size=n, replace=False, p=w / w.sum())
    return Proposal(X[pick], {"n_candidates": drawn, "ess": float(ess)})


def mcmc(
    score: Score,
    space: ParameterSpace,
    n: int,
    rng: np.random.Generator,
    *,
    n_walkers: int = 64,
    n_steps: int = 200,
    n_start_candidates: int = 20000,
    **_: Any,
) -> Proposal:
    """emcee on ``log a(x)``; ``n`` points drawn from the second half of the chains.

    At least ``2 n_dim + 2`` walkers are used.
    """

    def log_a(X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(score(X))

    n_walkers = max(n_walkers, 2 * space.n_dim + 2)
    seed = int(rng.integers(2**31))
    X0 = space.sample_uniform(n_start_candidates, rng)
    start = X0[np.argsort(score(X0))[::-1][:n_walkers]]
    fit = run_emcee(log_a, Prior(space, list(space.names)), None, n_walkers=n_walkers,
                    n_steps=n_steps, initial=start, stop_when_converged=False,
                    burn=n_steps // 2, seed=seed)
    chain = fit.samples[list(space.names)].to_numpy()
    X = chain[rng.choice(len(chain), size=n, replace=len(chain) < n)]
    info = {
        "n_candidates": n_start_candidates + n_walkers * n_steps,
        "n_accepted": n,
        "acceptance": fit.info["acceptance_fraction"],
    }
    return Proposal(X, info)


def ultranest(
    score: Score,
    space: ParameterSpace,
    n: int,
    rng: np.random.Generator,
    *,
    min_num_live_points: int = 200,
    max_ncalls: int = 500_000,
    **_: Any,
) -> Proposal:
    """UltraNest on ``log a(x)`` (floored at 1e-300); ``n`` points drawn from its weighted
    posterior points, with replacement."""

    def log_like(X: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(score(X), 1e-300))

    fit = run_ultranest(log_like, Prior(space, list(space.names)), None,
                        min_num_live_points=min_num_live_points, max_ncalls=max_ncalls,
                        seed=int(rng.integers(2**31)))
    points = fit.samples[list(space.names)].to_numpy()
    X = points[rng.choice(len(points), size=n, p=fit.weights)]
    return Proposal(X, {"n_candidates": fit.n_calls, "n_accepted": n})


PROPOSALS: dict[str, Callable[..., Proposal]] = {
    "rejection": rejection,
    "importance": importance,
    "mcmc": mcmc,
    "ultranest": ultranest,
}


_COUNT = Interval("int", 1)
#: What each proposal's options accept (:mod:`surrogates.params`); ``anchors`` of
#: ``importance`` are the scan's in-target points, set by the scan itself.
PROPOSAL_OPTIONS: dict[str, dict[str, Any]] = {
    "rejection": {"batch": _COUNT, "max_candidates": _COUNT},
    "importance": {"uniform_weight": Interval("real", 0, 1), "bandwidth": Interval(
        "real", 0, closed="neither"), "max_anchors": _COUNT, "batch": _COUNT,
        "min_ess": Interval("real", 0, closed="neither"), "max_candidates": _COUNT},
    "mcmc": {"n_walkers": Interval("int", 2), "n_steps": _COUNT, "n_start_candidates": _COUNT},
    "ultranest": {"min_num_live_points": _COUNT, "max_ncalls": _COUNT},
}


def propose(
    method: str,
    score: Score,
    space: ParameterSpace,
    n: int,
    rng: np.random.Generator,
    **options: Any,
) -> Proposal:
    """Draw ``n`` points from ``score`` with ``method`` (a key of :data:`PROPOSALS`)."""
    if method not in PROPOSALS:
        raise ValueError(f"unknown proposal {method!r}; choose one of {', '.join(PROPOSALS)}")
    return PROPOSALS[method](score, space, n, rng, **options)
