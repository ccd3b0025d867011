import json

import numpy as np
import pandas as pd
import pytest

from surrogates import Surrogate
from surrogates.data import features, load_dataset, split_dataset
from workflows.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    assert (
        main(["train", "--target", "xsec", "--model", "mlp", "--budget", "tiny", "--out", str(out)])
        == 0
    )
    return out


def test_train_writes_a_loadable_model(trained):
    meta = json.loads((trained / "metadata.json").read_text())
    assert meta["model"] == "mlp" and meta["target"] == "xsec"
    assert meta["fit_info"]["data"] == "embedded" and meta["config"]["n_members"] == 3


def test_evaluate_prints_and_writes_metrics(trained, capsys):
    assert main(["evaluate", "--model", str(trained)]) == 0
    printed = capsys.readouterr().out
    result = json.loads((trained / "evaluation_test.json").read_text())
    assert "mape_percent" in printed and result["n_points"] == len(
        split_dataset(load_dataset("xsec")).test
    )
    assert 0 <= result["coverage_3std"] <= 1


def test_predict_writes_id_mean_std(trained, tmp_path):
    points = load_dataset("xsec").iloc[:20]
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    points.to_csv(src, index=False)
    assert main(["predict", "--model", str(trained), "--data", str(src), "--out", str(dst)]) == 0
    out = pd.read_csv(dst)
    assert list(out.columns) == ["id", "mean", "std", "outside_domain"]
    assert out["id"].tolist() == points["id"].tolist() and (out["mean"] > 0).all()
    pred = Surrogate.load(trained).predict(features(points))
    np.testing.assert_allclose(out["mean"], pred.mean, rtol=1e-6)  # CSV keeps ~16 digits
    np.testing.assert_allclose(out["std"], pred.std, rtol=1e-6)
    np.testing.assert_array_equal(out["outside_domain"], pred.outside_domain)


def test_errors_are_one_line(trained, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    load_dataset("xsec").iloc[:5].drop(columns="M2").to_csv(bad, index=False)
    code = main(["predict", "--model", str(trained), "--data", str(bad), "--out", "x.csv"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "missing the pMSSM-19 column(s) M2" in err
    assert main(["evaluate", "--model", str(tmp_path)]) == 2
    assert "not a saved surrogate" in capsys.readouterr().err


def test_train_with_support_predicts_where_the_cross_section_exists(tmp_path):
    out = tmp_path / "model"
    args = ["train", "--target", "xsec", "--model", "mlp", "--budget", "tiny", "--support",
            "tiny", "--distance", "--out", str(out)]
    assert main(args) == 0
    support = json.loads((out / "support" / "metadata.json").read_text())
    valid = load_dataset(Surrogate.load(out).target.support())
    split = split_dataset(valid)
    assert support["fit_info"]["n_train"] == len(split.train) and support["target"] == (
        "xsec_defined"
    )
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    split.test.iloc[:50].to_csv(src, index=False)
    assert main(["predict", "--model", str(out), "--data", str(src), "--out", str(dst)]) == 0
    written = pd.read_csv(dst)
    assert list(written.columns) == [
        "id", "mean", "std", "outside_domain", "p_defined", "support_outside", "far_from_data"
    ]
    np.testing.assert_allclose(
        written["p_defined"], Surrogate.load(out).predict(features(split.test.iloc[:50])).p_defined,
        rtol=1e-6,
    )


def test_recalibrate_refits_the_error_bars_on_the_validation_split(trained, tmp_path, capsys):
    out = tmp_path / "recal"
    assert main(["recalibrate", "--model", str(trained), "--recalibration", "local_quantile",
                 "--out", str(out)]) == 0
    val = split_dataset(load_dataset("xsec")).val
    assert f"on {len(val)} validation points" in capsys.readouterr().out
    before, after = Surrogate.load(trained), Surrogate.load(out)
    assert after.recalibration == "local_quantile" and after.recalibration_.n_val == len(val)
    assert after.fit_info_["recalibrated"] == {"recalibration": "local_quantile",
                                               "n_val": len(val), "data": "embedded"}
    X = features(split_dataset(load_dataset("xsec")).test.iloc[:50])
    np.testing.assert_array_equal(  # the networks are the same: only the bars changed
        before._predict_chunked(before._inputs(before._features(X))).values,
        after._predict_chunked(after._inputs(after._features(X))).values)
    assert after.predict(X).samples.shape == (100, 50)
    # the model folder is an input: never the output
    assert main(["recalibrate", "--model", str(out), "--recalibration", "variance_scale",
                 "--out", str(out), "--overwrite"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
