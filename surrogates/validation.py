"""Input validation at the public boundary: shapes, columns, finiteness, training domain.

Every public entry point (``Surrogate.fit``, ``Surrogate.predict``, the likelihoods) calls
these once; private code trusts the arrays it is given. Errors name the column, the allowed
range and the value found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surrogates.space import ParameterSpace
from surrogates.targets import Target

__all__ = [
    "check_auxiliary",
    "check_features",
    "check_target",
    "Domain",
    "OutsideDomainError",
]


class OutsideDomainError(ValueError):
    """Raised by ``predict(..., strict=True)`` for points outside the training box."""


def _unit(space: ParameterSpace, i: int) -> str:
    unit = space.parameters[i].unit
    return f" {unit}" if unit else ""


def check_features(X: Any, name: str = "X", *, space: ParameterSpace) -> np.ndarray:
    """Return the inputs as a float64 array of shape (n_points, n_dim).

    Parameters
    ----------
    X : DataFrame or array-like
        A DataFrame with the parameter columns of ``space`` (any order; other columns are
        ignored), or an array of shape (n_points, n_dim) in the order of ``space.names``.
    name : str
        Name of the argument, used in error messages.
    space : ParameterSpace
        The parameters expected (a surrogate's, a likelihood term's observable's).

    Raises
    ------
    ValueError
        On missing columns, a wrong shape, non-numeric values, NaN or inf (naming the column),
        or no rows.
    """
    if isinstance(X, pd.DataFrame):
        missing = [c for c in space.names if c not in X.columns]
        if missing:
            raise ValueError(
                f"{name} is missing the {space.name} column(s) {', '.join(missing)}; "
                f"expected all of {', '.join(space.names)}"
            )
        X = X.loc[:, list(space.names)]
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise ValueError(f"{name} column(s) {', '.join(non_numeric)} are not numeric")
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} could not be read as numbers: {err}") from None
    if arr.ndim != 2 or arr.shape[1] != space.n_dim:
        raise ValueError(
            f"{name} has shape {arr.shape}; expected (n_points, {space.n_dim}) with columns "
            f"{', '.join(space.names)}, or a DataFrame with those columns"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    bad = ~np.isfinite(arr)
    if bad.any():
        col = int(np.argmax(bad.any(axis=0)))
        rows = np.flatnonzero(bad[:, col])
        raise ValueError(
            f"{name} column {space.names[col]!r} (index {col}): {rows.size} row(s) are NaN "
            f"or inf (first at row {rows[0]})"
        )
    return arr


def check_auxiliary(y_aux: Any, n_points: int, name: str = "y_aux") -> np.ndarray:
    """Return auxiliary 0/1 labels as float32 of shape (n_points, n_aux), checked.

    Raises
    ------
    ValueError
        On a shape other than (n_points, n_aux) with n_aux >= 1, or values other than 0/1
        (naming the first offending column and row).
    """
    arr = np.asarray(y_aux, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n_points or arr.shape[1] < 1:
        raise ValueError(f"{name} has shape {arr.shape}; expected ({n_points}, n_aux) to match X")
    odd = ~np.isin(arr, (0.0, 1.0))
    if odd.any():
        row, col = (int(i[0]) for i in np.nonzero(odd))
        value = float(arr[row, col])
        raise ValueError(f"{name} must hold labels 0 or 1; column {col}, row {row} is {value!r}")
    return arr.astype(np.float32)


def check_target(y: Any, target: Target, n_points: int, name: str = "y") -> np.ndarray:
    """Return target values as float64 of shape (n_points,), checked for ``target``.

    Raises
    ------
    ValueError
        On a length mismatch, NaN/inf, labels other than 0/1 for the classifier, or
        non-positive values for a log-transformed target.
    """
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] != n_points:
        raise ValueError(f"{name} has shape {arr.shape}; expected ({n_points},) to match X")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} ({target.column}): {int(bad.sum())} value(s) are NaN or inf "
            f"(first at row {int(np.argmax(bad))})"
        )
    if target.is_classifier and not np.isin(arr, (0.0, 1.0)).all():
        odd = arr[~np.isin(arr, (0.0, 1.0))]
        raise ValueError(f"{name} ({target.column}) must hold labels 0 or 1; found {odd[0]!r}")
    if target.transform == "log_standardize" and (arr <= 0).any():
        raise ValueError(
            f"{name} ({target.column}) is log-transformed and must be > 0 {target.unit}; "
            f"min {arr.min()!r}"
        )
    return arr


@dataclass
class Domain:
    """Axis-aligned box spanned by the training inputs.

    Attributes
    ----------
    low, high : ndarray of shape (n_dim,)
        Per-parameter minimum and maximum of the training inputs, in each parameter's unit.
    """

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_data(cls, X: np.ndarray) -> Domain:
        """Bounding box of ``X`` of shape (n_points, n_dim)."""
        return cls(low=X.min(axis=0), high=X.max(axis=0))

    def outside(self, X: np.ndarray) -> np.ndarray:
        """Boolean mask of shape (n_points,): True where any parameter leaves the box."""
        return ((X < self.low) | (X > self.high)).any(axis=1)

    def describe_outside(self, X: np.ndarray, space: ParameterSpace) -> str:
        """One line per offending column of ``space``, e.g.
        ``column 'mqL3' (index 14): 3 rows outside the training box [0, 4000] GeV; min -12.5``.
        """
        lines = []
        for i, pname in enumerate(space.names):
            below, above = X[:, i] < self.low[i], X[:, i] > self.high[i]
            n = int((below | above).sum())
            if n:
                extremes = []
                if below.any():
                    extremes.append(f"min {X[below, i].min():g}")
                if above.any():
                    extremes.append(f"max {X[above, i].max():g}")
                lines.append(
                    f"column {pname!r} (index {i}): {n} row(s) outside the training box "
                    f"[{self.low[i]:g}, {self.high[i]:g}]{_unit(space, i)}; {', '.join(extremes)}"
                )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"low": self.low.tolist(), "high": self.high.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Domain:
        """Inverse of :meth:`to_dict`."""
        return cls(low=np.asarray(state["low"], float), high=np.asarray(state["high"], float))
