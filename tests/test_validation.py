import numpy as np
import pandas as pd
import pytest

from surrogates.space import PARAMETER_NAMES, PMSSM19
from surrogates.targets import get_target
from surrogates.validation import Domain, check_features, check_target


def _frame(n=4):
    return pd.DataFrame(np.arange(n * 19, dtype=float).reshape(n, 19), columns=PARAMETER_NAMES)


def test_dataframe_columns_in_any_order_and_extra_columns():
    df = _frame()
    shuffled = df[list(reversed(PARAMETER_NAMES))].assign(id="x", h0=1.0)
    np.testing.assert_array_equal(check_features(shuffled, space=PMSSM19), df.to_numpy())


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="missing the pMSSM-19 column.*mtauR3"):
        check_features(_frame().drop(columns="mtauR3"), space=PMSSM19)


def test_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(4, 18\); expected \(n_points, 19\)"):
        check_features(np.zeros((4, 18)), space=PMSSM19)
    with pytest.raises(ValueError, match="no rows"):
        check_features(np.zeros((0, 19)), space=PMSSM19)


def test_nan_names_the_column():
    df = _frame()
    df.loc[2, "mqL3"] = np.nan
    with pytest.raises(ValueError, match=r"column 'mqL3' \(index 14\): 1 row\(s\) are NaN or inf"):
        check_features(df, space=PMSSM19)


def test_non_numeric_column():
    df = _frame().astype({"tanb": object})
    df.loc[0, "tanb"] = "ten"
    with pytest.raises(ValueError, match="tanb"):
        check_features(df, space=PMSSM19)


def test_targets_are_checked():
    with pytest.raises(ValueError, match="labels 0 or 1"):
        check_target([0, 1, 2], get_target("validity"), 3)
    with pytest.raises(ValueError, match="must be > 0 fb"):
        check_target([1.0, 0.0], get_target("xsec"), 2)
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        check_target([1.0, 2.0], get_target("higgs_mass"), 3)
    with pytest.raises(ValueError, match="NaN or inf"):
        check_target([1.0, np.nan], get_target("higgs_mass"), 2)


def test_domain_flags_and_describes_points_outside():
    X = _frame(10).to_numpy()
    dom = Domain.from_data(X)
    Y = X.copy()
    Y[3, 14] = -12.5
    assert dom.outside(Y).tolist() == [i == 3 for i in range(10)]
    described = dom.describe_outside(Y, PMSSM19)
    assert "column 'mqL3' (index 14): 1 row(s) outside the training box" in described
    assert "min -12.5" in dom.describe_outside(Y, PMSSM19)
