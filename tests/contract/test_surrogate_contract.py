"""The contract every registered Surrogate family must meet, on every target.

Each family is trained once per target with its ``tiny`` budget on 480 embedded points.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from surrogates.base import FORMAT_VERSION, Surrogate
from surrogates.data import features, labels
from surrogates.registry import MODELS, get_model_class
from surrogates.space import PARAMETER_NAMES
from surrogates.validation import OutsideDomainError

CASES = [(m, t) for m in MODELS for t in ("validity", "higgs_mass", "xsec")]


def _train(model, target, splits, seed=0):
    cls = get_model_class(model)
    split = splits[target]
    s = cls(target, seed=seed, device="cpu", **cls.budgets["tiny"])
    return s.fit(
        features(split.train),
        labels(split.train, target),
        X_val=features(split.val),
        y_val=labels(split.val, target),
        progress=False,
    )


@pytest.fixture(scope="module", params=CASES, ids=[f"{m}-{t}" for m, t in CASES])
def fitted(request, small_splits):
    model, target = request.param
    return model, target, _train(model, target, small_splits)


def test_prediction_shapes_and_ranges(fitted, small_splits):
    model, target, s = fitted
    X = features(small_splits[target].test)
    pred = s.predict(X)
    n = len(X)
    assert pred.mean.shape == pred.std.shape == pred.outside_domain.shape == (n,)
    assert np.isfinite(pred.mean).all() and (pred.std >= 0).all()
    assert pred.target == target
    if pred.samples is not None:
        assert pred.samples.ndim == 2 and pred.samples.shape[1] == n
    if s.target.is_classifier:
        assert ((pred.mean >= 0) & (pred.mean <= 1)).all()
        proba = s.predict_proba(X)
        assert proba.shape == (n, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        with pytest.raises(ValueError, match="predict_proba is for the validity classifier"):
            s.predict_proba(X)
    if target == "xsec":
        assert (pred.mean > 0).all()


def test_save_load_gives_identical_predictions(fitted, small_splits, tmp_path):
    model, target, s = fitted
    X = features(small_splits[target].test)
    s.save(tmp_path / "m")
    for loader in (Surrogate, get_model_class(model)):
        back = loader.load(tmp_path / "m", device="cpu")
        assert type(back) is type(s) and back.get_config() == s.get_config()
        a, b = s.predict(X), back.predict(X)
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.std, b.std)


def test_columns_in_any_order(fitted, small_splits):
    _, target, s = fitted
    df = small_splits[target].test
    shuffled = df[list(reversed(PARAMETER_NAMES))]
    np.testing.assert_array_equal(s.predict(df).mean, s.predict(shuffled).mean)


def test_bad_inputs(fitted, small_splits):
    _, target, s = fitted
    df = small_splits[target].test[list(PARAMETER_NAMES)].copy()
    with pytest.raises(ValueError, match="missing the pMSSM-19 column.*At"):
        s.predict(df.drop(columns="At"))
    df.iloc[1, 3] = np.nan
    with pytest.raises(ValueError, match="column 'mu'"):
        s.predict(df)


def test_outside_domain_is_flagged_or_raises(fitted, small_splits):
    _, target, s = fitted
    X = features(small_splits[target].test)[:5].copy()
    X[2, 5] = 75.0  # tan beta above the box
    assert s.predict(X).outside_domain.tolist() == [False, False, True, False, False]
    with pytest.raises(OutsideDomainError, match="column 'tanb' .* max 75"):
        s.predict(X, strict=True)


@pytest.mark.parametrize("model", list(MODELS))
def test_same_seed_same_model(model, small_splits):
    X = features(small_splits["higgs_mass"].test)
    a = _train(model, "higgs_mass", small_splits, seed=5).predict(X)
    b = _train(model, "higgs_mass", small_splits, seed=5).predict(X)
    np.testing.assert_array_equal(a.mean, b.mean)


def test_format_version_mismatch_is_a_clear_error(fitted, tmp_path):
    _, _, s = fitted
    path = s.save(tmp_path / "m")
    meta = json.loads((path / "metadata.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1}"):
        Surrogate.load(path)


def test_unfitted_and_non_model_folders(tmp_path):
    cls = get_model_class("mlp")
    with pytest.raises(ValueError, match="not fitted"):
        cls("higgs_mass", **cls.budgets["tiny"]).predict(np.zeros((1, 19)))
    with pytest.raises(ValueError, match="not a saved surrogate"):
        Surrogate.load(tmp_path)
