r"""Viability of a parameter point from the validity classifier.

The classifier predicts the probability :math:`p(x)` that the spectrum generator returns a
valid spectrum, with a spread :math:`\sigma_p(x)` over its members. Two uses, selected by
``mode``:

- ``"multiply"``: the likelihood is multiplied by the probability, :math:`\ln L = \ln p(x)`
  (the point's viability treated as a Bernoulli observation that came out "valid");
- ``"cut"``: :math:`\ln L = 0` where :math:`p(x) + n_\sigma\,\sigma_p(x) \ge t` and
  :math:`-\infty` elsewhere. ``n_std=0`` cuts on the mean; ``n_std=3`` keeps every point that
  is not excluded at three standard deviations, the "mean + 3 std" rule of Kronheim et al.,
  arXiv:2007.04506 (Table 3), which trades precision for recall.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from likelihoods.base import Term, TermOutput, check_observable
from surrogates.params import Interval, Options
from surrogates.prediction import Prediction

__all__ = ["Viability"]


class Viability(Term):
    """Viability term from a classifier's predicted probability of a valid spectrum.

    Parameters
    ----------
    name : str
    classifier : object with ``predict``
        The validity surrogate (``predict(X).mean`` is the probability in [0, 1]), or any
        object with the same contract.
    mode : {"multiply", "cut"}
    threshold : float
        Cut threshold :math:`t` in (0, 1) for ``mode="cut"``; 0.5 by default (the classifier's
        decision boundary).
    n_std : float
        Number of standard deviations :math:`n_\\sigma` added to the mean before the cut.
    outside : {"reject", "flag"}
    """

    predictor_slot: ClassVar[str] = "classifier"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        **Term.parameter_constraints,
        "mode": Options(("multiply", "cut")),
        "threshold": Interval("real", 0, 1, closed="neither"),
        "n_std": Interval("real", 0),
    }

    def __init__(
        self,
        name: str,
        classifier: Any,
        *,
        mode: str = "multiply",
        threshold: float = 0.5,
        n_std: float = 0.0,
        outside: str = "reject",
    ) -> None:
        self._check_arguments(locals())
        super().__init__(name, outside=outside)
        self.classifier = check_observable(name, "classifier", classifier)
        self.mode = mode
        self.threshold = float(threshold)
        self.n_std = float(n_std)

    def best_observable(self) -> float:
        """A probability of one: a point that is surely viable."""
        return 1.0

    def score(self, pred: Prediction) -> TermOutput:
        """The viability log-likelihood of a predicted probability ``pred`` (module docstring)."""
        p = np.clip(pred.mean, 0.0, 1.0)
        if self.mode == "multiply":
            with np.errstate(divide="ignore"):
                logl = np.log(p)
        else:
            logl = np.where(p + self.n_std * pred.std >= self.threshold, 0.0, -np.inf)
        return TermOutput(
            log_likelihood=logl,
            outside=pred.outside_domain,
            columns={"p_valid": p, "p_valid_std": pred.std},
        )
