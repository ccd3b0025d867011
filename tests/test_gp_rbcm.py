"""The RBCM surrogate: calibration on GP-prior data, the validity classifier, save/load."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import norm

from surrogates.base import Surrogate
from surrogates.gp import RBCM
from surrogates.metrics import coverage, nominal_coverage
from surrogates.registry import get_model_class
from surrogates.space import box_high, box_low, sample_uniform
from tests.synthetic import SMOOTH, SQUARE, noisy_data, smooth

N_TRAIN, N_TEST = 1200, 800


def _unit(X):
    return (X - box_low()) / (box_high() - box_low())


@pytest.fixture(scope="module")
def gp_prior_data():
    """m_h-like values drawn from a GP in two of the 19 parameters: (X, noisy y, noise-free f)."""
    X = sample_uniform(N_TRAIN + N_TEST, rng=0)
    u = torch.tensor(_unit(X)[:, :2])
    K = torch.exp(-0.5 * torch.cdist(u / 0.25, u / 0.25) ** 2)
    K += 1e-8 * torch.eye(len(u), dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    draw = torch.randn(2, len(u), generator=g, dtype=torch.float64)
    f = 120.0 + 2.0 * torch.linalg.cholesky(K) @ draw[0]
    y = f + 0.2 * draw[1]
    return X, y.numpy(), f.numpy()


@pytest.fixture(scope="module")
def rbcm_on_gp_prior(gp_prior_data):
    X, y, _ = gp_prior_data
    s = RBCM("higgs_mass", n_experts=8, n_iter=100, precision="float64", device="cpu")
    return s.fit(X[:N_TRAIN], y[:N_TRAIN], progress=False)


def _coverage(s, X, truth, k, **settings):
    old = {name: getattr(s, name) for name in settings}
    for name, value in settings.items():
        setattr(s, name, value)
    pred = s.predict(X)
    for name, value in old.items():
        setattr(s, name, value)
    return np.array(list(coverage(truth, pred.mean, pred.std, k).values()))


def test_rbcm_is_near_nominal_on_data_from_a_gp_prior(gp_prior_data, rbcm_on_gp_prior):
    X, y, _ = gp_prior_data
    s = rbcm_on_gp_prior
    # the noise variance is learnt (truth: (0.2 GeV / target scale)^2) within 30 %
    truth = (0.2 / s.target_transform_.scale) ** 2
    assert abs(s.fit_info_["hyperparameters"]["noise"] / truth - 1) < 0.3
    k = np.array([1.0, 2.0, 3.0])
    nominal = nominal_coverage(k)
    # 3 binomial standard errors, plus 0.05 for the aggregation itself, which is not exactly
    # calibrated (Liu et al. 2018, arXiv:1806.00720)
    tol = 3 * np.sqrt(nominal * (1 - nominal) / N_TEST) + 0.05
    observed = _coverage(s, X[N_TRAIN:], y[N_TRAIN:], k)
    assert (np.abs(observed - nominal) < tol).all(), observed


def test_latent_rbcm_is_more_confident_than_poe_where_experts_are_informative(
    gp_prior_data, rbcm_on_gp_prior
):
    """beta_k > 1 where an expert's variance is below e^-2 of the prior: for the noise-free
    function the rBCM bands are narrower than the PoE's, the gPoE's wider: a property of the
    rules, kept visible here (see surrogates/gp/aggregation.py)."""
    X, _, f = gp_prior_data
    k = np.array([1.0])
    cov = {
        method: _coverage(rbcm_on_gp_prior, X[N_TRAIN:], f[N_TRAIN:], k,
                          aggregation=method, include_noise=False)[0]
        for method in ("rbcm", "poe", "gpoe")
    }
    assert cov["rbcm"] < cov["poe"] < nominal_coverage(1.0) < cov["gpoe"], cov


def test_latent_predictive_excludes_the_noise(gp_prior_data, rbcm_on_gp_prior):
    X, _, _ = gp_prior_data
    s = rbcm_on_gp_prior
    noisy = s.predict(X[N_TRAIN:]).std
    s.include_noise = False
    latent = s.predict(X[N_TRAIN:]).std
    s.include_noise = True
    noise = s.fit_info_["hyperparameters"]["noise"] * s.target_transform_.scale**2
    np.testing.assert_allclose(noisy**2 - latent**2, noise, rtol=1e-8)


def _validity_data(n, rng):
    X = sample_uniform(n, rng=rng)
    u = _unit(X)
    score = 2.5 * (np.sin(3 * u[:, 0]) + u[:, 1] - 1.0)
    labels = np.random.default_rng(rng).uniform(size=n) < norm.cdf(score)
    return X, labels.astype(float)


@pytest.mark.parametrize("with_validation", [True, False])
def test_validity_probabilities_are_calibrated(with_validation):
    X, t = _validity_data(1500, rng=1)
    Xv, tv = _validity_data(500, rng=2)
    Xt, tt = _validity_data(2000, rng=3)
    s = get_model_class("rbcm")("validity", expert_size=300, n_iter=40, hyper_batch=2, device="cpu")
    val = {"X_val": Xv, "y_val": tv} if with_validation else {}
    pred = s.fit(X, t, progress=False, **val).predict(Xt)
    p = pred.mean
    assert ((p >= 0) & (p <= 1)).all() and (pred.std >= 0).all()
    # reliability: in each of 4 bins of predicted p the observed rate matches the mean p
    # within 3 binomial standard errors (+ 0.03 for the link's own fit error)
    bins = np.digitize(p, [0.25, 0.5, 0.75])
    for b in range(4):
        sel = bins == b
        assert sel.sum() > 100
        se = np.sqrt(p[sel].mean() * (1 - p[sel].mean()) / sel.sum())
        gap = abs(tt[sel].mean() - p[sel].mean())
        assert gap < 3 * se + 0.03, (b, tt[sel].mean(), p[sel].mean())
    brier, brier_constant = np.mean((p - tt) ** 2), np.mean((tt.mean() - tt) ** 2)
    assert brier < 0.8 * brier_constant


@pytest.mark.parametrize(
    "config",
    [
        {"kernel": "matern52", "partition": "kmeans", "precision": "float64"},
        {"shared_hyperparameters": False, "aggregation": "gpoe"},
        {"partition": "tree", "n_iter_local": 3, "n_nearest": 2},
    ],
)
@pytest.mark.parametrize("target", ["validity", "xsec"])
def test_save_load_round_trip(config, target, tmp_path):
    X, t = _validity_data(300, rng=4)
    y = t if target == "validity" else np.exp(_unit(X)[:, 0] * 3)
    s = RBCM(target, expert_size=60, n_iter=5, device="cpu", **config)
    s.fit(X[:240], y[:240], X_val=X[240:], y_val=y[240:], progress=False)
    back = Surrogate.load(s.save(tmp_path / "m"), device="cpu")
    assert type(back) is RBCM and back.get_config() == s.get_config()
    assert back.dtype == (torch.float64 if config.get("precision") == "float64" else torch.float32)
    a, b = s.predict(X[240:]), back.predict(X[240:])
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.std, b.std)


def test_invalid_configuration_is_rejected():
    for kwargs, msg in (
        ({"expert_size": 0}, r"'expert_size' .* an int in the range \[1, inf\)\. Got 0"),
        ({"n_experts": 0}, r"'n_experts' .* an int in the range \[1, inf\) or None"),
        ({"aggregation": "moe"}, r"'aggregation' .* \{'rbcm', 'bcm', 'poe', 'gpoe'\}\. Got 'moe'"),
        ({"kernel": "rq"}, "'kernel' .* must be one of"),
        ({"precision": "half"}, "'precision' .* must be one of"),
        ({"min_noise": 0.0}, "'min_noise' .* must be a float in"),
        ({"hyper_batch": 4, "shared_hyperparameters": False}, "hyper_batch needs shared"),
        ({"n_nearest": 4}, r"n_nearest=4 needs local experts \(partition 'kmeans' or 'tree'\)"),
        ({"n_nearest": 0, "partition": "tree"}, r"'n_nearest' .* an int in the range \[1, inf\)"),
        ({"partition": "tree", "shared_hyperparameters": False},
         "partition='tree', n_iter_local=0 needs shared_hyperparameters=True"),
        ({"n_iter_local": 5, "shared_hyperparameters": False}, "n_iter_local=5 needs shared"),
    ):
        with pytest.raises(ValueError, match=msg):
            RBCM("higgs_mass", **kwargs)


# ------------------------------------------------------------ sigma scaling, exact reference
SMALL_RBCM = {"n_experts": 3, "n_iter": 30, "precision": "float64", "device": "cpu"}


def test_variance_calibration_finds_a_planted_scale_and_refits_reproduce_it():
    """Validation targets planted at mean + 2 std eps (eps ~ N(0, 1)) make the mean squared
    pull exactly 4 mean(eps^2); refitting the same model on the same data must find it again
    (pulls against this fit's unscaled std, not the previous fit's scaled one)."""
    X, y, _ = noisy_data(300, seed=0)
    Xv = SQUARE.sample_uniform(400, 1)
    plain = RBCM(SMOOTH, space=SQUARE, recalibration="none", **SMALL_RBCM)
    pred = plain.fit(X, y, progress=False).predict(Xv)
    eps = np.random.default_rng(2).normal(size=len(Xv))
    yv = pred.mean + 2.0 * pred.std * eps
    s = RBCM(SMOOTH, space=SQUARE, **SMALL_RBCM)
    scales = [s.fit(X, y, X_val=Xv, y_val=yv, progress=False).recalibration_.s2
              for _ in range(3)]
    np.testing.assert_allclose(scales, 4.0 * np.mean(eps**2), rtol=1e-8)
    np.testing.assert_allclose(s.predict(Xv).std, np.sqrt(scales[0]) * pred.std, rtol=1e-8)
    assert s.recalibration == "variance_scale"  # the rBCM's default
    # a refit without validation data drops the scale
    assert s.fit(X, y, progress=False).recalibration_ is None


def _exact_expert_moments(Xe, ye, Xs, lengthscale, outputscale, noise):
    """Exact GP posterior (Rasmussen & Williams 2006, eq. 2.25-2.26) of one expert, numpy."""

    def k(A, B):
        d = (A[:, None, :] - B[None, :, :]) / lengthscale
        return outputscale * np.exp(-0.5 * (d**2).sum(-1))

    K = k(Xe, Xe) + noise * np.eye(len(Xe))
    Ks = k(Xe, Xs)
    return Ks.T @ np.linalg.solve(K, ye), outputscale - (Ks * np.linalg.solve(K, Ks)).sum(0)


@pytest.mark.parametrize("shared", [True, False])
def test_predictive_is_the_rbcm_of_exact_gp_experts(shared):
    """The noisy predictive, rebuilt in numpy from the learnt hyper-parameters: exact GP
    experts, the rBCM of Deisenroth & Ng (2015) eq. 20-21 (with per-expert priors, each
    expert's update of its own prior, surrogates/gp/aggregation.py), plus the mean noise
    variance."""
    X, y, _ = noisy_data(240, seed=3)
    Xs = SQUARE.sample_uniform(50, 4)
    s = RBCM(SMOOTH, space=SQUARE, shared_hyperparameters=shared, recalibration="none",
             **SMALL_RBCM).fit(X, y, progress=False)
    pred = s.predict(Xs)
    ex = s.experts_
    xs = s._inputs(Xs).numpy()
    n_experts = ex.X.shape[0]
    kern = ex.covar_module
    lengthscale = np.broadcast_to(kern.base_kernel.lengthscale.detach().numpy().reshape(-1, 2),
                                  (n_experts, 2))
    outputscale = np.broadcast_to(kern.outputscale.detach().numpy(), n_experts)
    noise = np.broadcast_to(ex.noise_variance().detach().numpy().ravel(), n_experts)
    means, variances = [], []
    for j in range(n_experts):
        m = ex.mask[j].numpy()
        mu, var = _exact_expert_moments(ex.X[j].numpy()[m], ex.y[j].numpy()[m], xs,
                                        lengthscale[j], outputscale[j], noise[j])
        means.append(mu)
        variances.append(var)
    mean, var = np.array(means), np.array(variances)
    prior = outputscale[:, None]
    beta = 0.5 * (np.log(prior) - np.log(var))
    # each expert's update of its own prior, times the priors' geometric mean
    precision = (beta * (1 / var - 1 / prior)).sum(0) + np.mean(1 / prior)
    latent_mean = (beta / var * mean).sum(0) / precision
    noisy_var = 1 / precision + noise.mean()
    scale = s.target_transform_.scale
    np.testing.assert_allclose(pred.std, np.sqrt(noisy_var) * scale, rtol=1e-6)
    np.testing.assert_allclose(pred.mean, s.target_transform_.inverse(latent_mean), rtol=1e-6)


# ------------------------------------------------------------------------ local experts
def test_nearest_experts_all_chosen_is_the_rbcm_of_all_experts():
    """With n_nearest = the number of experts every expert is chosen at every point, so the
    chosen-experts path must give the all-experts rBCM (sums in another order)."""
    X, y, _ = noisy_data(240, seed=3)
    Xs = SQUARE.sample_uniform(50, 4)
    s = RBCM(SMOOTH, space=SQUARE, partition="tree", recalibration="none",
             **SMALL_RBCM).fit(X, y, progress=False)
    all_experts = s.predict(Xs)
    s.n_nearest = 3
    chosen = s.predict(Xs)
    np.testing.assert_allclose(chosen.mean, all_experts.mean, rtol=1e-10)
    np.testing.assert_allclose(chosen.std, all_experts.std, rtol=1e-10)


def test_local_experts_learn_their_own_kernel_and_noise_and_the_nearest_predicts():
    """On a strip (x1 < 0.3) whose long axis is x0, sin(25 x0) with noise 0.3 where
    x0 < 0.5 and the slow x0 with noise 0.02 above: the tree cuts at x0 = 0.5, and each
    local expert fits its half's noise (within 30 %) and lengthscale (the left's in x0 far
    shorter) from the shared fit's single values; a point is then predicted with the noise
    of its side's expert. An expert's kernel fitted on the other's points would not
    separate them."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(800, 2)) * np.array([1.0, 0.3])
    left = X[:, 0] < 0.5
    y = np.where(left, np.sin(25 * X[:, 0]), X[:, 0])
    y = y + np.where(left, 0.3, 0.02) * rng.normal(size=len(X))
    s = RBCM(SMOOTH, space=SQUARE, partition="tree", n_experts=2, n_iter=60, n_iter_local=150,
             n_nearest=1, recalibration="none", precision="float64", device="cpu")
    s.fit(X, y, progress=False)
    left = int(s.centroids_[:, 0].argmin())
    sd = np.sqrt(s.experts_.noise_variance().detach().numpy().ravel()) * s.target_transform_.scale
    np.testing.assert_allclose([sd[left], sd[1 - left]], [0.3, 0.02], rtol=0.3)
    lengthscale = s.experts_.covar_module.base_kernel.lengthscale.detach().numpy()[:, 0, 0]
    assert lengthscale[left] < lengthscale[1 - left] / 5  # 37x when fitted as intended
    pred = s.predict(np.array([[0.2, 0.15], [0.8, 0.15]]))
    assert 0.8 * 0.3 < pred.std[0] < 1.5 * 0.3 and pred.std[1] < 0.1


def test_nearest_experts_predict_finite_noise_where_an_expert_is_exact():
    """At its own training points a float32 expert of noise-free data has a variance that
    round-off makes 0 or negative (clipped as the aggregation clips it): the rBCM weight of
    that expert must not overflow the noise average into NaN."""
    X = SQUARE.sample_uniform(1200, 0)
    s = RBCM(SMOOTH, space=SQUARE, partition="tree", n_experts=2, n_nearest=2, n_iter=40,
             min_noise=1e-6, recalibration="none", device="cpu")
    s.fit(X, smooth(X), progress=False)
    U = s._inputs(X)
    chosen = torch.cdist(U / s.metric_scale_, s.centroids_).topk(2, largest=False)[1]
    var = s.experts_.predict_latent_selected(U, chosen)[1]
    assert (var < 1e-30).any()  # the case this guards: experts exact at their points
    assert torch.isfinite(s._latent(U)[2]).all() and np.isfinite(s.predict(X).std).all()


# ------------------------------------------------ models saved with calibrate_variance
SAVED = Path(__file__).parent / "data" / "saved"


def test_a_model_saved_with_calibrate_variance_loads_as_variance_scale():
    """An rBCM saved before the common recalibration (calibrate_variance=True, its scale in
    the state) loads as recalibration='variance_scale' and predicts as it did."""
    before = json.loads((SAVED / "rbcm_calibrate_variance_predictions.json").read_text())
    model = RBCM.load(SAVED / "rbcm_calibrate_variance")
    assert model.recalibration == "variance_scale"
    assert model.recalibration_.s2 == before["variance_scale"]
    pred = model.predict(np.array(before["X"]))
    np.testing.assert_allclose(pred.mean, before["mean"], rtol=1e-12)
    np.testing.assert_allclose(pred.std, before["std"], rtol=1e-12)


def test_a_model_saved_with_two_recalibrations_fails_clearly():
    with pytest.raises(ValueError, match="calibrate_variance=True and recalibration='local_scale'"):
        RBCM.load(SAVED / "rbcm_two_recalibrations")
