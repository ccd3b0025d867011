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
from surrogates.data import load_dataset
from surrogates.io import atomic_folder, atomic_write, check_output
from tests.test_fits_cli import models, write_config  # noqa: F401 (a fixture)
from workflows.cli import main


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
        ('{"hidden": [0]}', "The 'hidden[0]' parameter of model 'mlp' (--budget tiny, --config) "
                            "must be an int in the range [1, inf). Got 0 instead."),
        ('{"lr": "fast"}', "The 'lr' parameter of model 'mlp' (--budget tiny, --config) must be "
                           "a float in the range (0, inf). Got 'fast' instead."),
        ('{"warm_start": 1}', "The 'warm_start' parameter of model 'mlp' (--budget tiny, "
                              "--config) must be a bool. Got 1 instead."),
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


# ---------------------------------------------------- 3. configs checked before work
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["prior"].update(fixd={"M1": 1.0}),
         "unknown key 'prior.fixd'; did you mean 'fixed'?"),
        (lambda c: c["prior"]["free"].update(M11=[100, 200]),
         "unknown key 'prior.free.M11'; did you mean 'M1'?"),
        (lambda c: c["prior"].update(free={}),
         "The 'prior.free' parameter of"),
        (lambda c: c["benchmark"].update(M1="heavy"),
         "The 'benchmark.M1' parameter of"),
        (lambda c: c["benchmark"].update(mh=125.0), "unknown key 'benchmark.mh'"),
        (lambda c: c["prior"]["free"].update(M2=[-5000, -100]),
         "prior: free parameter 'M2': range [-5000, -100] must satisfy -4000 <= low < high"),
        (lambda c: c["terms"][0].update(observable="validity"),
         "terms[0].observable: 'validity' is a 'validity' surrogate; a gaussian term needs "
         "a regression surrogate"),
        (lambda c: c["terms"][2].update(classifier="higgs_mass"),
         "needs a validity classifier"),
        (lambda c: c["terms"][0].update(exp_eror=0.3),
         "unknown key 'terms[0].exp_eror'; did you mean 'exp_error'?"),
        (lambda c: c["terms"][0].update(exp_error="0.3 GeV"),
         "must be a float in the range (0, inf). Got '0.3 GeV' instead."),
        (lambda c: c["terms"][1].update(efficiency=2),
         "The 'terms[1].efficiency' parameter of"),
        (lambda c: c["terms"][0].update(type="gauss"),
         "The 'terms[0].type' parameter of"),
        (lambda c: c["terms"][0].pop("value"), "missing key(s) terms[0].value"),
        (lambda c: c["sampler"].update(n_walker=8),
         "unknown key 'sampler.n_walker'; did you mean 'n_walkers'?"),
        (lambda c: c["sampler"].update(n_steps=0),
         "The 'sampler.n_steps' parameter of"),
        (lambda c: c["sampler"].update(name="dynesty"), "Got 'dynesty' instead."),
        (lambda c: c.update(sampeler={}), "unknown key 'sampeler'; did you mean 'sampler'?"),
    ],
)
def test_bad_fit_configs_are_refused_before_sampling(models, tmp_path, capsys,  # noqa: F811
                                                     change, message):
    import yaml

    path = write_config(tmp_path / "fit.yaml", models, {"name": "emcee", "n_steps": 10})
    cfg = yaml.safe_load(path.read_text())
    change(cfg)
    path.write_text(yaml.safe_dump(cfg))
    before = snapshot(tmp_path)
    assert message in run_error(capsys, ["fit", "--config", str(path)])
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------ 4. resumes that are safe
SCAN = {"output": "out", "simulator": {"name": "hypersphere", "n_dim": 2},
        "constraints": [{"observable": "O", "value": 2.0, "sigma": 0.1}], "budget": 200,
        "scan": {"n_initial": 40, "batch_size": 40, "seed": 5,
                 "model_options": {"expert_size": 4096, "aggregation": "poe",
                                   "recalibration": "none", "include_noise": False,
                                   "n_iter": 30, "n_iter_warm": 10, "warm_start": True,
                                   "precision": "float64"}}}


def write_scan(folder: Path, **changes) -> Path:
    import yaml

    cfg = json.loads(json.dumps(SCAN))
    for key, value in changes.items():
        cfg[key] = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scan.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def reference_scan(tmp_path_factory):
    """tested.csv of an uninterrupted run of :data:`SCAN`."""
    path = write_scan(tmp_path_factory.mktemp("reference"))
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    return (path.parent / "out" / "tested.csv").read_bytes()


def test_scan_resumed_with_another_constraint_is_refused(tmp_path, capsys):
    path = write_scan(tmp_path, budget=80)
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    capsys.readouterr()
    before = snapshot(tmp_path)
    write_scan(tmp_path, constraints=[{"observable": "O", "value": 2.5, "sigma": 0.1}])
    before["scan.yaml"] = snapshot(tmp_path)["scan.yaml"]
    err = run_error(capsys, ["scan", "--config", str(path), "--quiet"])
    assert "holds a scan run with other settings (terms: stored" in err and "2.5" in err
    assert snapshot(tmp_path) == before


def test_scan_resume_drops_a_half_written_line(tmp_path, reference_scan):
    path = write_scan(tmp_path, budget=120)
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    with open(tmp_path / "out" / "tested.csv", "a") as fh:
        fh.write("0.123,0.4")  # a kill in the middle of an append
    write_scan(tmp_path)
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    assert (tmp_path / "out" / "tested.csv").read_bytes() == reference_scan


@pytest.mark.slow  # four subprocesses that import torch: ~40 s
def test_scan_killed_at_several_moments_loses_nothing(tmp_path, reference_scan):
    import os
    import signal
    import subprocess
    import sys
    import time

    path = write_scan(tmp_path)
    log = tmp_path / "out" / "tested.csv"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "workflows.cli", "scan", "--config", str(path), "--quiet"]
    kept = b""
    for delay in (0.0, 0.05, 0.3, 1.0):  # after the log grows: mid-training, mid-proposal, ...
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None and (not log.is_file() or log.stat().st_size <= len(kept)):
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = log.read_bytes()
        assert now.startswith(kept)  # no stored simulator result was lost or rewritten
        kept = now[: now.rfind(b"\n") + 1]
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    assert log.read_bytes() == reference_scan


def test_scan_killed_in_process_at_two_moments_loses_nothing(tmp_path, reference_scan,
                                                               monkeypatch):
    """The fast version of the SIGKILL test: a "kill" (an exception nobody catches) in the
    middle of an append to tested.csv, then one between a batch and its history row."""
    import fits.scan.store as store

    path = write_scan(tmp_path)
    log, real_append = tmp_path / "out" / "tested.csv", store.append_lines
    calls = {"n": 0}

    def killed_mid_write(file, lines):
        calls["n"] += Path(file).name == "tested.csv"
        if calls["n"] == 3 and Path(file).name == "tested.csv":  # half of the second batch
            text = "".join(lines)
            real_append(file, [text[: len(text) // 2]])
            raise SystemExit("killed")
        real_append(file, lines)

    monkeypatch.setattr(store, "append_lines", killed_mid_write)
    with pytest.raises(SystemExit):
        main(["scan", "--config", str(path), "--quiet"])
    monkeypatch.setattr(store, "append_lines", real_append)
    kept = log.read_bytes()

    def killed(self, row):
        raise SystemExit("killed")

    monkeypatch.setattr(store.ScanStore, "append_history", killed)
    with pytest.raises(SystemExit):  # the batch is stored, its history row is not
        main(["scan", "--config", str(path), "--quiet"])
    assert log.read_bytes().startswith(kept[: kept.rfind(b"\n") + 1])
    monkeypatch.undo()
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    assert log.read_bytes() == reference_scan
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert history["iteration"].tolist() == list(range(5))  # 40 initial + 4 batches of 40
    tested = pd.read_csv(log)
    assert history["n_tested"].tolist() == [
        int((tested["iteration"] <= i).sum()) for i in range(5)]


def test_scan_budget_change_is_allowed_and_recorded(tmp_path):
    path = write_scan(tmp_path, budget=80)
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    write_scan(tmp_path, budget=120)
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert [h["budget"] for h in settings["budget_history"]] == [80, 120]
    assert len(pd.read_csv(tmp_path / "out" / "tested.csv")) == 120


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"simulator": {"name": "hypersphere", "n_dims": 2}},
         "unknown key 'simulator.n_dims'; did you mean 'n_dim'?"),
        ({"simulator": {"name": "hypersphere", "n_dim": 0}},
         "The 'simulator.n_dim' parameter of"),
        ({"simulator": {"name": "eggbocks"}}, "The 'simulator.name' parameter of"),
        ({"constraints": [{"observable": "O", "value": 2.0, "sigma": 0}]},
         "The 'constraints[0].sigma' parameter of"),
        ({"constraints": [{"observable": "O", "value": 2.0}]},
         "missing key(s) constraints[0].sigma"),
        ({"constraints": []}, "a scan needs at least one of constraints or terms"),
        ({"terms": [{"type": "gaussian", "observable": "P", "value": 2.0, "exp_error": 0.1}]},
         "'P' is not an output of the simulator; its observables are O"),
        ({"terms": [{"type": "poisson", "observable": "O"}]}, "The 'terms[0].type' parameter of"),
        ({"budget": "many"}, "The 'budget' parameter of"),
        ({"scan": {**SCAN["scan"], "n_initial": 1}},
         "'scan.n_initial' parameter of", ),
        ({"scan": {**SCAN["scan"], "acquisiton": "ucb"}},
         "unknown key 'scan.acquisiton'; did you mean 'acquisition'?"),
        ({"scan": {**SCAN["scan"], "model": "gp"}}, "The 'scan.model' parameter of"),
        ({"scan": {**SCAN["scan"], "model_options": {"n_iter": "many"}}},
         "The 'scan.model_options.n_iter' parameter of"),
        ({"scan": {**SCAN["scan"], "model_options": {"n_iterz": 3}}},
         "unknown key 'scan.model_options.n_iterz'; did you mean 'n_iter'?"),
        ({"scan": {**SCAN["scan"], "proposal": "mcmc", "proposal_options": {"n_walker": 8}}},
         "unknown key 'scan.proposal_options.n_walker'; did you mean 'n_walkers'?"),
        ({"outptu": "x"}, "unknown key 'outptu'; did you mean 'output'?"),
    ],
)
def test_bad_scan_configs_are_refused_before_the_first_simulator_call(tmp_path, capsys,
                                                                      changes, message):
    path = write_scan(tmp_path, **changes)
    before = snapshot(tmp_path)
    assert message in run_error(capsys, ["scan", "--config", str(path), "--quiet"])
    assert snapshot(tmp_path) == before


def test_scan_refuses_a_classifier_as_an_observable(models, tmp_path, capsys):  # noqa: F811
    from surrogates.space import PARAMETER_NAMES

    simulator = {"name": "pmssm_surrogate", "surrogates": {"h0": str(models / "validity")},
                 "free": ["tanb", "At"], "benchmark": dict.fromkeys(PARAMETER_NAMES, 1000.0)}
    path = write_scan(tmp_path, simulator=simulator,
                      constraints=[{"observable": "h0", "value": 125.0, "sigma": 2.0}])
    before = snapshot(tmp_path)
    err = run_error(capsys, ["scan", "--config", str(path), "--quiet"])
    assert "surrogate 'h0' is a 'validity' surrogate; an observable needs a regression" in err
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------- 4. fit resumes that are safe
def test_fit_resumed_with_other_settings_is_refused_and_a_budget_change_recorded(
        models, tmp_path, capsys):  # noqa: F811
    import yaml

    sampler = {"name": "emcee", "n_walkers": 8, "n_steps": 10, "stop_when_converged": False}
    path = write_config(tmp_path / "fit.yaml", models, sampler)
    with pytest.warns(UserWarning, match="autocorrelation"):
        assert main(["fit", "--config", str(path)]) == 0
    capsys.readouterr()
    cfg = yaml.safe_load(path.read_text())
    for change, named in (
        (lambda c: c["terms"][0].update(value=120.0), "likelihood: stored"),
        (lambda c: c["sampler"].update(seed=3), "seed: stored 0, now 3"),
        (lambda c: c["prior"]["free"].update(M2=[-900, -100]), "prior: stored"),
    ):
        changed = json.loads(json.dumps(cfg))
        change(changed)
        path.write_text(yaml.safe_dump(changed))
        before = snapshot(tmp_path / "out")
        err = run_error(capsys, ["fit", "--config", str(path)])
        assert "holds a fit run with other settings (" in err and named in err
        assert snapshot(tmp_path / "out") == before
    cfg["sampler"]["n_steps"] = 20  # a larger budget: resumed, and recorded
    path.write_text(yaml.safe_dump(cfg))
    with pytest.warns(UserWarning, match="autocorrelation"):
        assert main(["fit", "--config", str(path)]) == 0
    settings = json.loads((tmp_path / "out" / "emcee" / "fit_settings.json").read_text())
    assert settings["n_steps"] == 20
    assert settings["budget_history"][0]["changed"] == {"n_steps": {"stored": 10, "now": 20}}
    assert json.loads((tmp_path / "out" / "result.json").read_text())["info"]["iterations"] == 20


# ------------------------------------------------------------- 1. reports written atomically
def test_a_crash_while_writing_the_report_keeps_the_old_one(tmp_path, monkeypatch):
    from workflows.report import render

    monkeypatch.setattr(render, "_markdown", lambda meta, sections: str(meta) * 100)
    monkeypatch.setattr(render, "_html", lambda meta, sections: f"<p>{meta}</p>" * 100)
    render.write_report(tmp_path, {"call": "compare", "seconds": 1.0}, [])
    before = snapshot(tmp_path)
    real = Path.write_text

    def killed_mid_write(self, text, **kwargs):  # half of the text reaches the disk
        real(self, text[: len(text) // 2], **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        render.write_report(tmp_path, {"call": "compare", "seconds": 2.0}, [])
    assert snapshot(tmp_path) == before  # the old report, no temporary file


@pytest.mark.parametrize("model", ["mlp", "rbcm", "bnn"])
def test_every_option_of_every_family_is_declared(model):
    from surrogates.registry import get_model_class, model_option_names

    assert set(get_model_class(model).parameter_constraints) == set(model_option_names(model))


def test_ultranest_budget_options_may_change_on_resume_and_the_others_not(tmp_path):
    from fits.resume import SETTINGS, check_resume
    from fits.ultranest_fit import ULTRANEST_BUDGET

    first = {"prior": {"free": {"M1": [0, 1]}}, "min_num_live_points": 400, "max_ncalls": 1000,
             "dlogz": 0.5, "likelihood": None}
    check_resume(tmp_path, first, ULTRANEST_BUDGET, resuming=False)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="min_num_live_points: stored 400, now 100"):
        check_resume(tmp_path, {**first, "min_num_live_points": 100}, ULTRANEST_BUDGET, True)
    assert snapshot(tmp_path) == before
    check_resume(tmp_path, {**first, "max_ncalls": 5000, "likelihood": [{"type": "x"}]},
                 ULTRANEST_BUDGET, True)  # an unknown (None) likelihood is not compared
    stored = json.loads((tmp_path / SETTINGS).read_text())
    assert stored["max_ncalls"] == 5000
    assert stored["budget_history"][0]["changed"] == {"max_ncalls": {"stored": 1000,
                                                                    "now": 5000}}
