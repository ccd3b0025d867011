r"""Post-hoc recalibration of a regression surrogate's error bars by one variance scale.

A surrogate's predictive is built in *model space* (:mod:`surrogates.transforms`): members or
a Gaussian in :math:`z = (g(y) - m)/s` with :math:`g` the identity (m_h) or :math:`\ln`
(sigma). Its error bar is rescaled there, by one factor fitted on the validation split
(recalibration on held-out data as in Kuleshov, Fenner & Ermon, arXiv:1807.00263, with one
variance scale in place of their isotonic map, the "std scaling" of Levi et al. 2019):

.. math:: s^2 = \frac1{n_\mathrm{val}} \sum_{i \in \mathrm{val}}
          \left(\frac{z_i - \mu_{z,i}}{\sigma_{z,i}}\right)^2,
          \qquad \sigma_z \to s\,\sigma_z ,

the maximum-likelihood scale of a Gaussian predictive, i.e. the :math:`\chi^2/n` of the
model-space pulls (:func:`surrogates.metrics.pull_chi2`).

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

from dataclasses import dataclass, replace

import numpy as np

from surrogates.base import Prediction
from surrogates.metrics import pull_chi2
from surrogates.transforms import TargetTransform

__all__ = ["ModelSpace", "VarianceScale", "to_model_space"]


@dataclass
class ModelSpace:
    """A predictive in model space.

    Attributes
    ----------
    mean, std : ndarray of shape (n_points,)
        Gaussian summary: (weighted) mean and spread of the members, or the exact Gaussian.
    samples : ndarray of shape (n_members, n_points) or None
        Members, where the surrogate has them.
    weights : ndarray of shape (n_members,) or None
        Member weights (None: equal).
    """

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray | None
    weights: np.ndarray | None


def _weights(samples: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    n_members = samples.shape[0]
    return np.full(n_members, 1.0 / n_members) if weights is None else weights


def _summary(samples: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and spread over the members (axis 0), as the base class computes them."""
    w = _weights(samples, weights)
    mean = w @ samples
    return mean, np.sqrt(np.maximum(w @ (samples - mean) ** 2, 0.0))


def to_model_space(pred: Prediction, transform: TargetTransform) -> ModelSpace:
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
    ModelSpace
    """
    if pred.samples is not None:
        samples = transform.forward(pred.samples)
        mean, std = _summary(samples, pred.weights)
        return ModelSpace(mean=mean, std=std, samples=samples, weights=pred.weights)
    mean, std = np.asarray(pred.mean, float), np.asarray(pred.std, float)
    if transform.is_log:
        var_log = np.log1p((std / mean) ** 2)
        mu_log = np.log(mean) - 0.5 * var_log
        return ModelSpace(
            mean=(mu_log - transform.shift) / transform.scale,
            std=np.sqrt(var_log) / transform.scale,
            samples=None,
            weights=None,
        )
    return ModelSpace(
        mean=(mean - transform.shift) / transform.scale,
        std=std / transform.scale,
        samples=None,
        weights=None,
    )


@dataclass(frozen=True)
class VarianceScale:
    r"""One factor :math:`s^2` on the model-space predictive variance (see the module text).

    Attributes
    ----------
    s2 : float
        Variance scale; > 1 widens the error bars, < 1 narrows them.
    n_val : int
        Number of validation points it was fitted on.
    """

    s2: float
    n_val: int

    @property
    def s(self) -> float:
        """Scale of the standard deviation, :math:`\\sqrt{s^2}`."""
        return float(np.sqrt(self.s2))

    @classmethod
    def fit(
        cls, y_val: np.ndarray, pred_val: Prediction, transform: TargetTransform
    ) -> VarianceScale:
        """Fit on the validation split.

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
        z = to_model_space(pred_val, transform)
        s2 = pull_chi2(transform.forward(y_val), z.mean, z.std)["chi2_per_dof"]
        return cls(s2=float(s2), n_val=int(np.size(y_val)))

    def apply(self, pred: Prediction, transform: TargetTransform) -> Prediction:
        """The prediction with its model-space spread scaled by :attr:`s`, in target units.

        Members move away from (or towards) their model-space mean by the factor ``s``; a
        Gaussian predictive has its model-space std multiplied by ``s``. Both go back to target
        units as in :meth:`surrogates.base.Surrogate.predict`, so a log target's mean shifts
        too (the mean of the back-transformed members or of the log-normal changes with the
        spread).
        """
        z = to_model_space(pred, transform)
        if z.samples is not None:
            samples = transform.inverse(z.mean + self.s * (z.samples - z.mean))
            mean, std = _summary(samples, z.weights)
            return replace(pred, mean=mean, std=std, samples=samples)
        mean, std = transform.inverse_gaussian(z.mean, self.s * z.std)
        return replace(pred, mean=mean, std=std)
