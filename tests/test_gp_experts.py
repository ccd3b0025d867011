"""Batched GP experts against gpytorch's exact GP; padding, jitter and chunking are exact."""

import gpytorch
import numpy as np
import pytest
import torch

from surrogates.gp.aggregation import aggregate
from surrogates.gp.experts import (
    BatchedExperts,
    CholeskyError,
    partition,
    principal_bisection,
    robust_cholesky,
)

D = 3


def _data(n, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, D, generator=g, dtype=dtype) * 4 - 2
    y = torch.sin(2 * X[:, 0]) + X[:, 1] ** 2 / 2 + 0.1 * torch.randn(n, generator=g, dtype=dtype)
    return X, y


def _set_hyperparameters(module, kernel):
    kernel.base_kernel.lengthscale = torch.tensor([0.7, 1.3, 2.1], dtype=torch.float64)
    kernel.outputscale = 1.4
    module.noise = 0.03


class _ExactGP(gpytorch.models.ExactGP):
    def __init__(self, X, y, likelihood, kernel):
        super().__init__(X, y, likelihood)
        self.mean_module = gpytorch.means.ZeroMean()
        self.covar_module = kernel

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


@pytest.mark.parametrize("kernel_name", ["rbf", "matern52"])
def test_one_expert_is_gpytorchs_exact_gp(kernel_name):
    X, y = _data(300)
    Xs, _ = _data(50, seed=1)
    experts = BatchedExperts(X[None], y[None], torch.ones(1, 300, dtype=torch.bool),
                             kernel=kernel_name).double()
    _set_hyperparameters(experts.likelihood, experts.covar_module)
    base = (gpytorch.kernels.RBFKernel(ard_num_dims=D) if kernel_name == "rbf"
            else gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=D))
    likelihood = gpytorch.likelihoods.GaussianLikelihood().double()
    gp = _ExactGP(X, y, likelihood, gpytorch.kernels.ScaleKernel(base)).double()
    _set_hyperparameters(likelihood, gp.covar_module)
    with gpytorch.settings.max_cholesky_size(10_000), gpytorch.settings.fast_computations(
        False, False, False
    ):
        gp.train(), likelihood.train()
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, gp)
        lml_ref = mll(gp(X), y).item() * len(y)  # gpytorch divides by n
        gp.eval()
        with torch.no_grad():
            post = gp(Xs)
            mean_ref, var_ref = post.mean, post.variance
    np.testing.assert_allclose(experts.log_marginal_likelihood().item(), lml_ref, rtol=1e-10)
    mean, var = experts.predict_latent(Xs)
    np.testing.assert_allclose(mean[0].numpy(), mean_ref.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(var[0].numpy(), var_ref.numpy(), atol=1e-5, rtol=1e-5)
    # with one expert, PoE, gPoE and BCM are that exact GP (the rBCM is not: see aggregation)
    for method in ("poe", "gpoe", "bcm"):
        m, v = aggregate(mean, var, experts.prior_variance().detach(), method)
        np.testing.assert_allclose(m.numpy(), mean_ref.numpy(), atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(v.numpy(), var_ref.numpy(), atol=1e-5, rtol=1e-5)


def test_padding_changes_neither_likelihood_nor_predictions():
    X, y = _data(250)
    Xs, _ = _data(20, seed=2)
    sizes = (100, 150)
    parts = np.split(np.arange(250), [100])
    Xp = torch.zeros(2, 150, D, dtype=torch.float64)
    yp = torch.full((2, 150), 7.0, dtype=torch.float64)  # garbage in padded slots
    mask = torch.zeros(2, 150, dtype=torch.bool)
    for k, (p, size) in enumerate(zip(parts, sizes, strict=True)):
        Xp[k, :size], yp[k, :size], mask[k, :size] = X[p], y[p], True
    padded = BatchedExperts(Xp, yp, mask).double()
    lml = padded.log_marginal_likelihood()
    mean, var = padded.predict_latent(Xs)
    for k, p in enumerate(parts):
        alone = BatchedExperts(X[p][None], y[p][None], torch.ones(1, len(p), dtype=torch.bool))
        alone = alone.double()
        np.testing.assert_allclose(lml[k].item(), alone.log_marginal_likelihood().item(),
                                   rtol=1e-12)
        m, v = alone.predict_latent(Xs)
        np.testing.assert_allclose(mean[k].numpy(), m[0].numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(var[k].numpy(), v[0].numpy(), rtol=1e-10, atol=1e-12)


def test_chunked_prediction_equals_one_chunk():
    X, y = _data(200)
    Xs, _ = _data(37, seed=3)
    experts = BatchedExperts(X.view(4, 50, D), y.view(4, 50), torch.ones(4, 50, dtype=torch.bool))
    experts = experts.double()
    whole = experts.predict_latent(Xs, max_bytes=1e9)
    chunked = experts.predict_latent(Xs, max_bytes=1)  # one test point per chunk
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_partitions_cover_every_point_once():
    X = np.random.default_rng(0).normal(size=(103, D))
    for method in ("random", "kmeans", "tree"):
        index, mask = partition(X, 5, method, seed=1)
        assert sorted(index[mask].tolist()) == list(range(103))
    for method in ("random", "tree"):
        index, mask = partition(X, 5, method, seed=1)
        assert set(mask.sum(1).tolist()) == {20, 21}


def test_principal_bisection_cuts_across_the_long_axis_into_equal_compact_parts():
    """Points of a bar (x0 in [0, 8], x1, x2 in [0, 1]) cut into 8 parts: each part is one
    slab of x0 of width ~1, and the parts' sizes differ by at most one."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(1001, D)) * np.array([8.0, 1.0, 1.0])
    parts = principal_bisection(X, 8, seed=0)
    assert sorted(len(p) for p in parts)[-1] - sorted(len(p) for p in parts)[0] <= 1
    slab = np.argsort(np.argsort(X[:, 0])) * 8 // len(X)  # the eighths of x0, by rank
    majority = [np.bincount(slab[p], minlength=8) for p in parts]
    assert sorted(int(np.argmax(c)) for c in majority) == list(range(8))
    assert min(c.max() / c.sum() for c in majority) > 0.9  # the cuts tilt a little
    for n_parts in (1, 3, 7, 1001):
        parts = principal_bisection(X, n_parts, seed=0)
        sizes = [len(p) for p in parts]
        assert len(parts) == n_parts and sum(sizes) == 1001 and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("shared", [True, False])
def test_chosen_experts_predict_what_all_experts_predict(shared):
    """predict_latent_selected is predict_latent read at the chosen (point, expert) pairs,
    with per-expert hyper-parameters too (each expert's own kernel)."""
    X, y = _data(200)
    Xs, _ = _data(37, seed=3)
    experts = BatchedExperts(X.view(4, 50, D), y.view(4, 50), torch.ones(4, 50, dtype=torch.bool))
    experts = experts.double()
    if not shared:
        experts = experts.per_expert()
        with torch.no_grad():  # four different kernels and noises
            experts.covar_module.base_kernel.raw_lengthscale.mul_(
                torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64).view(4, 1, 1))
            experts.likelihood.raw_noise.add_(torch.arange(4.0, dtype=torch.float64).view(4, 1))
    mean, var = experts.predict_latent(Xs)
    chosen = torch.stack([torch.arange(37) % 4, (torch.arange(37) + 2) % 4], dim=1)
    m, v, prior = experts.predict_latent_selected(Xs, chosen)
    rows = torch.arange(37)
    for slot in range(2):
        np.testing.assert_allclose(m[slot], mean[chosen[:, slot], rows], rtol=1e-10)
        np.testing.assert_allclose(v[slot], var[chosen[:, slot], rows], rtol=1e-10)
        np.testing.assert_allclose(
            prior[slot], experts.prior_variance().detach().reshape(-1).expand(4)[chosen[:, slot]])


def test_per_expert_copy_starts_from_the_shared_hyperparameters():
    X, y = _data(200)
    experts = BatchedExperts(X.view(4, 50, D), y.view(4, 50), torch.ones(4, 50, dtype=torch.bool))
    experts = experts.double()
    _set_hyperparameters(experts.likelihood, experts.covar_module)
    own = experts.per_expert()
    assert own.covar_module.outputscale.shape == (4,) and not own.shared
    with torch.no_grad():
        np.testing.assert_allclose(own.log_marginal_likelihood(),
                                   experts.log_marginal_likelihood(), rtol=1e-12)


def test_jitter_rescues_a_singular_matrix_and_failure_is_a_clear_error():
    v = torch.randn(2, 30, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    singular = v @ v.mT  # rank 3 of 30
    L, jitter = robust_cholesky(singular)
    assert 0 < jitter <= 1e-3
    np.testing.assert_allclose((L @ L.mT).numpy(), singular.numpy(), atol=1e-3 * 30)
    indefinite = torch.diag_embed(torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]]))
    with pytest.raises(CholeskyError, match=r"expert\(s\) \[0\] is not positive definite.*float64"):
        robust_cholesky(indefinite.double(), max_tries=3)
