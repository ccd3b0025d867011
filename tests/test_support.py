"""Support models (where a target has a value) and the likelihoods' convention for them."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from likelihoods import FunctionObservable, GaussianMeasurement, SignalRegion
from likelihoods.base import SUPPORT_FLOOR
from likelihoods.counting import log_width, profile_log_likelihood, saturated_log_likelihood
from surrogates import Surrogate
from surrogates.data import labels
from surrogates.mlp import MLPEnsemble
from surrogates.prediction import Prediction
from surrogates.space import PMSSM19
from surrogates.targets import TARGETS, Quantity, Selection, Target

SPACE = PMSSM19
TARGET = Target(Quantity("O", "regression", "fb", "standardize"),
                Selection("O", "test", requires_valid=False))
SR = {"n_observed": 9, "background": 4.0, "background_error": 1.0, "luminosity": 10.0,
      "efficiency": 0.5, "signal_rel_error": 0.1}


@pytest.fixture(scope="module")
def supported() -> MLPEnsemble:
    return _supported_model()


def _supported_model(seed: int = 0) -> MLPEnsemble:
    """A regression on the pMSSM-19 box with a support model of "M1 > 0" (the value exists
    there, as sigma exists only for some neutralino mixings)."""
    X = SPACE.sample_uniform(2000, seed)
    defined = (X[:, 0] > 0).astype(float)
    model = MLPEnsemble(TARGET, space=SPACE, hidden=[16], n_members=2, epochs=5, seed=seed)
    model.fit(X[defined == 1], 1.0 + X[defined == 1, 1] / 4000.0, progress=False)
    model.fit_support(X, defined, options={"hidden": [32, 32], "n_members": 2, "epochs": 60,
                                           "lr": 3e-3}, progress=False)
    return model


def test_target_support_labels_follow_the_data_set_selection():
    points = pd.DataFrame({
        "valid": [1, 1, 1, 0, 1],
        "xsec_n2c1_fb": [10.0, np.nan, 0.5, np.nan, np.nan],
        "h0": [125.0, 109.0, 130.0, np.nan, 131.0],
    })
    xsec, higgs = TARGETS["xsec"], TARGETS["higgs_mass"]
    np.testing.assert_array_equal(labels(points, xsec.support()), [1, 0, 1, 0, 0])
    np.testing.assert_array_equal(labels(points, higgs.support()), [1, 0, 1, 0, 0])
    support = higgs.support()
    assert support.is_classifier and support.requires_valid
    assert support.name == "higgs_mass_defined" and "[110, 130] GeV" in support.paper_name
    # the support model is trained on the valid points: its selection keeps exactly those
    assert support.select(points).tolist() == [True, True, True, False, True]
    with pytest.raises(ValueError, match="classifier"):
        TARGETS["validity"].support()


def test_predict_returns_the_support_probability_and_it_survives_save_and_load(
    tmp_path, supported
):
    model = supported
    X = SPACE.sample_uniform(1000, 7)
    pred = model.predict(X)
    truth = X[:, 0] > 0
    assert pred.p_defined.shape == (1000,)
    assert ((pred.p_defined > 0.5) == truth).mean() > 0.95
    folder = model.save(tmp_path / "m")
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["support"]["target"]["name"] == "O_defined"
    assert {"support/metadata.json", "support/tensors.safetensors"} <= set(meta["files"])
    loaded = Surrogate.load(folder)
    np.testing.assert_array_equal(loaded.predict(X).p_defined, pred.p_defined)
    np.testing.assert_array_equal(loaded.predict(X).mean, pred.mean)
    assert MLPEnsemble(TARGET, space=SPACE, hidden=[4], n_members=1, epochs=1).fit(
        X, X[:, 1], progress=False
    ).predict(X).p_defined is None


def test_a_damaged_support_file_is_named_on_load(tmp_path, supported):
    folder = supported.save(tmp_path / "m")
    tensors = folder / "support" / "tensors.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ValueError, match=r"support/tensors.safetensors is damaged"):
        Surrogate.load(folder)


def test_the_classifier_has_no_support_model():
    model = MLPEnsemble("validity", hidden=[4], n_members=1, epochs=1)
    with pytest.raises(ValueError, match="no support model"):
        model.fit_support(np.zeros((2, 19)), [0, 1])


def _observable(mean, std, p):
    return FunctionObservable(lambda X: (np.full(len(X), mean), np.full(len(X), std),
                                         np.full(len(X), p)), space=PMSSM19)


def test_gaussian_measurement_multiplies_by_the_probability_of_existing():
    X = np.full((1, 19), 100.0)
    mean, std, p = 124.0, 0.5, 0.3
    term = GaussianMeasurement("mh", _observable(mean, std, p), 125.0, 0.2, 2.0)
    expected = np.log(p) + norm.logpdf(125.0, mean, np.sqrt(0.2**2 + 2.0**2 + std**2))
    np.testing.assert_allclose(term.log_likelihood(X), expected, rtol=1e-12)
    ignored = GaussianMeasurement("mh", _observable(mean, std, p), 125.0, 0.2, 2.0,
                                  support="ignore")
    np.testing.assert_allclose(ignored.log_likelihood(X), expected - np.log(p), rtol=1e-12)
    absent = GaussianMeasurement("mh", _observable(mean, std, 0.0), 125.0, 0.2, 2.0)
    assert absent.log_likelihood(X)[0] == -np.inf


def test_signal_region_mixes_signal_and_no_signal_by_hand():
    X = np.full((1, 19), 100.0)
    sigma, p = 1.4, 0.35  # fb; s = 10 * 1.4 * 0.5 = 7 events
    term = SignalRegion("sr", _observable(sigma, 0.0, p), **SR)
    k_s, k_b = log_width(0.1), log_width(1.0 / 4.0)
    sat = saturated_log_likelihood(9, 4.0, k_b)
    ll = {s: profile_log_likelihood(9, np.array([s]), 4.0, np.array([k_s]), k_b)[0][0] - sat
          for s in (7.0, 0.0)}
    expected = np.log(p * np.exp(ll[7.0]) + (1 - p) * np.exp(ll[0.0]))
    np.testing.assert_allclose(term.log_likelihood(X), expected, rtol=1e-10)


def test_a_point_without_cross_section_gets_no_signal():
    X = np.full((1, 19), 100.0)
    none = SignalRegion("sr", _observable(200.0, 0.0, 0.0), **SR)
    zero = SignalRegion("sr", _observable(0.0, 0.0, 1.0), **SR)
    np.testing.assert_allclose(none.log_likelihood(X), zero.log_likelihood(X), rtol=1e-12)
    ignored = SignalRegion("sr", _observable(200.0, 0.0, 0.0), **SR, support="ignore")
    assert ignored.log_likelihood(X)[0] < zero.log_likelihood(X)[0] - 10


def test_the_terms_use_a_surrogate_support_model(supported):
    model = supported
    X = SPACE.sample_uniform(2, 3)
    X[:, 0] = [2500.0, -2500.0]  # M1 in GeV: the value exists at the first point only
    term = GaussianMeasurement("o", model, 1.0, 0.5)
    frame = term.evaluate(X)
    assert frame["p_defined"][0] > 0.9 and frame["p_defined"][1] < 0.1
    assert frame["logl"][1] < frame["logl"][0] - 2


@pytest.mark.parametrize("make", [
    lambda obs: GaussianMeasurement("mh", obs, 125.0, 0.2, 2.0),
    lambda obs: SignalRegion("sr", obs, **SR),
])
def test_the_terms_report_p_defined_and_take_a_zero_probability_silently(make):
    X = np.full((3, 19), 100.0)
    p = np.array([0.0, 0.25, 1.0])
    obs = FunctionObservable(lambda X: (np.full(len(X), 124.0), np.full(len(X), 0.5), p),
                             space=PMSSM19)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning from ln 0
        frame = make(obs).evaluate(X)
    np.testing.assert_array_equal(frame["p_defined"], p)
    assert np.all(np.isfinite(frame["logl"][1:]))


class _Extrapolating:
    """Four points: p_defined below / above the floor, the value model's and the support
    model's own outside-domain flags set one at a time."""

    space = PMSSM19
    p = np.array([SUPPORT_FLOOR / 10, 0.5, SUPPORT_FLOOR / 10, SUPPORT_FLOOR, 0.5])
    value_outside = np.array([True, True, False, True, False])
    support_outside = np.array([False, False, True, False, False])

    def predict(self, X):
        n = len(X)
        return Prediction(mean=np.full(n, 124.0), std=np.full(n, 0.5), samples=None,
                          weights=None, outside_domain=self.value_outside, p_defined=self.p,
                          support_outside=self.support_outside)


@pytest.mark.parametrize("make", [
    lambda obs, **kw: GaussianMeasurement("mh", obs, 125.0, 0.2, 2.0, **kw),
    lambda obs, **kw: SignalRegion("sr", obs, **SR, **kw),
])
def test_an_extrapolated_value_counts_only_where_it_can_matter(make):
    """Under the mixture the value model's flag counts where p_defined >= SUPPORT_FLOOR,
    the support model's everywhere; support="ignore" uses the value everywhere, so its flag."""
    X = np.full((5, 19), 100.0)
    frame = make(_Extrapolating()).evaluate(X)
    np.testing.assert_array_equal(frame["outside"], [False, True, True, True, False])
    np.testing.assert_array_equal(np.isfinite(frame["logl"]), [True, False, False, False, True])
    ignored = make(_Extrapolating(), support="ignore").evaluate(X)
    np.testing.assert_array_equal(ignored["outside"], _Extrapolating.value_outside)


def test_a_surrogate_reports_its_support_models_own_domain(supported):
    """The value model learnt on M1 > 0 only: at M1 = -2500 GeV its box is left, the support
    model's (the whole sample) is not, and the value does not exist there, so the terms
    keep the point; past the support model's box in M2 both flags are set."""
    X = SPACE.sample_uniform(3, 4)
    X[:, 0] = [2500.0, -2500.0, 2500.0]
    X[2, 1] = SPACE.high[1]  # beyond the largest M2 of the 2,000 training draws
    pred = supported.predict(X)
    np.testing.assert_array_equal(pred.outside_domain, [False, True, True])
    np.testing.assert_array_equal(pred.support_outside, [False, False, True])
    frame = SignalRegion("sr", supported, **SR).evaluate(X)
    assert pred.p_defined[1] < SUPPORT_FLOOR
    np.testing.assert_array_equal(frame["outside"], [False, False, True])
    assert np.isfinite(frame["logl"][1]) and frame["logl"][2] == -np.inf


def test_a_support_flag_of_the_wrong_shape_is_named():
    bad = _Extrapolating()
    bad.support_outside = np.zeros(2, bool)
    with pytest.raises(ValueError, match=r"support_outside of shape \(2,\); expected \(5,\)"):
        SignalRegion("sr", bad, **SR).evaluate(np.full((5, 19), 100.0))
