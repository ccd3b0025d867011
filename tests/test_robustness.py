"""A careless or hostile user: one test per failure class of issue 17.

Each test asserts the one-line message and that nothing on disk changed (:func:`snapshot`).
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surrogates import Surrogate
from surrogates.cli import main
from surrogates.data import load_dataset
from surrogates.io import atomic_folder, atomic_write, check_output


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by relative path (temporary files included)."""
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Two tiny models of the same family and target, trained with different seeds."""
    root = tmp_path_factory.mktemp("models")
    for seed in (0, 1):
        out = root / f"m{seed}"
        args = ["train", "--target", "higgs_mass", "--model", "mlp", "--budget", "tiny",
                "--seed", str(seed), "--out", str(out)]
        assert main(args) == 0
    return root


@pytest.fixture
def work(saved, tmp_path):
    """A scratch folder with a copy of the models and a points file ``pts.csv``."""
    for name in ("m0", "m1"):
        shutil.copytree(saved / name, tmp_path / name)
    load_dataset("higgs_mass").iloc[:10].to_csv(tmp_path / "pts.csv", index=False)
    return tmp_path


def run_error(capsys, args: list[str]) -> str:
    """Run the CLI, expect exit status 2 and return its one-line error."""
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


# ------------------------------------------------------- 1. writes that cannot destroy
def test_predict_refuses_to_overwrite_its_input(work, capsys):
    before = snapshot(work)
    pts = str(work / "pts.csv")
    err = run_error(capsys, ["predict", "--model", str(work / "m0"), "--data", pts,
                             "--out", pts])
    assert "would overwrite the input" in err and "pts.csv" in err
    err = run_error(capsys, ["predict", "--model", str(work / "m0"), "--data", pts,
                             "--out", pts, "--overwrite"])
    assert "would overwrite the input" in err
    err = run_error(capsys, ["predict", "--model", str(work / "m0"), "--data", pts,
                             "--out", str(work / "m0" / "metadata.json")])
    assert "would overwrite the input" in err
    assert snapshot(work) == before


def test_predict_refuses_an_existing_output_without_overwrite(work, capsys):
    (work / "old.csv").write_text("precious\n")
    before = snapshot(work)
    args = ["predict", "--model", str(work / "m0"), "--data", str(work / "pts.csv"),
            "--out", str(work / "old.csv")]
    assert "already exists; pass overwrite (--overwrite)" in run_error(capsys, args)
    assert snapshot(work) == before
    assert main([*args, "--overwrite"]) == 0
    assert list(pd.read_csv(work / "old.csv").columns) == ["id", "mean", "std", "outside_domain"]


def test_train_refuses_an_existing_model_and_overwrite_leaves_nothing_stale(work, capsys):
    (work / "m0" / "evaluation_test.json").write_text("{}")
    before = snapshot(work)
    args = ["train", "--target", "higgs_mass", "--model", "mlp", "--budget", "tiny",
            "--seed", "3", "--out", str(work / "m0")]
    assert "m0 already exists" in run_error(capsys, args)
    assert snapshot(work) == before
    assert main([*args, "--overwrite"]) == 0
    assert sorted(p.name for p in (work / "m0").iterdir()) == [
        "metadata.json", "tensors.safetensors"]
    assert sorted(p.name for p in work.iterdir()) == ["m0", "m1", "pts.csv"]  # no temporaries
    assert Surrogate.load(work / "m0").seed == 3


def test_train_onto_its_own_data_file_is_refused(work, capsys):
    before = snapshot(work)
    err = run_error(capsys, ["train", "--target", "higgs_mass", "--model", "mlp", "--budget",
                             "tiny", "--data", str(work / "pts.csv"), "--out",
                             str(work / "pts.csv"), "--overwrite"])
    assert "would overwrite the input" in err
    assert snapshot(work) == before


def test_evaluate_json_may_not_overwrite_data_or_model(work, capsys):
    before = snapshot(work)
    pts = str(work / "pts.csv")
    for out in (pts, str(work / "m0" / "tensors.safetensors")):
        err = run_error(capsys, ["evaluate", "--model", str(work / "m0"), "--data", pts,
                                 "--split", "all", "--json", out, "--overwrite"])
        assert "would overwrite the input" in err
    assert snapshot(work) == before


def test_a_crash_inside_save_leaves_no_folder(work, monkeypatch):
    model = Surrogate.load(work / "m0")
    before = snapshot(work)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("surrogates.base.save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(work / "new")
    with pytest.raises(OSError, match="disk full"):
        model.save(work / "m1", overwrite=True)  # the old model survives a failed replace
    assert snapshot(work) == before and not (work / "new").exists()


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    (tmp_path / "t.csv").write_text("old\n")
    before = snapshot(tmp_path)

    def half_write(path):
        path.write_text("ne")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "t.csv", half_write)
    assert snapshot(tmp_path) == before
    with pytest.raises(FileExistsError, match="already exists"), atomic_folder(tmp_path):
        pass
    with pytest.raises(FileExistsError, match="would overwrite the input"):
        check_output(tmp_path / "t.csv" / "x", [tmp_path / "t.csv"], overwrite=True)


# ------------------------------------------------------------------- 2. integrity
def test_tensors_from_another_save_are_refused(work, capsys):
    shutil.copy(work / "m1" / "tensors.safetensors", work / "m0" / "tensors.safetensors")
    before = snapshot(work)
    err = run_error(capsys, ["predict", "--model", str(work / "m0"), "--data",
                             str(work / "pts.csv"), "--out", str(work / "p.csv")])
    assert "m0/tensors.safetensors is damaged or comes from another save" in err
    assert snapshot(work) == before


def test_truncated_tensors_file_is_named(work, capsys):
    f = work / "m0" / "tensors.safetensors"
    f.write_bytes(f.read_bytes()[:-100])
    before = snapshot(work)
    err = run_error(capsys, ["evaluate", "--model", str(work / "m0"), "--json",
                             str(work / "e.json")])
    assert "tensors.safetensors is damaged" in err
    assert snapshot(work) == before


def test_damaged_metadata_is_named(work, capsys):
    meta_file = work / "m0" / "metadata.json"
    meta = json.loads(meta_file.read_text())
    cases = {
        "[1, 2]": "was not written by bsm-surrogates",
        '{"format": "bsm-surrogates", "format_ver': "metadata.json is damaged: not valid JSON",
        json.dumps({k: v for k, v in meta.items() if k != "domain"}): "lacks the key(s) domain",
    }
    shape = json.loads(meta_file.read_text())
    name = next(iter(shape["tensors"]))
    shape["tensors"][name]["shape"][0] += 1
    cases[json.dumps(shape)] = f"tensor(s) {name} differ in name, shape or dtype"
    for text, message in cases.items():
        meta_file.write_text(text)
        before = snapshot(work)
        err = run_error(capsys, ["predict", "--model", str(work / "m0"), "--data",
                                 str(work / "pts.csv"), "--out", str(work / "p.csv")])
        assert message in err and "m0" in err
        assert snapshot(work) == before


def test_models_saved_before_digests_still_load(work):
    meta_file = work / "m0" / "metadata.json"
    meta = json.loads(meta_file.read_text())
    del meta["files"], meta["tensors"]
    meta_file.write_text(json.dumps(meta))
    X = load_dataset("higgs_mass").iloc[:5]
    np.testing.assert_array_equal(Surrogate.load(work / "m0").predict(X).mean,
                                  Surrogate.load(work / "m0").predict(X).mean)


# ------------------------------------------------------ 5. every user error one line
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('{"epochz": 3}', "unknown key 'epochz'; did you mean 'epochs'?"),
        ('{"hidden": [0]}', "hidden[0] must be an integer >= 1; got 0"),
        ('{"lr": "fast"}', "TypeError"),
        ("{epochs: 3", "neither an existing file nor inline JSON"),
        ("[1, 2]", "--config must be a mapping"),
    ],
)
def test_bad_train_configs_are_one_line(work, capsys, config, message):
    before = snapshot(work)
    err = run_error(capsys, ["train", "--target", "higgs_mass", "--model", "mlp", "--budget",
                             "tiny", "--config", config, "--out", str(work / "new")])
    assert message in err
    assert snapshot(work) == before


def test_malformed_yaml_config_file_is_named(work, capsys):
    (work / "c.yaml").write_text("epochs: [3\n")
    before = snapshot(work)
    err = run_error(capsys, ["train", "--target", "higgs_mass", "--model", "mlp", "--budget",
                             "tiny", "--config", str(work / "c.yaml"), "--out", str(work / "n")])
    assert "c.yaml is not valid YAML/JSON" in err and "line 2" in err
    assert snapshot(work) == before


def test_non_finite_predictions_are_an_error_or_flagged(work, capsys):
    df = pd.read_csv(work / "pts.csv")
    df.loc[3, "M1"] = 1e300
    df.to_csv(work / "huge.csv", index=False)
    before = snapshot(work)
    args = ["predict", "--model", str(work / "m0"), "--data", str(work / "huge.csv"),
            "--out", str(work / "p.csv")]
    err = run_error(capsys, args)
    assert "is not finite (first at row 3" in err and "Nothing was written" in err
    assert snapshot(work) == before
    assert main([*args, "--allow-nonfinite"]) == 0
    assert pd.read_csv(work / "p.csv")["finite"].tolist() == [i != 3 for i in range(10)]


def test_repeated_column_names_are_an_error(work, capsys):
    lines = (work / "pts.csv").read_text().splitlines()
    header = lines[0].split(",")
    header[header.index("M2")] = "M1"
    (work / "dup.csv").write_text("\n".join([",".join(header), *lines[1:]]) + "\n")
    before = snapshot(work)
    err = run_error(capsys, ["predict", "--model", str(work / "m0"), "--data",
                             str(work / "dup.csv"), "--out", str(work / "p.csv")])
    assert "dup.csv repeats the column(s) M1" in err
    assert snapshot(work) == before
