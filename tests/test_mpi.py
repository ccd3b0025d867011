"""Fits under ``mpiexec -n 2``: UltraNest's MPI support and emcee's MPI pool, in subprocesses.

Each run is a small script launched by the ``mpiexec`` of the environment (the ``mpich``
wheel installed by ``scripts/setup_env.sh``); every rank prints its result as one JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_fits_samplers import A, analytic_posterior

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = next(
    (str(p) for p in (Path(sys.executable).parent / "mpiexec", shutil.which("mpiexec") or "")
     if str(p) and Path(p).is_file()),
    None,
)
try:
    import mpi4py  # noqa: F401
except ImportError:
    MPIEXEC = None
pytestmark = pytest.mark.skipif(
    MPIEXEC is None,
    reason="needs mpiexec and mpi4py (pip install mpich mpi4py; scripts/setup_env.sh does)",
)

SCRIPT = """
import json, logging, sys
from mpi4py import MPI
from fits import run_emcee, run_ultranest
from tests.test_fits_samplers import PRIOR, linear_likelihood

logging.getLogger("ultranest").setLevel(logging.WARNING)
sampler, out, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if sampler == "ultranest":
    res = run_ultranest(linear_likelihood(), PRIOR, out, min_num_live_points=100, seed=1,
                        **extra)
else:
    res = run_emcee(linear_likelihood(), PRIOR, out, n_walkers=8, seed=1,
                    stop_when_converged=False, pool="mpi", **{"n_steps": 300, **extra})
res.save(out + "/saved")
s = res.summary()
print(json.dumps({"rank": MPI.COMM_WORLD.Get_rank(), "log_z": res.log_evidence,
                  "log_z_err": res.log_evidence_error, "mean": s["mean"].tolist(),
                  "n_calls": res.n_calls, "info": res.info}))
"""


def run_mpi(tmp_path: Path, sampler: str, out: Path, **extra) -> list[dict]:
    """Run SCRIPT on 2 ranks; the per-rank results, ordered by rank."""
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, str(script), sampler, str(out), json.dumps(extra)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return sorted(lines, key=lambda r: r["rank"])


def test_ultranest_under_mpi_one_folder_right_posterior_and_resume(tmp_path):
    out = tmp_path / "run"
    first = run_mpi(tmp_path, "ultranest", out, max_ncalls=1500)
    assert [r["rank"] for r in first] == [0, 1]
    assert first[0]["info"]["mpi_ranks"] == 2
    # the calls of both ranks (each rank's own share would be about half), plus the 2 points
    # per rank of UltraNest's check of the likelihood, which its count leaves out
    assert 0 <= first[0]["info"]["n_calls_this_session"] - first[0]["n_calls"] <= 2 * 2
    ranks = run_mpi(tmp_path, "ultranest", out)  # resumes the stopped run
    # one output folder, written by rank 0: UltraNest's files, our ledger, the settings the
    # resume was checked against, and the result
    assert sorted(p.name for p in out.iterdir()) == [
        "chains", "debug.log", "extra", "fit_settings.json", "info", "plots", "results",
        "saved", "ultranest_progress.json"]
    assert (out / "saved" / "result.json").is_file()
    assert not list(out.rglob(".*.tmp*")) and not list(out.rglob("*rank*"))
    zero, one = ranks
    assert zero["log_z"] == one["log_z"] and zero["mean"] == one["mean"]
    # the calls of both sessions, of both ranks; the first session's points were replayed
    assert zero["info"]["n_calls_this_session"] < zero["n_calls"]
    assert zero["n_calls"] > first[0]["n_calls"] >= 1500
    log_z = -np.log(abs(np.linalg.det(A))) - np.log(1400.0**2)
    assert abs(zero["log_z"] - log_z) < 3 * zero["log_z_err"]
    mean, cov = analytic_posterior()
    np.testing.assert_array_less(np.abs(np.array(zero["mean"]) - mean),
                                 5 * np.sqrt(np.diag(cov) / zero["info"]["ess"]))


def test_emcee_with_an_mpi_pool(tmp_path):
    out = tmp_path / "run"
    zero, one = run_mpi(tmp_path, "emcee", out)
    assert zero["mean"] == one["mean"] and zero["n_calls"] == one["n_calls"]
    assert zero["n_calls"] >= 8 * 300  # every walker's proposal went through the pool
    assert sorted(p.name for p in out.iterdir()) == [
        "emcee.h5", "emcee_progress.json", "fit_settings.json", "saved"]
    info = zero["info"]
    ess = info["n_walkers"] * (info["iterations"] - info["burn"]) / max(info["tau"])
    mean, cov = analytic_posterior()
    np.testing.assert_array_less(np.abs(np.array(zero["mean"]) - mean),
                                 5 * np.sqrt(np.diag(cov) / ess))
