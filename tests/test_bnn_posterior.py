"""Priors, parameter layout and the BNN posterior against closed forms.

The conjugate test runs the whole BNNEnsemble pipeline (pre-training, HMC, members) on a
network without hidden layers, i.e. Bayesian linear regression with a Gaussian prior and known
noise, whose posterior is Gaussian in closed form (Bishop, PRML (2006) eq. 3.53-3.54).
"""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pytest
import torch
from scipy import stats

from surrogates.bnn import BNNEnsemble, WeightPrior
from surrogates.bnn.posterior import BNNPosterior, ParameterLayout
from surrogates.data import features, labels


def _bonferroni(n_tests: int, alpha: float = 1e-3) -> float:
    """Two-sided z threshold for ``n_tests`` comparisons at family-wise level ``alpha``."""
    return float(stats.norm.isf(alpha / (2 * n_tests)))


@pytest.mark.parametrize("family", ["cauchy", "gaussian"])
def test_prior_density_matches_scipy(family):
    torch.manual_seed(0)
    layout = ParameterLayout.for_network(3, [4], sample_scales=True, sample_noise=False)
    theta = torch.randn(2, layout.n_params, dtype=torch.float64)
    w, b, s, _ = layout.unflatten(theta)
    prior = WeightPrior(family, hyper_scale=0.7)
    dist = stats.cauchy if family == "cauchy" else stats.norm
    expected = []
    for m in range(2):
        tensors = [t[m].numpy().ravel() for pair in zip(w, b, strict=True) for t in pair]
        lp = sum(dist.logpdf(t, scale=math.exp(u)).sum()
                 for t, u in zip(tensors, s[m].numpy(), strict=True))
        lp += sum(stats.halfcauchy.logpdf(math.exp(u), scale=0.7) + u for u in s[m].numpy())
        expected.append(lp)
    np.testing.assert_allclose(prior.log_density(w, b, s).numpy(), expected, rtol=1e-12)


def test_layout_round_trip():
    layout = ParameterLayout.for_network(19, [5, 3], sample_scales=True, sample_noise=True)
    theta = torch.randn(4, layout.n_params)
    assert layout.n_params == 19 * 5 + 5 + 5 * 3 + 3 + 3 + 1 + 6 + 1
    assert torch.equal(layout.flatten(*layout.unflatten(theta)), theta)


def test_gradient_matches_finite_differences():
    torch.manual_seed(1)
    layout = ParameterLayout.for_network(3, [4], sample_scales=True, sample_noise=True)
    X, z = torch.randn(20, 3, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    post = BNNPosterior(X, z, layout=layout, prior=WeightPrior(), activation="tanh",
                        classifier=False)
    theta = 0.3 * torch.randn(3, layout.n_params, dtype=torch.float64)
    lp, grad = post.log_prob_and_grad(theta)
    torch.testing.assert_close(lp, post.log_prob(theta))
    h = 1e-6
    for j in (0, 7, layout.n_params - 1):
        e = torch.zeros_like(theta)
        e[:, j] = h
        fd = (post.log_prob(theta + e) - post.log_prob(theta - e)) / (2 * h)
        torch.testing.assert_close(grad[:, j], fd, rtol=1e-6, atol=1e-6)


def test_fisher_diagonal_of_linear_model_is_exact():
    """Linear-Gaussian model: Fisher diagonal = tau * sum_i phi_ij^2 + 1 / s^2 exactly."""
    torch.manual_seed(2)
    layout = ParameterLayout.for_network(4, [], sample_scales=False, sample_noise=False)
    X = torch.randn(50, 4, dtype=torch.float64)
    post = BNNPosterior(X, torch.zeros(50, dtype=torch.float64), layout=layout,
                        prior=WeightPrior("gaussian", scale=0.5), activation="relu",
                        classifier=False, noise_sigma=2.0)
    n_draws = 4000
    fisher = post.fisher_diagonal(torch.randn(3, 5, dtype=torch.float64), n_draws=n_draws)
    phi = torch.cat([X, torch.ones(50, 1, dtype=torch.float64)], dim=1)
    likelihood = (phi**2).sum(0) / 4.0
    # the Monte Carlo part is a mean of n_draws scaled chi^2_1 variables: relative sd sqrt(2/n)
    z = (fisher - 4.0 - likelihood) / (likelihood * math.sqrt(2 / n_draws))
    assert z.abs().max() < _bonferroni(z.numel())


def _closed_form(model: BNNEnsemble, X: np.ndarray, y: np.ndarray, prior_scale: float):
    """Posterior mean and covariance of [w, b] of the linear model in model space."""
    Xm = model.input_scaler_.transform(X).astype(np.float32).astype(float)
    zm = model.target_transform_.forward(y).astype(np.float32).astype(float)
    phi = np.column_stack([Xm, np.ones(len(zm))])
    precision = phi.T @ phi / model.noise_sigma**2 + np.eye(phi.shape[1]) / prior_scale**2
    cov = np.linalg.inv(precision)
    return cov @ phi.T @ zm / model.noise_sigma**2, cov


@pytest.fixture(scope="module")
def linear_bnn(small_splits):
    train = small_splits["higgs_mass"].train
    X, y = features(train), labels(train, "higgs_mass")
    model = BNNEnsemble(
        "higgs_mass", hidden=(), prior="gaussian", prior_scale=0.1, noise_sigma=1.0,
        predictive="function", n_chains=4, n_burnin=100, n_samples=150, n_leapfrog=6,
        pretrain_epochs=2, seed=3,
    ).fit(X, y, progress=False)
    return model, X, y


def test_linear_regression_posterior_matches_closed_form(linear_bnn):
    model, X, y = linear_bnn
    mean, cov = _closed_form(model, X, y, prior_scale=0.1)
    draws = model.members_.double().numpy().reshape(model.n_chains, model.n_samples, -1)
    ess = az.ess(az.convert_to_dataset(draws))["x"].values
    flat = draws.reshape(-1, draws.shape[-1])
    sd = np.sqrt(np.diag(cov))
    z_mean = (flat.mean(0) - mean) / (sd / np.sqrt(ess))
    # sampling error of a covariance entry: Var(s_ij) = (S_ii S_jj + S_ij^2) / n_eff
    n_eff = ess.min()
    z_cov = (np.cov(flat.T) - cov) / np.sqrt((np.outer(sd**2, sd**2) + cov**2) / n_eff)
    crit = _bonferroni(mean.size + cov.size)
    assert np.abs(z_mean).max() < crit
    assert np.abs(z_cov).max() < crit
    assert model.fit_info_["sampler"]["divergences"] == 0


def test_reweighting_matches_closed_form_of_new_prior(linear_bnn):
    model, X, y = linear_bnn
    new_mean, new_cov = _closed_form(model, X, y, prior_scale=0.07)
    old_mean, _ = _closed_form(model, X, y, prior_scale=0.1)
    kish = model.reweight(prior_scale=0.07)
    w = model.member_weights_.double().numpy()
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0)
    flat = model.members_.double().numpy()
    draws = flat.reshape(model.n_chains, model.n_samples, -1)
    ess = az.ess(az.convert_to_dataset(draws))["x"].values
    n_eff = ess * kish / model.n_members  # importance and autocorrelation losses compound
    se = np.sqrt(np.diag(new_cov) / n_eff)
    crit = _bonferroni(new_mean.size)
    assert np.abs((w @ flat - new_mean) / se).max() < crit
    # the test can tell the priors apart: the old posterior mean is far outside that band
    assert np.abs((old_mean - new_mean) / se).max() > 2 * crit
    model.reweight(prior_scale=0.1)
    np.testing.assert_allclose(model.member_weights_.numpy(), 1 / model.n_members, rtol=1e-5)


@pytest.mark.parametrize("per_chain", [False, True])
def test_linear_layer_sufficient_statistics_equal_the_sum_over_points(per_chain):
    """The O(d^2) likelihood of a last layer is the per-point Gaussian sum, value and gradient,
    with per-point noise scales and per-chain features, including targets far from zero."""
    gen = torch.Generator().manual_seed(0)
    n, d, c = 2000, 6, 3
    X = torch.randn(c, n, d, generator=gen) if per_chain else torch.randn(n, d, generator=gen)
    z = 50.0 + torch.randn(n, generator=gen)  # offset: the quadratic form must not cancel
    scale = 0.05 + torch.rand(c, n, generator=gen)
    layout = ParameterLayout.for_network(d, (), sample_scales=True, sample_noise=True)
    post = BNNPosterior(X, z, layout=layout, prior=WeightPrior("cauchy", None),
                        activation="relu", classifier=False, point_scale=scale)
    theta = 0.3 * torch.randn(c, layout.n_params, generator=gen)
    theta[:, layout.n_network - 1] = 50.0  # the bias near the targets
    assert post._stats is not None
    lp, grad = post.log_prob_and_grad(theta)
    f = post.outputs(theta)
    tau = torch.exp(theta[:, -1])
    direct = (0.5 * n * (torch.log(tau) - math.log(2 * math.pi))
              - 0.5 * tau * (((f - z) / scale) ** 2).sum(1))
    torch.testing.assert_close(post.log_likelihood(theta), direct, rtol=1e-5, atol=1e-2)
    post._stats = None  # the generic path
    lp2, grad2 = post.log_prob_and_grad(theta)
    torch.testing.assert_close(lp, lp2, rtol=1e-5, atol=1e-2)
    torch.testing.assert_close(grad, grad2, rtol=1e-3, atol=1e-2)


def test_last_layer_classifier_gradient_equals_the_generic_path():
    """The stored-transpose product gives the same Bernoulli log posterior and gradient."""
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(2, 500, 7, generator=gen)
    z = (torch.rand(500, generator=gen) < 0.4).float()
    layout = ParameterLayout.for_network(7, (), sample_scales=True, sample_noise=False)
    post = BNNPosterior(X, z, layout=layout, prior=WeightPrior("cauchy", None),
                        activation="relu", classifier=True)
    theta = 0.5 * torch.randn(2, layout.n_params, generator=gen)
    assert post._XT is not None
    lp, grad = post.log_prob_and_grad(theta)
    post._XT = None
    lp2, grad2 = post.log_prob_and_grad(theta)
    torch.testing.assert_close(lp, lp2)
    torch.testing.assert_close(grad, grad2)
