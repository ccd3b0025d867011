r"""Affine-invariant ensemble MCMC with emcee (Foreman-Mackey et al., arXiv:1202.3665).

The log posterior goes to :class:`emcee.EnsembleSampler` vectorised (``vectorize=True``: all
walkers of a half-step in one batched surrogate call) and every step is stored in an HDF5
backend (``emcee.h5`` in the output folder), so a killed run resumes from its last stored
step without losing any: :func:`run_emcee` with ``resume=True`` continues until the chain
holds ``n_steps`` steps in total. Without an output folder (``output_dir=None``: a scan's
proposals, :mod:`fits.scan.proposals`) the chain stays in memory and cannot be resumed.

Convergence follows the emcee documentation: every ``check_every`` steps the integrated
autocorrelation time :math:`\tau` of each parameter is estimated (Goodman & Weare 2010;
Sokal's windowing), and the chain counts as converged when it is longer than
:math:`50\,\tau` for every parameter (emcee's own ``tol=50``) and :math:`\tau` changed by
less than 1% since the last check. Samples then drop a burn-in of :math:`2\tau_\max` and are
thinned by :math:`\tau_\min/2`.

A likelihood that is not vectorised (each point its own slow computation) can instead be
evaluated one walker per MPI rank: ``pool="mpi"`` under ``mpiexec -n N`` hands the walkers of
each half-step to an :class:`schwimmbad.MPIPool` (Price-Whelan & Foreman-Mackey, JOSS 2 (2017)
357) of N - 1 workers; rank 0 drives the sampler and alone writes files, and every rank
returns the result. It pays only when one point costs much more than sending it to a rank
(milliseconds or more); a vectorised surrogate is faster in one process.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import emcee
import numpy as np
import pandas as pd

from fits.mpi import world
from fits.priors import Prior
from fits.problem import FitProblem
from fits.results import FitResult
from fits.resume import check_resume, describe
from surrogates.io import write_text
from surrogates.params import Interval, ListOf, Options, validate

__all__ = ["run_emcee"]

_TAU_FACTOR = 50  # emcee's get_autocorr_time(tol=50)
_TAU_RTOL = 0.01  # emcee docs, "Saving & monitoring progress"
_BACKEND = "emcee.h5"
_LEDGER = "emcee_progress.json"
POOLS = ("none", "mpi")
_COUNT = Interval("int", 1)
#: What each option of :func:`run_emcee` accepts (:mod:`surrogates.params`).
EMCEE_OPTIONS: dict[str, Any] = {
    "n_walkers": [Interval("int", 2), None], "n_steps": _COUNT, "initial": [ListOf(
        ListOf(Interval("real"))), np.ndarray, None], "resume": bool,
    "stop_when_converged": bool, "check_every": _COUNT, "thin_by": _COUNT,
    "seed": Interval("int", 0), "progress": bool, "pool": Options(POOLS),
    "max_ncalls": [_COUNT, None], "burn": [Interval("int", 0), None],
}
#: Options that only stop a run sooner or later, or choose which stored steps the result
#: keeps: a resume may change them (recorded).
EMCEE_BUDGET = ("n_steps", "stop_when_converged", "check_every", "progress", "resume",
                "max_ncalls", "burn")
_POOL_PROBLEM: list[FitProblem] = []  # the problem every rank evaluates for the MPI pool


def _pooled_log_posterior(theta: np.ndarray) -> float:
    """Log posterior of one walker (ndim,): what the MPI pool's workers evaluate.

    A module-level function reading the problem each rank built itself, so a task sent to
    a worker is the point alone, not the pickled likelihood.
    """
    return float(_POOL_PROBLEM[0].log_posterior(theta[None, :])[0])


class _CountingPool:
    """An MPI pool that counts the points it hands out as likelihood calls."""

    def __init__(self, pool: Any, problem: FitProblem) -> None:
        self.pool, self.problem = pool, problem

    def map(self, function: Any, tasks: Any) -> list:
        tasks = list(tasks)
        self.problem.n_calls += len(tasks)
        return self.pool.map(function, tasks)


def _initial_walkers(
    problem: FitProblem, n_walkers: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Prior draws with a finite posterior, shape (n_walkers, ndim), and their log posterior."""
    rng = np.random.default_rng(seed)
    found, found_lp = np.empty((0, problem.prior.ndim)), np.empty(0)
    for _ in range(100):
        theta = problem.prior.sample(4 * n_walkers, rng)
        lp = problem.log_posterior(theta)
        found = np.vstack([found, theta[np.isfinite(lp)]])
        found_lp = np.concatenate([found_lp, lp[np.isfinite(lp)]])
        if len(found) >= n_walkers:
            return found[:n_walkers], found_lp[:n_walkers]
    raise ValueError(
        f"found only {len(found)} of {n_walkers} prior draws with a finite posterior in "
        f"{400 * n_walkers} tries; pass initial= points near the posterior"
    )


def run_emcee(
    likelihood: Any,
    prior: Prior,
    output_dir: str | Path | None,
    *,
    n_walkers: int | None = None,
    n_steps: int = 5000,
    initial: np.ndarray | None = None,
    resume: bool = True,
    stop_when_converged: bool = True,
    check_every: int = 100,
    thin_by: int = 1,
    seed: int = 0,
    progress: bool = False,
    pool: str = "none",
    max_ncalls: int | None = None,
    burn: int | None = None,
) -> FitResult:
    """Sample the posterior with emcee; resumable from ``output_dir``.

    Parameters
    ----------
    likelihood : Combination, Term, or callable
        Points (n, n_dim) of the prior's space -> log-likelihoods (n,).
    prior : Prior
    output_dir : path or None
        Folder of the HDF5 backend and the progress ledger (created if needed); None keeps
        the chain in memory (no files, nothing to resume).
    n_walkers : int, optional
        Walkers; default ``max(32, 4 * ndim)``.
    n_steps : int
        Total steps the chain should hold (counting steps stored by earlier sessions); each
        stored step is ``thin_by`` moves of the walkers.
    initial : ndarray of shape (n_walkers, ndim), optional
        Starting walkers inside the prior, at least one with a finite posterior (emcee moves
        the others out of a vetoed region); default: prior draws with a finite posterior.
    resume : bool
        Continue a chain found in ``output_dir``; ``False`` starts afresh, overwriting it.
    stop_when_converged : bool
        Stop before ``n_steps`` once the convergence check passes.
    check_every : int
        Stored steps between autocorrelation checks.
    thin_by : int
        Moves per stored step (emcee's ``thin_by``): fewer HDF5 writes, which cost more than
        a surrogate call; a killed run loses at most ``thin_by - 1`` unstored moves.
    seed : int
        Seeds the initial draws and the sampler's random state.
    progress : bool
        Show emcee's progress bar.
    pool : {"none", "mpi"}
        ``"mpi"``: evaluate the walkers one point per task on the other MPI ranks (run under
        ``mpiexec -n N``, N >= 2; see the module text for when it pays); ``n_calls`` then
        counts the points sent to the pool.
    max_ncalls : int, optional
        Stop after the stored step at which the likelihood has been called this many times
        (counted over all sessions; the probe's calls are not counted).
    burn : int, optional
        Stored steps the samples drop as burn-in, unthinned; default ``2 tau_max`` thinned by
        ``tau_min / 2`` once the chain is 50 autocorrelation times long, else half the chain.

    Returns
    -------
    FitResult
        ``info`` holds ``tau``, ``converged``, ``iterations``, ``burn``, ``thin`` and
        ``acceptance_fraction``; the same on every MPI rank.
    """
    options = {k: v for k, v in locals().items() if k in EMCEE_OPTIONS}
    validate(options, EMCEE_OPTIONS, "run_emcee")
    problem = FitProblem(likelihood, prior)
    problem.probe(seed=seed)
    ndim = prior.ndim
    n_walkers = max(32, 4 * ndim) if n_walkers is None else int(n_walkers)
    if n_walkers < 2 * ndim:
        raise ValueError(f"n_walkers must be >= 2 * ndim = {2 * ndim}; got {n_walkers}")
    settings = {"prior": prior.to_dict(), "likelihood": describe(likelihood),
                **{k: v for k, v in options.items() if k not in ("initial", "pool")},
                "n_walkers": n_walkers}  # the pool changes where, not what, is computed
    args = (problem, None if output_dir is None else Path(output_dir), settings, n_walkers,
            n_steps, initial, resume, stop_when_converged, check_every, thin_by, seed, progress,
            max_ncalls, burn)
    if pool == "none":
        return _sample(*args)
    comm = world()
    if comm is None:
        raise ValueError("pool='mpi' needs at least 2 MPI ranks: run under mpiexec -n N, N >= 2")
    from schwimmbad import MPIPool

    _POOL_PROBLEM[:] = [problem]
    try:
        mpi_pool = MPIPool(comm=comm)
    except SystemExit:  # a worker rank: schwimmbad serves tasks in the constructor, then exits
        result = comm.bcast(None, root=0)
        if result is None:
            raise RuntimeError(
                "the emcee fit failed on MPI rank 0 (its error is reported there)"
            ) from None
        return result
    result = None
    try:
        result = _sample(*args, pool=_CountingPool(mpi_pool, problem))
    finally:
        mpi_pool.close()
        comm.bcast(result, root=0)  # the workers learn the result, or that there is none
    return result


def _sample(
    problem: FitProblem, out: Path | None, settings: dict[str, Any], n_walkers: int,
    n_steps: int, initial: np.ndarray | None,
    resume: bool, stop_when_converged: bool, check_every: int, thin_by: int, seed: int,
    progress: bool, max_ncalls: int | None, burn: int | None,
    pool: _CountingPool | None = None,
) -> FitResult:
    """:func:`run_emcee` after its checks; with ``pool``, one walker per task."""
    prior, ndim = problem.prior, problem.prior.ndim
    if out is None:
        backend, ledger_file, resuming = emcee.backends.Backend(), None, False
    else:
        out.mkdir(parents=True, exist_ok=True)
        backend = emcee.backends.HDFBackend(str(out / _BACKEND), name="mcmc")
        ledger_file = out / _LEDGER
        resuming = resume and (out / _BACKEND).is_file() and backend.iteration > 0
        check_resume(out, settings, EMCEE_BUDGET, resuming)
    if resuming:
        shape = tuple(int(v) for v in backend.shape)
        if shape != (n_walkers, ndim):
            raise ValueError(
                f"{out / _BACKEND} holds a chain of (n_walkers, ndim) = {shape}; this "
                f"fit asks for {(n_walkers, ndim)}. Use another output folder or resume=False"
            )
        stored = json.loads(ledger_file.read_text()) if ledger_file.is_file() else {}
        ledger = {"parameter_names": prior.names, "n_calls": 0, "wall_seconds": 0.0, **stored}
        if ledger["parameter_names"] != prior.names:
            raise ValueError(
                f"{out} holds a chain of {ledger['parameter_names']}, not {prior.names}"
            )
        start = backend.get_last_sample()
    else:
        backend.reset(n_walkers, ndim)
        ledger = {"parameter_names": prior.names, "n_calls": 0, "wall_seconds": 0.0}
        if initial is None:
            walkers, log_prob = _initial_walkers(problem, n_walkers, seed)
        else:
            walkers = np.asarray(initial, float)
            if walkers.shape != (n_walkers, ndim):
                raise ValueError(
                    f"initial has shape {walkers.shape}; expected {(n_walkers, ndim)}"
                )
            if not np.isfinite(prior.log_prob(walkers)).all():
                raise ValueError("some initial walkers lie outside the prior")
            log_prob = problem.log_posterior(walkers)
            if not np.isfinite(log_prob).any():
                raise ValueError("every initial walker has a zero posterior")
        start = emcee.State(walkers, log_prob=log_prob)  # emcee does not evaluate them again
    calls0, wall0 = ledger["n_calls"], ledger["wall_seconds"]
    if pool is None:
        sampler = emcee.EnsembleSampler(
            n_walkers, ndim, problem.log_posterior, vectorize=True, backend=backend
        )
    else:
        sampler = emcee.EnsembleSampler(
            n_walkers, ndim, _pooled_log_posterior, pool=pool, backend=backend
        )
    if not resuming:
        sampler.random_state = np.random.RandomState(seed).get_state()
    t0 = time.perf_counter()
    old_tau, converged, written = np.full(ndim, np.inf), False, t0

    def write_ledger(now: float) -> None:
        ledger.update(n_calls=calls0 + problem.n_calls, wall_seconds=wall0 + now - t0)
        if ledger_file is not None:
            write_text(ledger_file, json.dumps(ledger))

    remaining = max(n_steps - backend.iteration, 0)
    try:
        for _ in sampler.sample(start, iterations=remaining, thin_by=thin_by, progress=progress):
            if time.perf_counter() - written > 1.0:  # the ledger at most once a second
                written = time.perf_counter()
                write_ledger(written)
            if max_ncalls is not None and calls0 + problem.n_calls >= max_ncalls:
                break
            if backend.iteration % check_every:
                continue
            tau = backend.get_autocorr_time(tol=0)
            converged = bool(
                np.all(_TAU_FACTOR * tau < backend.iteration)
                and np.all(np.abs(old_tau - tau) < _TAU_RTOL * tau)
            )
            old_tau = tau
            if converged and stop_when_converged:
                break
    finally:
        write_ledger(time.perf_counter())
    return _result(backend, problem, ledger, converged, burn)


def _result(
    backend: Any, problem: FitProblem, ledger: dict, converged: bool, burn: int | None
) -> FitResult:
    iterations = int(backend.iteration)
    tau = backend.get_autocorr_time(tol=0)
    reliable = np.all(np.isfinite(tau)) and np.all(_TAU_FACTOR * tau < iterations)
    if burn is not None:
        thin = 1
    elif reliable:
        burn, thin = int(2 * tau.max()), max(1, int(0.5 * tau.min()))
    else:
        burn, thin = iterations // 2, 1
        warnings.warn(
            f"the chain ({iterations} steps) is shorter than {_TAU_FACTOR} autocorrelation times "
            f"(tau = {np.round(tau, 1).tolist()}); samples keep its second half, unthinned",
            stacklevel=3,
        )
    theta = backend.get_chain(discard=burn, thin=thin, flat=True)
    logp = backend.get_log_prob(discard=burn, thin=thin, flat=True)
    samples = pd.DataFrame(theta, columns=problem.prior.names)
    samples["weight"] = 1.0 / len(samples)
    samples["logl"] = logp - problem.prior.log_prob(theta)
    samples = pd.concat([samples, problem.per_term(theta)], axis=1)
    info = {
        "iterations": int(iterations),
        "n_walkers": int(backend.shape[0]),
        "tau": tau.tolist(),
        "converged": bool(converged and reliable),
        "burn": burn,
        "thin": thin,
        "acceptance_fraction": float(np.mean(backend.accepted / max(iterations, 1))),
    }
    return FitResult(
        sampler="emcee",
        parameter_names=problem.prior.names,
        samples=samples,
        n_calls=int(ledger["n_calls"]),
        wall_seconds=float(ledger["wall_seconds"]),
        info=info,
    )
