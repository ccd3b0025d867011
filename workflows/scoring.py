"""Score a surrogate's prediction against the truth: the one scoring function.

:func:`score` holds the metrics of :mod:`surrogates.metrics` that ``bsm-surrogates evaluate``
(:func:`evaluate_model`) prints and the comparison report (:mod:`workflows.report`) tabulates;
neither computes a metric of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from surrogates.base import Prediction, Surrogate
from surrogates.data import features, labels, load_dataset
from surrogates.metrics import (
    classification_metrics,
    interval_coverage,
    pull_chi2,
    regression_metrics,
)
from workflows.report.recalibration import to_model_space
from workflows.training import data_source

__all__ = ["evaluate_model", "score"]


def score(model: Surrogate, y: np.ndarray, prediction: Prediction) -> dict[str, Any]:
    """The paper metrics of ``model``'s ``prediction`` for points of true values ``y``.

    Parameters
    ----------
    model : Surrogate
        The fitted surrogate that made the prediction.
    y : ndarray of shape (n_points,)
        True values, target units (labels 0/1 for the classifier).
    prediction : Prediction
        Its prediction for those points (raw, or recalibrated by the report).

    Returns
    -------
    dict
        Classifier: :func:`~surrogates.metrics.classification_metrics` of the mean
        probability and its std. Regression: :func:`~surrogates.metrics.regression_metrics`
        in target units and ``chi2_per_dof_model_space``, the
        :func:`~surrogates.metrics.pull_chi2` of the model-space predictive
        (:func:`~workflows.report.recalibration.to_model_space`); for a predictive of
        members, ``interval_coverage_1std`` .. ``_3std``, the coverage of their central
        68.3 / 95.4 / 99.7 % intervals (:func:`~surrogates.metrics.interval_coverage`). Both:
        ``n_outside_domain``, the points flagged outside the training domain.
    """
    if model.target.is_classifier:
        result = classification_metrics(y, prediction.mean, prediction.std)
    else:
        result = regression_metrics(y, prediction.mean, prediction.std)
        tt = model.target_transform_
        mean, std, _ = to_model_space(prediction, tt)
        result["chi2_per_dof_model_space"] = pull_chi2(tt.forward(y), mean, std)["chi2_per_dof"]
        if prediction.samples is not None:  # no Gaussian shape assumed
            for k, c in interval_coverage(y, prediction.samples, (1, 2, 3)).items():
                result[f"interval_coverage_{k:.0f}std"] = c
    result["n_outside_domain"] = int(prediction.outside_domain.sum())
    return result


def evaluate_model(
    surrogate: Surrogate, data: str | Path | None = None, split: str = "test"
) -> dict[str, Any]:
    """:func:`score` of ``surrogate`` on a split of its target's data set.

    Uses the data source and split seed recorded at training unless ``data`` is given.
    """
    df = load_dataset(surrogate.target, data_source(surrogate, data))
    if split != "all":
        df = getattr(surrogate.recorded_split(df), split)
    return score(surrogate, labels(df, surrogate.target), surrogate.predict(features(df)))
