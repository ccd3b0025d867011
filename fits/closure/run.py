r"""Closure fits: the same mock measurement fitted with the true function and with a surrogate.

:func:`closure_fits` runs one Gaussian measurement with the exact function and with a
surrogate under several ``uncertainty`` modes of :class:`~likelihoods.GaussianMeasurement`
(the likelihoods are :func:`closure_terms`); :func:`closure_table` scores them against the
exact fit (:mod:`fits.closure.metrics`). The uncertainty test needs a posterior with one peak
and a measurement error small against the surrogate's error: one free parameter
(:math:`M_2` at fixed :math:`\mu`) and a 1 GeV error, where trusting a biased surrogate's mean
gives a sharp posterior in the wrong place and adding its std in quadrature widens it over
the truth (tests/test_fits_closure.py, benchmarks/closure_benchmark.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fits.closure.metrics import compare_posteriors, push_forward, truth_position
from fits.priors import Prior
from fits.results import FitResult
from fits.ultranest_fit import run_ultranest
from likelihoods import FunctionObservable, GaussianMeasurement

__all__ = ["closure_fits", "closure_table", "closure_terms"]


def closure_terms(
    true_fn: Callable[[np.ndarray], np.ndarray],
    surrogate: Any,
    value: float,
    error: float,
    modes: Sequence[str] = ("none", "quadrature"),
) -> dict[str, GaussianMeasurement]:
    """The likelihoods of a closure test: the measurement of ``true_fn`` and of ``surrogate``.

    Returns
    -------
    dict of str to GaussianMeasurement
        ``"exact"`` (``true_fn`` as the observable) and one entry per ``uncertainty`` mode of
        the surrogate (see :func:`closure_fits` for the arguments).
    """
    exact = FunctionObservable(true_fn, space=surrogate.space)
    terms = {"exact": GaussianMeasurement("obs", exact, value, error)}
    for mode in modes:
        terms[mode] = GaussianMeasurement("obs", surrogate, value, error, uncertainty=mode)
    return terms


def closure_fits(
    true_fn: Callable[[np.ndarray], np.ndarray],
    surrogate: Any,
    prior: Prior,
    value: float,
    error: float,
    output_dir: str | Path,
    *,
    modes: Sequence[str] = ("none", "quadrature"),
    **sampler_kwargs: Any,
) -> dict[str, FitResult]:
    """Fit one Gaussian measurement with the true function and with ``surrogate``.

    Parameters
    ----------
    true_fn : callable
        Points (n, n_dim) of the prior's space -> observable (n,).
    surrogate : object with ``predict``
        A fitted surrogate of ``true_fn``.
    prior : Prior
    value, error : float
        Measured value and its standard deviation.
    output_dir : path
        One UltraNest folder per fit below it.
    modes : sequence of {"none", "quadrature", "mixture"}
        ``uncertainty`` modes of :class:`~likelihoods.GaussianMeasurement` for the
        surrogate fits.
    **sampler_kwargs
        Passed to :func:`~fits.ultranest_fit.run_ultranest` (same for every fit).

    Returns
    -------
    dict of str to FitResult
        ``"exact"`` and one entry per mode.
    """
    out = Path(output_dir)
    return {
        key: run_ultranest(term, prior, out / key, **sampler_kwargs)
        for key, term in closure_terms(true_fn, surrogate, value, error, modes).items()
    }


def closure_table(
    fits: Mapping[str, FitResult],
    prior: Prior,
    true_fn: Callable[[np.ndarray], np.ndarray],
    truth: Mapping[str, float],
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per fit of :func:`closure_fits`: truth position, widths, distance to exact.

    Parameters
    ----------
    fits : mapping of str to FitResult
        With an ``"exact"`` entry, the reference.
    prior : Prior
    true_fn : callable
        The true observable, pushed forward through each posterior as column ``"obs"``.
    truth : mapping of str to float
        True values of the free parameters.
    level : float

    Returns
    -------
    DataFrame indexed by fit
        ``obs_ppi``, ``obs_pull``, ``obs_inside`` (truth's true observable in the pushed-
        forward posterior), ``obs_width_ratio`` (its ``level`` interval over the exact fit's);
        per parameter ``p``: ``p_ppi``, ``p_inside``, ``p_width_ratio``, ``p_w1`` (in exact
        posterior std) and ``p_ks`` against the exact fit.
    """
    point = prior.to_full(np.array([[truth[n] for n in prior.names]]))
    truths = {**truth, "obs": float(true_fn(point)[0])}
    pos = {k: truth_position(push_forward(r, prior, true_fn, "obs"), truths, level)
           for k, r in fits.items()}
    rows = {}
    for key, res in fits.items():
        cmp = compare_posteriors(fits["exact"], res, level)
        row = {
            "obs_ppi": pos[key].loc["obs", "ppi"],
            "obs_pull": pos[key].loc["obs", "pull"],
            "obs_inside": pos[key].loc["obs", "inside"],
            "obs_width_ratio": pos[key].loc["obs", "width"] / pos["exact"].loc["obs", "width"],
        }
        for name in prior.names:
            row.update({
                f"{name}_ppi": pos[key].loc[name, "ppi"],
                f"{name}_inside": pos[key].loc[name, "inside"],
                f"{name}_width_ratio": cmp.loc[name, "width_ratio"],
                f"{name}_w1": cmp.loc[name, "wasserstein"],
                f"{name}_ks": cmp.loc[name, "ks"],
            })
        rows[key] = row
    return pd.DataFrame(rows).T
