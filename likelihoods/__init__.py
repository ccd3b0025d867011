"""Vectorised likelihood terms that carry the surrogates' uncertainty into global fits.

Points of shape (n, n_dim) of the observables' parameter space in, log-likelihoods of shape
(n,) out; see :mod:`likelihoods.base` for the term interface and the outside-domain policy,
and :mod:`likelihoods.observable` for what counts as a predictor of an observable.
"""

from likelihoods.base import Term, TermOutput
from likelihoods.combination import Combination
from likelihoods.counting import SignalRegion
from likelihoods.gaussian import GaussianMeasurement
from likelihoods.observable import FunctionObservable
from likelihoods.viability import Viability

__all__ = [
    "Combination",
    "FunctionObservable",
    "GaussianMeasurement",
    "SignalRegion",
    "Term",
    "TermOutput",
    "Viability",
]
