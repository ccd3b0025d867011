"""MPI helpers for fits launched with ``mpiexec -n N`` (mpi4py; Dalcin & Fang, CiSE 23 (2021) 47).

Under ``mpiexec`` every rank runs the same script: the samplers share out likelihood calls
(UltraNest's own MPI support, or an :class:`schwimmbad.MPIPool` for emcee) and return the same
result on every rank, while only rank 0 writes files. Without mpi4py, or in a single process,
:func:`world` is ``None`` and everything runs as before.
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_root", "world"]


def world() -> Any | None:
    """``MPI.COMM_WORLD`` when this process is one of several MPI ranks, else ``None``."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None


def is_root() -> bool:
    """Whether this process writes the files: rank 0, or the only process."""
    comm = world()
    return comm is None or comm.Get_rank() == 0
