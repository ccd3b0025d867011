r"""The report's post-hoc recalibration: a variance scale on top of a surrogate's prediction.

A surrogate's predictive is built in *model space* (:mod:`surrogates.transforms`): members or
a Gaussian in :math:`z = (g(y) - m)/s` with :math:`g` the identity (m_h) or :math:`\ln`
(sigma). The report maps a target-unit prediction back there exactly
(:func:`to_model_space`), fits the library's one variance scale on the validation split
(:class:`surrogates.calibration.VarianceScale`, the recalibration any surrogate can take as
``recalibration="variance_scale"``), rescales the spread with it
(:func:`surrogates.calibration.rescale_spread`) and maps the result back to target units
(:func:`recalibrated`). Unlike a surrogate's own recalibration it comes after whatever
recalibration the surrogate already applies, so the report shows how far that one is from
a calibrated validation :math:`\chi^2/n`.

Why model space. For ``standardize`` targets (m_h) model-space pulls equal target-unit pulls,
so the choice does not matter. For ``log_standardize`` (sigma) they are pulls of
:math:`\ln\sigma`: the surrogates' errors are multiplicative (one width in :math:`\ln\sigma`
across five decades of sigma), the predictive is Gaussian there by construction (the GP's
output) or close to it (the members), and a rescaled predictive stays positive. Pulls in fb
would weight points by the size of their cross section and treat the skewed log-normal
predictive as symmetric. The rescaled predictive is mapped back to target units exactly as
:meth:`surrogates.base.Surrogate.predict` does, and the report scores it there with the same
metrics as the raw one.

The validity classifier is not recalibrated: a variance scale has no meaning for a Bernoulli
probability.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from surrogates.base import Prediction
from surrogates.calibration import VarianceScale, rescale_spread
from surrogates.transforms import TargetTransform

__all__ = ["fit_variance_scale", "recalibrated", "to_model_space"]


def _summary(samples: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and spread over the members (axis 0), as the base class computes them."""
    w = np.full(samples.shape[0], 1.0 / samples.shape[0]) if weights is None else weights
    mean = w @ samples
    return mean, np.sqrt(np.maximum(w @ (samples - mean) ** 2, 0.0))


def to_model_space(
    pred: Prediction, transform: TargetTransform
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Map a target-unit :class:`~surrogates.base.Prediction` back to model space, exactly.

    Members are mapped one by one with ``transform.forward``. A Gaussian predictive (no
    members) is the image of a model-space Gaussian under
    :meth:`~surrogates.transforms.TargetTransform.inverse_gaussian`, whose log-normal moments
    invert in closed form:

    .. math:: \sigma_{\ln}^2 = \ln\!\left(1 + \mathrm{std}^2/\mathrm{mean}^2\right), \qquad
              \mu_{\ln} = \ln \mathrm{mean} - \sigma_{\ln}^2 / 2 .

    Parameters
    ----------
    pred : Prediction
        Mean, std (and members) in target units.
    transform : TargetTransform
        The surrogate's fitted ``target_transform_``.

    Returns
    -------
    mean, std : ndarray of shape (n_points,)
        Model-space (weighted) mean and spread of the members, or the exact Gaussian.
    samples : ndarray of shape (n_members, n_points) or None
        Model-space members, where the prediction has them.
    """
    if pred.samples is not None:
        samples = transform.forward(pred.samples)
        return (*_summary(samples, pred.weights), samples)
    mean, std = np.asarray(pred.mean, float), np.asarray(pred.std, float)
    if transform.is_log:
        var_log = np.log1p((std / mean) ** 2)
        mu_log = np.log(mean) - 0.5 * var_log
        mean, std = mu_log, np.sqrt(var_log)
    return (mean - transform.shift) / transform.scale, std / transform.scale, None


def fit_variance_scale(
    y_val: np.ndarray, pred_val: Prediction, transform: TargetTransform
) -> VarianceScale:
    """The variance scale of a surrogate's validation prediction ``pred_val``.

    Parameters
    ----------
    y_val : ndarray of shape (n_val,)
        True values, target units.
    pred_val : Prediction
        The surrogate's prediction for the validation points.
    transform : TargetTransform
        The surrogate's fitted ``target_transform_``.

    Raises
    ------
    ValueError
        If the target is the classifier's (transform ``none``).
    """
    if transform.kind == "none":
        raise ValueError("a variance scale recalibrates regression targets only, not 'none'")
    mean, std, _ = to_model_space(pred_val, transform)
    return VarianceScale.fit(transform.forward(y_val), mean, std)


def recalibrated(pred: Prediction, transform: TargetTransform, scale: VarianceScale) -> Prediction:
    """The prediction with its model-space spread scaled by ``scale``, in target units.

    Members move away from (or towards) their model-space mean by the factor
    :attr:`~surrogates.calibration.VarianceScale.s`; a Gaussian predictive has its
    model-space std multiplied by it. Both go back to target units as in
    :meth:`surrogates.base.Surrogate.predict`, so a log target's mean shifts too (the mean of
    the back-transformed members or of the log-normal changes with the spread).
    """
    mean, std, samples = to_model_space(pred, transform)
    std, samples = rescale_spread(scale, mean, std, samples)
    if samples is not None:
        samples = transform.inverse(samples)
        mean, std = _summary(samples, pred.weights)
        return replace(pred, mean=mean, std=std, samples=samples)
    mean, std = transform.inverse_gaussian(mean, std)
    return replace(pred, mean=mean, std=std)
