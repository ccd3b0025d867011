"""Tests of surrogates.metrics: hand-computed examples, and statistical checks whose
tolerances follow from the sampling distribution of each metric (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from surrogates.metrics import (
    calibration_curve,
    calibration_curve_from_samples,
    classification_metrics,
    coverage,
    mean_abs_percent_error,
    nominal_coverage,
    pit,
    pit_from_samples,
    pull_chi2,
    pulls,
    regression_metrics,
    reliability_curve,
)

N_BIG = 200_000


@pytest.fixture(scope="module")
def calibrated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y ~ N(mean, std) with point-to-point varying mean and std (a sigma-like target in fb)."""
    rng = np.random.default_rng(20240501)
    mean = 10.0 ** rng.uniform(-2, 3, N_BIG)
    std = mean * rng.uniform(0.01, 0.3, N_BIG)
    y = mean + std * rng.standard_normal(N_BIG)
    return y, mean, std


def binomial_se(p: np.ndarray | float, n: int) -> np.ndarray | float:
    return np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / n)


# --------------------------------------------------------------------------- percent error


def test_mape_hand_computed() -> None:
    # |errors| / |truth| = 50 %, 0 %, 25 %, 10 % (negative truth uses |y|)
    y_true = [1.0, 2.0, 4.0, -10.0]
    y_pred = [1.5, 2.0, 3.0, -11.0]
    assert mean_abs_percent_error(y_true, y_pred) == pytest.approx(85.0 / 4)


def test_mape_is_in_percent_and_not_symmetric() -> None:
    assert mean_abs_percent_error([100.0], [101.0]) == pytest.approx(1.0)
    # divides by the truth, not the prediction
    assert mean_abs_percent_error([1.0], [2.0]) == pytest.approx(100.0)
    assert mean_abs_percent_error([2.0], [1.0]) == pytest.approx(50.0)


def test_mape_rejects_zero_truth() -> None:
    with pytest.raises(ValueError, match=r"y_true == 0; 2 of 3"):
        mean_abs_percent_error([0.0, 1.0, 0.0], [1.0, 1.0, 1.0])


# --------------------------------------------------------------------------- coverage


def test_nominal_coverage_values() -> None:
    assert nominal_coverage(1) == pytest.approx(0.682689492137, abs=1e-12)
    assert nominal_coverage(2) == pytest.approx(0.954499736104, abs=1e-12)
    assert nominal_coverage(3) == pytest.approx(0.997300203937, abs=1e-12)
    assert isinstance(nominal_coverage(1.0), float)
    np.testing.assert_allclose(
        nominal_coverage([1, 2, 3]), [nominal_coverage(k) for k in (1, 2, 3)]
    )
    # consistent with the Gaussian quantile function
    assert nominal_coverage(stats.norm.ppf(0.975)) == pytest.approx(0.95, abs=1e-12)


def test_coverage_matches_nominal_within_binomial_error(calibrated) -> None:
    y, mean, std = calibrated
    cov = coverage(y, mean, std)
    assert list(cov) == [1.0, 2.0, 3.0]
    for k, observed in cov.items():
        p = nominal_coverage(k)
        assert abs(observed - p) < 5 * binomial_se(p, N_BIG), (k, observed, p)


def test_coverage_hand_computed_and_boundary_inclusive() -> None:
    y = np.array([0.0, 1.0, 2.0, 3.5, -2.5])
    mean = np.zeros(5)
    std = np.ones(5)
    # |pulls| = 0, 1, 2, 3.5, 2.5; the band edge counts as inside
    assert coverage(y, mean, std, k=(1, 2, 3)) == {1.0: 0.4, 2.0: 0.6, 3.0: 0.8}
    assert coverage(y, mean, std, k=0.5) == {0.5: 0.2}


def test_coverage_detects_overconfidence(calibrated) -> None:
    y, mean, std = calibrated
    # std halved: the 1-std band is really a 0.5-std band
    observed = coverage(y, mean, std / 2, k=1)[1.0]
    assert abs(observed - nominal_coverage(0.5)) < 5 * binomial_se(0.38, N_BIG)


# --------------------------------------------------------------------------- calibration curves


def test_calibration_curve_on_diagonal(calibrated) -> None:
    y, mean, std = calibrated
    nominal, observed = calibration_curve(y, mean, std)
    np.testing.assert_allclose(nominal, np.arange(1, 100) / 100)
    assert observed.shape == (99,)
    assert np.all(np.abs(observed - nominal) < 5 * binomial_se(nominal, N_BIG))
    assert np.all(np.diff(observed) >= 0)


def test_calibration_curve_agrees_with_coverage(calibrated) -> None:
    y, mean, std = calibrated
    levels = nominal_coverage([1.0, 2.0, 3.0])
    _, observed = calibration_curve(y, mean, std, levels=levels)
    np.testing.assert_allclose(observed, list(coverage(y, mean, std).values()), atol=2 / N_BIG)


def test_calibration_curve_below_diagonal_when_overconfident(calibrated) -> None:
    y, mean, std = calibrated
    nominal, observed = calibration_curve(y, mean, std / 2)
    expected = 2 * stats.norm.cdf(stats.norm.ppf((1 + nominal) / 2) / 2) - 1
    assert np.all(np.abs(observed - expected) < 5 * binomial_se(expected, N_BIG))
    assert np.all(observed[10:] < nominal[10:] - 0.04)


def test_calibration_curve_from_samples_gaussian_matches_nominal() -> None:
    # Members and truth drawn from the same Gaussian predictive. With M members the expected
    # coverage is a (M - 1) / (M + 1); for M = 999 that bias is below 0.002.
    rng = np.random.default_rng(7)
    n_points, n_members = 4_000, 999
    mean = rng.uniform(-5, 5, n_points)
    std = rng.uniform(0.5, 2.0, n_points)
    samples = mean + std * rng.standard_normal((n_members, n_points))
    y = mean + std * rng.standard_normal(n_points)
    nominal, observed = calibration_curve_from_samples(y, samples)
    expected = nominal * (n_members - 1) / (n_members + 1)
    assert np.all(np.abs(observed - expected) < 5 * binomial_se(expected, n_points))
    assert np.all(np.abs(observed - nominal) < 5 * binomial_se(nominal, n_points) + 0.002)


def test_calibration_curve_from_samples_small_ensemble_bias_is_exact_for_uniform() -> None:
    # For a uniform predictive E[F(Q(q))] = ((M - 1) q + 1) / (M + 1) exactly (type-7
    # quantiles), so the expected coverage is a (M - 1) / (M + 1).
    rng = np.random.default_rng(11)
    n_points, n_members = 200_000, 9
    samples = rng.uniform(size=(n_members, n_points))
    y = rng.uniform(size=n_points)
    levels = np.array([0.2, 0.5, 0.8, 0.95])
    nominal, observed = calibration_curve_from_samples(y, samples, levels=levels)
    expected = nominal * (n_members - 1) / (n_members + 1)
    assert np.all(np.abs(observed - expected) < 5 * binomial_se(expected, n_points))


def test_calibration_curve_from_samples_uses_numpy_quantiles() -> None:
    rng = np.random.default_rng(3)
    samples = rng.normal(size=(7, 50))
    y = rng.normal(size=50)
    levels = np.array([0.1, 0.33, 0.5, 0.9])
    _, observed = calibration_curve_from_samples(y, samples, levels=levels)
    lo = np.quantile(samples, (1 - levels) / 2, axis=0)
    hi = np.quantile(samples, (1 + levels) / 2, axis=0)
    np.testing.assert_allclose(observed, np.mean((lo <= y) & (y <= hi), axis=1))


def test_calibration_curve_from_samples_hand_computed() -> None:
    # one point, members 0..4: the 50 % central interval is [Q(.25), Q(.75)] = [1, 3]
    samples = np.arange(5.0)[:, None]
    for y, inside in [(1.0, 1.0), (3.0, 1.0), (0.99, 0.0), (3.01, 0.0)]:
        _, observed = calibration_curve_from_samples([y], samples, levels=[0.5])
        assert observed.tolist() == [inside]


# --------------------------------------------------------------------------- PIT and pulls


def test_pit_uniform_for_calibrated_predictive(calibrated) -> None:
    y, mean, std = calibrated
    u = pit(y, mean, std)
    assert u.shape == (N_BIG,)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # an under-confident predictive (std doubled) is hump-shaped: far from uniform
    assert stats.kstest(pit(y, mean, 2 * std), "uniform").pvalue < 1e-10


def test_pit_hand_computed() -> None:
    u = pit([0.0, 1.0, -2.0], [0.0, 0.0, 0.0], [1.0, 1.0, 2.0])
    np.testing.assert_allclose(u, [0.5, stats.norm.cdf(1.0), stats.norm.cdf(-1.0)])


def test_pit_from_samples_ties_count_half() -> None:
    samples = np.array([[1.0, 0.0], [2.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    np.testing.assert_allclose(pit_from_samples([2.0, 5.0], samples), [0.5, 1.0])
    np.testing.assert_allclose(pit_from_samples([0.5, -1.0], samples), [0.0, 0.0])


def test_pit_from_samples_uniform_over_ranks() -> None:
    # y and M members iid: the rank of y is uniform over 0..M, so u takes k / M with prob 1/(M+1)
    rng = np.random.default_rng(5)
    n_points, n_members = 50_000, 9
    samples = rng.normal(size=(n_members, n_points))
    y = rng.normal(size=n_points)
    u = pit_from_samples(y, samples)
    counts = np.bincount(np.rint(u * n_members).astype(int), minlength=n_members + 1)
    assert counts.size == n_members + 1
    assert stats.chisquare(counts).pvalue > 1e-3


def test_pulls_sign_and_value() -> None:
    np.testing.assert_allclose(pulls([3.0, 0.0], [1.0, 1.0], [2.0, 0.5]), [1.0, -2.0])


def test_pull_chi2_hand_computed() -> None:
    out = pull_chi2([3.0, 0.0, 1.0], [1.0, 1.0, 1.0], [2.0, 0.5, 1.0])
    assert out == {"chi2": pytest.approx(5.0), "dof": 3, "chi2_per_dof": pytest.approx(5 / 3)}
    assert isinstance(out["dof"], int)


def test_pull_chi2_per_dof_near_one(calibrated) -> None:
    y, mean, std = calibrated
    out = pull_chi2(y, mean, std)
    assert out["dof"] == N_BIG
    # chi2 ~ chi2(n): mean n, sd sqrt(2 n)
    assert abs(out["chi2_per_dof"] - 1) < 5 * math.sqrt(2 / N_BIG)
    assert pull_chi2(y, mean, std / 2)["chi2_per_dof"] == pytest.approx(4.0, rel=0.02)


# --------------------------------------------------------------------------- regression summary


def test_regression_metrics_consistent_with_parts() -> None:
    rng = np.random.default_rng(1)
    mean = rng.uniform(1, 10, 500)
    std = rng.uniform(0.1, 1.0, 500)
    y = mean + std * rng.standard_normal(500)
    out = regression_metrics(y, mean, std)
    assert list(out) == [
        "mape_percent",
        "coverage_1std",
        "coverage_2std",
        "coverage_3std",
        "chi2",
        "dof",
        "chi2_per_dof",
        "median_abs_percent_error",
        "rmse",
        "n_points",
    ]
    assert out["mape_percent"] == pytest.approx(mean_abs_percent_error(y, mean))
    cov = coverage(y, mean, std)
    assert [out[f"coverage_{k}std"] for k in (1, 2, 3)] == [cov[1.0], cov[2.0], cov[3.0]]
    chi = pull_chi2(y, mean, std)
    assert out["chi2"] == pytest.approx(chi["chi2"])
    assert out["dof"] == out["n_points"] == 500
    assert out["chi2_per_dof"] == pytest.approx(chi["chi2_per_dof"])
    assert out["median_abs_percent_error"] == pytest.approx(
        np.median(100 * np.abs(mean - y) / np.abs(y))
    )
    assert out["rmse"] == pytest.approx(np.sqrt(np.mean((mean - y) ** 2)))


def test_regression_metrics_hand_computed() -> None:
    out = regression_metrics([1.0, 2.0, 4.0], [1.5, 2.0, 3.0], [0.25, 1.0, 2.0])
    assert out["mape_percent"] == pytest.approx(25.0)
    assert out["median_abs_percent_error"] == pytest.approx(25.0)
    assert out["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 1) / 3))
    # pulls -2, 0, 0.5
    assert out["chi2"] == pytest.approx(4.25)
    assert (out["coverage_1std"], out["coverage_2std"], out["coverage_3std"]) == (
        pytest.approx(2 / 3),
        1.0,
        1.0,
    )


# --------------------------------------------------------------------------- classification

Y_CLS = np.array([1, 1, 1, 0, 0, 0])
P_MEAN = np.array([0.9, 0.6, 0.4, 0.7, 0.2, 0.5])
P_STD = np.array([0.01, 0.01, 0.05, 0.01, 0.05, 0.01])


def test_classification_hand_computed_and_matches_sklearn() -> None:
    out = classification_metrics(Y_CLS, P_MEAN, P_STD)
    # cut p > 0.5 (strict: 0.5 itself is not positive): TP=2 (0.9, 0.6), FP=1 (0.7), FN=1 (0.4)
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["recall"] == pytest.approx(2 / 3)
    assert out["f1"] == pytest.approx(2 / 3)
    assert out["accuracy"] == pytest.approx(4 / 6)
    # cut p + 3 s > 0.5: 0.4 + 0.15 and 0.5 + 0.03 pass -> TP=3, FP=2, FN=0
    assert out["precision_3std"] == pytest.approx(3 / 5)
    assert out["recall_3std"] == pytest.approx(1.0)
    assert out["f1_3std"] == pytest.approx(2 * 3 / (2 * 3 + 2))
    assert out["recall_3std"] > out["recall"]
    assert out["n_points"] == 6

    for cut, suffix in [(P_MEAN > 0.5, ""), (P_MEAN + 3 * P_STD > 0.5, "_3std")]:
        assert out["precision" + suffix] == pytest.approx(precision_score(Y_CLS, cut))
        assert out["recall" + suffix] == pytest.approx(recall_score(Y_CLS, cut))
        assert out["f1" + suffix] == pytest.approx(f1_score(Y_CLS, cut))
    assert out["roc_auc"] == pytest.approx(roc_auc_score(Y_CLS, P_MEAN))


def test_classification_keys_without_std_and_threshold() -> None:
    out = classification_metrics(Y_CLS.astype(bool), P_MEAN, threshold=0.3)
    assert list(out) == ["precision", "recall", "f1", "roc_auc", "accuracy", "brier", "ece",
                         "n_points"]
    # cut p > 0.3: all but 0.2 -> TP=3, FP=2
    assert out["precision"] == pytest.approx(3 / 5)
    assert out["recall"] == pytest.approx(1.0)


def test_classification_3std_never_lowers_recall_random() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2_000)
    p = np.clip(0.6 * y + 0.4 * rng.uniform(size=2_000), 0, 1)
    s = rng.uniform(0, 0.1, 2_000)
    out = classification_metrics(y, p, s)
    assert out["recall_3std"] >= out["recall"]
    assert out["precision_3std"] == pytest.approx(precision_score(y, p + 3 * s > 0.5))
    assert out["f1_3std"] == pytest.approx(f1_score(y, p + 3 * s > 0.5))


def test_classification_zero_denominators() -> None:
    # nothing predicted positive: precision, recall, F1 all 0.0 (sklearn zero_division=0)
    out = classification_metrics([1, 0, 1], [0.1, 0.2, 0.3])
    assert (out["precision"], out["recall"], out["f1"]) == (0.0, 0.0, 0.0)
    assert out["precision"] == precision_score([1, 0, 1], [0, 0, 0], zero_division=0)
    # no positive labels at all: recall and F1 are 0.0 and ROC AUC is undefined (NaN)
    out = classification_metrics([0, 0], [0.1, 0.9])
    assert (out["precision"], out["recall"], out["f1"]) == (0.0, 0.0, 0.0)
    assert out["accuracy"] == 0.5
    assert math.isnan(out["roc_auc"])


# --------------------------------------------------------------------------- input validation

GAUSSIAN_FUNCS = [coverage, calibration_curve, pit, pulls, pull_chi2, regression_metrics]


@pytest.mark.parametrize("func", GAUSSIAN_FUNCS)
def test_gaussian_shape_mismatch_names_both_shapes(func) -> None:
    with pytest.raises(ValueError, match=r"y_true \(3,\), mean \(2,\), std \(3,\)"):
        func([1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("func", GAUSSIAN_FUNCS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_gaussian_rejects_non_finite(func, bad) -> None:
    with pytest.raises(ValueError, match=r"mean has 1 non-finite value\(s\)"):
        func([1.0, 2.0, 3.0], [1.0, bad, 3.0], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("func", GAUSSIAN_FUNCS)
def test_gaussian_rejects_non_positive_std(func) -> None:
    with pytest.raises(
        ValueError, match=r"std must be > 0.*2 of 3 value\(s\) are <= 0 \(min -0\.5\)"
    ):
        func([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 0.0, -0.5])


def test_rejects_2d_and_empty_inputs() -> None:
    with pytest.raises(ValueError, match=r"shape \(n_points,\); got shape \(2, 2\)"):
        pulls(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="empty"):
        mean_abs_percent_error([], [])


def test_mape_validation() -> None:
    with pytest.raises(ValueError, match=r"y_true \(2,\), y_pred \(3,\)"):
        mean_abs_percent_error([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="y_pred has 1 non-finite"):
        mean_abs_percent_error([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(ValueError, match="y_true == 0"):
        regression_metrics([0.0, 2.0], [1.0, 2.0], [1.0, 1.0])


@pytest.mark.parametrize("func", [calibration_curve_from_samples, pit_from_samples])
def test_samples_validation(func) -> None:
    y = np.zeros(4)
    with pytest.raises(ValueError, match=r"\(n_members, 4\).*y_true of shape \(4,\).*\(4, 3\)"):
        func(y, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"got samples of shape \(4,\)"):
        func(y, np.zeros(4))
    bad = np.zeros((5, 4))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="samples has 1 non-finite"):
        func(y, bad)


def test_levels_and_k_validation() -> None:
    y, m, s = [1.0, 2.0], [1.0, 2.0], [1.0, 1.0]
    for levels in ([0.0, 0.5], [0.5, 1.0], [np.nan]):
        with pytest.raises(ValueError, match="levels"):
            calibration_curve(y, m, s, levels=levels)
    with pytest.raises(ValueError, match="levels"):
        calibration_curve_from_samples(y, np.zeros((3, 2)), levels=[1.5])
    with pytest.raises(ValueError, match=r"k must be > 0; 1 of 2 value\(s\) are <= 0 \(min 0\)"):
        coverage(y, m, s, k=(0, 1))
    with pytest.raises(ValueError, match="k must be > 0"):
        nominal_coverage(-1.0)


def test_classification_validation() -> None:
    with pytest.raises(ValueError, match=r"only labels 0 and 1; 1 of 3.*e\.g\. 2"):
        classification_metrics([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"p_mean must lie in \[0, 1\]; 1 of 2"):
        classification_metrics([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match=r"p_std must be >= 0; 1 of 2 value\(s\) are < 0"):
        classification_metrics([0, 1], [0.1, 0.2], [0.0, -0.1])
    with pytest.raises(ValueError, match=r"y_true \(2,\), p_mean \(2,\), p_std \(3,\)"):
        classification_metrics([0, 1], [0.1, 0.2], [0.0, 0.1, 0.1])
    with pytest.raises(ValueError, match="p_mean has 1 non-finite"):
        classification_metrics([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="threshold"):
        classification_metrics([0, 1], [0.1, 0.2], threshold=1.5)


def test_brier_and_ece_by_hand():
    from surrogates.metrics import classification_metrics, reliability_curve

    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([0.95, 0.05, 0.55, 0.45, 0.45, 0.15])
    curve = reliability_curve(y, p)
    # bins [0,.1): {.05}->0; [.1,.2): {.15}->0; [.4,.5): {.45,.45}->{1,0}; [.5,.6): {.55}->1;
    # [.9,1]: {.95}->1
    np.testing.assert_allclose(curve["count"], [1, 1, 2, 1, 1])
    np.testing.assert_allclose(curve["fraction_valid"], [0, 0, 0.5, 1, 1])
    ece = (0.05 + 0.15 + 2 * 0.05 + 0.45 + 0.05) / 6
    out = classification_metrics(y, p)
    assert out["ece"] == pytest.approx(ece)
    assert out["brier"] == pytest.approx(np.mean((p - y) ** 2))


# ------------------------------------------------------------------ boundaries and messages
# (the survivors of mutation testing, tools/mutation.py surrogates.metrics)


_NONFINITE = " has 1 non-finite value"


@pytest.mark.parametrize("call, message", [
    (lambda: mean_abs_percent_error([1.0, np.nan], [1.0, 1.0]), "^y_true" + _NONFINITE),
    (lambda: coverage([1.0, np.inf], [1.0, 1.0], [1.0, 1.0]), "^y_true" + _NONFINITE),
    (lambda: coverage([1.0, 1.0], [1.0, 1.0], [1.0, np.nan]), "^std" + _NONFINITE),
    (lambda: coverage([1.0], [1.0], [1.0], k=[[1.0]]),
     r"^k must be a number or have shape \(n_k,\); got shape \(1, 1\)$"),
    (lambda: coverage([1.0], [1.0], [1.0], k=[np.nan]), "^k" + _NONFINITE),
    (lambda: calibration_curve([1.0], [1.0], [1.0], levels=[[0.5]]),
     r"^levels must have shape \(n_levels,\); got shape \(1, 1\)$"),
    (lambda: calibration_curve([1.0], [1.0], [1.0], levels=[np.nan]), "^levels" + _NONFINITE),
    (lambda: calibration_curve_from_samples([np.nan], [[1.0], [2.0]]), "^y_true" + _NONFINITE),
    (lambda: classification_metrics([1, np.nan], [0.5, 0.5]), "^y_true" + _NONFINITE),
    (lambda: classification_metrics([1, 0], [0.5, 0.5], [0.1, np.inf]), "^p_std" + _NONFINITE),
    (lambda: reliability_curve([1, np.nan], [0.5, 0.5]), "^y_true" + _NONFINITE),
    (lambda: reliability_curve([1, 0], [0.5, np.nan]), "^p_mean" + _NONFINITE),
    (lambda: reliability_curve([1, 0, 1], [0.5, 0.5]),
     r"^shape mismatch: y_true \(3,\), p_mean \(2,\)"),
    (lambda: mean_abs_percent_error(["a"], [1.0]), "^y_true is not numeric: "),
    (lambda: mean_abs_percent_error([0.0, 2.0], [1.0, 1.0]),
     r"1 of 2 value\(s\) of y_true are 0$"),
])
def test_input_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_classification_accepts_the_closed_ends_of_its_ranges():
    y = np.array([1, 0, 1, 0])
    p = np.array([1.0, 0.0, 1.0, 0.0])  # probabilities 0 and 1 are allowed
    out = classification_metrics(y, p, np.zeros(4), threshold=0.0)  # p_std = 0 is allowed
    assert out["f1"] == 1.0 and out["f1_3std"] == 1.0
    assert classification_metrics(y, p, threshold=1.0)["f1"] == 0.0  # nothing is > 1


def test_three_std_cut_is_strict_at_the_threshold():
    # p + 3 s == t exactly (binary fractions: 0.125 + 3 x 0.125 = 0.5) is not a positive
    y = np.array([1, 1, 0])
    out = classification_metrics(y, np.array([0.125, 0.9, 0.1]), np.array([0.125, 0.0, 0.0]),
                                 threshold=0.5)
    assert out["recall_3std"] == 0.5 and out["precision_3std"] == 1.0


def test_zero_denominators_and_one_class():
    # all labels and predictions negative: P = R = F1 = 0 (sklearn's zero_division=0), AUC NaN
    out = classification_metrics(np.zeros(5), np.full(5, 0.1))
    assert (out["precision"], out["recall"], out["f1"]) == (0.0, 0.0, 0.0)
    assert math.isnan(out["roc_auc"])
    assert math.isnan(classification_metrics(np.ones(5), np.full(5, 0.9))["roc_auc"])
    # TP = FP: precision 1/2 (not a zero denominator); TP = FN: recall 1/2
    half = classification_metrics(np.array([1, 0, 1]), np.array([0.9, 0.9, 0.1]))
    assert half["precision"] == 0.5 and half["recall"] == 0.5 and half["f1"] == 0.5
    # F1 = 2 TP / (2 TP + FP + FN) where TP + FP = FN (1, 0, 1) and FP = TP + FN (1, 2, 1)
    assert classification_metrics(np.array([1, 1]), np.array([0.9, 0.1]))["f1"] == 2 / 3
    assert classification_metrics(np.array([1, 1, 0, 0]),
                                  np.array([0.9, 0.1, 0.9, 0.9]))["f1"] == pytest.approx(0.4)


def test_reliability_curve_bins_include_both_ends():
    p = np.array([0.0, 0.05, 0.95, 1.0])
    curve = reliability_curve(np.array([0, 0, 1, 1]), p)  # 10 bins by default
    np.testing.assert_array_equal(curve["count"], [2.0, 2.0])
    np.testing.assert_allclose(curve["mean_predicted"], [0.025, 0.975])
    pair = np.array([0.80, 0.85])  # one bin of ten, two of eleven (9/11 = 0.818)
    np.testing.assert_array_equal(reliability_curve(np.array([0, 1]), pair)["count"], [2.0])
    np.testing.assert_array_equal(
        reliability_curve(np.array([0, 1]), pair, n_bins=11)["count"], [1.0, 1.0])
    # p = 1 goes into the last bin with 0.95, and not into the bin before it with 0.89
    last = reliability_curve(np.array([1, 1]), np.array([0.95, 1.0]))
    np.testing.assert_array_equal(last["count"], [2.0])
    edge = reliability_curve(np.array([1, 1]), np.array([0.89, 1.0]))
    np.testing.assert_array_equal(edge["count"], [1.0, 1.0])


def test_interval_coverage_reads_members_at_hazen_positions():
    # members 1..100 at every point: the quantile at p is 100 p + 0.5 (the j-th member at
    # (j - 1/2) / 100), so the 68.27 % interval is [16.365, 84.635] and the 95.45 % one
    # [2.775, 98.225]; beyond the outermost members it is held at 1 and 100
    from surrogates.metrics import interval_coverage

    members = np.tile(np.arange(1.0, 101.0)[:, None], (1, 6))
    y = np.array([16.3, 16.4, 84.6, 84.7, 2.7, 98.2])
    got = interval_coverage(y, members, [1, 2])
    assert got == {1.0: pytest.approx(2 / 6), 2.0: pytest.approx(5 / 6)}
    assert interval_coverage([0.9, 1.0, 100.0, 100.1], np.tile(members[:, :1], (1, 4)),
                             5.0) == {5.0: 0.5}
    with pytest.raises(ValueError, match="samples must have shape"):
        interval_coverage(y, members[:, :5])
