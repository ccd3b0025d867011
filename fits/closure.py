r"""Closure tests: a fit with a surrogate against the same fit with the true function.

The *true function* is an analytic observable of the pMSSM-19 parameters that is cheap to
evaluate: the tree-level mass of the lightest chargino (Martin, "A Supersymmetry Primer",
hep-ph/9709356, eqs. 8.2.5-8.2.6). With the chargino mass matrix

.. math:: X = \begin{pmatrix} M_2 & \sqrt2\, m_W \sin\beta \\ \sqrt2\, m_W\cos\beta & \mu
          \end{pmatrix},

the masses are its singular values,

.. math:: m^2_{\tilde\chi^\pm_{1,2}} = \tfrac12\Big[A \mp \sqrt{A^2 - 4\,|\mu M_2 - m_W^2
          \sin 2\beta|^2}\Big], \qquad A = M_2^2 + \mu^2 + 2 m_W^2,

a smooth function of :math:`(M_2, \mu, \tan\beta)` with a ridge where :math:`|M_2| \approx
|\mu|` (wino-higgsino mixing): a fit to a measured chargino mass has a curved, L-shaped
posterior in :math:`(M_2, \mu)`, a fair test for samplers and surrogates alike.

:func:`compare_posteriors` measures how far a posterior is from a reference one, parameter by
parameter: the 1-D Wasserstein distance (in units of the reference posterior std), the
two-sample Kolmogorov–Smirnov statistic of the weighted ECDFs, the overlap of the credible
intervals (intersection over union) and the ratio of their widths.

:func:`truth_position` says where the true value lies in each marginal posterior: its
posterior-probability integral (PPI, :math:`P(\theta < \theta_\text{true} \mid y)`, uniform
over repeated experiments for a calibrated posterior, cf. the simulation-based calibration
of Talts et al., arXiv:1804.06788), its distance from the posterior mean in posterior std,
and whether it lies in the equal-tailed credible interval. An L-shaped posterior has broad
marginals that hide a shifted ridge, so the closure test also scores the *true observable
pushed forward through the posterior*, :math:`m(\theta)` with :math:`\theta \sim p(\theta
\mid y)` (:func:`push_forward`): a fit that trusts a biased surrogate puts the ridge where the
surrogate, not the true function, matches the measurement, and the true observable's
posterior misses its measured value.

:func:`closure_fits` runs the same mock measurement with the exact function and with a
surrogate under several ``uncertainty`` modes of :class:`~likelihoods.GaussianMeasurement`
(the likelihoods are :func:`closure_terms`); :func:`grid_fit` computes the posterior of one or
two free parameters by quadrature instead, free of sampling noise. The uncertainty test needs
a posterior with one peak and a measurement error small against the surrogate's error: one
free parameter (:math:`M_2` at fixed :math:`\mu`) and a 1 GeV error, where trusting a biased
surrogate's mean gives a sharp posterior in the wrong place and adding its std in quadrature
widens it over the truth (tests/test_fits_closure.py, benchmarks/closure_benchmark.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import wasserstein_distance

from fits.priors import Prior
from fits.problem import FitProblem
from fits.results import FitResult, weighted_quantile
from fits.ultranest_fit import run_ultranest
from likelihoods import FunctionObservable, GaussianMeasurement
from surrogates.mlp import MLPEnsemble
from surrogates.space import parameter_index
from surrogates.targets import Quantity, Selection, Target

__all__ = [
    "CHARGINO",
    "M_W",
    "closure_fits",
    "closure_table",
    "closure_terms",
    "compare_posteriors",
    "grid_fit",
    "light_chargino_mass",
    "push_forward",
    "sparse_surrogate",
    "truth_position",
    "weighted_ks",
]

M_W = 80.379  # GeV, PDG 2020 W mass
#: The light-chargino mass as a surrogate target (not one of the three library targets).
CHARGINO = Target(Quantity("m_chargino1", "regression", "GeV", "standardize"),
                  Selection("m_C1", "analytic"))


def light_chargino_mass(X: np.ndarray) -> np.ndarray:
    """Tree-level mass of the lightest chargino, GeV.

    Parameters
    ----------
    X : ndarray of shape (n, 19)
        pMSSM-19 points (uses ``M2``, ``mu`` and ``tanb``).

    Returns
    -------
    ndarray of shape (n,)
    """
    m2 = X[:, parameter_index("M2")]
    mu = X[:, parameter_index("mu")]
    beta = np.arctan(X[:, parameter_index("tanb")])
    a = m2**2 + mu**2 + 2 * M_W**2
    det = mu * m2 - M_W**2 * np.sin(2 * beta)
    return np.sqrt(0.5 * (a - np.sqrt(np.maximum(a**2 - 4 * det**2, 0.0))))


def weighted_ks(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray) -> float:
    """Kolmogorov–Smirnov statistic: largest gap between two weighted ECDFs."""
    grid = np.sort(np.concatenate([x, y]))

    def ecdf(v, w):
        order = np.argsort(v)
        cum = np.cumsum(w[order]) / w.sum()
        return np.concatenate([[0.0], cum])[np.searchsorted(v[order], grid, side="right")]

    return float(np.max(np.abs(ecdf(x, wx) - ecdf(y, wy))))


def compare_posteriors(reference: FitResult, other: FitResult, level: float = 0.95) -> pd.DataFrame:
    """Per-parameter distances between ``other``'s marginals and ``reference``'s.

    Returns
    -------
    DataFrame indexed by parameter
        ``wasserstein`` (in units of the reference std), ``ks``, ``ci_overlap``
        (intersection over union of the equal-tailed ``level`` intervals) and
        ``width_ratio`` (other's interval width over the reference's).
    """
    if reference.parameter_names != other.parameter_names:
        raise ValueError(
            f"the fits have different free parameters: {reference.parameter_names} vs "
            f"{other.parameter_names}"
        )
    q = [(1 - level) / 2, (1 + level) / 2]
    rows = {}
    for name in reference.parameter_names:
        x, wx = reference.samples[name].to_numpy(), reference.weights
        y, wy = other.samples[name].to_numpy(), other.weights
        std = np.sqrt(wx @ (x - wx @ x) ** 2)
        lo1, hi1 = weighted_quantile(x, q, wx)
        lo2, hi2 = weighted_quantile(y, q, wy)
        inter = max(0.0, min(hi1, hi2) - max(lo1, lo2))
        rows[name] = {
            "wasserstein": wasserstein_distance(x, y, wx, wy) / std,
            "ks": weighted_ks(x, wx, y, wy),
            "ci_overlap": inter / (max(hi1, hi2) - min(lo1, lo2)),
            "width_ratio": (hi2 - lo2) / (hi1 - lo1),
        }
    return pd.DataFrame(rows).T


def sparse_surrogate(
    prior: Prior,
    n_train: int,
    seed: int,
    true_fn: Callable[[np.ndarray], np.ndarray] = light_chargino_mass,
    *,
    epochs: int = 300,
    n_members: int = 5,
) -> MLPEnsemble:
    """A deliberately unsure surrogate of ``true_fn``: an MLP ensemble on few points.

    ``n_members`` networks of 32 x 32 units, trained full-batch on ``n_train`` prior draws
    (seeded by ``seed``) plus the corners of the prior box, so that its training box is the
    prior's and no fit point is vetoed as outside the domain. Only for boxes of free
    parameters (uniform or log-uniform).
    """
    lows = [p.low for p in prior.free]
    highs = [p.high for p in prior.free]
    corners = np.array(np.meshgrid(*zip(lows, highs, strict=True))).reshape(prior.ndim, -1).T
    X = prior.to_full(np.vstack([prior.sample(n_train, seed), corners]))
    return MLPEnsemble(CHARGINO, hidden=(32, 32), n_members=n_members, epochs=epochs,
                       batch_size=len(X), patience=epochs, seed=seed).fit(
        X, true_fn(X), progress=False)


def truth_position(
    result: FitResult, truth: Mapping[str, float], level: float = 0.95
) -> pd.DataFrame:
    """Where true values lie in the marginal posteriors of ``result``.

    Parameters
    ----------
    result : FitResult
    truth : mapping of str to float
        True value per column of ``result.samples`` (free parameters or derived columns such
        as those added by :func:`push_forward`).
    level : float
        Credible level of the equal-tailed interval.

    Returns
    -------
    DataFrame indexed by column
        ``ppi`` (posterior mass below the truth), ``pull`` ((truth - mean) / std), ``inside``
        (the truth lies in the ``level`` interval), ``std`` and ``width`` (of the interval).
    """
    q = [(1 - level) / 2, (1 + level) / 2]
    w = result.weights
    rows = {}
    for name, value in truth.items():
        x = result.samples[name].to_numpy()
        mean = w @ x
        std = np.sqrt(w @ (x - mean) ** 2)
        lo, hi = weighted_quantile(x, q, w)
        rows[name] = {
            "ppi": float(w[x < value].sum()),
            "pull": (value - mean) / std,
            "inside": bool(lo <= value <= hi),
            "std": std,
            "width": hi - lo,
        }
    return pd.DataFrame(rows).T


def push_forward(
    result: FitResult, prior: Prior, fn: Callable[[np.ndarray], np.ndarray], name: str
) -> FitResult:
    """``result`` with a column ``name`` = ``fn`` at each posterior sample's full point.

    ``fn`` maps pMSSM-19 points (n, 19) to values (n,), e.g. :func:`light_chargino_mass`.
    """
    samples = result.samples.copy()
    samples[name] = fn(prior.to_full(samples[result.parameter_names].to_numpy()))
    return FitResult(**{**result.__dict__, "samples": samples})


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
        Points (n, 19) -> observable (n,).
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


def grid_fit(likelihood: Any, prior: Prior, n_per_dim: int = 2000) -> FitResult:
    r"""Posterior and evidence by the midpoint rule on a grid in the prior's unit cube.

    Each of the :math:`N = n^d` cells of the unit cube holds prior mass :math:`1/N`, so with
    the cell centres :math:`u_j` mapped to :math:`\theta_j` by the prior transform,

    .. math:: Z \approx \frac1N \sum_j L(\theta_j), \qquad w_j = L(\theta_j) / (N Z),

    exact up to the variation of :math:`L` within a cell: a deterministic reference for fits
    in one or two free parameters, where nested sampling's noise would blur a comparison.

    Parameters
    ----------
    likelihood : Combination, Term, or callable
        Points (n, 19) -> log-likelihoods (n,), as for the samplers.
    prior : Prior
    n_per_dim : int
        Cells per free parameter; the cell width should be well below the posterior width.

    Returns
    -------
    FitResult
        ``sampler="grid"``, one sample per cell with its weight; ``log_evidence`` with
        ``log_evidence_error=0`` (no sampling error; the quadrature error is not estimated).

    Raises
    ------
    ValueError
        If the grid would exceed 10**7 cells or the likelihood is ``-inf`` everywhere.
    """
    n = int(n_per_dim)
    if n < 2 or n**prior.ndim > 10**7:
        raise ValueError(
            f"n_per_dim must be >= 2 with n_per_dim**ndim <= 10**7 cells; got {n_per_dim!r} "
            f"for {prior.ndim} free parameters"
        )
    problem = FitProblem(likelihood, prior)
    mids = (np.arange(n) + 0.5) / n
    u = np.stack(np.meshgrid(*[mids] * prior.ndim, indexing="ij"), -1).reshape(-1, prior.ndim)
    theta = prior.transform(u)
    logl = problem.log_likelihood(theta)
    if not np.isfinite(logl).any():
        raise ValueError(f"the likelihood is -inf on all {len(logl)} grid cells")
    log_z = logsumexp(logl) - np.log(len(logl))
    samples = pd.DataFrame(theta, columns=prior.names)
    samples["weight"] = np.exp(logl - log_z) / len(logl)
    samples["logl"] = logl
    samples = pd.concat([samples, problem.per_term(theta)], axis=1)
    return FitResult(sampler="grid", parameter_names=prior.names, samples=samples,
                     log_evidence=float(log_z), log_evidence_error=0.0, n_calls=len(logl))


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
