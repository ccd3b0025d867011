"""Aggregation rules of the distributed GP against their formulas (Deisenroth & Ng 2015)."""

import numpy as np
import pytest
import torch

from surrogates.gp.aggregation import AGGREGATIONS, aggregate, aggregation_weights

PRIOR = 1.7


@pytest.fixture
def experts():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(5, 40))
    var = PRIOR * rng.uniform(0.05, 0.99, size=(5, 40))
    return mean, var


def _by_hand(mean, var, method):
    """Textbook formulas, written out independently in numpy."""
    M = mean.shape[0]
    if method == "rbcm":
        beta = 0.5 * (np.log(PRIOR) - np.log(var))
        precision = (beta / var).sum(0) + (1 - beta.sum(0)) / PRIOR
    elif method == "bcm":
        beta = np.ones_like(var)
        precision = (1 / var).sum(0) + (1 - M) / PRIOR
    elif method == "poe":
        beta = np.ones_like(var)
        precision = (1 / var).sum(0)
    else:
        beta = np.full_like(var, 1 / M)
        precision = (beta / var).sum(0)
    return beta, 1 / precision * (beta / var * mean).sum(0), 1 / precision


@pytest.mark.parametrize("method", AGGREGATIONS)
def test_weights_and_moments_match_the_formulas(experts, method):
    mean, var = experts
    beta_ref, mean_ref, var_ref = _by_hand(mean, var, method)
    beta, c = aggregation_weights(torch.tensor(var), PRIOR, method)
    np.testing.assert_allclose(beta.numpy(), beta_ref, rtol=1e-12)
    expected_c = {"rbcm": 1 - beta_ref.sum(0), "bcm": np.full(40, -4.0)}.get(method, np.zeros(40))
    np.testing.assert_allclose(c.numpy(), expected_c, rtol=1e-12, atol=1e-15)
    m, v = aggregate(torch.tensor(mean), torch.tensor(var), PRIOR, method)
    np.testing.assert_allclose(m.numpy(), mean_ref, rtol=1e-10)
    np.testing.assert_allclose(v.numpy(), var_ref, rtol=1e-10)
    assert (v.numpy() > 0).all()


def test_rbcm_weight_is_the_entropy_change_and_vanishes_at_the_prior():
    var = torch.tensor([[PRIOR], [PRIOR * np.exp(-2.0)]], dtype=torch.float64)
    beta, _ = aggregation_weights(var, PRIOR, "rbcm")
    np.testing.assert_allclose(beta[:, 0].numpy(), [0.0, 1.0], atol=1e-15)
    # An expert that knows nothing (variance = prior) does not move the prediction.
    m, v = aggregate(torch.tensor([[3.0], [0.5]], dtype=torch.float64), var, PRIOR, "rbcm")
    np.testing.assert_allclose([m.item(), v.item()], [0.5, var[1, 0].item()], rtol=1e-12)


def test_one_expert_poe_gpoe_bcm_return_it_but_rbcm_only_where_beta_is_one(experts):
    mean, var = (torch.tensor(a[:1]) for a in experts)
    for method in ("poe", "gpoe", "bcm"):
        m, v = aggregate(mean, var, PRIOR, method)
        np.testing.assert_allclose(m.numpy(), mean[0].numpy(), rtol=1e-12)
        np.testing.assert_allclose(v.numpy(), var[0].numpy(), rtol=1e-12)
    m, v = aggregate(mean, var, PRIOR, "rbcm")
    beta = 0.5 * np.log(PRIOR / var[0].numpy())
    np.testing.assert_allclose(v.numpy(), 1 / (beta / var[0].numpy() + (1 - beta) / PRIOR))
    assert not np.allclose(v.numpy(), var[0].numpy())


def test_float32_inputs_are_aggregated_in_float64_and_returned_in_float32(experts):
    mean, var = experts
    m32, v32 = aggregate(torch.tensor(mean, dtype=torch.float32),
                         torch.tensor(var, dtype=torch.float32), PRIOR, "bcm")
    _, _, var_ref = _by_hand(mean.astype(np.float32).astype(float),
                             var.astype(np.float32).astype(float), "bcm")
    assert m32.dtype == v32.dtype == torch.float32
    np.testing.assert_allclose(v32.numpy(), var_ref, rtol=1e-6)


def test_unknown_rule_is_rejected(experts):
    msg = "^aggregation must be one of rbcm, bcm, poe, gpoe; got 'x'$"
    with pytest.raises(ValueError, match=msg):
        aggregation_weights(torch.tensor(experts[1]), PRIOR, "x")


@pytest.mark.parametrize("method", AGGREGATIONS)
def test_per_expert_priors_enter_as_each_experts_update_of_its_own_prior(experts, method):
    mean, var = experts
    prior = np.array([[0.8], [1.2], [1.7], [2.5], [3.0]])
    var = prior * var / PRIOR  # each expert below its own prior
    M = mean.shape[0]
    beta = {"rbcm": 0.5 * (np.log(prior) - np.log(var)), "gpoe": np.full_like(var, 1 / M)}.get(
        method, np.ones_like(var))
    precision = (beta / var).sum(0)
    if method in ("rbcm", "bcm"):
        precision = precision + ((1 / M - beta) / prior).sum(0)
    m, v = aggregate(torch.tensor(mean), torch.tensor(var), torch.tensor(prior), method)
    np.testing.assert_allclose(v.numpy(), 1 / precision, rtol=1e-10)
    np.testing.assert_allclose(m.numpy(), (beta / var * mean).sum(0) / precision, rtol=1e-10)


@pytest.mark.parametrize("method", AGGREGATIONS)
def test_variances_above_the_prior_count_as_the_prior(experts, method):
    """Round-off can push an expert's variance past the prior: it is clipped to it, which
    keeps the BCM and rBCM variance at or below the prior however many experts agree."""
    mean, var = experts
    over = var.copy()
    over[:, ::2] = PRIOR * 1.5
    clipped = np.minimum(over, PRIOR)
    a = aggregate(torch.tensor(mean), torch.tensor(over), PRIOR, method)
    b = aggregate(torch.tensor(mean), torch.tensor(clipped), PRIOR, method)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12)
    if method in ("bcm", "rbcm"):
        assert (a[1].numpy() > 0).all() and (a[1].numpy() <= PRIOR * (1 + 1e-12)).all()


def test_the_default_rule_is_the_rbcm(experts):
    mean, var = (torch.tensor(a) for a in experts)
    for x, y in zip(aggregation_weights(var, PRIOR), aggregation_weights(var, PRIOR, "rbcm"),
                    strict=True):
        assert torch.equal(x, y)
    for x, y in zip(aggregate(mean, var, PRIOR), aggregate(mean, var, PRIOR, "rbcm"),
                    strict=True):
        assert torch.equal(x, y)


@pytest.mark.parametrize("method", AGGREGATIONS)
def test_an_expert_without_variance_dominates_and_stays_finite(experts, method):
    """A zero variance (an expert at one of its training points, noise-free) is raised to
    eps x prior: that expert's mean wins (to ~eps relative), nothing is inf or nan (the rBCM's
    mean was nan with the smallest normal number as the floor)."""
    mean, var = (torch.tensor(a) for a in experts)
    var[2, :5] = 0.0
    m, v = aggregate(mean, var, PRIOR, method)
    assert torch.isfinite(m).all() and torch.isfinite(v).all() and (v >= 0).all()
    torch.testing.assert_close(m[:5], mean[2, :5], rtol=1e-9, atol=0)


def test_the_variance_floor_scales_with_the_prior_variance():
    """The floor is eps x prior (in the prior's units), not eps / prior: one expert with zero
    variance under a prior variance of 1e4 aggregates (PoE) to exactly that floor."""
    prior = 1.0e4
    m, v = aggregate(torch.tensor([[3.0]], dtype=torch.float64),
                     torch.zeros(1, 1, dtype=torch.float64), prior, "poe")
    assert v.item() == pytest.approx(torch.finfo(torch.float64).eps * prior, rel=1e-12)
    assert m.item() == pytest.approx(3.0, rel=1e-15)


@pytest.mark.parametrize("method", ["rbcm", "bcm"])
def test_per_expert_priors_keep_the_precision_positive(method):
    """Three weakly informative experts of prior 1.6 beside an uninformed one of prior 0.05:
    the correction c times the mean prior precision gave (rBCM) 7.4 - 1.4 * 5.47 < 0. Each
    expert's update of its own prior, times the priors' geometric mean, is positive, and
    with equal priors it is the shared-prior rule."""
    prior = torch.tensor([[1.6], [1.6], [1.6], [0.05]], dtype=torch.float64)
    var = torch.tensor([[1.6 * np.exp(-1.6)]] * 3 + [[0.05]], dtype=torch.float64)
    mean = torch.tensor([[1.0], [1.2], [0.8], [0.0]], dtype=torch.float64)
    m, v = aggregate(mean, var, prior, method)
    beta = 0.5 * np.log(prior.numpy() / var.numpy()) if method == "rbcm" else np.ones((4, 1))
    precision = (beta * (1 / var.numpy() - 1 / prior.numpy())).sum() + np.mean(1 / prior.numpy())
    np.testing.assert_allclose(v.numpy(), 1 / precision, rtol=1e-12)
    assert v.item() > 0
    same = torch.full((4, 1), 1.6, dtype=torch.float64)
    shared = aggregate(mean, var.clamp_max(1.6), torch.tensor(1.6, dtype=torch.float64), method)
    per_expert = aggregate(mean, var.clamp_max(1.6), same, method)
    np.testing.assert_allclose(per_expert[1].numpy(), shared[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(per_expert[0].numpy(), shared[0].numpy(), rtol=1e-12)
