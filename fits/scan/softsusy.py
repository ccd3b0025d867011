"""SOFTSUSY itself as a scan simulator: one ``softpoint.x leshouches`` call per point.

The observables are the targets of the reference data, by the definitions of
``shared/datasets/pmssm19_softsusy/PROVENANCE.md`` (SOFTSUSY 4.1.22, B.C. Allanach,
Comput. Phys. Commun. 143 (2002) 305, hep-ph/0104145):

- ``valid``: 1 when SOFTSUSY returns a spectrum (a ``MASS`` block with a finite m_h) and flags
  no problem (no entry 4 in block SPINFO), else 0;
- ``h0``: the pole mass of the lightest CP-even Higgs (MASS 25), GeV, valid points;
- ``xsec_n2c1_fb``: sigma(pp -> chi2^0 chi1^+-) at 13 TeV, fb, from the spectrum and the LHC
  SUSY Cross Section Working Group tables (:func:`surrogates.data.xsec.xsec_n2c1`); valid
  points where it is defined.

Each point's input is written by :func:`surrogates.data.slha.slha_input` (the reference
inputs, byte for byte; parameters printed to 6 significant digits) and SOFTSUSY's standard
output is read by :func:`surrogates.data.slha.read_slha_text`. A point that fails comes back
invalid, with NaN observables and its ``reason``: SOFTSUSY's problem words (SPINFO 4, e.g.
``stop tachyon``), ``timeout`` (the reference data's word), the exit status of a run without
a problem flag, or why its output could not be read. SOFTSUSY exits with status 255 when it
flags a problem (all 53 reference SLHA files), so a flagged point is invalid by its flag, as
in the reference data.

One case differs from the reference data. SOFTSUSY sometimes writes a full spectrum, no entry
4 in SPINFO, and only the comment ``# SOFTSUSY problem with point: [ No convergence ]``, and
exits with status 255: its iteration did not converge. The reference rule reads SPINFO only, so
the reference data call such a point valid, with the unconverged m_h. This simulator calls it
invalid, with the comment's words as its reason (``No convergence (exit status 255, a
comment, not SPINFO 4)``). Such points are rare (40 of the 12,633 m_h test points) but common
among those the surrogates get worst (8 of the 60 worst m_h test points; ``docs/methods.md``).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fits.scan.simulators import PMSSMSimulator
from surrogates.data.slha import read_slha_text, slha_input
from surrogates.params import Interval, validate
from surrogates.space import PMSSM19

__all__ = ["ENV_EXECUTABLE", "OBSERVABLES", "SoftsusySimulator", "find_softpoint", "run_softpoint"]

#: What the numerical options of :class:`SoftsusySimulator` accept (:mod:`surrogates.params`).
OPTIONS: dict[str, object] = {
    "timeout": Interval("real", 0, closed="neither"), "n_workers": Interval("int", 1),
}

#: Environment variable naming the ``softpoint.x`` executable.
ENV_EXECUTABLE = "BSM_SURROGATES_SOFTPOINT"

#: The default executable, relative to the repository root (used only where it exists).
_DEFAULT_EXECUTABLE = Path("..") / "shared" / "tools" / "softsusy" / "softpoint.x"
_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

#: Observables of the simulator (the columns of the reference ``points.csv.gz``).
OBSERVABLES = ("valid", "h0", "xsec_n2c1_fb")

_STDERR_CHARS = 200  # of SOFTSUSY's standard error kept in a reason
#: The problem SOFTSUSY prints as a comment of a spectrum it did not flag in SPINFO 4.
_COMMENT_PROBLEM = re.compile(r"^#\s*SOFTSUSY problem with point:\s*\[(.*?)\]", re.MULTILINE)

#: One parse at a time per process: pyslha reads numbers with ``ast.literal_eval``, and
#: CPython 3.11's AST constructor raises "SystemError: AST constructor recursion depth
#: mismatch" when threads compile at once (python/cpython#106905; seen here once in ~3,000
#: points with 2 threads). Parsing takes ~10 ms of SOFTSUSY's ~60 ms per point.
_PARSE_LOCK = threading.Lock()


def find_softpoint(executable: str | Path | None = None) -> Path:
    """The ``softpoint.x`` to run: ``executable``, else ``$BSM_SURROGATES_SOFTPOINT``, else
    ``../shared/tools/softsusy/softpoint.x`` relative to the repository root.

    Raises
    ------
    ValueError
        In one line, if none is given and the default is absent, or if the one chosen is not
        an executable file.
    """
    if executable is None:
        executable = os.environ.get(ENV_EXECUTABLE) or None
    if executable is None:
        default = _REPOSITORY_ROOT / _DEFAULT_EXECUTABLE
        if not default.is_file():
            raise ValueError(
                f"no SOFTSUSY executable: give executable= or set {ENV_EXECUTABLE} to the path "
                f"of softpoint.x ({_DEFAULT_EXECUTABLE} next to the repository is absent)"
            )
        return default
    path = Path(executable).expanduser()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ValueError(f"SOFTSUSY executable {str(path)!r} is not an executable file")
    return path.resolve()


def _invalid(reason: str) -> dict[str, Any]:
    return {"valid": 0.0, "h0": np.nan, "xsec_n2c1_fb": np.nan, "reason": reason}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_STDERR_CHARS]


def run_softpoint(executable: str, slha_in: str, timeout: float) -> dict[str, Any]:
    """Run ``softpoint.x leshouches`` on one SLHA input and read its output.

    Parameters
    ----------
    executable : str
        Path of ``softpoint.x``.
    slha_in : str
        The SLHA input (:func:`surrogates.data.slha.slha_input`).
    timeout : float
        Seconds before the run is killed and the point called invalid (``timeout``).

    Returns
    -------
    dict
        ``valid`` (1.0 or 0.0), ``h0`` (GeV), ``xsec_n2c1_fb`` (fb) and ``reason`` (None for a
        valid point, else why not); never raises for a failing run.
    """
    try:
        run = subprocess.run([executable, "leshouches"], input=slha_in, capture_output=True,
                             text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return _invalid("timeout")
    except OSError as err:
        return _invalid(f"could not run {executable}: {_one_line(str(err))}")
    status = f"exit status {run.returncode}" if run.returncode else ""
    try:
        with _PARSE_LOCK:
            row = read_slha_text(run.stdout, where="SOFTSUSY output")
    except ValueError as err:
        detail = _one_line(run.stderr) or _one_line(str(err))
        return _invalid(f"{status or 'unreadable output'}: {detail}")
    if not row["valid"]:
        return _invalid(row["problem"])
    if status:
        comment = _COMMENT_PROBLEM.search(run.stdout)
        if comment:
            return _invalid(f"{_one_line(comment.group(1))} ({status}, a comment, not SPINFO 4)")
        detail = _one_line(run.stderr)
        return _invalid(f"{status} without a problem flag" + (f": {detail}" if detail else ""))
    if not math.isfinite(row["h0"]):
        return _invalid("no finite m_h")
    return {"valid": 1.0, "h0": row["h0"], "xsec_n2c1_fb": row["xsec_n2c1_fb"], "reason": None}


class SoftsusySimulator(PMSSMSimulator):
    """SOFTSUSY 4.1.22 on a sub-space of the pMSSM-19 (see the module docstring).

    Parameters
    ----------
    free : sequence of str, optional
        pMSSM-19 parameters to scan, in column order; all 19 by default.
    fixed : mapping of str to float, optional
        Values of every other parameter (GeV; ``tanb`` dimensionless).
    executable : str or Path, optional
        ``softpoint.x``; by default ``$BSM_SURROGATES_SOFTPOINT``, else
        ``../shared/tools/softsusy/softpoint.x`` next to the repository (see
        :func:`find_softpoint`).
    timeout : float
        Seconds per point before it is called invalid; 60 s as for the reference data.
    n_workers : int
        Points run at once by the default thread pool (each call is its own process).
    executor : concurrent.futures.Executor, optional
        Where the calls run instead, e.g. a ``ProcessPoolExecutor`` or a Dask
        ``distributed.Client(...).get_executor()``; the caller shuts it down.

    Notes
    -----
    Calling the simulator returns the observables ``valid``, ``h0``, ``xsec_n2c1_fb`` and the
    column ``reason``, one row per point in input order.
    """

    info_columns = ("reason",)

    def __init__(
        self,
        free: Sequence[str] | None = None,
        fixed: Mapping[str, float] | None = None,
        *,
        executable: str | Path | None = None,
        timeout: float = 60.0,  # the reference data's time-out (PROVENANCE.md)
        n_workers: int = 1,
        executor: Executor | None = None,
    ) -> None:
        super().__init__(list(PMSSM19.names if free is None else free), fixed or {}, OBSERVABLES)
        validate({"timeout": timeout, "n_workers": n_workers}, OPTIONS, "SoftsusySimulator")
        if executor is not None and not isinstance(executor, Executor):
            raise ValueError(
                f"executor must be a concurrent.futures.Executor; got {type(executor).__name__}"
            )
        self.executable = find_softpoint(executable)
        self.timeout = float(timeout)
        self.n_workers = int(n_workers)
        self.executor = executor
        self.name = "softsusy"

    def _evaluate(self, X: np.ndarray) -> pd.DataFrame:
        names = PMSSM19.names
        inputs = [slha_input(dict(zip(names, point, strict=True)))
                  for point in self.full_points(X)]
        n = len(inputs)
        args = ([str(self.executable)] * n, inputs, [self.timeout] * n)
        if self.executor is not None:
            rows = list(self.executor.map(run_softpoint, *args))
        else:
            with ThreadPoolExecutor(self.n_workers) as pool:
                rows = list(pool.map(run_softpoint, *args))
        return pd.DataFrame(rows, columns=[*OBSERVABLES, "reason"], index=range(n))
