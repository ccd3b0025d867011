"""Importance-sampled posteriors on shared prior draws, compared against closed forms."""

import numpy as np
import pytest

from fits.agreement import ImportancePosterior, compare_importance, hpd_cells

N = 100_000


def _draws(seed=0, dim=2):
    return np.random.default_rng(seed).uniform(size=(N, dim))


def test_evidence_error_and_ess_of_a_half_box_likelihood():
    X = _draws()
    post = ImportancePosterior.from_log_likelihood(np.where(X[:, 0] < 0.5, 0.0, -np.inf))
    k = (X[:, 0] < 0.5).sum()
    assert post.log_evidence == pytest.approx(np.log(k / N), rel=1e-12)
    assert post.ess == pytest.approx(k, rel=1e-9)
    # delta method: sd of a Bernoulli(1/2) over sqrt(N) times its mean
    assert post.log_evidence_error == pytest.approx(1 / np.sqrt(N), rel=1e-2)
    assert abs(post.log_evidence - np.log(0.5)) < 4 / np.sqrt(N)
    assert post.weights.sum() == pytest.approx(1.0)


def test_no_nan_and_an_all_zero_likelihood_is_reported():
    with pytest.raises(ValueError, match="NaN"):
        ImportancePosterior.from_log_likelihood(np.array([0.0, np.nan]))
    empty = ImportancePosterior.from_log_likelihood(np.full(3, -np.inf))
    assert empty.ess == 0 and empty.log_evidence == -np.inf
    with pytest.raises(ValueError, match="zero at every draw"):
        compare_importance(np.zeros((3, 1)), np.zeros(3), np.full(3, -np.inf), ["x"], [0], [1])


def test_identical_likelihoods_agree_exactly():
    X = _draws()
    ll = -0.5 * ((X[:, 0] - 0.3) / 0.1) ** 2
    summary, table = compare_importance(X, ll, ll, ["a", "b"], [0, 0], [1, 1], region=["a", "b"])
    assert summary["max_w1_prior"] == 0 and summary["max_ks"] == 0
    assert summary["delta_ln_z_sigmas"] == 0
    assert summary["overlap_0.68"] == summary["overlap_0.95"] == 1.0


def test_two_uniform_posteriors_match_their_closed_forms():
    X = _draws(1)
    ref = np.where(X[:, 0] < 0.5, 0.0, -np.inf)  # posterior U(0, 0.5)
    other = np.where(X[:, 0] < 0.6, 0.0, -np.inf)  # posterior U(0, 0.6)
    width = 2.0  # the prior box [0, 2]: W1 in its units is halved
    summary, table = compare_importance(X, ref, other, ["a", "b"], [0, 0], [width, 1.0],
                                        region=["a"], bins=10)
    # W1(U(0, a), U(0, b)) = (b - a) / 2; KS = 1 - a / b
    assert table.loc["a", "w1_prior"] == pytest.approx(0.05 / width, abs=2e-3)
    assert table.loc["a", "ks"] == pytest.approx(1 - 0.5 / 0.6, abs=5e-3)
    assert table.loc["b", "w1_prior"] < 5e-3 and summary["worst_parameter"] == "a"
    assert summary["ln_z_other"] - summary["ln_z_reference"] == pytest.approx(
        np.log(0.6 / 0.5), abs=4 * summary["ln_z_error"])
    # on [0, 2] with 10 cells of 0.2: the regions are cells {0, 1, 2} for U(0, 0.5) at 95 %
    # (0.4-0.5 holds 20 % of it) and {0, 1, 2} for U(0, 0.6)
    assert summary["overlap_0.95"] == 1.0


def test_hpd_cells_hold_the_requested_mass():
    X = _draws(2)
    w = np.where(X[:, 0] < 0.25, 3.0, 1.0)  # the first quarter holds half of the mass
    w /= w.sum()
    lo, hi = np.array([0.0]), np.array([1.0])
    assert hpd_cells(X[:, :1], w, lo, hi, 0.45, bins=4) == {(0,)}
    assert len(hpd_cells(X[:, :1], w, lo, hi, 0.55, bins=4)) == 2  # then 1/6 per cell
    assert len(hpd_cells(X[:, :1], w, lo, hi, 0.99, bins=4)) == 4
