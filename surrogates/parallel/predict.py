"""Prediction of a saved surrogate over a table larger than memory, partition by partition.

The table is cut into partitions of ``partition_rows`` rows. A Parquet file is read by the
workers themselves (each reads the row groups its rows lie in, so write big tables with row
groups of at most about ``partition_rows`` rows); a CSV file is streamed by the client and
its chunks sent to the workers. Each worker loads the model once (a per-process cache keyed
by the model folder and its metadata's modification time) and returns ``id, mean, std,
outside_domain`` for its rows; the client writes the partitions in order to a temporary file
that is renamed into place at the end (:func:`surrogates.io.atomic_write`). At most two
partitions per worker are in flight, so the client holds a bounded number of rows however
big the table. Every prediction is made row by row, so the partitioned result equals
:meth:`Surrogate.predict` on the whole table.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from surrogates.io import atomic_write, check_output

__all__ = ["predict_table"]

_IN_FLIGHT_PER_WORKER = 2


@functools.lru_cache(maxsize=4)
def _model(folder: str, stamp: float) -> Any:
    """The surrogate saved in ``folder``, loaded once per process (``stamp``: its mtime)."""
    from surrogates.base import Surrogate

    return Surrogate.load(folder, device="cpu")


def _predict_partition(
    folder: str, stamp: float, part: pd.DataFrame | tuple[str, int, int], strict: bool
) -> pd.DataFrame:
    """Predictions of one partition: a DataFrame, or ``(parquet path, first row, stop)``."""
    model = _model(folder, stamp)
    if isinstance(part, tuple):
        path, start, stop = part
        df, first_id = _read_parquet_rows(path, start, stop, model.space.names), start
    else:
        df, first_id = part, part.index[0] if len(part) else 0
    pred = model.predict(df, strict=strict)
    ids = df["id"].to_numpy() if "id" in df.columns else first_id + np.arange(len(df))
    return pred.to_frame(ids)


def _read_parquet_rows(path: str, start: int, stop: int, names: list[str]) -> pd.DataFrame:
    """Rows ``[start, stop)`` of a Parquet file, reading only the row groups they lie in and
    the columns ``names`` and ``id`` (other columns are left for the model to refuse)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    present = pf.schema_arrow.names
    columns = [c for c in present if c in {*names, "id"}] if set(names) <= set(present) else None
    sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    ends = np.cumsum(sizes)
    first = int(np.searchsorted(ends, start, side="right"))
    last = int(np.searchsorted(ends, stop - 1, side="right"))
    offset = int(ends[first] - sizes[first])
    table = pf.read_row_groups(list(range(first, last + 1)), columns=columns)
    return table.slice(start - offset, stop - start).to_pandas()


def _partitions(data: Path, rows: int) -> tuple[int | None, Iterator[Any]]:
    """(number of partitions if known, the partitions): Parquet row ranges or CSV chunks."""
    name = data.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        n = pq.ParquetFile(data).metadata.num_rows
        starts = range(0, n, rows)
        return len(starts), ((str(data), a, min(a + rows, n)) for a in starts)
    if name.endswith((".csv", ".csv.gz")):
        return None, iter(pd.read_csv(data, chunksize=rows))
    raise ValueError(f"data file {data}: expected .csv, .csv.gz or .parquet")


def _writer(out: Path) -> Callable[[Path], Any]:
    """A function opening the output at a path; it returns ``write(df)`` and ``close()``."""
    if out.name.lower().endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        def open_parquet(path: Path):
            state: dict[str, Any] = {}

            def write(df: pd.DataFrame) -> None:
                table = pa.Table.from_pandas(df, preserve_index=False)
                if "w" not in state:
                    state["w"] = pq.ParquetWriter(path, table.schema)
                state["w"].write_table(table)

            return write, lambda: state["w"].close() if "w" in state else None

        return open_parquet
    if out.name.lower().endswith((".csv", ".csv.gz")):

        def open_csv(path: Path):
            first = [True]

            def write(df: pd.DataFrame) -> None:
                df.to_csv(path, index=False, header=first[0], mode="w" if first[0] else "a")
                first[0] = False

            return write, lambda: None

        return open_csv
    raise ValueError(f"output {out}: expected .csv, .csv.gz or .parquet")


def predict_table(
    model: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    client: Any = None,
    partition_rows: int = 100_000,
    strict: bool = False,
    allow_nonfinite: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, int]:
    """Predict with the surrogate saved in ``model`` over the table ``data``; write ``out``.

    Parameters
    ----------
    model : path
        Folder of a saved surrogate (:meth:`Surrogate.save`).
    data : path
        ``.parquet``, ``.csv`` or ``.csv.gz`` with the surrogate's parameter columns (GeV,
        tan beta dimensionless) and optionally ``id``.
    out : path
        ``.parquet``, ``.csv`` or ``.csv.gz`` to write: ``id, mean, std, outside_domain``
        (``id``: the table's, else the row number), plus ``finite`` with
        ``allow_nonfinite``. Complete or absent.
    client : distributed.Client, optional
        Where the partitions run (:func:`~surrogates.parallel.dask_client`); ``None``: here,
        one after the other.
    partition_rows : int
        Rows per partition: the memory of a worker grows with it (about 1 kB per row and
        19 parameters, plus the model's activations, which it bounds by its own chunks).
    strict : bool
        Fail on points outside the training box instead of flagging them.
    allow_nonfinite : bool
        Write non-finite predictions, flagged in ``finite``, instead of failing.
    overwrite : bool
        Replace an existing ``out``.
    progress : bool
        Show a progress bar over the partitions.

    Returns
    -------
    dict
        ``rows``, ``outside_domain`` and ``nonfinite`` counts.

    Raises
    ------
    ValueError
        On a bad ``partition_rows``, unknown file types, or non-finite predictions without
        ``allow_nonfinite`` (naming the first such row; nothing is written).
    """
    if not isinstance(partition_rows, (int, np.integer)) or partition_rows < 1:
        raise ValueError(f"partition_rows must be an integer >= 1; got {partition_rows!r}")
    model, data, out = Path(model), Path(data), Path(out)
    if not data.is_file():
        raise ValueError(f"data file {data} does not exist")
    check_output(out, [data, model], overwrite=overwrite)
    open_output = _writer(out)
    n_parts, parts = _partitions(data, int(partition_rows))
    stamp = (model / "metadata.json").stat().st_mtime if model.is_dir() else 0.0
    folder = str(model.resolve())
    if client is None:
        results = (_predict_partition(folder, stamp, p, strict) for p in parts)
    else:
        depth = _IN_FLIGHT_PER_WORKER * max(len(client.scheduler_info()["workers"]), 1)
        results = _in_order(client, parts, depth, folder, stamp, strict)
    counts = {"rows": 0, "outside_domain": 0, "nonfinite": 0}

    def write_all(path: Path) -> None:
        write, close = open_output(path)
        try:
            for df in tqdm(results, total=n_parts, desc="predict", unit="partition",
                           disable=not progress):
                finite = np.isfinite(df["mean"].to_numpy()) & np.isfinite(df["std"].to_numpy())
                if not finite.all() and not allow_nonfinite:
                    i = int(np.argmin(finite))
                    raise ValueError(
                        f"{data}: the prediction of row {counts['rows'] + i} (id "
                        f"{df['id'].iloc[i]}) is not finite; the inputs are probably far "
                        "outside the training box. Nothing was written; allow_nonfinite "
                        "(--allow-nonfinite) writes them with finite=False"
                    )
                if allow_nonfinite:
                    df["finite"] = finite
                counts["rows"] += len(df)
                counts["outside_domain"] += int(df["outside_domain"].sum())
                counts["nonfinite"] += int((~finite).sum())
                write(df)
        finally:
            close()

    atomic_write(out, write_all)
    return counts


def _in_order(
    client: Any, parts: Iterator[Any], depth: int, folder: str, stamp: float, strict: bool
) -> Iterator[pd.DataFrame]:
    """The partitions' predictions in table order, with at most ``depth`` in flight."""
    pending: deque = deque()
    for part in parts:
        pending.append(client.submit(_predict_partition, folder, stamp, part, strict,
                                     pure=False))
        if len(pending) >= depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
