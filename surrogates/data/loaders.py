"""Loaders of SOFTSUSY-labelled pMSSM-19 points and the per-target data sets.

A *points table* has one row per parameter point with the columns of
``shared/datasets/pmssm19_softsusy/points.csv.gz``: ``id``, the 19 parameters, ``valid``,
``problem``, ``h0`` (GeV) and ``xsec_n2c1_fb`` (fb). The library ships two copies of that
reference data (provenance: ``surrogates/data/embedded/PROVENANCE.md``):

- ``"embedded"`` (the default): a random 40,000-point subset, every column, for fast tests;
- ``"full"``: all 314,910 points with the columns the targets need (``id``, the 19
  parameters, ``valid``, ``h0``, ``xsec_n2c1_fb``) and ``problem`` (the auxiliary labels of
  the validity classifier, :mod:`surrogates.data.problems`), losslessly encoded in Parquet
  (``surrogates/data/full/``, written by ``tools/make_full_data.py``).

A user's own CSV or Parquet file with the same columns can be passed instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.space import PARAMETER_NAMES
from surrogates.targets import Target, get_target

__all__ = [
    "EMBEDDED_POINTS",
    "FULL_DECIMALS",
    "FULL_POINTS",
    "PACKAGED_DATA",
    "Split",
    "load_points",
    "read_table",
    "load_dataset",
    "SPLIT_METHODS",
    "split_dataset",
    "split_method",
    "unit_hash",
    "features",
    "labels",
]

#: The compressed subset of the SOFTSUSY reference points shipped with the package.
EMBEDDED_POINTS = Path(__file__).parent / "embedded" / "pmssm19_softsusy_subset.csv.gz"
#: All reference points, the columns the targets need (``tools/make_full_data.py``).
FULL_POINTS = Path(__file__).parent / "full" / "pmssm19_softsusy_full.parquet"
#: Decimal places of the columns stored as integers in :data:`FULL_POINTS`
#: (``value * 10**places``): the rounding of PROVENANCE.md, so decoding is exact.
FULL_DECIMALS = {**{name: 1 for name in PARAMETER_NAMES}, "tanb": 3}
#: Names accepted as ``source`` for the packaged data.
PACKAGED_DATA = {"embedded": EMBEDDED_POINTS, "full": FULL_POINTS}


def _decode_full(df: pd.DataFrame) -> pd.DataFrame:
    """Integers of :data:`FULL_DECIMALS` back to float64 (empty cells to NaN)."""
    for column, places in FULL_DECIMALS.items():
        df[column] = df[column].astype("Float64").to_numpy(np.float64, na_value=np.nan) / (
            10**places
        )
    return df


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a ``.csv``, ``.csv.gz`` or ``.parquet`` table whose column names are unique.

    Raises
    ------
    ValueError
        If the file is missing, of an unknown type, unreadable, or repeats a column name
        (pandas would silently rename the copy to ``name.1``).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {path} does not exist")
    suffixes = "".join(path.suffixes[-2:]).lower()
    try:
        if suffixes.endswith(".parquet"):
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            df = pd.read_parquet(path)
        elif suffixes.endswith((".csv", ".csv.gz")):
            header = pd.read_csv(path, header=None, nrows=1, dtype=str)
            names = header.iloc[0].tolist() if len(header) else []
            df = pd.read_csv(path)
        else:
            raise ValueError(f"data file {path}: expected .csv, .csv.gz or .parquet")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"data file {path} could not be read: {err}") from None
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"data file {path} repeats the column(s) {', '.join(repeated)}")
    return df


def load_points(source: str | Path | None = None) -> pd.DataFrame:
    """Read a points table.

    Parameters
    ----------
    source : path or {"embedded", "full"}, optional
        A ``.csv``, ``.csv.gz`` or ``.parquet`` file, or the name of a packaged data set.
        Defaults to the embedded subset.

    Returns
    -------
    DataFrame
        One row per point; at least the 19 parameter columns and ``valid``.

    Raises
    ------
    ValueError
        If the file is missing, of an unknown type, or lacks required columns.
    """
    source = "embedded" if source is None else source
    path = PACKAGED_DATA.get(source) if isinstance(source, str) else None
    path = Path(source) if path is None else path
    if not path.is_file():
        raise ValueError(
            f"data file {path} does not exist (packaged data: {', '.join(PACKAGED_DATA)})"
        )
    df = read_table(path)
    if path == FULL_POINTS:
        df = _decode_full(df)
    missing = [c for c in (*PARAMETER_NAMES, "valid") if c not in df.columns]
    if missing:
        raise ValueError(f"data file {path} is missing the column(s) {', '.join(missing)}")
    return df


def load_dataset(
    target: str | Target, source: str | Path | pd.DataFrame | None = None
) -> pd.DataFrame:
    """The rows of a points table that form ``target``'s data set.

    Parameters
    ----------
    target : str or Target
        ``validity`` (all points), ``higgs_mass`` (valid, 110 <= m_h <= 130 GeV) or ``xsec``
        (valid points with a cross section); see :mod:`surrogates.targets`.
    source : path, {"embedded", "full"} or DataFrame, optional
        Points table, its file, or a packaged data set; defaults to the embedded subset.

    Returns
    -------
    DataFrame
        The selected rows with a fresh index, all columns kept.
    """
    target = get_target(target)
    points = load_points(source) if not isinstance(source, pd.DataFrame) else source
    if target.column not in points.columns:
        raise ValueError(
            f"the points table has no column {target.column!r}, needed for target {target.name!r}"
        )
    return points.loc[target.select(points)].reset_index(drop=True)


@dataclass(frozen=True)
class Split:
    """Train, validation and test parts of one data set."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


def split_method(df: pd.DataFrame, by: str = "auto") -> str:
    """The method ``"id"`` or ``"rows"`` that :func:`split_dataset` uses for ``df``."""
    return by if by != "auto" else ("id" if "id" in df.columns else "rows")


def unit_hash(ids: pd.Series | np.ndarray, seed: int) -> np.ndarray:
    """A number in [0, 1) for each id, uniform and a function of ``(seed, id)`` alone.

    The first 8 bytes of the BLAKE2b digest of ``"seed:id"``, over 2^64: the same on every
    machine and Python version.

    Returns
    -------
    ndarray of shape (n_ids,), float64
    """
    digests = (
        hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest() for i in ids
    )
    return np.fromiter((int.from_bytes(d, "little") for d in digests), np.float64,
                       count=len(ids)) / 2.0**64


#: How :func:`split_dataset` assigns rows to parts.
SPLIT_METHODS = ("auto", "id", "rows")


def split_dataset(
    df: pd.DataFrame,
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    by: str = "auto",
) -> Split:
    """Deterministic random split (default 80/10/10) from ``seed``.

    Parameters
    ----------
    df : DataFrame
    seed : int
    fractions : (float, float, float)
        Train, validation and test fractions.
    by : {"auto", "id", "rows"}
        ``"id"``: a row's part depends only on its ``id`` and the seed (:func:`unit_hash`
        against the cumulative fractions), so the split of a subset is the subset of the
        split: the test points of every target's data set belong to one test set of the
        whole table, which no model trained with the same seed has seen; part sizes are
        binomial around the fractions. ``"rows"``: a permutation of the rows (exact sizes,
        not consistent across subsets; the split of models saved before ids were used).
        ``"auto"``: ``"id"`` when the table has an ``id`` column, else ``"rows"``.
        Either way the same table and seed give the same rows.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1; got {fractions}"
        )
    if by not in SPLIT_METHODS:
        raise ValueError(f"by must be one of {', '.join(SPLIT_METHODS)}; got {by!r}")
    if by == "id" and "id" not in df.columns:
        raise ValueError("split_dataset(by='id') needs an 'id' column")
    n = len(df)
    if split_method(df, by) == "id":
        part = np.searchsorted(np.cumsum(fractions[:2]), unit_hash(df["id"], seed), side="right")
        parts = [np.flatnonzero(part == k) for k in range(3)]
    else:
        perm = np.random.default_rng(seed).permutation(n)
        n_train = int(round(fractions[0] * n))
        n_val = int(round(fractions[1] * n))
        parts = [np.sort(p) for p in np.split(perm, [n_train, n_train + n_val])]
    train, val, test = (df.iloc[p].reset_index(drop=True) for p in parts)
    return Split(train=train, val=val, test=test)


def features(df: pd.DataFrame) -> np.ndarray:
    """The 19 parameters of a data set as an array of shape (n_points, 19)."""
    return df.loc[:, list(PARAMETER_NAMES)].to_numpy(dtype=np.float64)


def labels(df: pd.DataFrame, target: str | Target) -> np.ndarray:
    """The labels of a data set, shape (n_points,): the target column in target units
    (0/1 "has a value" for a support target; :meth:`Target.labels`)."""
    return get_target(target).labels(df)
