r"""The ``Term`` interface: one piece of a global-fit likelihood, vectorised over points.

A term maps points of its parameter space, shape (n, n_dim), to log-likelihoods of shape
(n,). The space is its observable's (:attr:`Term.space`: a surrogate's ``space``, the
``space`` given to a :class:`~likelihoods.observable.FunctionObservable`), so a term fits a
5-parameter model as it fits the pMSSM-19. It validates its input once, in
:meth:`Term.log_likelihood` / :meth:`Term.evaluate`, predicts its observable there and hands
the :class:`~surrogates.prediction.Prediction` to :meth:`Term.score`, which every term
implements and which also returns per-point diagnostics (the predicted observable, its
uncertainty, the outside-domain flag) so that a fit can be inspected term by term. A scan
(:mod:`fits.scan`) scores the predictions of its own surrogates, or the simulator's values,
with the same :meth:`Term.score`.

Where the observable does not exist
-----------------------------------
A surrogate with a support model (:meth:`surrogates.base.Surrogate.fit_support`) predicts,
beside the value, the probability :math:`p_d(x)` that the observable has a value at all (the
cross section of a bino-like pair has none, m_h none outside the window it was learnt in).
Terms that take ``support="mixture"`` (the default) use it with the convention of the
reference likelihood: a measured observable that does not exist makes the point not viable,
:math:`L = p_d\,L_\text{value}`; a signal region whose cross section does not exist gets
no signal from that channel, :math:`L = p_d\,L(s(x)) + (1 - p_d)\,L(s = 0)`.
``support="ignore"`` uses the value as if it existed everywhere.

Points outside a surrogate's training domain
--------------------------------------------
A surrogate that is asked about a point outside the box of its training inputs extrapolates,
and its error bar there means little. Each term therefore takes ``outside="reject"`` (the
default: the log-likelihood is ``-inf``, so samplers never trust an extrapolation) or
``outside="flag"`` (the prediction is used as it is). Either way the per-term output has a
boolean column ``outside`` so a fit can count how often it happened.

With ``support="mixture"`` the value model's flag (``Prediction.outside_domain``: its box
and its distance from its training data, which hold only points *with* a value) counts only
where the value can matter, :math:`p_d \ge` :data:`SUPPORT_FLOOR` (:func:`value_outside`);
the support model's own flag (``Prediction.support_outside``) counts everywhere. Below the
floor the branch with a value changes the term's likelihood by at most :math:`p_d` times its
largest value (the signal region's likelihood is at most 1, a measurement's is multiplied
by :math:`p_d`), so an extrapolated value cannot move it by more than 0.1 % of that. Without
this, a point whose cross section does not exist, far from the cross-section data because
no cross section exists there, would be rejected as an extrapolation: in the exclusion
scenario of ``benchmarks/fit_vs_softsusy.py`` that removed 1.3 % of the posterior mass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from likelihoods.observable import predict_observable
from surrogates.params import Configurable, Options
from surrogates.prediction import Prediction
from surrogates.space import ParameterSpace
from surrogates.validation import check_features

__all__ = [
    "OUTSIDE_POLICIES",
    "SUPPORT_FLOOR",
    "SUPPORT_POLICIES",
    "Term",
    "TermOutput",
    "check_observable",
    "value_outside",
]

OUTSIDE_POLICIES = ("reject", "flag")
SUPPORT_POLICIES = ("mixture", "ignore")
#: Probability of existing below which the value model's outside-domain flag is not counted
#: under ``support="mixture"`` (module text).
SUPPORT_FLOOR = 1e-3


def value_outside(pred: Prediction, support: str) -> np.ndarray:
    """The points where ``pred`` extrapolates in what a term with ``support`` uses, shape (n,).

    ``pred.outside_domain`` for ``support="ignore"`` or without a support model; under
    ``"mixture"`` the value model's flag where ``p_defined >= SUPPORT_FLOOR`` and the support
    model's own flag everywhere (module text).
    """
    if support != "mixture" or pred.p_defined is None:
        return pred.outside_domain
    own = (np.zeros_like(pred.outside_domain) if pred.support_outside is None
           else pred.support_outside)
    return own | (pred.outside_domain & (pred.p_defined >= SUPPORT_FLOOR))


def check_observable(term: str, role: str, observable: Any) -> Any:
    """Return ``observable`` if it has a ``predict(X)`` method and a parameter space
    (``.space``, a :class:`~surrogates.space.ParameterSpace`), else raise a ``ValueError``."""
    if not hasattr(observable, "predict"):
        raise ValueError(f"term {term!r}: the {role} must have a predict(X) method")
    if not isinstance(getattr(observable, "space", None), ParameterSpace):
        raise ValueError(
            f"term {term!r}: the {role} must have a parameter space (.space, a "
            f"surrogates.space.ParameterSpace); got {type(observable).__name__} without one "
            f"(give a FunctionObservable its space=)"
        )
    return observable


@dataclass
class TermOutput:
    """What :meth:`Term.score` returns.

    Attributes
    ----------
    log_likelihood : ndarray of shape (n,)
        Before the outside-domain policy is applied.
    outside : ndarray of bool, shape (n,)
        Points outside the domain of the term's predictor(s).
    columns : dict of str to ndarray of shape (n,)
        Diagnostics, e.g. ``{"pred_mean": ..., "pred_std": ...}``.
    """

    log_likelihood: np.ndarray
    outside: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)


class Term(Configurable, ABC):
    """Base class of likelihood terms.

    Parameters
    ----------
    name : str
        Identifies the term in combinations and in per-term output.
    outside : {"reject", "flag"}
        Policy for points outside the predictor's training domain (see the module docstring).
    """

    #: What each option accepts (:mod:`surrogates.params`); a term extends it with its own
    #: and calls ``self._check_arguments(locals())`` first thing in ``__init__``.
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "name": str, "outside": Options(OUTSIDE_POLICIES),
    }
    #: Attribute holding what predicts the term's observable (``"classifier"`` for
    #: :class:`~likelihoods.Viability`).
    predictor_slot: ClassVar[str] = "observable"

    def __init__(self, name: str, *, outside: str = "reject") -> None:
        self._check_arguments(locals())
        if not name or "." in name:
            raise ValueError(f"a term name must be a non-empty string without '.'; got {name!r}")
        self.name = name
        self.outside = outside

    @property
    def predictor(self) -> Any:
        """What predicts the term's observable (a surrogate, a function, a simulator output)."""
        return getattr(self, self.predictor_slot)

    @property
    def space(self) -> ParameterSpace:
        """The parameter space of the term's points: its predictor's."""
        return self.predictor.space

    @abstractmethod
    def score(self, pred: Prediction) -> TermOutput:
        """Log-likelihood and diagnostics of a prediction of the term's observable.

        Parameters
        ----------
        pred : Prediction
            The observable at ``n`` points (``std`` 0 for an exact value), as
            :func:`~likelihoods.observable.predict_observable` returns it.

        Returns
        -------
        TermOutput
            Before the outside-domain policy, with ``outside`` = ``pred.outside_domain``.
        """

    def best_observable(self) -> float:
        """The value of the observable where the exact likelihood (``std`` 0) is largest.

        The likelihood falls off on either side of it (the scans' target region and
        acquisitions rely on that, :mod:`fits.scan.steering`).

        Raises
        ------
        ValueError
            For a term that does not say (it can score fits, not steer scans).
        """
        raise ValueError(
            f"term {self.name!r} ({type(self).__name__}) defines no best_observable(), so it "
            f"cannot steer a scan"
        )

    def _evaluate(self, X: np.ndarray) -> TermOutput:
        """:meth:`score` of the predictor's prediction at validated points ``X``."""
        return self.score(predict_observable(self.predictor, X, self.name))

    def _scored(self, X: np.ndarray) -> TermOutput:
        out = self._evaluate(X)
        if self.outside == "reject":
            out.log_likelihood = np.where(out.outside, -np.inf, out.log_likelihood)
        return out

    def log_likelihood(self, X: Any) -> np.ndarray:
        """Log-likelihood of each point.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n, n_dim)
            Points of :attr:`space`.

        Returns
        -------
        ndarray of shape (n,)
        """
        return self._scored(check_features(X, space=self.space)).log_likelihood

    def evaluate(self, X: Any) -> pd.DataFrame:
        """Log-likelihood and diagnostics of each point.

        Returns
        -------
        DataFrame with n rows
            ``logl``, ``outside`` and the term's diagnostic columns.
        """
        out = self._scored(check_features(X, space=self.space))
        return pd.DataFrame({"logl": out.log_likelihood, "outside": out.outside, **out.columns})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
