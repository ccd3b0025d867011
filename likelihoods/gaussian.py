r"""Gaussian measurement of a predicted observable, with the predictor's uncertainty.

A measurement :math:`y \pm \sigma_\text{exp} \pm \sigma_\text{th}` of an observable that a
surrogate predicts at parameter point :math:`x`. Two ways to carry the surrogate's
uncertainty, selected by ``uncertainty``:

- ``"quadrature"``: the predictive std :math:`\sigma_\text{s}(x)` is added in quadrature,

  .. math:: \ln L(x) = \ln \mathcal N\big(y \mid \mu(x),\;
            \sigma_\text{exp}^2 + \sigma_\text{th}^2 + \sigma_\text{s}^2(x)\big);

- ``"mixture"``: the likelihood is averaged over the ensemble members :math:`f_k(x)` with
  weights :math:`w_k` (the predictive distribution as a mixture, exact for ensembles and
  posterior draws),

  .. math:: \ln L(x) = \ln \sum_k w_k\, \mathcal N\big(y \mid f_k(x),\;
            \sigma_\text{exp}^2 + \sigma_\text{th}^2\big);

- ``"none"``: the surrogate's mean is trusted as exact (the over-confident baseline that
  the closure test compares against).

Where the surrogate has a support model, :math:`p_d(x)` the probability that the observable
exists at :math:`x`, ``support="mixture"`` multiplies the likelihood by it (a point whose
measured observable does not exist is not viable; :mod:`likelihoods.base`):
:math:`\ln L \mathrel{+}= \ln p_d(x)`.

The Higgs-mass defaults of :meth:`GaussianMeasurement.higgs_mass` are those of Bertone et
al., arXiv:1611.02704: :math:`m_h = 125.09 \pm 0.24\,(\text{exp}) \pm 2\,(\text{th})` GeV,
the ATLAS+CMS Run-1 combination (arXiv:1503.07589) with a theory error for the spectrum code.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp

from likelihoods.base import (
    SUPPORT_POLICIES,
    Term,
    TermOutput,
    check_observable,
    value_outside,
)
from surrogates.params import Interval, Options
from surrogates.prediction import Prediction

__all__ = ["GaussianMeasurement"]

_LOG_2PI = np.log(2.0 * np.pi)
UNCERTAINTY_MODES = ("quadrature", "mixture", "none")


def _log_normal_pdf(y: float, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    return -0.5 * ((y - mean) ** 2 / var + np.log(var) + _LOG_2PI)


class GaussianMeasurement(Term):
    """Gaussian likelihood of a measured value of a predicted observable.

    Parameters
    ----------
    name : str
    observable : object with ``predict``
        A Surrogate or any object honouring :mod:`likelihoods.observable`'s contract; its
        unit must be that of ``value``.
    value : float
        Measured value.
    exp_error : float
        Experimental standard deviation, > 0.
    theory_error : float
        Theory standard deviation of the prediction, >= 0.
    uncertainty : {"quadrature", "mixture", "none"}
        How the surrogate's own uncertainty enters (see the module docstring).
    outside : {"reject", "flag"}
        Policy for points outside the surrogate's training domain.
    support : {"mixture", "ignore"}
        Whether the observable's probability of existing (``p_defined`` of its prediction,
        when it has one) multiplies the likelihood.
    """

    parameter_constraints: ClassVar[dict[str, Any]] = {
        **Term.parameter_constraints,
        "value": Interval("real"),
        "exp_error": Interval("real", 0, closed="neither"),
        "theory_error": Interval("real", 0),
        "uncertainty": Options(UNCERTAINTY_MODES),
        "support": Options(SUPPORT_POLICIES),
    }

    def __init__(
        self,
        name: str,
        observable: Any,
        value: float,
        exp_error: float,
        theory_error: float = 0.0,
        *,
        uncertainty: str = "quadrature",
        outside: str = "reject",
        support: str = "mixture",
    ) -> None:
        self._check_arguments(locals())
        super().__init__(name, outside=outside)
        self.observable = check_observable(name, "observable", observable)
        self.value = float(value)
        self.exp_error = float(exp_error)
        self.theory_error = float(theory_error)
        self.uncertainty = uncertainty
        self.support = support

    @classmethod
    def higgs_mass(
        cls, observable: Any, name: str = "higgs_mass", **kwargs: Any
    ) -> GaussianMeasurement:
        """The light-Higgs mass measurement of arXiv:1611.02704 (values in GeV).

        ``value=125.09``, ``exp_error=0.24`` (ATLAS+CMS, arXiv:1503.07589) and
        ``theory_error=2.0`` (arXiv:1611.02704); any of them can be overridden in ``kwargs``.
        """
        kwargs = {"value": 125.09, "exp_error": 0.24, "theory_error": 2.0, **kwargs}
        return cls(name, observable, **kwargs)

    def best_observable(self) -> float:
        """The measured value: where the Gaussian peaks."""
        return self.value

    def score(self, pred: Prediction) -> TermOutput:
        """The Gaussian log-likelihood of ``pred`` (see the module docstring)."""
        var0 = self.exp_error**2 + self.theory_error**2
        if self.uncertainty == "quadrature":
            logl = _log_normal_pdf(self.value, pred.mean, var0 + pred.std**2)
        elif self.uncertainty == "none":
            logl = _log_normal_pdf(self.value, pred.mean, np.full_like(pred.mean, var0))
        else:
            if pred.samples is None:
                raise ValueError(
                    f"term {self.name!r}: uncertainty='mixture' needs ensemble members, but the "
                    f"observable returned samples=None; use uncertainty='quadrature'"
                )
            log_w = np.log(pred.member_weights())[:, None]
            logl = logsumexp(log_w + _log_normal_pdf(self.value, pred.samples, var0), axis=0)
        pull = (pred.mean - self.value) / np.sqrt(var0 + pred.std**2)
        columns = {"pred_mean": pred.mean, "pred_std": pred.std, "pull": pull}
        if pred.p_defined is not None and self.support == "mixture":
            with np.errstate(divide="ignore"):
                logl = logl + np.log(pred.p_defined)
            columns["p_defined"] = pred.p_defined
        return TermOutput(log_likelihood=logl, outside=value_outside(pred, self.support),
                          columns=columns)
