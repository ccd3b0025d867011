"""Dask: batch prediction over a partitioned table and ensemble parts trained on workers.

One :class:`distributed.LocalCluster` of two worker processes serves the module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from surrogates.bnn.ensemble import BNNEnsemble
from surrogates.data import features, labels
from surrogates.mlp import MLPEnsemble
from surrogates.parallel import dask_client, fit_in_parts, predict_table
from surrogates.parallel.predict import _model
from surrogates.space import PARAMETER_NAMES
from workflows.cli import main

TINY_MLP = {"hidden": [16, 16], "n_members": 4, "epochs": 3}


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def model(small_splits, tmp_path_factory):
    split = small_splits["higgs_mass"]
    mlp = MLPEnsemble("higgs_mass", **TINY_MLP).fit(
        features(split.train), labels(split.train, "higgs_mass"), progress=False)
    return mlp.save(tmp_path_factory.mktemp("model") / "mlp")


@pytest.fixture(scope="module")
def table(small_splits, tmp_path_factory):
    """2,300 points (some outside the training box) in row groups of 500."""
    rng = np.random.default_rng(0)
    X = np.asarray(features(small_splits["higgs_mass"].train))
    df = pd.DataFrame(X[rng.integers(0, len(X), 2300)] * rng.uniform(0.8, 1.2, (2300, 19)),
                      columns=PARAMETER_NAMES)
    path = tmp_path_factory.mktemp("data") / "points.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=500)
    return path, df


def reference(model, df):
    from surrogates.base import Surrogate

    pred = Surrogate.load(model).predict(df)
    return pd.DataFrame({"id": np.arange(len(df)), "mean": pred.mean, "std": pred.std,
                         "outside_domain": pred.outside_domain})


def test_dask_predict_equals_in_process_predict(client, model, table, tmp_path):
    path, df = table
    out = tmp_path / "pred.parquet"
    counts = predict_table(model, path, out, client=client, partition_rows=300, progress=False)
    expected = reference(model, df)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_exact=True)
    assert counts == {"rows": 2300, "outside_domain": int(expected["outside_domain"].sum()),
                      "nonfinite": 0}
    # partitions straddle row groups (300 vs 500 rows); each worker loaded the model once
    loads = client.run(lambda: _model.cache_info().misses)
    assert sorted(loads.values()) in ([1, 1], [0, 1])


def test_predict_cli_csv_in_partitions_here_and_on_a_scheduler(client, model, table, tmp_path):
    path, df = table
    csv = tmp_path / "points.csv"
    df.assign(id=np.arange(100, 2400)).to_csv(csv, index=False)
    expected = reference(model, df).assign(id=np.arange(100, 2400))
    here = tmp_path / "here.csv"
    assert main(["predict", "--model", str(model), "--data", str(csv), "--out", str(here),
                 "--partition-rows", "700"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(here), expected, check_exact=False, rtol=1e-15)
    dask_out = tmp_path / "dask.parquet"
    assert main(["predict", "--model", str(model), "--data", str(csv), "--out", str(dask_out),
                 "--scheduler", client.scheduler.address, "--partition-rows", "700"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(dask_out), expected, check_exact=True)


def test_nonfinite_predictions_leave_no_output(model, table, tmp_path):
    path, df = table
    bad = tmp_path / "bad.csv"
    df.assign(M1=np.where(np.arange(len(df)) == 1234, 1e300, df["M1"])).to_csv(bad, index=False)
    out = tmp_path / "out.csv"
    with pytest.raises(ValueError, match="row 1234 .* not finite"):
        predict_table(model, bad, out, partition_rows=500, progress=False)
    assert not out.exists() and not list(tmp_path.glob(".out.csv*"))
    with pytest.raises(ValueError, match="partition_rows must be an integer >= 1; got 0"):
        predict_table(model, bad, out, partition_rows=0)


@pytest.mark.parametrize("make", [
    lambda: MLPEnsemble("higgs_mass", **TINY_MLP, recalibration="local_scale", seed=3),
    lambda: BNNEnsemble("higgs_mass", **{**BNNEnsemble.budget_config("tiny", "higgs_mass"),
                                         "n_chains": 3}, seed=3),
], ids=["mlp", "bnn"])
def test_ensemble_parts_on_workers_equal_the_parts_trained_here(client, small_splits, make):
    split = small_splits["higgs_mass"]
    data = (features(split.train), labels(split.train, "higgs_mass"))
    val = {"X_val": data[0], "y_val": data[1]}  # the recalibration needs >= 200 points
    here = fit_in_parts(make(), *data, **val, n_parts=2)
    there = fit_in_parts(make(), *data, **val, n_parts=2, client=client)
    p, q = here.predict(val["X_val"]), there.predict(val["X_val"])
    assert p.samples.shape[0] == here.n_members == there.n_members
    np.testing.assert_array_equal(p.samples, q.samples)
    np.testing.assert_array_equal(p.std, q.std)
    # the parts differ (own seeds), and the merged model is the two parts side by side
    parts = here.fit_info_["parts"]
    assert len(parts) == 2 and parts[0]["seed"] != parts[1]["seed"]
    assert np.ptp(p.samples, axis=0).min() > 0
