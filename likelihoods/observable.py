"""The contract between a likelihood term and whatever predicts its observable.

A likelihood term needs, for a batch of points of a parameter space, the predicted
observable's mean and its uncertainty. Anything that has a ``space`` (a
:class:`~surrogates.space.ParameterSpace`: the term's points are its points) and offers

``predict(X) -> object with .mean (n,), .std (n,)``

and optionally ``.samples`` (n_members, n), ``.weights`` (n_members,), ``.outside_domain``
(n,) bool and ``.p_defined`` (n,) (the probability that the observable has a value at the
point), is an *observable*: every :class:`~surrogates.base.Surrogate` is one (its
:class:`~surrogates.prediction.Prediction` has all six), and so is a
:class:`FunctionObservable` wrapping a plain Python callable (an exact physics code, an
analytic model, or a user's own emulator). :func:`predict_observable` reads any of them into
one :class:`~surrogates.prediction.Prediction` (the library's one prediction container), so
the terms never ask which kind they were given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from surrogates.prediction import Prediction
from surrogates.space import ParameterSpace

__all__ = ["FunctionObservable", "predict_observable"]


class FunctionObservable:
    """An observable given by a vectorised callable: an exact code or an analytic model.

    Parameters
    ----------
    fn : callable
        ``fn(X)`` with ``X`` of shape (n, n_dim) returns the mean, shape (n,), a pair
        ``(mean, std)``, or a triple ``(mean, std, p_defined)`` of arrays of shape (n,)
        (``p_defined``: the probability, or 0/1 indicator, that the observable has a value).
    name : str
        Used in error messages.
    space : ParameterSpace
        The parameters of ``X``, in column order: the space of the terms built on it.
    """

    def __init__(
        self, fn: Callable[[np.ndarray], Any], name: str = "function", *, space: ParameterSpace
    ) -> None:
        if not callable(fn):
            raise ValueError(f"FunctionObservable needs a callable; got {type(fn).__name__}")
        if not isinstance(space, ParameterSpace):
            raise ValueError(
                f"FunctionObservable {name!r}: space must be a surrogates.space.ParameterSpace; "
                f"got {type(space).__name__}"
            )
        self.fn = fn
        self.name = name
        self.space = space

    def predict(self, X: np.ndarray) -> Prediction:
        """Evaluate ``fn`` on ``X`` of shape (n, n_dim); see the class docstring for the return."""
        out = self.fn(X)
        out = out if isinstance(out, tuple) else (out,)
        if not 1 <= len(out) <= 3:
            raise ValueError(
                f"observable {self.name!r}: fn must return mean, (mean, std) or "
                f"(mean, std, p_defined); got a tuple of {len(out)}"
            )
        mean, std, p_defined = (*out, *(None,) * (3 - len(out)))
        return Prediction(
            mean=np.asarray(mean, float),
            std=np.zeros(X.shape[0]) if std is None else np.asarray(std, float),
            samples=None,
            weights=None,
            outside_domain=np.zeros(X.shape[0], bool),
            p_defined=None if p_defined is None else np.asarray(p_defined, float),
        )


def predict_observable(observable: Any, X: np.ndarray, name: str) -> Prediction:
    """Call ``observable.predict(X)`` and check what comes back.

    Parameters
    ----------
    observable : object with ``predict``
        A Surrogate, a :class:`FunctionObservable`, or anything with the same contract.
    X : ndarray of shape (n, n_dim)
        Validated points of the observable's space.
    name : str
        Name of the likelihood term, for error messages.

    Returns
    -------
    Prediction

    Raises
    ------
    ValueError
        If the prediction lacks ``mean``/``std``, has the wrong shapes, or a negative std.
    """
    n = X.shape[0]
    pred = observable.predict(X)
    try:
        mean = np.asarray(pred.mean, float)
        std = np.asarray(pred.std, float)
    except AttributeError:
        raise ValueError(
            f"term {name!r}: the observable's predict() must return an object with .mean and "
            f".std; got {type(pred).__name__}"
        ) from None
    if mean.shape != (n,) or std.shape != (n,):
        raise ValueError(
            f"term {name!r}: predict() returned mean of shape {mean.shape} and std of shape "
            f"{std.shape}; expected ({n},) for {n} points"
        )
    if (std < 0).any():
        raise ValueError(f"term {name!r}: predict() returned a negative std, min {std.min():g}")
    samples = getattr(pred, "samples", None)
    weights = getattr(pred, "weights", None)
    if samples is not None:
        samples = np.asarray(samples, float)
        if samples.ndim != 2 or samples.shape[1] != n:
            raise ValueError(
                f"term {name!r}: predict() returned samples of shape {samples.shape}; expected "
                f"(n_members, {n})"
            )
    outside = getattr(pred, "outside_domain", None)
    outside = np.zeros(n, bool) if outside is None else np.asarray(outside, bool)
    p_defined = getattr(pred, "p_defined", None)
    if p_defined is not None:
        p_defined = np.asarray(p_defined, float)
        if p_defined.shape != (n,) or not ((p_defined >= 0) & (p_defined <= 1)).all():
            raise ValueError(
                f"term {name!r}: predict() returned p_defined of shape {p_defined.shape} or "
                f"outside [0, 1]; expected probabilities of shape ({n},)"
            )
    support_outside = getattr(pred, "support_outside", None)
    if support_outside is not None:
        support_outside = np.asarray(support_outside, bool)
        if support_outside.shape != (n,):
            raise ValueError(
                f"term {name!r}: predict() returned support_outside of shape "
                f"{support_outside.shape}; expected ({n},)"
            )
    return Prediction(
        mean=mean,
        std=std,
        samples=samples,
        weights=None if weights is None else np.asarray(weights, float),
        outside_domain=outside,
        p_defined=p_defined,
        support_outside=support_outside,
    )
