"""A Dask client: a local cluster of worker processes, or a running scheduler's address."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["LOCAL", "dask_client"]

#: The ``scheduler`` value that starts a :class:`distributed.LocalCluster` on this machine.
LOCAL = "local"


@contextlib.contextmanager
def dask_client(
    scheduler: str = LOCAL, *, n_workers: int | None = None, memory_limit: str | None = None
) -> Iterator[Any]:
    """Yield a :class:`distributed.Client`; a local cluster started here is closed at the end.

    Parameters
    ----------
    scheduler : str
        ``"local"``: a :class:`~distributed.LocalCluster` of worker processes with one
        thread each (PyTorch, NumPy and BLAS then use one thread per worker, Dask's default
        ``OMP_NUM_THREADS=1``); otherwise the address of a running scheduler, e.g.
        ``tcp://10.0.0.1:8786`` (started with ``dask scheduler`` and ``dask worker``).
    n_workers : int, optional
        Workers of the local cluster; default one per available core.
    memory_limit : str, optional
        Memory per local worker (e.g. ``"2GiB"``); default Dask's share of the machine.

    Raises
    ------
    ValueError
        If ``n_workers`` < 1, or ``n_workers`` / ``memory_limit`` are given with an address.
    """
    from distributed import Client, LocalCluster

    if scheduler != LOCAL:
        if n_workers is not None or memory_limit is not None:
            raise ValueError(
                "n_workers and memory_limit configure a local cluster; a scheduler at "
                f"{scheduler!r} has its own workers"
            )
        with Client(scheduler) as client:
            yield client
        return
    n = len(os.sched_getaffinity(0)) if n_workers is None else int(n_workers)
    if n < 1:
        raise ValueError(f"n_workers must be >= 1; got {n_workers}")
    with LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
        memory_limit=memory_limit or "auto",
    ) as cluster, Client(cluster) as client:
        yield client
