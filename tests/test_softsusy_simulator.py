"""SoftsusySimulator: SOFTSUSY in the loop reproduces the reference labels; failures are
invalid points with a reason; parallel calls return the serial result in input order."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fits.scan import SoftsusySimulator
from fits.scan.config import load_scan_config, run_scan_config
from fits.scan.softsusy import ENV_EXECUTABLE, OBSERVABLES, find_softpoint
from surrogates.space import PARAMETER_NAMES
from tests.conftest import SHARED_DATA
from tests.test_slha import H0_RTOL, XSEC_RTOL

SOFTPOINT = SHARED_DATA.parent / "tools" / "softsusy" / "softpoint.x"
REFERENCE = SHARED_DATA / "pmssm19_softsusy"
needs_softsusy = pytest.mark.skipif(
    not SOFTPOINT.is_file(),
    reason=f"SOFTSUSY executable {SOFTPOINT} absent (../shared/tools is not checked out)",
)
#: Reference points with SLHA files: invalid (A0 tachyon; sbottom tachyon), valid with a
#: bino-like N2 (no cross section), with a wino-like and with a higgsino-like pair.
IDS = ["s2-0", "s2-1", "s2-7", "s2-11", "s2-25", "s2-45"]
FREE = ["tanb", "At", "mqL3", "mtR3"]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    points = pd.read_csv(REFERENCE / "points.csv.gz", nrows=100)  # the s2-* files come first
    rows = points.set_index("id").reindex(IDS)
    assert rows["valid"].notna().all(), "reference ids not among the first rows"
    assert all((REFERENCE / "slha" / f"point_{i}.slha").is_file() for i in IDS)
    return rows


def _script(tmp_path: Path, body: str, name: str = "softpoint.sh") -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@needs_softsusy
def test_reference_labels_are_reproduced(reference):
    out = SoftsusySimulator(executable=SOFTPOINT)(reference[list(PARAMETER_NAMES)])
    assert list(out.columns) == [*OBSERVABLES, "reason"]
    np.testing.assert_array_equal(out["valid"], reference["valid"])
    valid = reference["valid"].to_numpy() == 1
    assert valid.sum() == 4 and reference["xsec_n2c1_fb"].notna().sum() == 3
    # the precision of the labels: see tests/test_slha.py
    np.testing.assert_allclose(out["h0"], reference["h0"], rtol=H0_RTOL, equal_nan=True)
    np.testing.assert_allclose(
        out["xsec_n2c1_fb"], reference["xsec_n2c1_fb"], rtol=XSEC_RTOL, equal_nan=True
    )
    assert out["reason"][valid].isna().all()
    assert list(out["reason"][~valid]) == list(reference["problem"][~valid])


@needs_softsusy
def test_parallel_equals_serial_in_input_order(reference):
    X = reference[list(PARAMETER_NAMES)].to_numpy()[::-1]
    serial = SoftsusySimulator(executable=SOFTPOINT)(X)
    threads = SoftsusySimulator(executable=SOFTPOINT, n_workers=3)(X)
    with ThreadPoolExecutor(2) as pool:
        given = SoftsusySimulator(executable=SOFTPOINT, executor=pool)(X)
    pd.testing.assert_frame_equal(threads, serial)
    pd.testing.assert_frame_equal(given, serial)
    np.testing.assert_array_equal(serial["valid"], reference["valid"].to_numpy()[::-1])


@needs_softsusy
def test_a_timeout_is_an_invalid_point(reference):
    out = SoftsusySimulator(executable=SOFTPOINT, timeout=1e-3)(
        reference.loc[["s2-1"], list(PARAMETER_NAMES)]
    )
    assert out["valid"].tolist() == [0.0] and out["h0"].isna().all()
    assert out["reason"].tolist() == ["timeout"]


@needs_softsusy
def test_a_spectrum_with_a_failing_exit_status_is_invalid(tmp_path, reference):
    spectrum = REFERENCE / "slha" / "point_s2-1.slha"
    broken = _script(tmp_path, f"cat '{spectrum}'\nexit 3")
    out = SoftsusySimulator(executable=broken)(reference.loc[["s2-1"], list(PARAMETER_NAMES)])
    assert out["valid"].tolist() == [0.0]
    assert out["reason"].tolist() == ["exit status 3 without a problem flag"]


@needs_softsusy
def test_an_unconverged_spectrum_is_invalid_with_softsusy_comment_as_reason():
    """s3-18409: SOFTSUSY writes the spectrum (m_h 124.957 GeV, the reference label, which
    calls the point valid) and no SPINFO 4, only a "No convergence" comment, and exits 255."""
    points = pd.read_csv(REFERENCE / "points.csv.gz")
    row = points.loc[points["id"] == "s3-18409"].iloc[0]
    assert row["valid"] == 1 and row["h0"] == pytest.approx(124.957)
    out = SoftsusySimulator(executable=SOFTPOINT)(row[list(PARAMETER_NAMES)].to_numpy(float)[None])
    assert out["valid"].tolist() == [0.0] and out["h0"].isna().all()
    assert out["reason"].tolist() == ["No convergence (exit status 255, a comment, not SPINFO 4)"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("echo 'segmentation fault' >&2\nexit 1", "exit status 1: segmentation fault"),
        ("echo 'this is not SLHA'", "unreadable output: SOFTSUSY output: no block SPINFO"),
        ("exit 0", "unreadable output: SOFTSUSY output: no block SPINFO"),
    ],
)
def test_a_broken_executable_gives_invalid_points_with_a_reason(tmp_path, body, reason):
    sim = SoftsusySimulator(FREE, {p: 1000.0 for p in PARAMETER_NAMES},
                            executable=_script(tmp_path, body), n_workers=2)
    out = sim(np.array([[10.0, 0.0, 1000.0, 1000.0], [20.0, 10.0, 2000.0, 500.0]]))
    assert out["valid"].tolist() == [0.0, 0.0]
    assert out[["h0", "xsec_n2c1_fb"]].isna().all().all()
    assert out["reason"].tolist() == [reason, reason]


def test_the_executable_comes_from_the_option_or_the_environment(tmp_path, monkeypatch):
    script = _script(tmp_path, "exit 1")
    monkeypatch.setenv(ENV_EXECUTABLE, str(script))
    assert find_softpoint() == script.resolve()
    other = _script(tmp_path, "exit 2", "other.sh")
    assert find_softpoint(other) == other.resolve()
    monkeypatch.setenv(ENV_EXECUTABLE, str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="is not an executable file") as err:
        find_softpoint()
    assert "\n" not in str(err.value)
    not_executable = tmp_path / "plain.txt"
    not_executable.write_text("")
    with pytest.raises(ValueError, match="plain.txt' is not an executable file"):
        find_softpoint(not_executable)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, r"'timeout' parameter of SoftsusySimulator must be a float in the "
                         r"range \(0, inf\). Got 0 instead"),
        ({"timeout": "60"}, r"'timeout' parameter of SoftsusySimulator must be a float in the "
                            r"range \(0, inf\). Got '60' instead"),
        ({"n_workers": 0}, r"'n_workers' parameter of SoftsusySimulator must be an int in the "
                           r"range \[1, inf\). Got 0 instead"),
        ({"executor": "dask"}, "executor must be a concurrent.futures.Executor; got str"),
    ],
)
def test_options_are_checked(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        SoftsusySimulator(executable=_script(tmp_path, "exit 1"), **options)
    with pytest.raises(ValueError, match="missing"):
        SoftsusySimulator(FREE, {"M1": 100.0}, executable=_script(tmp_path, "exit 1"))


def _config(tmp_path: Path, simulator: dict, budget: int = 16) -> Path:
    path = tmp_path / "scan.yaml"
    path.write_text(yaml.safe_dump({
        "output": "out",
        "simulator": {"name": "softsusy", "free": FREE, **simulator},
        "constraints": [{"observable": "h0", "value": 125.09, "sigma": 2.0144}],
        "budget": budget,
        "scan": {"n_initial": 8, "batch_size": 8, "seed": 0,
                 "model_options": {"expert_size": 64, "n_iter": 10}},  # seconds, not a fit
    }))
    return path


@pytest.mark.parametrize(
    ("simulator", "message"),
    [
        ({"workers": 2}, "unknown key 'simulator.workers'; did you mean 'n_workers'"),
        ({"n_workers": 1.5}, r"'simulator.n_workers' parameter of \S+scan.yaml must be an int "
                             r"in the range \[1, inf\). Got 1.5 instead"),
        ({"timeout": -1}, r"'simulator.timeout' parameter of \S+scan.yaml must be a float in "
                          r"the range \(0, inf\). Got -1 instead"),
        ({"executable": "nowhere/softpoint.x"}, "nowhere/softpoint.x' is not an executable"),
    ],
)
def test_config_errors_name_the_key_and_value(tmp_path, simulator, message):
    path = _config(tmp_path, {"benchmark": {p: 1000.0 for p in PARAMETER_NAMES}, **simulator})
    with pytest.raises(ValueError, match=message):
        load_scan_config(path)


@needs_softsusy
def test_a_scan_config_runs_softsusy_in_the_loop(tmp_path, reference):
    benchmark = reference.loc["s2-1", list(PARAMETER_NAMES)].astype(float).to_dict()
    script = _script(tmp_path, f"exec '{SOFTPOINT}' \"$@\"")  # a relative executable path
    config = load_scan_config(_config(
        tmp_path, {"benchmark": benchmark, "n_workers": 2, "executable": script.name}))
    sim = config.scan.simulator
    assert isinstance(sim, SoftsusySimulator) and sim.n_workers == 2
    assert sim.executable == script.resolve()
    (steering,) = config.scan.steering  # the constraint is a Gaussian term on the output h0
    assert (steering.column, steering.term.value, steering.term.exp_error) == ("h0", 125.09,
                                                                              2.0144)
    tested = run_scan_config(config, progress=False).tested
    assert len(tested) == 16
    stored = pd.read_csv(config.output / "tested.csv")
    assert {*OBSERVABLES, "reason", "in_target"} <= set(stored.columns)
    np.testing.assert_array_equal(stored["valid"] == 1, stored["h0"].notna())
    assert stored["reason"].notna().tolist() == (stored["valid"] == 0).tolist()


@needs_softsusy
def test_a_scan_config_sends_softsusy_to_dask_workers(tmp_path, reference):
    """simulator.scheduler: local runs the SOFTSUSY calls on a LocalCluster of n_workers
    processes; the scan tests the same points with the same results as in-process."""
    benchmark = reference.loc["s2-1", list(PARAMETER_NAMES)].astype(float).to_dict()
    runs = {}
    for scheduler in (None, "local"):
        folder = tmp_path / str(scheduler)
        folder.mkdir()
        spec = {"benchmark": benchmark, "n_workers": 2, "executable": str(SOFTPOINT)}
        if scheduler:
            spec["scheduler"] = scheduler
        config = load_scan_config(_config(folder, spec))
        assert config.scheduler == scheduler
        sim = config.scan.simulator
        executors = []
        evaluate = sim._evaluate

        def spy(X, evaluate=evaluate, sim=sim, executors=executors):
            executors.append(type(sim.executor).__name__)
            return evaluate(X)

        sim._evaluate = spy
        runs[scheduler] = run_scan_config(config, progress=False).tested
        assert sim.executor is None  # the client is closed with the scan
        assert set(executors) == ({"NoneType"} if scheduler is None else {"ClientExecutor"})
    pd.testing.assert_frame_equal(runs[None], runs["local"])
