"""One model on one target's test split: its prediction (timed), the optional variance
recalibration fitted on the validation split, distances to the training data and its size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import NearestNeighbors

from surrogates.base import Prediction, Surrogate
from surrogates.calibration import VarianceScale
from surrogates.data import Split, features, labels
from surrogates.targets import Target
from workflows.report import recalibration

__all__ = ["Evaluation", "evaluate"]

#: Best of this many timed ``predict`` calls (the minimum is the least disturbed, as timeit).
_TIMING_REPEATS = 3


@dataclass
class Evaluation:
    """Everything the report shows about one model on one target.

    Attributes
    ----------
    target : Target
    model : Surrogate
        The fitted (or loaded) surrogate.
    loaded : bool
        True when read from ``models_dir`` rather than trained here.
    y_test : ndarray of shape (n_test,)
        True test values, target units.
    prediction : Prediction
        Raw prediction for the test points.
    recalibrated : Prediction or None
        Test prediction after the variance scale (regression targets with recalibration).
    scale : VarianceScale or None
        The fitted scale.
    distance : ndarray of shape (n_test,)
        Euclidean distance from each test point to the nearest training point in the model's
        standardised input space (``model.input_scaler_``).
    predict_seconds_per_point : float
        Wall time of ``model.predict`` on the test split per point, s: the best of
        ``_TIMING_REPEATS`` calls after a warm-up call.
    n_parameters : int
        Number of stored numbers (sum of ``numel`` of the saved tensors).
    bytes_on_disk : int
        Size of the saved model folder, bytes.
    """

    target: Target
    model: Surrogate
    loaded: bool
    y_test: np.ndarray
    prediction: Prediction
    recalibrated: Prediction | None
    scale: VarianceScale | None
    distance: np.ndarray
    predict_seconds_per_point: float
    n_parameters: int
    bytes_on_disk: int

    @property
    def name(self) -> str:
        """Registry name of the model."""
        return self.model.model_name


def evaluate(
    model: Surrogate, split: Split, *, loaded: bool, bytes_on_disk: int, recalibrate: bool
) -> Evaluation:
    """Predict the test split (timed), fit the recalibration on validation, measure distances.

    Parameters
    ----------
    model : Surrogate
        Fitted surrogate.
    split : Split
        The target's data split the model was trained on.
    loaded, bytes_on_disk
        As returned by :func:`workflows.training.obtain_model`.
    recalibrate : bool
        Fit and apply the variance scale (regression targets only).
    """
    target = model.target
    X_test = features(split.test)
    model.predict(X_test[:64])  # warm-up: first-call allocations and lazy initialisation
    seconds = []
    for _ in range(_TIMING_REPEATS):
        start = time.perf_counter()
        prediction = model.predict(X_test)
        seconds.append(time.perf_counter() - start)
    scale = recalibrated = None
    if recalibrate and not target.is_classifier:
        tt = model.target_transform_
        pred_val = model.predict(features(split.val))
        scale = recalibration.fit_variance_scale(labels(split.val, target), pred_val, tt)
        recalibrated = recalibration.recalibrated(prediction, tt, scale)
    nn = NearestNeighbors(n_neighbors=1).fit(model.standardized_features(features(split.train)))
    distance = nn.kneighbors(model.standardized_features(X_test))[0][:, 0]
    return Evaluation(
        target=target,
        model=model,
        loaded=loaded,
        y_test=labels(split.test, target),
        prediction=prediction,
        recalibrated=recalibrated,
        scale=scale,
        distance=distance,
        predict_seconds_per_point=min(seconds) / len(X_test),
        n_parameters=int(sum(t.numel() for t in model._state_tensors().values())),
        bytes_on_disk=int(bytes_on_disk),
    )
