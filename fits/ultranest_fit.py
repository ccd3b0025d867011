r"""Nested sampling with UltraNest (Buchner, JOSS 6 (2021) 3001, arXiv:2101.09604).

:class:`ultranest.ReactiveNestedSampler` gets the prior's unit-cube transform and the
likelihood vectorised (``vectorized=True``: each batch of proposals is one surrogate call).
Every likelihood evaluation is stored in the run folder (``results/points.hdf5``), so a
killed run resumes with ``resume=True`` (UltraNest's ``resume="resume"``) by replaying the
stored points instead of re-evaluating them; no sample is lost. Without an output folder
(``output_dir=None``: a scan's proposals and baselines, :mod:`fits.scan`) nothing is written
and nothing can be resumed.

The output is the evidence :math:`\ln Z \pm \Delta\ln Z` and the weighted posterior samples
(the dead points with their importance weights). UltraNest needs finite log-likelihoods, so
vetoed points (``-inf``, e.g. a failed viability cut) are passed on as ``-1e100``, its
documented stand-in for "impossible".

Under ``mpiexec -n N`` (mpi4py installed) UltraNest shares each batch of proposals out over the
ranks; the run has one output folder, written by rank 0 only (UltraNest's files and our
progress ledger), resumes the same way, and every rank returns the same result.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fits.mpi import world
from fits.priors import Prior
from fits.problem import FitProblem
from fits.results import FitResult
from fits.resume import check_resume, describe
from surrogates.io import write_text
from surrogates.params import Interval, validate

__all__ = ["run_ultranest"]

_IMPOSSIBLE = -1e100  # UltraNest's advice for a zero likelihood
_LEDGER = "ultranest_progress.json"
_COUNT = Interval("int", 1)
#: What each option of :func:`run_ultranest` accepts (:mod:`surrogates.params`).
ULTRANEST_OPTIONS: dict[str, Any] = {
    "min_num_live_points": _COUNT, "dlogz": Interval("real", 0, closed="neither"),
    "frac_remain": Interval("real", 0, 1, closed="neither"), "max_ncalls": [_COUNT, None],
    "ndraw_min": _COUNT, "ndraw_max": _COUNT, "resume": bool, "seed": Interval("int", 0),
    "progress": bool,
}
#: Options that only stop a run sooner or later: a resume may change them (recorded).
ULTRANEST_BUDGET = ("dlogz", "frac_remain", "max_ncalls", "progress", "resume")


def run_ultranest(
    likelihood: Any,
    prior: Prior,
    output_dir: str | Path | None,
    *,
    min_num_live_points: int = 400,
    dlogz: float = 0.5,
    frac_remain: float = 0.01,
    max_ncalls: int | None = None,
    ndraw_min: int = 128,
    ndraw_max: int = 65536,
    resume: bool = True,
    seed: int = 0,
    progress: bool = False,
) -> FitResult:
    """Compute the evidence and posterior with UltraNest; resumable from ``output_dir``.

    Parameters
    ----------
    likelihood : Combination, Term, or callable
        Points (n, n_dim) of the prior's space -> log-likelihoods (n,).
    prior : Prior
    output_dir : path or None
        UltraNest's log folder (created if needed); None writes nothing (no resume).
    min_num_live_points : int
        Live points; 400 is UltraNest's default.
    dlogz : float
        Target evidence uncertainty (UltraNest's default 0.5).
    frac_remain : float
        Stop when the remaining live points hold less than this fraction of the evidence
        (UltraNest's default 0.01).
    max_ncalls : int, optional
        Stop after this many likelihood calls (counted over all sessions).
    ndraw_min, ndraw_max : int
        Bounds of the number of proposals UltraNest draws from its region per batch
        (UltraNest's defaults 128 and 65536). Proposals outside the transformed ellipsoid
        are dropped before the likelihood sees them, so with the default ``ndraw_min`` a
        surrogate is often called on batches of 1-10 points, where its fixed per-call cost
        dominates; a larger ``ndraw_min`` (e.g. 1000-4000) gives batches of tens to hundreds
        of points. Points above the threshold that are not needed at once are buffered and
        used in the next iterations, so few evaluations are wasted.
    resume : bool
        Replay the points stored in ``output_dir``; ``False`` overwrites them.
    seed : int
        Seeds numpy's global generator, which UltraNest draws from.
    progress : bool
        Show UltraNest's status line.

    Returns
    -------
    FitResult
        With ``log_evidence``, ``log_evidence_error``; ``info`` holds UltraNest's
        ``niter``, ``ess``, the calls made in this session (summed over MPI ranks) and
        ``mpi_ranks``. Under MPI every rank returns it; only rank 0 writes files.
    """
    import ultranest

    options = {k: v for k, v in locals().items() if k in ULTRANEST_OPTIONS}
    validate(options, ULTRANEST_OPTIONS, "run_ultranest")
    if not ndraw_min <= ndraw_max:
        raise ValueError(
            f"ndraw_min and ndraw_max must satisfy 1 <= ndraw_min <= ndraw_max; got "
            f"{ndraw_min}, {ndraw_max}"
        )
    problem = FitProblem(likelihood, prior)
    problem.probe(seed=seed)
    comm = world()
    root = comm is None or comm.Get_rank() == 0
    out = None if output_dir is None else Path(output_dir)
    ledger_file = None if out is None else out / _LEDGER
    ledger: dict[str, Any] = {}
    refused = None  # a resume refused on rank 0 is refused on every rank
    if root and out is not None:
        out.mkdir(parents=True, exist_ok=True)
        try:
            check_resume(
                out, {"prior": prior.to_dict(), "likelihood": describe(likelihood), **options},
                ULTRANEST_BUDGET, resume and (out / "results" / "points.hdf5").is_file(),
            )
        except ValueError as err:
            refused = str(err)
        if refused is None and resume and ledger_file.is_file():
            ledger = json.loads(ledger_file.read_text())
    if comm is not None:
        refused, ledger = comm.bcast((refused, ledger), root=0)
    if refused is not None:
        raise ValueError(refused)
    if ledger.get("parameter_names", prior.names) != prior.names:
        raise ValueError(f"{out} holds a run of {ledger['parameter_names']}, not {prior.names}")
    wall0 = ledger.get("wall_seconds", 0.0) if resume else 0.0
    t0 = time.perf_counter()
    last_write = [0.0]

    def write_ledger(force: bool = False) -> None:
        now = time.perf_counter()
        if root and ledger_file is not None and (force or now - last_write[0] > 1.0):
            last_write[0] = now
            write_text(
                ledger_file,
                json.dumps({"parameter_names": prior.names, "wall_seconds": wall0 + now - t0}),
            )

    def loglike(theta: np.ndarray) -> np.ndarray:
        logl = problem.log_likelihood(theta)
        write_ledger()
        return np.where(np.isfinite(logl), logl, _IMPOSSIBLE)

    np.random.seed(seed)  # noqa: NPY002 (UltraNest draws from numpy's legacy global generator)
    sampler = ultranest.ReactiveNestedSampler(
        prior.names,
        loglike,
        transform=prior.transform,
        log_dir=None if out is None else str(out),
        resume="resume" if resume and out is not None else "overwrite",
        vectorized=True,
        ndraw_min=int(ndraw_min),
        ndraw_max=int(ndraw_max),
    )
    try:
        res = sampler.run(
            min_num_live_points=int(min_num_live_points),
            dlogz=float(dlogz),
            frac_remain=float(frac_remain),
            max_ncalls=max_ncalls,
            show_status=progress,
            viz_callback=False,
        )
    finally:
        write_ledger(force=True)
        sampler.pointstore.close()
    wall = wall0 + time.perf_counter() - t0
    calls = problem.n_calls
    if comm is not None:
        wall, calls = comm.bcast(wall, root=0), comm.allreduce(calls)
    ws = res["weighted_samples"]
    theta = np.asarray(ws["points"])
    samples = pd.DataFrame(theta, columns=prior.names)
    samples["weight"] = np.asarray(ws["weights"]) / np.sum(ws["weights"])
    samples["logl"] = np.asarray(ws["logl"])
    samples = pd.concat([samples, problem.per_term(theta)], axis=1)
    return FitResult(
        sampler="ultranest",
        parameter_names=prior.names,
        samples=samples,
        log_evidence=float(res["logz"]),
        log_evidence_error=float(res["logzerr"]),
        n_calls=int(res["ncall"]),
        wall_seconds=float(wall),
        info={
            "niter": int(res["niter"]),
            "ess": float(res["ess"]),
            "n_calls_this_session": int(calls),
            "mpi_ranks": 1 if comm is None else int(comm.Get_size()),
            "min_num_live_points": int(min_num_live_points),
            "ndraw_min": int(ndraw_min),
            "ndraw_max": int(ndraw_max),
        },
    )
