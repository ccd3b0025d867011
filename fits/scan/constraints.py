"""Measured constraints of a scan, O = value +- sigma, and their target region.

The target region of the Machine Learning Scan (arXiv:1708.06615) is the set of points whose
observables all lie within ``n_sigma`` (2 by default) standard deviations of the measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from surrogates.params import Interval, validate

if TYPE_CHECKING:
    from fits.scan.simulators import Simulator

__all__ = ["Constraint", "evaluate", "in_target_region", "log_likelihood"]


@dataclass(frozen=True)
class Constraint:
    """A Gaussian measurement ``observable = value +- sigma``.

    Attributes
    ----------
    observable : str
        Column of the simulator's output.
    value, sigma : float
        Central value and total standard deviation, in the observable's unit.
    n_sigma : float
        Half-width of the target region in units of ``sigma``.
    """

    observable: str
    value: float
    sigma: float
    n_sigma: float = 2.0

    #: What each field accepts (:mod:`surrogates.params`).
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "observable": str, "value": Interval("real"),
        "sigma": Interval("real", 0, closed="neither"),
        "n_sigma": Interval("real", 0, closed="neither"),
    }

    def __post_init__(self) -> None:
        validate(self.__dict__, self.parameter_constraints, "Constraint")

    @property
    def low(self) -> float:
        """Lower edge of the target region."""
        return self.value - self.n_sigma * self.sigma

    @property
    def high(self) -> float:
        """Upper edge of the target region."""
        return self.value + self.n_sigma * self.sigma

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Constraint:
        """From ``{observable, value, sigma[, n_sigma]}``."""
        return cls(**state)


def in_target_region(observed: pd.DataFrame, constraints: list[Constraint]) -> np.ndarray:
    """Boolean mask, shape (n_points,): every observable within its region (NaN is outside)."""
    mask = np.ones(len(observed), dtype=bool)
    for c in constraints:
        values = observed[c.observable].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            mask &= (values >= c.low) & (values <= c.high)
    return mask


def log_likelihood(observed: pd.DataFrame, constraints: list[Constraint]) -> np.ndarray:
    """Sum of ``-chi^2 / 2`` over the constraints, shape (n_points,); -inf where undefined."""
    total = np.zeros(len(observed))
    for c in constraints:
        values = observed[c.observable].to_numpy(dtype=float)
        term = -0.5 * ((values - c.value) / c.sigma) ** 2
        total += np.where(np.isfinite(term), term, -np.inf)
    return total


def evaluate(simulator: Simulator, constraints: list[Constraint], X: np.ndarray) -> pd.DataFrame:
    """Run ``simulator`` on ``X`` (n_points, n_dim) and score the results.

    Returns
    -------
    DataFrame
        The parameters, the observables, ``in_target`` and ``log_likelihood``, one row per point.
    """
    observed = simulator(X)
    frame = pd.concat([pd.DataFrame(X, columns=list(simulator.space.names)), observed], axis=1)
    frame["in_target"] = in_target_region(observed, constraints)
    frame["log_likelihood"] = log_likelihood(observed, constraints)
    return frame
