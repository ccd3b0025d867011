"""Priors, the probe, and the emcee / UltraNest runners on problems with known answers."""

from __future__ import annotations

import logging

import h5py
import numpy as np
import pytest
from scipy.stats import kstest

from fits.emcee_fit import run_emcee
from fits.priors import Prior, pmssm19_prior
from fits.problem import FitProblem
from fits.results import FitResult, weighted_quantile
from fits.ultranest_fit import run_ultranest
from likelihoods import Combination, FunctionObservable, GaussianMeasurement
from surrogates.space import PARAMETER_NAMES, PMSSM19, parameter_index

logging.getLogger("ultranest").setLevel(logging.WARNING)

BENCH = dict(
    zip(PARAMETER_NAMES, [500, 600, 2000, 800, 2000, 10] + [0] * 3 + [2000] * 10, strict=True)
)
I_M2, I_MU = parameter_index("M2"), parameter_index("mu")
# Two linear Gaussian measurements of (M2, mu): y = A theta, sigma = (20, 50) GeV.
A = np.array([[1.0, 0.5], [1.0, -1.0]])
Y = np.array([1000.0, 0.0])
SIG = np.array([20.0, 50.0])


def linear_likelihood():
    return Combination([
        GaussianMeasurement(f"y{i}", FunctionObservable(lambda X, i=i: X[:, [I_M2, I_MU]] @ A[i],
                                                        space=PMSSM19), Y[i], SIG[i])
        for i in range(2)
    ])


def analytic_posterior():
    """Mean and covariance of theta for the flat prior (the box is many sigma wide)."""
    prec = A.T @ np.diag(SIG**-2) @ A
    cov = np.linalg.inv(prec)
    return cov @ A.T @ np.diag(SIG**-2) @ Y, cov


PRIOR = pmssm19_prior(BENCH, {"M2": [100, 1500], "mu": [100, 1500]})


# -------------------------------------------------------------------- priors


def test_prior_maps_and_densities():
    prior = pmssm19_prior(BENCH, {"M2": [100, 1500], "mA": {"low": 100, "high": 4000,
                                                           "shape": "log_uniform"}})
    theta = prior.sample(20000, 0)
    assert kstest((theta[:, 0] - 100) / 1400, "uniform").pvalue > 1e-3
    assert kstest(np.log(theta[:, 1] / 100) / np.log(40), "uniform").pvalue > 1e-3
    lp = prior.log_prob(np.array([[200.0, 200.0], [200.0, 50.0]]))
    assert lp[0] == pytest.approx(-np.log(1400) - np.log(200) - np.log(np.log(40)))
    assert lp[1] == -np.inf
    full = prior.to_full(theta[:3])
    np.testing.assert_array_equal(full[:, parameter_index("mA")], theta[:3, 1])
    assert (full[:, parameter_index("tanb")] == 10).all()


@pytest.mark.parametrize("free,fixed,message", [
    ({"M2": None}, {}, "neither free nor fixed"),
    ({"M2": [-5000, 0]}, BENCH, r"range \[-5000, 0\] must satisfy -4000 <= low"),
    ({"mu": "log_uniform"}, BENCH, "log-uniform range must be positive"),
    ({"M9": None}, BENCH, "unknown parameter 'M9'"),
    ({"M2": None}, {**BENCH, "tanb": 80}, "fixed parameter 'tanb': 80 lies outside"),
])
def test_prior_errors_name_the_parameter(free, fixed, message):
    fixed = {k: v for k, v in fixed.items() if k not in free}
    with pytest.raises(ValueError, match=message):
        Prior(PMSSM19, free, fixed)


def test_weighted_quantile_equal_weights_is_hazen():
    x = np.random.default_rng(0).normal(size=101)
    np.testing.assert_allclose(weighted_quantile(x, [0.1, 0.5, 0.9], np.ones(101)),
                               np.quantile(x, [0.1, 0.5, 0.9], method="hazen"))


# --------------------------------------------------------------------- probe


def test_probe_rejects_wrong_shapes_and_nan():
    with pytest.raises(ValueError, match=r"returned shape \(8, 1\); expected \(8,\)"):
        FitProblem(lambda X: np.zeros((len(X), 1)), PRIOR).probe()
    with pytest.raises(ValueError, match="returned nan at 8 point"):
        FitProblem(lambda X: np.full(len(X), np.nan), PRIOR).probe()
    with pytest.warns(UserWarning, match="-inf on all 8 probe draws"):
        FitProblem(lambda X: np.full(len(X), -np.inf), PRIOR).probe()


# --------------------------------------------------------------------- emcee


def test_emcee_recovers_the_analytic_posterior(tmp_path):
    res = run_emcee(linear_likelihood(), PRIOR, tmp_path, n_walkers=16, n_steps=1000,
                    check_every=50, thin_by=5, seed=1)
    mean, cov = analytic_posterior()
    assert res.info["converged"]
    n_eff = len(res.samples) * res.info["thin"] / max(res.info["tau"])
    err = np.sqrt(np.diag(cov) / n_eff)
    np.testing.assert_array_less(np.abs(res.summary()["mean"].to_numpy() - mean), 5 * err)
    np.testing.assert_allclose(res.summary()["std"], np.sqrt(np.diag(cov)), rtol=0.15)
    assert {"y0", "y1.pull"} <= set(res.samples.columns)


class Interrupt(Exception):
    """Stands for a kill: raised from inside the likelihood."""


def interrupting(likelihood, after_calls):
    calls = [0]

    def fn(X):
        calls[0] += len(X)
        if calls[0] > after_calls:
            raise Interrupt
        return likelihood.log_likelihood(X)

    return fn


def test_emcee_resumes_after_a_kill_without_losing_steps(tmp_path):
    kw = {"n_walkers": 8, "n_steps": 60, "stop_when_converged": False, "seed": 3}
    with pytest.warns(UserWarning, match="shorter than 50 autocorrelation"):
        run_emcee(linear_likelihood(), PRIOR, tmp_path / "ref", **kw)
    with pytest.raises(Interrupt):
        run_emcee(interrupting(linear_likelihood(), 300), PRIOR, tmp_path / "run", **kw)
    with h5py.File(tmp_path / "run" / "emcee.h5") as f:
        stored = f["mcmc"]["chain"][: f["mcmc"].attrs["iteration"]].copy()
    assert 0 < len(stored) < 60
    with pytest.warns(UserWarning, match="shorter than 50 autocorrelation"):
        res = run_emcee(linear_likelihood(), PRIOR, tmp_path / "run", **kw)
    assert res.info["iterations"] == 60
    with h5py.File(tmp_path / "run" / "emcee.h5") as f:
        chain = f["mcmc"]["chain"][:]
        np.testing.assert_array_equal(chain[: len(stored)], stored)  # nothing lost
    with h5py.File(tmp_path / "ref" / "emcee.h5") as f:
        np.testing.assert_array_equal(chain, f["mcmc"]["chain"][:])  # same as never killed


def test_emcee_refuses_to_resume_a_different_problem(tmp_path):
    kw = {"n_walkers": 8, "n_steps": 10, "stop_when_converged": False}
    with pytest.warns(UserWarning):
        run_emcee(linear_likelihood(), PRIOR, tmp_path, **kw)
    with pytest.raises(ValueError, match="holds a fit run with other settings "
                                         r"\(n_walkers: stored 8, now 10\)"):
        run_emcee(linear_likelihood(), PRIOR, tmp_path, **{**kw, "n_walkers": 10})


# ----------------------------------------------------------------- ultranest


def test_ultranest_evidence_and_posterior(tmp_path):
    res = run_ultranest(linear_likelihood(), PRIOR, tmp_path, min_num_live_points=100)
    # Z = (1 / prior area) * integral of the two Gaussians over theta = 1 / (|det A| area)
    log_z = -np.log(abs(np.linalg.det(A))) - np.log(1400.0**2)
    assert abs(res.log_evidence - log_z) < 3 * res.log_evidence_error
    mean, cov = analytic_posterior()
    summary = res.summary()
    np.testing.assert_array_less(np.abs(summary["mean"].to_numpy() - mean),
                                 5 * np.sqrt(np.diag(cov) / res.info["ess"]))
    assert res.weights.sum() == pytest.approx(1.0)
    again = FitResult.load(res.save(tmp_path / "saved"))
    assert again.log_evidence == res.log_evidence
    np.testing.assert_allclose(again.summary(), summary)


def test_ultranest_resumes_after_a_kill_without_losing_points(tmp_path):
    kw = {"min_num_live_points": 50, "seed": 2}
    with pytest.raises(Interrupt):
        run_ultranest(interrupting(linear_likelihood(), 1500), PRIOR, tmp_path, **kw)
    with h5py.File(tmp_path / "results" / "points.hdf5") as f:
        stored = f["points"][:].copy()
    assert len(stored) > 0
    res = run_ultranest(linear_likelihood(), PRIOR, tmp_path, **kw)
    with h5py.File(tmp_path / "results" / "points.hdf5") as f:
        np.testing.assert_array_equal(f["points"][: len(stored)], stored)  # nothing lost
    # the stored points were replayed, not re-evaluated
    assert res.info["n_calls_this_session"] < res.n_calls
    log_z = -np.log(abs(np.linalg.det(A))) - np.log(1400.0**2)
    assert abs(res.log_evidence - log_z) < 3 * res.log_evidence_error
