"""BNNEnsemble behind the Surrogate interface: tiny budgets on slices of the embedded data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from surrogates.base import Surrogate
from surrogates.bnn import BNNEnsemble
from surrogates.data import features, labels
from surrogates.registry import get_model_class


def _fit(split, target, **config):
    model = BNNEnsemble(target, **{**BNNEnsemble.budgets["tiny"], **config})
    return model.fit(features(split.train), labels(split.train, target),
                     X_val=features(split.val), y_val=labels(split.val, target), progress=False)


@pytest.fixture(scope="module")
def regressor(small_splits):
    return _fit(small_splits["higgs_mass"], "higgs_mass")


@pytest.fixture(scope="module")
def classifier(small_splits):
    return _fit(small_splits["validity"], "validity")


def test_registry_and_budgets():
    assert get_model_class("bnn") is BNNEnsemble
    for name in BNNEnsemble.budgets:
        for target in ("validity", "higgs_mass", "xsec"):
            BNNEnsemble(target, **BNNEnsemble.budget_config(name, target))
    paper = BNNEnsemble.budget_config("paper", "xsec")
    assert paper["baseline"] == "ln_xsec_tree" and paper["heteroscedastic"]
    assert not BNNEnsemble.budget_config("paper", "validity")["heteroscedastic"]
    with pytest.raises(ValueError, match="has no budget 'huge'"):
        BNNEnsemble.budget_config("huge", "xsec")


def test_regression_prediction_and_diagnostics(regressor, small_splits):
    X = features(small_splits["higgs_mass"].test)
    pred = regressor.predict(X)
    n = len(X)
    assert pred.samples.shape == (regressor.n_members, n)
    assert pred.mean.shape == pred.std.shape == (n,)
    assert np.all(np.isfinite(pred.samples)) and np.all(pred.std > 0)
    assert pred.unit == "GeV" and pred.weights is None
    info = regressor.fit_info_
    assert 0 <= info["sampler"]["accept_rate"] <= 1
    assert len(info["sampler"]["step_size_per_chain"]) == regressor.n_chains
    assert set(info["convergence"]) == {"rhat_median", "rhat_max", "ess_bulk_median",
                                        "ess_bulk_min", "ess_within_median"}
    assert info["noise_sigma_mean"] > 0


def test_noisy_members_add_stratified_noise(regressor, small_splits):
    """Noisy members are the function members plus sigma_k q_k, q_k normal quantiles."""
    X = features(small_splits["higgs_mass"].test)
    noisy = regressor.predict(X).samples
    regressor.predictive = "function"
    try:
        function = regressor.predict(X).samples
    finally:
        regressor.predictive = "noisy"
    k = regressor.n_members
    q = regressor._quantiles.double().numpy()
    np.testing.assert_allclose(np.sort(q), stats.norm.ppf((np.arange(k) + 0.5) / k), rtol=1e-6)
    shift = regressor.target_transform_.scale * regressor._noise.double().numpy() * q
    np.testing.assert_allclose(noisy - function, np.broadcast_to(shift[:, None], noisy.shape),
                               rtol=1e-4, atol=1e-4)


def test_classifier_probabilities_in_unit_interval(classifier, small_splits):
    X = features(small_splits["validity"].test)
    pred = classifier.predict(X)
    assert np.all((pred.samples >= 0) & (pred.samples <= 1))
    assert np.all((pred.mean >= 0) & (pred.mean <= 1))
    proba = classifier.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert "noise_sigma_mean" not in classifier.fit_info_


def test_save_load_round_trip_is_exact(regressor, small_splits, tmp_path):
    X = features(small_splits["higgs_mass"].test)
    regressor.reweight(hyper_scale=0.5)
    try:
        before = regressor.predict(X)
        loaded = Surrogate.load(regressor.save(tmp_path / "bnn"))
    finally:
        regressor.member_weights_ = regressor.reweighted_prior_ = None
    assert isinstance(loaded, BNNEnsemble)
    assert loaded.get_config() == regressor.get_config()
    after = loaded.predict(X)
    assert np.array_equal(before.samples, after.samples)
    assert np.array_equal(before.weights, after.weights)
    assert np.array_equal(before.mean, after.mean) and np.array_equal(before.std, after.std)
    assert loaded.reweighted_prior_ == {"family": "cauchy", "scale": None, "hyper_scale": 0.5}


def test_reweight_to_own_prior_is_uniform(classifier):
    kish = classifier.reweight()
    assert kish == pytest.approx(classifier.n_members, rel=1e-6)
    np.testing.assert_allclose(classifier.member_weights_.numpy(), 1 / classifier.n_members,
                               rtol=1e-5)


def test_reweight_rejects_a_different_parameterisation(regressor):
    with pytest.raises(ValueError, match="prior_scale can only be changed"):
        regressor.reweight(prior_scale=1.0)
    fixed = BNNEnsemble("xsec", prior_scale=1.0)
    fixed.domain_ = regressor.domain_  # fitted enough for the check
    with pytest.raises(ValueError, match="hyper_scale can only be changed"):
        fixed.reweight(hyper_scale=2.0)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"n_chains": 0}, r"'n_chains' .* an int in the range \[1, inf\)\. Got 0 instead"),
        ({"thin": 1.5}, r"'thin' .* an int in the range \[1, inf\)\. Got 1.5"),
        ({"prior": "laplace"}, r"'prior' .* \{'cauchy', 'gaussian'\}\. Got 'laplace'"),
        ({"prior_scale": -1.0}, r"'prior_scale' .* \(0, inf\) or None\. Got -1.0"),
        ({"predictive": "both"}, "'predictive' .* must be one of"),
        ({"target_accept": 1.0}, r"'target_accept' .* a float in the range \(0, 1\)\. Got 1.0"),
        ({"noise_sigma": 0.0}, "'noise_sigma' .* must be a float in"),
        ({"auxiliary_weight": -1.0}, r"'auxiliary_weight' .* \[0, inf\)\. Got -1.0"),
        ({"auxiliary_weight": 1.0}, "auxiliary_weight=1.0 needs a classifier; target "
                                    "'higgs_mass' is a regression"),
    ],
)
def test_invalid_configuration_is_named(config, message):
    with pytest.raises(ValueError, match=message):
        BNNEnsemble("higgs_mass", **config)


def test_classifier_learns_softsusy_problem_flags_and_saves_as_without(small_splits, tmp_path):
    """``auxiliary_weight``: fit needs ``y_aux`` (and other models refuse it); the trunks
    come out with one output, so the saved model is a plain classifier that loads and
    predicts as it was."""
    from surrogates.data.problems import PROBLEM_FLAGS, problem_flags
    from surrogates.mlp import MLPEnsemble

    split = small_splits["validity"]
    X, y = features(split.train), labels(split.train, "validity")
    flags = problem_flags(split.train)
    assert flags.shape == (len(X), len(PROBLEM_FLAGS) + 1)
    kw = {**BNNEnsemble.budgets["tiny"], "hmc_layers": "last", "auxiliary_weight": 3.0}
    model = BNNEnsemble("validity", **kw)
    with pytest.raises(ValueError, match="learns auxiliary labels: give y_aux"):
        model.fit(X, y, progress=False)
    with pytest.raises(ValueError, match=r"y_aux has shape \(21, 480\); expected \(480, n_aux\)"):
        model.fit(X, y, y_aux=flags.T, progress=False)
    with pytest.raises(ValueError, match="y_aux must hold labels 0 or 1; column 2, row 5 is 0.5"):
        bad = flags.copy()
        bad[5, 2] = 0.5
        model.fit(X, y, y_aux=bad, progress=False)
    model.fit(X, y, y_aux=flags, progress=False)
    assert model.fit_info_["n_auxiliary_labels"] == flags.shape[1]
    assert model.trunk_.weights[-1].shape[-1] == 1
    p = model.predict(features(split.test)).mean
    loaded = Surrogate.load(model.save(tmp_path / "aux"))
    assert loaded.auxiliary_weight == 3.0
    np.testing.assert_array_equal(loaded.predict(features(split.test)).mean, p)
    with pytest.raises(ValueError, match="learns no auxiliary labels; y_aux was given"):
        MLPEnsemble("validity", n_members=2, epochs=1).fit(X, y, y_aux=flags, progress=False)


def test_prediction_is_float32_and_chunked(regressor, small_splits, monkeypatch):
    X = features(small_splits["higgs_mass"].test)
    whole = regressor.predict(X).samples
    monkeypatch.setattr(BNNEnsemble, "predict_chunk_size", 7)
    # float32 matrix products may round differently with the chunk shape
    np.testing.assert_allclose(regressor.predict(X).samples, whole, rtol=1e-6)
    assert regressor.members_.dtype == torch.float32


@pytest.mark.parametrize("hmc_layers", ["all", "last"])
def test_warm_start_continues_the_pretraining_from_the_previous_networks(hmc_layers):
    """warm_start means for the BNN what it means for the MLP ensemble: a refit continues
    the previous fit's networks (the trunks, or each chain's last draw; with no further
    pre-training they are the starting points) in the input scaling and target transform
    they were learnt in."""
    from surrogates.bnn.pretrain import _loss
    from tests.synthetic import SMOOTH, SQUARE, noisy_data

    X, y, _ = noisy_data(300, seed=0)
    kw = {**BNNEnsemble.budgets["tiny"], "hmc_layers": hmc_layers, "n_burnin": 2,
          "n_samples": 2}
    warm = BNNEnsemble(SMOOTH, space=SQUARE, warm_start=True, **kw).fit(X, y, progress=False)
    scaler, previous = warm.input_scaler_, warm._previous_networks()
    warm.pretrain_epochs = 0
    warm.fit(X[:200], y[:200], progress=False)
    assert warm.input_scaler_ is scaler
    F = warm._features(X[:200])
    with torch.no_grad():
        start = _loss(previous, warm._inputs(F), warm._targets(y[:200], F), classifier=False,
                      selection=True).mean().item()
    assert warm.fit_info_["pretrain_val_loss"] == pytest.approx([start] * 3, rel=1e-6)
    if hmc_layers == "last":
        for a, b in zip(warm.trunk_.parameters(), previous.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_training_workflow_hands_the_problem_flags_to_a_model_that_learns_them(small_splits):
    from workflows.training import fit_on_split

    config = {"hmc_layers": "last", "auxiliary_weight": 1.0}
    model = fit_on_split("bnn", "validity", small_splits["validity"], budget="tiny",
                         config=config, progress=False)
    assert model.fit_info_["n_auxiliary_labels"] == 21
    plain = fit_on_split("bnn", "validity", small_splits["validity"], budget="tiny",
                         config={"hmc_layers": "last"}, progress=False)
    assert plain.fit_info_["n_auxiliary_labels"] == 0
