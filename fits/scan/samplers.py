"""emcee and UltraNest on the box of a parameter space, seeded from a numpy Generator.

The scan uses them twice: as proposals on the cheap acquisition (:mod:`fits.scan.proposals`)
and as baselines on the expensive simulator (:mod:`fits.scan.baselines`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from surrogates.space import ParameterSpace

__all__ = ["emcee_in_box", "ultranest_in_box"]

LogDensity = Callable[[np.ndarray], np.ndarray]


def emcee_in_box(
    space: ParameterSpace, log_density: LogDensity, n_walkers: int, rng: np.random.Generator
) -> Any:
    """An emcee ensemble sampler of ``log_density`` times the uniform prior on the box.

    ``log_density`` is called only on points inside the box (vectorised); outside, the log
    density is -inf without a call. At least ``2 n_dim + 2`` walkers are used.

    Returns
    -------
    emcee.EnsembleSampler
        Seeded from ``rng``; ``sampler.nwalkers`` holds the walker count.
    """
    import emcee

    def log_prob(X: np.ndarray) -> np.ndarray:
        inside = space.contains(X)
        out = np.full(len(X), -np.inf)
        if inside.any():
            out[inside] = log_density(X[inside])
        return out

    n_walkers = max(n_walkers, 2 * space.n_dim + 2)
    sampler = emcee.EnsembleSampler(n_walkers, space.n_dim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    return sampler


def ultranest_in_box(
    space: ParameterSpace,
    log_like: LogDensity,
    rng: np.random.Generator,
    *,
    min_num_live_points: int,
    max_ncalls: int,
) -> dict[str, Any]:
    """UltraNest's nested sampling of ``log_like`` (vectorised) with a uniform prior on the box.

    UltraNest draws from numpy's legacy global generator, which is seeded from ``rng`` here.

    Returns
    -------
    dict
        UltraNest's result (``samples``: equally weighted posterior points, ``ncall``, ...).
    """
    import ultranest

    sampler = ultranest.ReactiveNestedSampler(
        list(space.names), log_like, space.unit_cube_transform, vectorized=True
    )
    np.random.seed(int(rng.integers(2**31)))  # noqa: NPY002 (UltraNest uses the global generator)
    return sampler.run(min_num_live_points=min_num_live_points, max_ncalls=max_ncalls,
                       show_status=False, viz_callback=False)
