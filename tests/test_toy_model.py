"""A 5-parameter toy model (not the pMSSM) through likelihoods + fits: fits and scans.

The model has five parameters on [0, 1] and two observables: a "mass" ``m = x1 + x2`` and a
cross section ``sigma = 3 exp(-2 x3)`` fb. The same likelihood terms fit it (UltraNest and
emcee, through :class:`fits.Prior` on the model's own space) and steer an active-learning scan
of it (a Gaussian measurement of ``m``, a signal region of ``sigma``, a viability cut).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from fits import Prior, run_emcee, run_ultranest
from fits.scan import ActiveScan, FunctionSimulator, Steering
from likelihoods import (
    Combination,
    FunctionObservable,
    GaussianMeasurement,
    SignalRegion,
    Viability,
)
from likelihoods.counting import profile_log_likelihood, saturated_log_likelihood
from surrogates.space import Parameter, ParameterSpace

TOY = ParameterSpace([Parameter(f"x{i}", 0.0, 1.0) for i in range(1, 6)], "toy5")
#: m = 1 +- 0.1 measured; a counting excess n - b = 500 events, L eps = 1000/3 fb^-1
MASS = {"value": 1.0, "exp_error": 0.1}
SR = {"n_observed": 1000, "background": 500.0, "background_error": 0.0,
      "luminosity": 1000.0 / 3.0, "efficiency": 1.0}
FAST_GP = {"expert_size": 4096, "aggregation": "poe", "recalibration": "none",
           "include_noise": False, "n_iter": 30, "precision": "float64"}


def mass(X):
    return X[:, 0] + X[:, 1]


def xsec(X):
    return 3.0 * np.exp(-2.0 * X[:, 2])


def toy_simulator() -> FunctionSimulator:
    return FunctionSimulator(TOY, lambda X: {"m": mass(X), "xsec": xsec(X)}, ["m", "xsec"],
                             name="toy5")


@pytest.fixture(autouse=True)
def _quiet_ultranest():
    logging.getLogger("ultranest").setLevel(logging.WARNING)


def _likelihood() -> Combination:
    return Combination([
        GaussianMeasurement("m", FunctionObservable(mass, "m", space=TOY), **MASS),
        SignalRegion("sr", FunctionObservable(xsec, "xsec", space=TOY), **SR),
    ])


def _check_posterior(result):
    """m = x1 + x2 ~ 1 +- 0.1 and sigma(x3) = 1.5 fb +- ~5 %, x4 uniform: what both fits see."""
    w = result.weights
    m = result.samples["x1"] + result.samples["x2"]
    assert abs(w @ m - 1.0) < 0.03 and 0.07 < np.sqrt(w @ (m - w @ m) ** 2) < 0.13
    x3 = result.samples["x3"].to_numpy()
    assert abs(w @ x3 - np.log(2) / 2) < 0.02  # 3 exp(-2 x3) = 1.5
    assert abs(w @ result.samples["x4"] - 0.5) < 0.06


def test_the_toy_model_is_fitted_with_ultranest_and_emcee():
    likelihood = _likelihood()
    assert likelihood.space == TOY
    prior = Prior(TOY, ["x1", "x2", "x3", "x4"], {"x5": 0.5})
    assert prior.to_full([[0.1, 0.2, 0.3, 0.4]]).tolist() == [[0.1, 0.2, 0.3, 0.4, 0.5]]
    nested = run_ultranest(likelihood, prior, None, min_num_live_points=100)  # in memory
    assert nested.log_evidence is not None and {"m", "sr", "sr.q"} <= set(nested.samples)
    _check_posterior(nested)
    chain = run_emcee(likelihood, prior, None, n_walkers=16, n_steps=1500,
                      stop_when_converged=False, burn=500)
    _check_posterior(chain)
    with pytest.raises(ValueError, match="the likelihood's points are those of .*toy5"):
        run_emcee(likelihood, Prior(ParameterSpace.box([0] * 4, [1] * 4), ["x1"],
                                    {"x2": 0, "x3": 0, "x4": 0}), None)


def test_a_signal_region_steers_by_its_test_statistic():
    sim = toy_simulator()
    sr = Steering(SignalRegion("sr", sim.observable("xsec"), **SR), n_sigma=2.0)
    assert sr.best == pytest.approx(1.5)
    # the region's edges are where q = 2 (saturated - profiled) reaches n_sigma^2 = 4
    for edge in (sr.low, sr.high):
        best, _, _ = profile_log_likelihood(1000, np.array([edge * 1000 / 3]), 500.0,
                                            np.zeros(1), 0.0)
        q = 2 * (saturated_log_likelihood(1000, 500.0, 0.0) - best[0])
        assert q == pytest.approx(4.0, rel=1e-6)
    assert 1.2 < sr.low < 1.5 < sr.high < 1.8


@pytest.mark.parametrize("term", ["gaussian", "signal_region"])
def test_the_toy_model_is_scanned_by_a_likelihood_term(term):
    sim = toy_simulator()
    if term == "gaussian":
        terms = [GaussianMeasurement("m", sim.observable("m"), **MASS)]
    else:
        terms = [SignalRegion("sr", sim.observable("xsec"), **SR)]
    scan = ActiveScan(sim, terms, model_options=FAST_GP, n_initial=60, batch_size=60,
                      seed=0, progress=False)
    result = scan.run(180)
    tested = result.tested
    (steering,) = scan.steering
    np.testing.assert_array_equal(tested["in_target"], steering.in_region(
        tested[steering.column].to_numpy()))
    uniform = steering.in_region(sim(TOY.sample_uniform(20000, 1))[steering.column]).mean()
    guided = tested.loc[tested["origin"] == "guided", "in_target"].mean()
    assert uniform < 0.4 and guided > 1.5 * uniform  # the terms steer the scan
    assert np.isfinite(tested.loc[tested["in_target"], "log_likelihood"]).all()


def test_a_viability_term_steers_the_scan_away_from_where_the_model_fails():
    # a 0/1 output "ok" (x4 < 0.5), learnt by a classifier, cut on by a Viability term
    sim = FunctionSimulator(TOY, lambda X: {"m": mass(X), "ok": (X[:, 3] < 0.5).astype(float)},
                            ["m", "ok"])
    terms = [GaussianMeasurement("m", sim.observable("m"), **MASS),
             Viability("ok", sim.observable("ok"), mode="cut")]
    scan = ActiveScan(sim, terms, model_options=FAST_GP, n_initial=60, batch_size=60, seed=0,
                      progress=False)
    assert scan.steering[1].low == pytest.approx(0.5) and scan.steering[1].high == np.inf
    tested = scan.run(180).tested
    assert scan.surrogates_["ok"].target.is_classifier
    guided = tested[tested["origin"] == "guided"]
    assert guided["ok"].mean() > 0.8 and guided["in_target"].mean() > 0.5  # uniform: 0.18
