"""Closure: a fit with an MLP surrogate of an analytic observable against the exact fit.

The observable is the tree-level light-chargino mass (fits.closure.light_chargino_mass), a
function of (M2, mu, tan beta); the mock measurement is its value at (M2, mu) = (400, 700)
GeV with a 10 GeV error. Both fits use UltraNest on (M2, mu) in [100, 1000]^2 GeV.

Tolerances: two exact fits of this problem with different seeds differed, at 100 live
points, by Wasserstein distances of 0.05-0.08 posterior std and KS statistics of 0.04-0.05
(sampling noise at an ESS of a few hundred; more at 50 live points); the surrogate fit must
stay within about four times that, keep 80% interval overlap, and agree in ln Z within three
combined standard errors. Slow (two nested-sampling runs and a training; ~2 min on a loaded
2-core machine).

Uncertainty propagation (issue 5: the surrogate's uncertainty must widen the posterior where
the surrogate is unsure instead of giving an over-confident wrong constraint): one free
parameter, M2 in [100, 1000] GeV with mu = 800 GeV fixed, so the posterior has one peak; the
chargino mass measured at M2 = 400 GeV (393 GeV, slope dm/dM2 = 0.98) with a 1 GeV error; a
10-member MLP ensemble trained on 4 random points plus the 2 ends of the range. With training
seed 1 the ensemble is off by ~-8 GeV at the truth with a spread of ~5.6 GeV: trusting its mean
puts the M2 posterior ~8 posterior std from the truth, adding its std in quadrature gives a
~5.5 times wider posterior that covers the truth. Over training seeds 0-19 (grid fits,
benchmarks/closure_benchmark.py --setup 1d) the mean-only fit missed the truth at 95% for 14
seeds, the quadrature fit covered it in 12 of those 14 and in all 6 others; the seed is fixed
here so that the test checks the mechanism, not the ensemble's calibration.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, norm

from fits.closure import (
    CHARGINO,
    closure_fits,
    closure_terms,
    compare_posteriors,
    grid_fit,
    light_chargino_mass,
    sparse_surrogate,
    truth_position,
    weighted_ks,
)
from fits.priors import pmssm19_prior
from fits.results import FitResult
from fits.ultranest_fit import run_ultranest
from likelihoods import FunctionObservable, GaussianMeasurement
from surrogates.mlp import MLPEnsemble
from surrogates.space import PARAMETER_NAMES, PMSSM19

logging.getLogger("ultranest").setLevel(logging.WARNING)

BENCH = dict(
    zip(PARAMETER_NAMES, [500, 600, 2000, 800, 2000, 10] + [0] * 3 + [2000] * 10, strict=True)
)
PRIOR = pmssm19_prior(BENCH, {"M2": [100, 1000], "mu": [100, 1000]})
PRIOR_M2 = pmssm19_prior(BENCH, {"M2": [100, 1000]})
TRUTH_M2 = {"M2": 400.0}
ERROR_M2 = 1.0  # GeV, small against the unsure surrogate's bias and spread at the truth


def test_light_chargino_mass_limits():
    # pure wino / pure higgsino limits and the M2 <-> mu symmetry at tan beta = 1
    X = PRIOR.to_full(np.array([[200.0, 3000.0 - 1e-9], [900.0, 150.0]]))
    X[:, PARAMETER_NAMES.index("mu")] = [3000.0, 150.0]
    m = light_chargino_mass(X)
    assert m[0] == pytest.approx(200.0, rel=0.01) and m[1] == pytest.approx(150.0, rel=0.03)
    Y = X.copy()
    Y[:, PARAMETER_NAMES.index("tanb")] = 1.0
    Z = Y.copy()
    Z[:, [1, 3]] = Y[:, [3, 1]]
    np.testing.assert_allclose(light_chargino_mass(Y), light_chargino_mass(Z))


def test_weighted_ks_of_identical_samples_is_zero():
    x = np.random.default_rng(0).normal(size=50)
    assert weighted_ks(x, np.ones(50), x, np.full(50, 2.0)) == 0.0


def test_weighted_ks_matches_scipy_and_counts_integer_weights_as_repeats():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=300), rng.normal(0.3, 1.2, size=200)
    ref = ks_2samp(x, y).statistic
    assert ref > 0.1
    assert weighted_ks(x, np.ones(300), y, np.ones(200)) == pytest.approx(ref, abs=1e-12)
    wx, wy = rng.integers(1, 4, size=300), rng.integers(1, 4, size=200)
    repeated = ks_2samp(np.repeat(x, wx), np.repeat(y, wy)).statistic
    assert weighted_ks(x, wx * 0.1, y, wy * 7.0) == pytest.approx(repeated, abs=1e-12)


@pytest.fixture(scope="module")
def surrogate():
    Xtr = PRIOR.to_full(PRIOR.sample(1500, 1))
    Xv = PRIOR.to_full(PRIOR.sample(300, 2))
    return MLPEnsemble(CHARGINO, hidden=(32, 32), n_members=4, epochs=40, batch_size=128,
                       patience=40, seed=0).fit(
        Xtr, light_chargino_mass(Xtr), X_val=Xv, y_val=light_chargino_mass(Xv), progress=False)


@pytest.mark.slow  # ~25 s on 2 idle cores; the grid version below runs in CI
def test_surrogate_posterior_closes_on_the_exact_one(surrogate, tmp_path):
    y_obs = light_chargino_mass(PRIOR.to_full(np.array([[400.0, 700.0]])))[0]
    kw = {"min_num_live_points": 50, "resume": False}
    exact_fn = FunctionObservable(light_chargino_mass, space=PMSSM19)
    exact = run_ultranest(GaussianMeasurement("mc1", exact_fn, y_obs, 10.0), PRIOR,
                          tmp_path / "exact", **kw)
    fit = run_ultranest(GaussianMeasurement("mc1", surrogate, y_obs, 10.0), PRIOR,
                        tmp_path / "surrogate", **kw)
    cmp = compare_posteriors(exact, fit)
    assert (cmp["wasserstein"] < 0.3).all(), cmp
    assert (cmp["ks"] < 0.2).all(), cmp
    assert (cmp["ci_overlap"] > 0.8).all(), cmp
    dz = abs(exact.log_evidence - fit.log_evidence)
    assert dz < 3 * np.hypot(exact.log_evidence_error, fit.log_evidence_error)


def _grid_marginal_cdfs(result, name):
    """Grid points of ``name`` and the marginal CDF there (cells summed over the other axis)."""
    marginal = result.samples.groupby(name)["weight"].sum()
    return marginal.index.to_numpy(), np.cumsum(marginal.to_numpy())


def test_surrogate_posterior_closes_on_the_exact_one_on_a_grid(surrogate):
    """Fast version of the UltraNest closure test below: both posteriors by the midpoint rule
    on the same 200 x 200 grid (no sampling noise), compared through compare_posteriors.

    Its KS and Wasserstein figures must equal the marginal CDFs' largest gap and area between
    them summed on the grid lines; the distances must stay within the slow test's bounds (set
    there for the sampling noise of two fits, so stricter here), and ln Z within three of the
    nested-sampling errors sqrt(2 H / n_live) that test allowed at 50 live points, with the
    information H = sum_j w_j ln(N w_j) of the exact grid posterior (Skilling 2006, Sec. 5).
    """
    y_obs = light_chargino_mass(PRIOR.to_full(np.array([[400.0, 700.0]])))[0]
    exact_fn = FunctionObservable(light_chargino_mass, space=PMSSM19)
    exact = grid_fit(GaussianMeasurement("mc1", exact_fn, y_obs, 10.0), PRIOR, 200)
    fit = grid_fit(GaussianMeasurement("mc1", surrogate, y_obs, 10.0), PRIOR, 200)
    cmp = compare_posteriors(exact, fit)
    for name in PRIOR.names:
        x, cdf_exact = _grid_marginal_cdfs(exact, name)
        x_fit, cdf_fit = _grid_marginal_cdfs(fit, name)
        assert np.array_equal(x, x_fit)
        w = exact.weights
        std = np.sqrt(w @ (exact.samples[name] - w @ exact.samples[name]) ** 2)
        gap = np.abs(cdf_exact - cdf_fit)
        assert cmp.loc[name, "ks"] == pytest.approx(gap.max(), rel=1e-9)
        assert cmp.loc[name, "wasserstein"] == pytest.approx(gap[:-1] @ np.diff(x) / std,
                                                             rel=1e-6)
    assert (cmp["wasserstein"] < 0.3).all(), cmp
    assert (cmp["ks"] < 0.2).all(), cmp
    assert (cmp["ci_overlap"] > 0.8).all(), cmp
    w = exact.weights[exact.weights > 0]
    information = np.sum(w * np.log(w * exact.weights.size))
    assert abs(exact.log_evidence - fit.log_evidence) < 3 * np.sqrt(2 * information / 50)


def test_truth_position_of_a_known_gaussian():
    # 20000 equal-weight N(0, 1) draws: the PPI of 1 is Phi(1) = 0.8413 up to its binomial
    # error sqrt(p (1 - p) / n) = 0.0026, the pull 1 up to ~1/sqrt(n) relative, the 95%
    # width 2 * 1.96 up to a few percent; 3 lies outside the 95% interval, 1 inside.
    x = np.random.default_rng(0).normal(size=20000)
    res = FitResult("test", ["a"], pd.DataFrame({"a": x, "weight": np.full(x.size, 1 / x.size)}))
    pos = truth_position(res, {"a": 1.0})
    assert pos.loc["a", "ppi"] == pytest.approx(norm.cdf(1.0), abs=4 * 0.0026)
    assert pos.loc["a", "pull"] == pytest.approx(1.0, abs=0.03)
    assert pos.loc["a", "width"] == pytest.approx(2 * norm.ppf(0.975), rel=0.03)
    assert pos.loc["a", "inside"] and not truth_position(res, {"a": 3.0}).loc["a", "inside"]


def test_sparse_surrogate_covers_the_prior_box():
    sur = sparse_surrogate(PRIOR, 5, seed=0, epochs=2)
    corners = PRIOR.to_full(np.array([[100.0, 100.0], [1000.0, 1000.0], [100.0, 1000.0]]))
    assert not sur.predict(corners).outside_domain.any()


def test_grid_fit_of_a_gaussian_likelihood():
    # L = N(M2 | 500, 10) on a uniform prior over [100, 1000]: Z = 1 / 900 (the tails beyond
    # 40 sigma are nil), posterior mean 500 and std 10. Midpoint rule with 0.09 GeV cells:
    # errors O((h / sigma)^2) ~ 1e-4 relative, so 1e-3 is safe.
    def loglike(X):
        m2 = X[:, PARAMETER_NAMES.index("M2")]
        return -0.5 * ((m2 - 500.0) / 10.0) ** 2 - np.log(np.sqrt(2 * np.pi) * 10.0)

    res = grid_fit(loglike, PRIOR_M2, 10000)
    summary = res.summary().loc["M2"]
    assert res.log_evidence == pytest.approx(-np.log(900.0), abs=1e-3)
    assert summary["mean"] == pytest.approx(500.0, abs=1e-2)
    assert summary["std"] == pytest.approx(10.0, rel=1e-3)
    with pytest.raises(ValueError, match="n_per_dim"):
        grid_fit(loglike, PRIOR, 10**4)


@pytest.fixture(scope="module")
def unsure_m2():
    """The unsure surrogate of M2 (see the module docstring) and the measured mass."""
    y_obs = float(light_chargino_mass(PRIOR_M2.to_full(np.array([[TRUTH_M2["M2"]]])))[0])
    return sparse_surrogate(PRIOR_M2, 4, seed=1, n_members=10), y_obs


def check_uncertainty_widens(fits, surrogate, width_slack):
    """Mean-only fit misses the truth, quadrature fit covers it and is wider as predicted.

    Near its peak the quadrature posterior of M2 has std sqrt(err^2 + s(M2)^2) / slope and the
    mean-only one err / slope, so their 95% widths are in the ratio sqrt(1 + s^2 / err^2)
    with s the ensemble std between the smallest and largest it takes in the quadrature
    interval; ``width_slack`` covers the rest (slope change, sampling noise).
    """
    pos = {k: truth_position(r, TRUTH_M2).loc["M2"] for k, r in fits.items()}
    assert pos["exact"]["inside"], pos["exact"]
    assert not pos["none"]["inside"] and abs(pos["none"]["pull"]) > 2, pos["none"]
    assert pos["quadrature"]["inside"], pos["quadrature"]
    lo, hi = fits["quadrature"].summary().loc["M2", ["lo95", "hi95"]]
    s = surrogate.predict(PRIOR_M2.to_full(np.linspace(lo, hi, 50)[:, None])).std
    r_lo, r_hi = np.sqrt(1 + np.array([s.min(), s.max()]) ** 2 / ERROR_M2**2)
    ratio = pos["quadrature"]["width"] / pos["none"]["width"]
    assert r_lo * (1 - width_slack) < ratio < r_hi * (1 + width_slack), (ratio, r_lo, r_hi)
    assert r_lo > 2  # the surrogate is unsure here: the widening is no small effect


def test_surrogate_uncertainty_widens_the_posterior_on_a_grid(unsure_m2):
    # Grid posteriors are exact up to 0.09 GeV cells, against a 95% width of ~4 GeV for the
    # narrowest (mean-only) fit; 5% slack for the change of the surrogate's slope between
    # where the two posteriors sit (the exact mass's slope changes by 0.2% over 380-420 GeV).
    surrogate, y_obs = unsure_m2
    terms = closure_terms(light_chargino_mass, surrogate, y_obs, ERROR_M2)
    fits = {key: grid_fit(term, PRIOR_M2, 10000) for key, term in terms.items()}
    check_uncertainty_widens(fits, surrogate, width_slack=0.05)


@pytest.mark.slow  # three nested-sampling runs; the grid version above runs in CI
def test_surrogate_uncertainty_widens_the_posterior_with_ultranest(unsure_m2, tmp_path):
    # Same as the grid test through UltraNest (ESS ~400 per fit): a 95% interval width then
    # has a relative sampling error of ~5% (quantile error sqrt(p (1 - p) / ESS) / pdf at
    # p = 0.025), a ratio of two ~7%; slack 3 x 7% plus the grid test's 5%.
    surrogate, y_obs = unsure_m2
    fits = closure_fits(light_chargino_mass, surrogate, PRIOR_M2, y_obs, ERROR_M2, tmp_path,
                        min_num_live_points=50, ndraw_min=1000, resume=False, seed=0)
    check_uncertainty_widens(fits, surrogate, width_slack=0.25)
