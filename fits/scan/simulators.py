"""Simulators: the expensive codes a scan calls, as vectorised callables from points to observables.

A :class:`Simulator` maps points of its :class:`~surrogates.space.ParameterSpace`, shape
``(n_points, n_dim)``, to a DataFrame with one column per observable (NaN where the code
returns nothing, e.g. an unphysical spectrum). Any vectorised Python function becomes one
with :class:`FunctionSimulator`; a saved pMSSM surrogate becomes one, on a sub-space of the
19 parameters, with :class:`PMSSMSurrogateSimulator` (a fast stand-in for SOFTSUSY when the
scan machinery itself is under test).

Each output is an observable of the likelihood terms (:meth:`Simulator.observable`): a
:class:`~likelihoods.GaussianMeasurement` of ``simulator.observable("O")`` is a likelihood on
the simulator's space, and what a scan steers by (:mod:`fits.scan.steering`).

The analytic benchmarks of the Machine Learning Scan (Ren, Wu, Yang and Zhao,
arXiv:1708.06615, Sec. 3) ship as :func:`eggbox` and :func:`hypersphere`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from surrogates.base import Surrogate
from surrogates.prediction import Prediction
from surrogates.space import PMSSM19, ParameterSpace
from surrogates.validation import check_features

__all__ = [
    "Simulator", "FunctionSimulator", "PMSSMSimulator", "PMSSMSurrogateSimulator",
    "SimulatorObservable", "eggbox", "hypersphere", "simulated_prediction",
]


def simulated_prediction(values: np.ndarray) -> Prediction:
    """A simulator's values of an observable as an exact prediction (``std`` 0).

    Where the simulator returned nothing (NaN) the observable does not exist:
    ``p_defined`` is 0 there (1 elsewhere) and the mean 0, so that a term's
    ``support="mixture"`` applies (a measured observable that does not exist vetoes the
    point; a cross section that does not exist gives no signal, :mod:`likelihoods.base`).

    Parameters
    ----------
    values : ndarray of shape (n_points,)

    Returns
    -------
    Prediction
    """
    values = np.asarray(values, float)
    defined = np.isfinite(values)
    return Prediction(
        mean=np.where(defined, values, 0.0), std=np.zeros(len(values)), samples=None,
        weights=None, outside_domain=np.zeros(len(values), bool),
        p_defined=None if defined.all() else defined.astype(float),
    )


class Simulator:
    """Base class: a vectorised code on a parameter space.

    Parameters
    ----------
    space : ParameterSpace
        The inputs.
    observables : sequence of str
        Names of the output columns.

    Notes
    -----
    Subclasses implement :meth:`_evaluate` on a validated float64 array; calling the simulator
    validates the input once (shape, columns, NaN) and checks the output's shape and columns.
    A subclass may name ``info_columns``: outputs that are no observables (e.g. why a point
    failed), returned after the observables as they come.
    """

    #: Non-numeric output columns passed through after the observables.
    info_columns: tuple[str, ...] = ()

    def __init__(self, space: ParameterSpace, observables: Sequence[str]) -> None:
        self.space = space
        self.observables = tuple(observables)
        if not self.observables:
            raise ValueError("a simulator needs at least one observable")

    def _evaluate(self, X: np.ndarray) -> Mapping[str, np.ndarray] | pd.DataFrame:
        raise NotImplementedError

    def __call__(self, X: Any) -> pd.DataFrame:
        """Observables at ``X`` (DataFrame or array of shape (n_points, n_dim)).

        Returns
        -------
        DataFrame
            One row per point, one float column per observable (NaN where undefined), then
            the ``info_columns`` as returned.
        """
        Xa = check_features(X, space=self.space)
        out = pd.DataFrame(self._evaluate(Xa))
        missing = [c for c in (*self.observables, *self.info_columns) if c not in out.columns]
        if missing:
            raise ValueError(f"the simulator returned no column(s) {', '.join(missing)}")
        if len(out) != len(Xa):
            raise ValueError(f"the simulator returned {len(out)} rows for {len(Xa)} points")
        values = out.loc[:, list(self.observables)].astype(float)
        return pd.concat([values, out.loc[:, list(self.info_columns)]], axis=1).reset_index(
            drop=True
        )

    def observable(self, name: str) -> SimulatorObservable:
        """The output ``name`` as an observable of the likelihood terms.

        Raises
        ------
        ValueError
            If ``name`` is not an output of the simulator.
        """
        return SimulatorObservable(self, name)


class SimulatorObservable:
    """One output of a simulator as an observable (:mod:`likelihoods.observable`).

    ``predict(X)`` runs the simulator and returns its values exactly
    (:func:`simulated_prediction`); a scan reads :attr:`column` to learn it with a surrogate
    instead.

    Parameters
    ----------
    simulator : Simulator
    column : str
        One of ``simulator.observables``.
    """

    #: What the observable's description holds (:func:`fits.resume.describe`).
    parameter_constraints: ClassVar[dict[str, Any]] = {"column": str}

    def __init__(self, simulator: Simulator, column: str) -> None:
        if column not in simulator.observables:
            raise ValueError(
                f"{column!r} is not an output of the simulator; its observables are "
                f"{', '.join(simulator.observables)}"
            )
        self.simulator = simulator
        self.column = column

    @property
    def space(self) -> ParameterSpace:
        """The simulator's parameter space."""
        return self.simulator.space

    def predict(self, X: np.ndarray) -> Prediction:
        """The simulator's values at ``X`` (n_points, n_dim), exact."""
        return simulated_prediction(self.simulator(X)[self.column].to_numpy())

    def __repr__(self) -> str:
        return f"SimulatorObservable({self.column!r})"


class FunctionSimulator(Simulator):
    """A simulator from a vectorised function.

    Parameters
    ----------
    space : ParameterSpace
    function : callable
        ``function(X)`` with ``X`` of shape (n_points, n_dim) returns a mapping (or DataFrame)
        from observable name to an array of shape (n_points,).
    observables : sequence of str
    name : str
        For reports.
    """

    def __init__(
        self,
        space: ParameterSpace,
        function: Callable[[np.ndarray], Mapping[str, np.ndarray] | pd.DataFrame],
        observables: Sequence[str],
        name: str = "function",
    ) -> None:
        super().__init__(space, observables)
        self.function = function
        self.name = name

    def _evaluate(self, X: np.ndarray) -> Mapping[str, np.ndarray] | pd.DataFrame:
        return self.function(X)


def eggbox() -> FunctionSimulator:
    """The eggbox of arXiv:1708.06615: ``O = (2 + cos(x1/2) cos(x2/2))^5`` on ``[0, 10 pi]^2``.

    ``O`` ranges over [1, 243]; its 18 maxima (O = 243) sit at ``x = (2 pi k, 2 pi l)`` with
    ``k, l`` in 0..5 of equal parity, so the region ``O = 100 +- 2 x 10`` is 18 rings, some cut
    by the box edges.
    """
    space = ParameterSpace.box([0.0, 0.0], [10 * np.pi, 10 * np.pi], name="eggbox")

    def function(X: np.ndarray) -> dict[str, np.ndarray]:
        return {"O": (2.0 + np.cos(X[:, 0] / 2) * np.cos(X[:, 1] / 2)) ** 5}

    return FunctionSimulator(space, function, ["O"], name="eggbox")


def hypersphere(n_dim: int, half_width: float = 3.0) -> FunctionSimulator:
    """The quadratic ``O = sum_i x_i^2`` of arXiv:1708.06615 on ``[-half_width, half_width]^d``.

    With ``O* = 2 +- 0.1`` the region within 2 sigma is the shell ``1.8 <= |x|^2 <= 2.2``.
    The box of the paper is not restated here; ``half_width = 3`` keeps the whole shell
    inside it, where it fills 3.5 % of the square in 2-D and 1.3e-4 of the 7-D cube
    (:func:`fits.scan.metrics.shell_fraction`).
    """
    if int(n_dim) != n_dim or n_dim < 1:
        raise ValueError(f"n_dim must be an integer >= 1; got {n_dim!r}")
    if not half_width > 0:
        raise ValueError(f"half_width must be > 0; got {half_width!r}")
    n = int(n_dim)
    space = ParameterSpace.box([-half_width] * n, [half_width] * n, name=f"hypersphere{n}d")

    def function(X: np.ndarray) -> dict[str, np.ndarray]:
        return {"O": np.einsum("ij,ij->i", X, X)}

    return FunctionSimulator(space, function, ["O"], name=f"hypersphere{n}d")


class PMSSMSimulator(Simulator):
    """Base class: a code on a sub-space of the pMSSM-19, the other parameters fixed.

    Parameters
    ----------
    free : sequence of str
        pMSSM-19 parameters to scan, in column order.
    fixed : mapping of str to float
        Values of every other pMSSM-19 parameter (GeV; extra keys are ignored).
    observables : sequence of str
    """

    def __init__(
        self, free: Sequence[str], fixed: Mapping[str, float], observables: Sequence[str]
    ) -> None:
        space = PMSSM19.subspace(free, name="pMSSM-19[" + ",".join(free) + "]")
        super().__init__(space, observables)
        missing = [p for p in PMSSM19.names if p not in free and p not in fixed]
        if missing:
            raise ValueError(f"fixed needs a value for every parameter not free; missing {missing}")
        self._columns = [PMSSM19.index(p) for p in free]
        self._base = np.array([float(fixed.get(p, np.nan)) for p in PMSSM19.names])

    def full_points(self, X: np.ndarray) -> np.ndarray:
        """Embed sub-space points ``X`` (n_points, n_free) into the 19 parameters."""
        full = np.tile(self._base, (len(X), 1))
        full[:, self._columns] = X
        return full


class PMSSMSurrogateSimulator(PMSSMSimulator):
    """Saved pMSSM surrogates as a simulator on a sub-space of the 19 parameters.

    The free parameters are scanned; the others are fixed at ``fixed`` (typically a benchmark
    point). Each observable is the predictive mean of its surrogate. With ``validity``, points
    whose predicted probability of a valid spectrum is below ``min_valid_probability`` return
    NaN for every observable, as a spectrum generator returns nothing for them.

    Parameters
    ----------
    surrogates : mapping of str to Surrogate
        Observable name -> fitted pMSSM-19 surrogate.
    free : sequence of str
        pMSSM-19 parameters to scan, in column order.
    fixed : mapping of str to float
        Values of every other pMSSM-19 parameter (extra keys are ignored).
    validity : Surrogate, optional
        Fitted validity classifier.
    min_valid_probability : float
    """

    def __init__(
        self,
        surrogates: Mapping[str, Surrogate],
        free: Sequence[str],
        fixed: Mapping[str, float],
        validity: Surrogate | None = None,
        min_valid_probability: float = 0.5,
    ) -> None:
        super().__init__(free, fixed, list(surrogates))
        for name, model in {**surrogates, "validity": validity}.items():
            if model is not None and model.space != PMSSM19:
                raise ValueError(f"surrogate {name!r} is not a pMSSM-19 surrogate")
            if model is not None and model.target.is_classifier != (model is validity):
                raise ValueError(
                    f"surrogate {name!r} is a {model.target.name!r} surrogate; "
                    + ("validity needs a classifier" if model is validity
                       else "an observable needs a regression surrogate")
                )
        self.surrogates = dict(surrogates)
        self.validity = validity
        self.min_valid_probability = float(min_valid_probability)
        self.name = "pmssm-surrogate"

    def _evaluate(self, X: np.ndarray) -> dict[str, np.ndarray]:
        full = self.full_points(X)
        out = {name: model.predict(full).mean for name, model in self.surrogates.items()}
        if self.validity is not None:
            invalid = self.validity.predict(full).mean < self.min_valid_probability
            for values in out.values():
                values[invalid] = np.nan
        return out
