import numpy as np
import pandas as pd
import pytest

from surrogates.data import features, labels, load_dataset, load_points, split_dataset
from surrogates.data.problems import PROBLEM_FLAGS, problem_flags
from surrogates.space import PARAMETER_NAMES
from tests.conftest import SHARED_DATA


def test_target_selections_follow_the_provenance():
    points = load_points()
    v, h, x = (load_dataset(t) for t in ("validity", "higgs_mass", "xsec"))
    assert len(v) == len(points)
    assert set(np.unique(labels(v, "validity"))) == {0.0, 1.0}
    assert (h["valid"] == 1).all() and h["h0"].between(110, 130).all()
    expected = ((points.valid == 1) & points.h0.between(110, 130)).sum()
    assert len(h) == expected
    assert (x["valid"] == 1).all() and (x["xsec_n2c1_fb"] > 0).all()
    assert len(x) == points["xsec_n2c1_fb"].notna().sum()


def test_embedded_rows_equal_the_reference_rows():
    full = SHARED_DATA / "pmssm19_softsusy" / "points.csv.gz"
    if not full.is_file():
        pytest.skip("reference data ../shared not present")
    ref = pd.read_csv(full).set_index("id")
    emb = load_points().set_index("id")
    cols = [*PARAMETER_NAMES, "valid", "h0", "xsec_n2c1_fb"]
    pd.testing.assert_frame_equal(emb[cols], ref.loc[emb.index, cols])


def test_split_is_deterministic_disjoint_and_80_10_10():
    df = load_dataset("higgs_mass")
    a, b = split_dataset(df, seed=3), split_dataset(df, seed=3)
    pd.testing.assert_frame_equal(a.test, b.test)
    ids = [set(p["id"]) for p in (a.train, a.val, a.test)]
    assert sum(len(s) for s in ids) == len(df) == len(set.union(*ids))
    # a row's part is a Bernoulli draw keyed on its id: sizes within 4 binomial std
    n = len(df)
    for part, frac in ((a.train, 0.8), (a.val, 0.1)):
        assert abs(len(part) - frac * n) < 4 * np.sqrt(n * frac * (1 - frac))
    assert set(split_dataset(df, seed=4).test["id"]) != ids[2]


def test_split_of_a_subset_is_the_subset_of_the_split():
    points = load_points()
    whole = split_dataset(points, seed=1)
    for target in ("validity", "higgs_mass", "xsec"):
        part = split_dataset(load_dataset(target, points), seed=1)
        for name in ("train", "val", "test"):
            assert set(getattr(part, name)["id"]) <= set(getattr(whole, name)["id"])
    shuffled = split_dataset(points.sample(frac=1.0, random_state=0), seed=1)
    assert set(shuffled.test["id"]) == set(whole.test["id"])  # the order does not matter


def test_a_table_without_ids_is_split_by_rows_exactly():
    df = load_points().drop(columns="id").iloc[:1000]
    split = split_dataset(df, seed=0)
    assert (len(split.train), len(split.val), len(split.test)) == (800, 100, 100)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_user_files_with_columns_in_any_order(tmp_path, suffix):
    df = load_points().iloc[:50]
    shuffled = df[list(reversed(df.columns))]
    path = tmp_path / f"mine{suffix}"
    shuffled.to_parquet(path) if suffix == ".parquet" else shuffled.to_csv(path, index=False)
    back = load_dataset("higgs_mass", path)
    np.testing.assert_array_equal(features(back), features(load_dataset("higgs_mass", df)))


def test_missing_columns_and_files():
    with pytest.raises(ValueError, match="does not exist"):
        load_points("/nonexistent.csv")
    with pytest.raises(ValueError, match="no column 'xsec_n2c1_fb'"):
        load_dataset("xsec", load_points().drop(columns="xsec_n2c1_fb"))


def test_packaged_full_data_equals_the_reference_file():
    full = SHARED_DATA / "pmssm19_softsusy" / "points.csv.gz"
    if not full.is_file():
        pytest.skip("reference data ../shared not present")
    ref = pd.read_csv(full)
    packaged = load_points("full")
    cols = [*PARAMETER_NAMES, "valid", "h0", "xsec_n2c1_fb"]
    assert len(packaged) == len(ref) == 314_910
    pd.testing.assert_frame_equal(packaged[cols], ref[cols], check_dtype=False, rtol=0, atol=0)
    assert (packaged["problem"].fillna("") == ref["problem"].fillna("")).all()


def test_problem_flags_name_each_softsusy_problem_of_a_point():
    points = pd.DataFrame({"problem": [
        None, "No convergence A0 tachyon A0 is tree-level tachyon at MZ m3sq-problem",
        "No rho convergence Z tachyon", "stop tachyon Higgs potential ufb", "selectron tachyon",
        "frobnication"]})
    flags = problem_flags(points)
    assert flags.shape == (6, len(PROBLEM_FLAGS) + 1) and flags.dtype == np.float32
    named = [{PROBLEM_FLAGS[j] for j in np.flatnonzero(row[:-1])} for row in flags]
    assert named == [set(), {"No convergence", "A0 tachyon", "m3sq-problem"},
                     {"No rho convergence", "Z tachyon"}, {"stop tachyon", "Higgs potential ufb"},
                     {"selectron tachyon"}, set()]
    assert flags[:, -1].tolist() == [0, 0, 0, 0, 0, 1]  # text that names no known problem
    with pytest.raises(ValueError, match="no column 'problem'"):
        problem_flags(points.rename(columns={"problem": "reason"}))


def test_every_invalid_reference_point_has_a_named_problem_and_no_valid_one_has():
    points = load_points("full")
    flags = problem_flags(points)
    assert not flags[:, -1].any()
    np.testing.assert_array_equal(flags[:, :-1].any(axis=1), points["valid"].to_numpy() == 0)


def test_full_data_sets_have_the_provenance_counts():
    # PROVENANCE.md, "Counts": valid 110 <= h0 <= 130 (OHIGGS) and the XSEC set
    assert len(load_dataset("higgs_mass", "full")) == 123_690
    assert len(load_dataset("xsec", "full")) == 89_542


def test_unknown_packaged_name_is_a_clear_error():
    with pytest.raises(ValueError, match="packaged data: embedded, full"):
        load_points("fulll")
