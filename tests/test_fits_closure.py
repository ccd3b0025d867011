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
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from fits.closure import (
    CHARGINO,
    compare_posteriors,
    light_chargino_mass,
    sparse_surrogate,
    truth_position,
    weighted_ks,
)
from fits.priors import Prior
from fits.results import FitResult
from fits.ultranest_fit import run_ultranest
from likelihoods import FunctionObservable, GaussianMeasurement
from surrogates.mlp import MLPEnsemble
from surrogates.space import PARAMETER_NAMES

logging.getLogger("ultranest").setLevel(logging.WARNING)

BENCH = dict(
    zip(PARAMETER_NAMES, [500, 600, 2000, 800, 2000, 10] + [0] * 3 + [2000] * 10, strict=True)
)
PRIOR = Prior.around(BENCH, {"M2": [100, 1000], "mu": [100, 1000]})


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


@pytest.fixture(scope="module")
def surrogate():
    Xtr = PRIOR.to_full(PRIOR.sample(1500, 1))
    Xv = PRIOR.to_full(PRIOR.sample(300, 2))
    return MLPEnsemble(CHARGINO, hidden=(32, 32), n_members=4, epochs=40, batch_size=128,
                       patience=40, seed=0).fit(
        Xtr, light_chargino_mass(Xtr), X_val=Xv, y_val=light_chargino_mass(Xv), progress=False)


@pytest.mark.slow
def test_surrogate_posterior_closes_on_the_exact_one(surrogate, tmp_path):
    y_obs = light_chargino_mass(PRIOR.to_full(np.array([[400.0, 700.0]])))[0]
    kw = {"min_num_live_points": 50, "resume": False}
    exact = run_ultranest(GaussianMeasurement("mc1", FunctionObservable(light_chargino_mass),
                                              y_obs, 10.0), PRIOR, tmp_path / "exact", **kw)
    fit = run_ultranest(GaussianMeasurement("mc1", surrogate, y_obs, 10.0), PRIOR,
                        tmp_path / "surrogate", **kw)
    cmp = compare_posteriors(exact, fit)
    assert (cmp["wasserstein"] < 0.3).all(), cmp
    assert (cmp["ks"] < 0.2).all(), cmp
    assert (cmp["ci_overlap"] > 0.8).all(), cmp
    dz = abs(exact.log_evidence - fit.log_evidence)
    assert dz < 3 * np.hypot(exact.log_evidence_error, fit.log_evidence_error)


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
