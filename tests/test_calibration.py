"""The recalibrations on data with a known miscalibration, and inside a surrogate."""

import numpy as np
import pytest
from scipy import stats

from surrogates.base import Surrogate
from surrogates.bnn import BNNEnsemble
from surrogates.calibration import (
    LocalQuantile,
    LocalScale,
    Temperature,
    VarianceScale,
    _best_factor,
    fit_recalibration,
    rescale_spread,
)
from surrogates.gp import RBCM
from surrogates.metrics import coverage as coverage_dict
from surrogates.metrics import interval_coverage, nominal_coverage
from surrogates.mlp import MLPEnsemble
from surrogates.space import box_high, box_low, sample_uniform
from tests.synthetic import SMOOTH, SQUARE, smooth

K = np.array([1.0, 2.0, 3.0])


def coverage(y, mean, std, k):
    return np.array(list(coverage_dict(y, mean, std, k).values()))


def _miscalibrated(n, rng, noise=stats.norm):
    """Claimed spreads s log-uniform on [0.01, 1]; true error scale 0.3 sqrt(s): bars too
    wide at large s and too narrow at small s."""
    s = np.exp(rng.uniform(np.log(0.01), np.log(1.0), n))
    err = 0.3 * np.sqrt(s) * noise.rvs(size=n, random_state=rng)
    return err, np.zeros(n), s


def _decile_coverages(err, s, factor=1.0):
    edges = np.quantile(s, np.linspace(0, 1, 11))
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, 9)
    return np.array([coverage(err[idx == d], 0 * err[idx == d], (factor * s)[idx == d], K)
                     for d in range(10)])


def test_gaussian_errors_with_a_wrong_size_dependence_are_recovered_in_every_decile():
    rng = np.random.default_rng(1)
    recal = LocalScale.fit(*_miscalibrated(20_000, rng))
    err, _, s = _miscalibrated(50_000, rng)
    raw = _decile_coverages(err, s)
    assert np.abs(raw - nominal_coverage(K)).max() > 0.3  # badly off before
    cov = _decile_coverages(err, s, recal.factor(s))
    # 5,000 points per decile: binomial sd 0.0066 / 0.0030 / 0.0008 at 1/2/3 sigma, plus the
    # fit's own error (20 bins of 1,000 points: ~2 % on the scale -> 0.011 / 0.005 / 0.001)
    tol = np.array([0.04, 0.02, 0.005])
    assert (np.abs(cov - nominal_coverage(K)) < tol).all(), cov


def test_heavy_tailed_errors_reach_the_best_coverage_one_width_allows():
    rng = np.random.default_rng(2)
    t4 = stats.t(df=4)
    recal = LocalScale.fit(*_miscalibrated(20_000, rng, t4))
    err, _, s = _miscalibrated(100_000, rng, t4)
    got = coverage(err, 0 * err, recal.factor(s) * s, K)
    # independent reference: the width w (in units of the true scale) that matches 1/2/3 sigma
    # best for a t4 variable, by brute force on its exact CDF
    w = np.linspace(0.5, 2.5, 20001)
    cov_w = 2 * t4.cdf(K[:, None] * w[None, :]) - 1
    best = cov_w[:, np.argmin(((cov_w - nominal_coverage(K)[:, None]) ** 2).sum(0))]
    assert np.abs(got - best).max() < 0.012, (got, best)


def _decile_interval_coverages(err, s, samples):
    edges = np.quantile(s, np.linspace(0, 1, 11))
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, 9)
    return np.array([list(interval_coverage(err[idx == d], samples[:, idx == d], K).values())
                     for d in range(10)])


def test_heavy_tailed_errors_are_covered_at_every_level_in_every_decile():
    """Student-t errors (4 degrees of freedom) with a wrong size dependence: one width per
    bin cannot cover 1, 2 and 3 sigma at once (the test above), the local quantiles can."""
    rng = np.random.default_rng(2)
    t4 = stats.t(df=4)
    recal = LocalQuantile.fit(*_miscalibrated(20_000, rng, t4))
    assert recal.n_nodes == 100 and recal.n_val == 20_000
    err, mean, s = _miscalibrated(100_000, rng, t4)
    std, samples = rescale_spread(recal, mean, s)
    assert samples.shape == (100, 100_000)
    centre = samples.mean(axis=0)  # symmetric members about the shifted centre
    np.testing.assert_allclose(samples + samples[::-1], np.broadcast_to(2 * centre, samples.shape),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(std, samples.std(axis=0), rtol=1e-12)
    # the intervals of 68.3 and 95.4 %; the 99.7 % one is the 99 % of 100 members (Hazen)
    target = np.array([nominal_coverage(1.0), nominal_coverage(2.0), 0.99])
    # per decile: 10,000 test points (binomial sd 0.0047 / 0.0021 / 0.0010) and ~2 bins of
    # 1,000 validation points fixing each quantile (sd 0.0104 / 0.0047 / 0.0022): 4 sd
    tol = np.array([0.046, 0.021, 0.0097])
    cov = _decile_interval_coverages(err, s, samples)
    assert (np.abs(cov - target) < tol).all(), cov
    before = _decile_interval_coverages(err, s, mean + s * stats.norm.ppf(
        (np.arange(100)[:, None] + 0.5) / 100))  # the raw bars as a Gaussian of 100 members
    assert np.abs(before - target).max() > 0.3


def test_a_biased_mean_is_recentred_on_the_median_pull():
    """Networks biased by 0.3 of their spread (truth = mean + s (t4 + 0.3)): the members are
    centred on the bins' median pull, so half of the fresh truths lie above their median (4
    binomial sd of 50,000 points: 0.009), where members about the mean put 62 % above; the
    fitted shift is 0.3 to the sd of a median of 1,000 t4 draws (~0.04) per bin, pooled."""
    rng = np.random.default_rng(11)

    def draw(n):
        s = np.exp(rng.uniform(-1.0, 1.0, n))
        return s * (rng.standard_t(4, n) + 0.3), np.zeros(n), s

    recal = LocalQuantile.fit(*draw(20_000))
    assert np.abs(recal.shift - 0.3).max() < 0.15 and abs(recal.shift.mean() - 0.3) < 0.03
    z, mean, s = draw(50_000)
    _, samples = rescale_spread(recal, mean, s)
    assert abs(np.mean(z > np.median(samples, axis=0)) - 0.5) < 0.009
    unshifted = LocalQuantile(log_s=recal.log_s, abs_pulls=recal.abs_pulls, n_val=recal.n_val)
    assert np.mean(z > np.median(rescale_spread(unshifted, mean, s)[1], axis=0)) > 0.6


def test_local_quantile_members_are_the_validation_quantiles_of_one_bin():
    """One bin (all spreads equal): the members are s times the median pull c plus-minus the
    numpy quantiles of the absolute pulls about c at (2j + 1) / M."""
    rng = np.random.default_rng(5)
    z = 0.5 + rng.standard_cauchy(1000)
    recal = LocalQuantile.fit(z, np.zeros(1000), np.full(1000, 2.0), n_bins=1, n_nodes=10)
    c = np.median(z) / 2.0
    q = np.quantile(np.abs(z / 2.0 - c), [0.1, 0.3, 0.5, 0.7, 0.9])
    members = c + np.concatenate([-q[::-1], q])
    nodes = recal.nodes(np.array([0.5, 2.0, 4.0]))
    # below the knot the pulls are held, above it the half-widths 2 q (pulls 2 q / 4)
    np.testing.assert_allclose(nodes.T, [members, members, members / 2], rtol=1e-12)
    std, samples = rescale_spread(recal, np.ones(3), np.array([0.5, 2.0, 4.0]))
    np.testing.assert_allclose(samples[:, 2], 1.0 + 2.0 * members, rtol=1e-12)
    np.testing.assert_allclose(std, np.array([0.5, 2.0, 2.0]) * np.sqrt(np.mean(q**2)),
                               rtol=1e-12)
    assert LocalQuantile.from_dict(recal.to_dict()).to_dict() == recal.to_dict()
    # saved without ``hold_above`` and ``shift`` (fitted before the tail was held and the
    # centre moved): centred on the mean, pulls held above the knot too
    old = LocalQuantile.from_dict({k: v for k, v in recal.to_dict().items()
                                   if k not in ("hold_above", "shift")})
    np.testing.assert_allclose(old.nodes(np.array([4.0]))[:, 0],
                               np.concatenate([-q[::-1], q]), rtol=1e-12)
    assert LocalQuantile.fit(z, np.zeros(1000), np.ones(1000), n_nodes=4).n_nodes == 4
    for bad in (3, 7, 2):
        with pytest.raises(ValueError, match=f"n_nodes must be an even integer >= 4; got {bad}"):
            LocalQuantile.fit(z, np.zeros(1000), np.ones(1000), n_nodes=bad)


def test_local_quantile_pools_decreasing_bins_weighted_by_their_counts():
    """Three bins of 3, 2 and 2 points (std 1, 2, 4), median pulls 0, whose half-widths
    decrease: at the levels 1/4 and 3/4 the quantiles of |pulls| 4, 0, 4 are 2 and 4 (half-
    widths 2, 4), of 1, 1 and of 0.25, 0.25 times the spreads 2 and 4 half-widths 2 and 1:
    isotonic regression pools each level into the count-weighted means 12/7 and 18/7."""
    std = np.array([1.0, 1, 1, 2, 2, 4, 4])
    z = np.array([4.0, 0, -4, 2, -2, 1, -1])
    recal = LocalQuantile.fit(z, np.zeros(7), std, min_per_bin=2, n_nodes=4)
    np.testing.assert_allclose(recal.log_s, np.log([1.0, 2.0, 4.0]), rtol=1e-12)
    np.testing.assert_allclose(recal.abs_pulls, np.array([12 / 7, 18 / 7]) / std[[0, 3, 5], None],
                               rtol=1e-12)
    np.testing.assert_array_equal(recal.shift, np.zeros(3))


@pytest.mark.parametrize("kind", [LocalQuantile, LocalScale])
def test_default_bins_are_at_most_20_of_at_least_200_points(kind):
    rng = np.random.default_rng(7)
    for n, n_bins in ((4400, 20), (3800, 19)):  # 22 bins possible, capped; 19 (18 of 201)
        assert kind.fit(rng.normal(size=n), np.zeros(n), rng.uniform(1, 2, n)).log_s.size == n_bins


def test_local_quantile_holds_the_half_widths_where_errors_stop_growing_with_the_spread():
    """Errors that saturate (|e| ~ min(s, 2) |N(0, 1)|) under a spread with a long tail
    (ln s ~ N(0, 1.5^2)). The top bin is halved while it spans more than a factor of 2 (1,000
    -> 125 points: 23 knots, the last at the median of the 125 largest spreads), and beyond it
    the half-widths are held: the members' variance matches the mean squared error of the 1 %
    largest spreads (2,000 fresh points; the quantiles of 125 validation points fix the
    variance to ~15 %), where growing them with the spread overstates it 2.6 times."""
    rng = np.random.default_rng(9)

    def draw(n):
        s = np.exp(1.5 * rng.normal(size=n))
        return np.minimum(s, 2.0) * rng.normal(size=n), np.zeros(n), s

    z, mean, s = draw(20_000)
    recal = LocalQuantile.fit(z, mean, s)
    assert recal.log_s.size == 23
    np.testing.assert_allclose(recal.log_s[-1], np.log(np.median(np.sort(s)[-125:])))
    grown = LocalQuantile(log_s=recal.log_s, abs_pulls=recal.abs_pulls, n_val=recal.n_val,
                          hold_above=False)
    e, mean, s = draw(200_000)
    top = s > np.quantile(s, 0.99)
    ratio = [np.mean(rescale_spread(r, mean[top], s[top])[0] ** 2) / np.mean(e[top] ** 2)
             for r in (recal, grown)]
    assert abs(ratio[0] - 1) < 0.15 and ratio[1] > 2, ratio


def test_local_quantile_half_widths_grow_with_the_spread():
    """Bins whose errors shrink as the claimed spread grows: the isotonic step keeps every
    interval's half-width non-decreasing in the spread, level by level."""
    rng = np.random.default_rng(6)
    s = np.exp(rng.uniform(np.log(0.1), np.log(1.0), 8000))
    z = rng.normal(size=8000) * 0.1 / s  # true error 0.1 / s: smaller where s is larger
    recal = LocalQuantile.fit(z, np.zeros(8000), s)
    grid = np.exp(np.linspace(np.log(0.1), np.log(1.0), 50))
    nodes = recal.nodes(grid)
    half = grid * (nodes[50:] - nodes[:50][::-1]) / 2  # (levels, spreads)
    assert (np.diff(half, axis=1) >= -1e-12).all()
    assert (np.diff(half, axis=0) >= -1e-12).all()  # levels stay sorted


def test_a_loaded_surrogate_is_recalibrated_to_heavy_tails_without_retraining(tmp_path):
    X, y, _ = _heteroscedastic(400, 0)
    Xv, yv, _ = _heteroscedastic(600, 1)
    model = MLPEnsemble(SMOOTH, space=SQUARE, hidden=[16, 16], n_members=3, epochs=3,
                        recalibration="local_scale").fit(X, y, X_val=Xv, y_val=yv,
                                                         progress=False)
    before = model.predict(Xv)
    model.recalibrate(Xv, yv, recalibration="local_quantile")
    assert model.recalibration == "local_quantile"
    after = model.predict(Xv)
    assert after.samples.shape == (100, 600) and after.weights is None
    # symmetric about the networks' mean moved by the median pull of its bin
    np.testing.assert_allclose(after.samples + after.samples[::-1],
                               np.broadcast_to(2 * after.mean, (100, 600)), rtol=1e-5)
    assert np.abs(after.mean - before.mean).max() < after.std.max()
    # on the data it was fitted on (3 bins of 200, interpolated between), the 68 % and 95 %
    # intervals cover within 3 binomial sd of 600 points (0.019 / 0.0085)
    cov = np.array(list(interval_coverage(yv, after.samples, K[:2]).values()))
    assert (np.abs(cov - nominal_coverage(K[:2])) < [0.057, 0.025]).all(), cov
    again = Surrogate.load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict(Xv).samples, after.samples)
    with pytest.raises(ValueError, match="recalibration"):
        model.recalibrate(Xv, yv, recalibration="isotonic")
    with pytest.raises(ValueError, match="regression targets"):
        MLPEnsemble("validity").recalibrate(Xv, yv, recalibration="local_quantile")


def test_a_gaussian_predictive_becomes_members_under_local_quantile():
    X, y, _ = _heteroscedastic(300, 0)
    Xv, yv, _ = _heteroscedastic(400, 1)
    gp = RBCM(SMOOTH, space=SQUARE, expert_size=150, n_iter=20,
              recalibration="local_quantile").fit(X, y, X_val=Xv, y_val=yv, progress=False)
    pred = gp.predict(Xv)
    assert pred.samples is not None and pred.samples.shape == (100, 400)
    np.testing.assert_allclose(pred.mean, pred.samples.mean(axis=0), rtol=1e-9)


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 200"):
        LocalScale.fit(np.zeros(10), np.zeros(10), np.ones(10))
    with pytest.raises(ValueError, match="std must be > 0"):
        LocalScale.fit(np.zeros(300), np.zeros(300), np.zeros(300))


def _heteroscedastic(n, seed):
    rng = np.random.default_rng(seed)
    X = SQUARE.sample_uniform(n, rng)
    sd = 0.02 + 0.3 * X[:, 0] ** 2  # noise grows along x1
    return X, smooth(X) + sd * rng.normal(size=n), sd


def test_last_layer_bnn_learns_where_it_is_wrong_and_is_calibrated_after_saving(tmp_path):
    from surrogates.base import Surrogate

    X, y, _ = _heteroscedastic(3000, 0)
    Xv, yv, _ = _heteroscedastic(1500, 1)
    Xt, yt, sd_t = _heteroscedastic(4000, 2)
    model = BNNEnsemble(
        SMOOTH, space=SQUARE, hidden=[32, 32], activation="silu", n_chains=2, n_burnin=40,
        n_samples=20, n_leapfrog=10, pretrain_epochs=60, pretrain_batch_size=128,
        pretrain_lrs=[1e-2], pretrain_schedule="one_cycle", hmc_layers="last",
        heteroscedastic=True, recalibration="local_scale", seed=0,
    ).fit(X, y, X_val=Xv, y_val=yv, progress=False)
    pred = model.predict(Xt)
    # the bars follow the input: rank correlation with the true noise
    assert stats.spearmanr(pred.std, sd_t).statistic > 0.8
    # 4000 test points: binomial sd 0.0074 / 0.0033 at 1 / 2 sigma, 4 sd bands + fit error
    cov = coverage(yt, pred.mean, pred.std, K[:2])
    assert np.abs(cov - nominal_coverage(K[:2])).max() < 0.04, cov
    same = Surrogate.load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(same.predict(Xt).std, pred.std, rtol=1e-6)
    assert same.recalibration_ is not None and same.trunk_ is not None


# ------------------------------------------------------------ temperature of a classifier
def _overconfident_members(n, T, seed):
    """Labels drawn with p = sigmoid(f), and 10 members whose logits are T (f + 0.1 e_j):
    a classifier over-confident by the temperature T."""
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 2.0, size=n)
    labels = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-f))).astype(float)
    logits = T * (f + 0.1 * rng.normal(size=(10, n)))
    return labels, 1.0 / (1.0 + np.exp(-logits))


def _ece(labels, p, n_bins=10):
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, n_bins - 1)
    return sum(abs(labels[idx == b].mean() - p[idx == b].mean()) * (idx == b).mean()
               for b in range(n_bins) if (idx == b).any())


@pytest.mark.parametrize("T", [0.5, 2.0])
def test_temperature_recovers_a_planted_over_or_under_confidence(T):
    """Fitted on 20,000 labels the temperature is the planted one within 5 % (its standard
    error here is ~1.5 %; the members' spread moves the optimum by < 1 %), and the ECE on
    fresh points drops below 0.02 (0.06-0.09 before)."""
    labels, members = _overconfident_members(20_000, T, seed=0)
    temp = Temperature.fit(labels, members)
    assert abs(temp.T / T - 1) < 0.05, temp.T
    fresh, fresh_members = _overconfident_members(20_000, T, seed=1)
    before = _ece(fresh, fresh_members.mean(0))
    after = _ece(fresh, temp.apply(fresh_members).mean(0))
    assert before > 0.05 and after < 0.02, (before, after)
    assert Temperature.from_dict(temp.to_dict()) == temp
    with pytest.raises(ValueError, match="labels 0 and 1"):
        Temperature.fit(labels + 0.5, members)
    with pytest.raises(ValueError, match="shape"):
        Temperature.fit(labels[:10], members)
    with pytest.raises(ValueError, match="fitted on a classifier's members"):
        fit_recalibration("temperature", labels, members.mean(0), members.std(0))


def test_a_classifier_is_tempered_without_retraining_and_saved_so(tmp_path):
    """recalibrate(..., "temperature") on a deep-ensemble classifier: the member
    probabilities become sigmoid(logit / T), the ranking stays, a loaded model applies it;
    a Gaussian classifier (the rBCM's probit) and a regression target refuse it."""
    rng = np.random.default_rng(0)
    X = sample_uniform(1200, rng=rng)
    u = (X - box_low()) / (box_high() - box_low())
    labels = (rng.uniform(size=1200) < 1 / (1 + np.exp(-8 * (u[:, 0] - 0.5)))).astype(float)
    model = MLPEnsemble("validity", hidden=[16], n_members=3, epochs=5)
    model.fit(X[:800], labels[:800], X_val=X[800:], y_val=labels[800:], progress=False)
    before = model.predict(X[800:])
    model.recalibrate(X[800:], labels[800:], recalibration="temperature")
    T = model.recalibration_.T
    after = model.predict(X[800:])
    logit = np.log(before.samples) - np.log1p(-before.samples)
    np.testing.assert_allclose(after.samples, 1 / (1 + np.exp(-logit / T)), rtol=1e-5)
    assert T != 1.0 and stats.spearmanr(after.mean, before.mean).statistic > 0.999
    again = Surrogate.load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict(X[800:]).samples, after.samples)
    with pytest.raises(ValueError, match="needs a predictive of members"):
        RBCM("validity", expert_size=200, n_iter=2).fit(
            X[:400], labels[:400], X_val=X[800:], y_val=labels[800:], progress=False
        ).recalibrate(X[800:], labels[800:], recalibration="temperature")
    with pytest.raises(ValueError, match="for the classifier's probabilities"):
        MLPEnsemble(SMOOTH, space=SQUARE, recalibration="temperature")


def test_recalibration_is_for_regression_and_needs_validation_data():
    with pytest.raises(ValueError, match="regression targets"):
        BNNEnsemble("validity", recalibration="local_scale")
    with pytest.raises(ValueError, match="needs validation data"):
        X, y, _ = _heteroscedastic(300, 0)
        BNNEnsemble(SMOOTH, space=SQUARE, recalibration="local_scale",
                    **BNNEnsemble.budgets["tiny"]).fit(X, y, progress=False)


def test_variance_scale_is_the_mean_squared_pull_and_any_family_saves_it(tmp_path):
    """The one variance scale: on a deep ensemble as on the rBCM (its default), fitted on the
    validation pulls in model space, applied by predict and saved with the model."""
    rng = np.random.default_rng(4)
    z, mean, std = rng.normal(0, 3, 5000), np.zeros(5000), np.ones(5000)
    scale = VarianceScale.fit(z, mean, std)
    assert scale.s2 == pytest.approx(np.mean(z**2)) and scale.n_val == 5000
    assert VarianceScale.from_dict(scale.to_dict()) == scale
    X, y, _ = _heteroscedastic(400, 0)
    Xv, yv, _ = _heteroscedastic(300, 1)
    kw = {"hidden": [16, 16], "n_members": 3, "epochs": 3}
    raw = MLPEnsemble(SMOOTH, space=SQUARE, **kw).fit(X, y, X_val=Xv, y_val=yv, progress=False)
    scaled = MLPEnsemble(SMOOTH, space=SQUARE, recalibration="variance_scale", **kw).fit(
        X, y, X_val=Xv, y_val=yv, progress=False)
    s = scaled.recalibration_.s
    np.testing.assert_allclose(scaled.predict(Xv).std, s * raw.predict(Xv).std, rtol=1e-5)
    again = Surrogate.load(scaled.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict(Xv).std, scaled.predict(Xv).std)


# ----------------------------- boundaries and hand checks (survivors of mutation testing)


def test_rescale_spread_multiplies_the_spread_and_moves_the_members():
    scale = VarianceScale(s2=4.0, n_val=10)
    mean, std = np.array([1.0, -2.0]), np.array([0.5, 2.0])
    samples = mean + np.array([[1.0, -1.0], [-1.0, 1.0]]) * std
    new_std, new_samples = rescale_spread(scale, mean, std, samples)
    np.testing.assert_array_equal(new_std, [1.0, 4.0])
    np.testing.assert_array_equal(new_samples, mean + 2 * (samples - mean))
    assert rescale_spread(scale, mean, std)[1] is None
    assert scale.factor(std).shape == (2,)


def test_local_scale_refuses_bad_inputs_with_their_reason():
    z = np.zeros(300)
    with pytest.raises(ValueError, match=r"^z, mean and std must be 1-D of one length; got "
                                         r"\(300,\), \(299,\), \(300,\)$"):
        LocalScale.fit(z, z[:-1], z + 1)
    with pytest.raises(ValueError, match=r"1-D of one length; got \(2, 150\)"):
        LocalScale.fit(z.reshape(2, 150), z.reshape(2, 150), z.reshape(2, 150) + 1)
    for bad in range(3):  # a non-finite z, mean or std alone is refused
        arrays = [z.copy(), z.copy(), z + 1]
        arrays[bad][7] = np.nan
        with pytest.raises(ValueError, match="^z, mean and std must be finite$"):
            LocalScale.fit(*arrays)
    LocalScale.fit(z[:200], z[:200], z[:200] + 1)  # exactly min_per_bin points are enough
    with pytest.raises(ValueError, match="at least 200 validation points; got 199"):
        LocalScale.fit(z[:199], z[:199], z[:199] + 1)


def test_local_scale_bins_and_weights():
    """Two bins of 251 and 250 points when 501 points allow two of min_per_bin = 250, one
    (one factor everywhere) when 499 points allow one; where the factors are not monotone the
    isotonic fit pools the bins weighted by their counts (numpy's array_split puts the odd
    point into the first bin); the state round-trips with n_val."""
    rng = np.random.default_rng(0)
    std = np.sort(np.exp(rng.uniform(-1, 1, 501)))
    # errors four times the predicted spread where it is small, as predicted where it is large
    z = rng.normal(size=501) * std * np.where(np.arange(501) < 250, 4.0, 1.0)
    two = LocalScale.fit(z, np.zeros(501), std, min_per_bin=250)
    assert two.log_s.size == 2 and two.n_val == 501
    lo, hi = np.arange(251), np.arange(251, 501)
    log_med = np.log([np.median(std[lo]), np.median(std[hi])])
    v = np.log([_best_factor(np.abs(z[b]) / std[b]) for b in (lo, hi)]) + log_med
    assert v[0] > v[1]  # not monotone: pooled, weighted 251 : 250
    pooled = (251 * v[0] + 250 * v[1]) / 501
    np.testing.assert_allclose(two.log_c, pooled - log_med, rtol=1e-12)
    one = LocalScale.fit(z[:499], np.zeros(499), std[:499], min_per_bin=250)
    assert one.log_s.size == 1
    same = LocalScale.from_dict(two.to_dict())
    assert same.n_val == 501 and same.log_s.dtype == np.float64
    np.testing.assert_array_equal(same.factor(std), two.factor(std))


def test_tied_spreads_are_binned_in_the_order_of_the_validation_points():
    """Two spreads, each shared by many points (a model with a few distinct error bars): the
    points of one spread fill the bins in their given order (a stable sort), so a refit on the
    same data reproduces the map whatever the sort algorithm does with ties."""
    rng = np.random.default_rng(8)
    std = rng.permutation(np.repeat([1.0, 2.0], 1000))  # 5 bins of 200 points each
    z = std * rng.standard_t(3, size=2000)  # half-widths double from the first to the second
    recal = LocalQuantile.fit(z, np.zeros(2000), std, n_nodes=6)
    for knot, s_b in enumerate((1.0, 2.0)):
        bins = np.array_split(np.flatnonzero(std == s_b), 5)
        pulls = [z[b] / s_b for b in bins]
        q = [np.quantile(np.abs(p - np.median(p)), LocalQuantile.levels(6)) for p in pulls]
        np.testing.assert_allclose(recal.abs_pulls[knot], np.mean(q, axis=0), rtol=1e-12)
        np.testing.assert_allclose(recal.shift[knot], np.mean([np.median(p) for p in pulls]),
                                   rtol=1e-12)
    np.testing.assert_allclose(recal.log_s, np.log([1.0, 2.0]), rtol=1e-12)
