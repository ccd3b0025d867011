"""The prediction container: what every predictor of an observable returns.

A :class:`Prediction` is a predictive summary at ``n_points`` points, in the observable's
unit: every :class:`~surrogates.base.Surrogate` returns one, a
:class:`~likelihoods.observable.FunctionObservable` returns one, and the likelihood terms read
any predictor into one (:func:`likelihoods.observable.predict_observable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Prediction"]


@dataclass
class Prediction:
    """Predictive summary in target units.

    Attributes
    ----------
    mean : ndarray of shape (n_points,)
        Predictive mean (for the classifier: the probability that the point is valid).
    std : ndarray of shape (n_points,)
        Predictive standard deviation. For ensembles: the (weighted) spread of the
        back-transformed members; for Gaussian models: the exact standard deviation of the
        back-transformed Gaussian.
    samples : ndarray of shape (n_members, n_points) or None
        Per-member predictions in target units, where the model has members.
    weights : ndarray of shape (n_members,) or None
        Member weights summing to one (re-weighted ensembles); None means equal weights.
    outside_domain : ndarray of bool, shape (n_points,)
        True where the point lies outside the box spanned by the training inputs, or, for a
        surrogate with a distance model
        (:meth:`~surrogates.base.Surrogate.fit_distance`), is farther from the training data
        than its calibrated threshold (``far_from_data``).
    target : str
        Name of the target (``""`` where the predictor has none, e.g. a plain function).
    unit : str
        Unit of ``mean``, ``std`` and ``samples``.
    far_from_data : ndarray of bool, shape (n_points,), or None
        True where the point is farther from the training data than the distance model's
        threshold (:mod:`surrogates.distance`); None without a distance model.
    p_defined : ndarray of shape (n_points,) or None
        Probability that the target has a value at the point (given a valid spectrum when
        the target requires one), from the surrogate's support model
        (:meth:`~surrogates.base.Surrogate.fit_support`); None when it has none. ``mean``
        and ``std`` describe the value *where it exists*.
    support_outside : ndarray of bool, shape (n_points,), or None
        True where the support model itself extrapolates (outside the box of its own
        training inputs, which hold every point its target is selected from, with or without
        a value); None without a support model. ``outside_domain`` is the value model's.
    """

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray | None
    weights: np.ndarray | None
    outside_domain: np.ndarray
    target: str = ""
    unit: str = ""
    p_defined: np.ndarray | None = None
    far_from_data: np.ndarray | None = None
    support_outside: np.ndarray | None = None

    def member_weights(self) -> np.ndarray:
        """Weights of :attr:`samples`, shape (n_members,); equal when :attr:`weights` is None."""
        k = self.samples.shape[0]
        return np.full(k, 1.0 / k) if self.weights is None else self.weights

    def to_frame(self, ids: Any) -> pd.DataFrame:
        """One row per point: ``id``, ``mean``, ``std``, ``outside_domain``, and
        ``p_defined``, ``support_outside`` and ``far_from_data`` where the surrogate has them
        (the columns ``bsm-surrogates predict`` writes)."""
        frame = pd.DataFrame({"id": np.asarray(ids), "mean": self.mean, "std": self.std,
                              "outside_domain": self.outside_domain})
        for column in ("p_defined", "support_outside", "far_from_data"):
            if getattr(self, column) is not None:
                frame[column] = getattr(self, column)
        return frame
