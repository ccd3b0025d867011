"""Surrogates on a parameter space of one's own: validation names its columns, saving keeps it."""

import numpy as np
import pandas as pd
import pytest

from surrogates import Surrogate
from surrogates.mlp import MLPEnsemble
from surrogates.space import ParameterSpace
from surrogates.targets import Quantity, Selection, Target

SPACE = ParameterSpace.box([-1.0, -1.0, 0.0], [1.0, 1.0, 5.0], name="cube3")
TARGET = Target(Quantity("O", "regression", "", "standardize"),
                Selection("O", "test", requires_valid=False))


def _data(n, seed):
    X = SPACE.sample_uniform(n, seed)
    return X, X[:, 0] ** 2 + np.sin(X[:, 2])


def test_fit_predict_save_load_on_a_custom_space(tmp_path):
    X, y = _data(300, 0)
    model = MLPEnsemble(TARGET, space=SPACE, hidden=[16], n_members=2, epochs=5, seed=1)
    model.fit(X, y, progress=False)
    frame = pd.DataFrame(X[:10], columns=["x1", "x2", "x3"])[["x3", "x1", "x2"]]
    np.testing.assert_allclose(model.predict(frame).mean, model.predict(X[:10]).mean)
    loaded = Surrogate.load(model.save(tmp_path / "m"))
    assert loaded.space == SPACE and loaded.target == TARGET
    np.testing.assert_array_equal(loaded.predict(X).mean, model.predict(X).mean)


def test_validation_names_the_custom_columns():
    X, y = _data(50, 0)
    model = MLPEnsemble(TARGET, space=SPACE, hidden=[4], n_members=1, epochs=1)
    with pytest.raises(ValueError, match=r"expected \(n_points, 3\) with columns x1, x2, x3"):
        model.fit(X[:, :2], y, progress=False)
    with pytest.raises(ValueError, match="missing the cube3 column"):
        model.fit(pd.DataFrame(X[:, :2], columns=["x1", "x2"]), y, progress=False)
    model.fit(X, y, progress=False)
    X_out = X.copy()
    X_out[0, 2] = 9.0
    with pytest.raises(ValueError, match=r"column 'x3' \(index 2\): 1 row\(s\) outside"):
        model.predict(X_out, strict=True)
