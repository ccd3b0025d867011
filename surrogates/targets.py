"""Learning targets: what is learnt (:class:`Quantity`) and how a data set selects it
(:class:`Selection`), composed in a :class:`Target`; the three pMSSM-19 targets.

Definitions follow Kronheim et al., arXiv:2007.04506 (VPAR, OHIGGS, XSEC) with the SOFTSUSY
labels of ``shared/datasets/pmssm19_softsusy/PROVENANCE.md``:

- ``validity`` (VPAR): all points; 1 where SOFTSUSY returns a spectrum and flags no problem.
- ``higgs_mass`` (OHIGGS): valid points with 110 <= m_h <= 130 GeV; target m_h in GeV.
- ``xsec`` (XSEC): valid points with a cross section; sigma(pp -> chi2^0 chi1^+-) at 13 TeV
  in fb, derived from the spectrum and the LHC SUSY XS WG tables (see PROVENANCE.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Quantity", "Selection", "Target", "TARGETS", "get_target"]


@dataclass(frozen=True)
class Quantity:
    """What a surrogate learns: the quantity, its kind, unit and transform.

    Attributes
    ----------
    name : str
        Key used throughout the library and the CLI.
    kind : {"classification", "regression"}
    unit : str
        Unit of the quantity (``""`` for a class label).
    transform : {"none", "standardize", "log_standardize"}
        Target transform applied before learning (see :mod:`surrogates.transforms`).
    latex : str
        LaTeX label for plots.
    """

    name: str
    kind: Literal["classification", "regression"]
    unit: str
    transform: Literal["none", "standardize", "log_standardize"]
    latex: str = ""


@dataclass(frozen=True)
class Selection:
    """How a data set holds a quantity: its column, window and which rows enter.

    Attributes
    ----------
    column : str
        Column of the data files holding the values.
    paper_name : str
        Name of the data set (for the pMSSM-19 targets: in arXiv:2007.04506).
    low, high : float
        Selection window on the column (inclusive); ``-inf, inf`` for none.
    requires_valid : bool
        Whether only SOFTSUSY-valid points (column ``valid`` equal to 1) enter the set.
    indicator : bool
        The label is 1 where :attr:`column` has a value inside ``[low, high]`` and 0
        elsewhere (a support target, :meth:`Target.support`) instead of the column itself.
    """

    column: str
    paper_name: str = ""
    low: float = -np.inf
    high: float = np.inf
    requires_valid: bool = True
    indicator: bool = False

    def has_value(self, points: pd.DataFrame) -> pd.Series:
        """True where :attr:`column` has a value inside ``[low, high]``."""
        values = points[self.column]
        return values.notna() & (values >= self.low) & (values <= self.high)

    def labels(self, points: pd.DataFrame) -> np.ndarray:
        """The values of the rows of ``points``, shape (n_points,): the column, or for an
        :attr:`indicator` selection 1.0 / 0.0 where it has a value."""
        if self.indicator:
            return self.has_value(points).to_numpy(np.float64)
        return points[self.column].to_numpy(np.float64)


_QUANTITY_FIELDS = tuple(Quantity.__dataclass_fields__)
_SELECTION_FIELDS = tuple(Selection.__dataclass_fields__)


@dataclass(frozen=True)
class Target:
    """One learning target: a :class:`Quantity` as a data set selects it (:class:`Selection`).

    Every field of both parts reads as an attribute of the target (``target.unit``,
    ``target.column``, ...).

    Attributes
    ----------
    quantity : Quantity
        What is learnt: name, kind, unit, transform, LaTeX label.
    selection : Selection
        How a data set selects it: column, window, validity, indicator.
    """

    quantity: Quantity
    selection: Selection

    def __getattr__(self, key: str) -> Any:
        # Called only for names that are not attributes of the Target itself.
        if key in _QUANTITY_FIELDS:
            return getattr(self.quantity, key)
        if key in _SELECTION_FIELDS:
            return getattr(self.selection, key)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable definition, one flat mapping (infinite window edges are written
        as strings); the layout saved models have always recorded."""
        state = {**asdict(self.quantity), **asdict(self.selection)}
        state["low"], state["high"] = repr(self.low), repr(self.high)
        return state

    @classmethod
    def from_dict(cls, state: dict[str, object]) -> Target:
        """Inverse of :meth:`to_dict`."""
        state = dict(state)
        state["low"], state["high"] = float(state["low"]), float(state["high"])
        unknown = sorted(set(state) - {*_QUANTITY_FIELDS, *_SELECTION_FIELDS})
        if unknown:
            raise TypeError(f"unknown target field(s) {', '.join(unknown)}")
        return cls(Quantity(**{k: state[k] for k in _QUANTITY_FIELDS if k in state}),
                   Selection(**{k: state[k] for k in _SELECTION_FIELDS if k in state}))

    @property
    def is_classifier(self) -> bool:
        """True for a classification target."""
        return self.kind == "classification"

    def support(self) -> Target:
        """The classification target "this target has a value here" (its *support*).

        It is an :attr:`indicator` target: its label is 1 where this target's column has a
        value in its window. Its data set (:meth:`select`) is the valid points when
        :attr:`requires_valid` (so it predicts the probability that the target exists
        *given* a valid spectrum; the validity classifier supplies the other factor), else
        all points. For ``xsec`` that is "sigma is defined" (a wino- or higgsino-like
        N2 C1 pair of at least 100 GeV, PROVENANCE.md); for ``higgs_mass`` it is "m_h lies in
        the OHIGGS window 110-130 GeV".

        Raises
        ------
        ValueError
            For a classification target (it is defined wherever its inputs are).
        """
        if self.is_classifier:
            raise ValueError(f"target {self.name!r} is a classifier: it has no support model")
        window = "" if np.isneginf(self.low) and np.isposinf(self.high) else (
            f" in [{self.low:g}, {self.high:g}] {self.unit}".rstrip()
        )
        return Target(
            Quantity(name=f"{self.name}_defined", kind="classification", unit="",
                     transform="none", latex=f"P({self.name} defined)"),
            replace(self.selection, indicator=True,
                    paper_name=f"{self.paper_name} support: {self.column} has a value{window}"),
        )

    def has_value(self, points: pd.DataFrame) -> pd.Series:
        """True where :attr:`column` has a value inside ``[low, high]``."""
        return self.selection.has_value(points)

    def labels(self, points: pd.DataFrame) -> np.ndarray:
        """The learnt values of the rows of ``points``, shape (n_points,): the column in
        target units, or for an :attr:`indicator` target 1.0 / 0.0 where it has a value."""
        return self.selection.labels(points)

    def select(self, points: pd.DataFrame) -> pd.Series:
        """Boolean mask of the rows of ``points`` that belong to this target's set.

        Parameters
        ----------
        points : DataFrame
            Rows with at least the columns ``valid`` and :attr:`column`.
        """
        mask = pd.Series(True, index=points.index)
        if self.requires_valid:
            mask &= points["valid"] == 1
        if not self.is_classifier:
            mask &= self.has_value(points)
        return mask


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            Quantity(name="validity", kind="classification", unit="", transform="none",
                     latex="valid"),
            Selection(column="valid", paper_name="VPAR", requires_valid=False),
        ),
        Target(
            Quantity(name="higgs_mass", kind="regression", unit="GeV", transform="standardize",
                     latex=r"$m_h$ [GeV]"),
            Selection(column="h0", paper_name="OHIGGS",
                      low=110.0,  # OHIGGS window, arXiv:2007.04506 Sec. 3
                      high=130.0),
        ),
        Target(
            Quantity(name="xsec", kind="regression", unit="fb", transform="log_standardize",
                     latex=r"$\sigma(pp\to\tilde\chi_2^0\tilde\chi_1^\pm)$ [fb]"),
            Selection(column="xsec_n2c1_fb", paper_name="XSEC", low=0.0),
        ),
    )
}


def get_target(target: str | Target) -> Target:
    """Return the :class:`Target` named ``target`` (or ``target`` itself).

    Raises
    ------
    ValueError
        If the name is unknown.
    """
    if isinstance(target, Target):
        return target
    try:
        return TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}") from None
