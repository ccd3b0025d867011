r"""Likelihood terms as a scan steers by them: the simulator output each reads, its target region.

A scan steers by terms of :mod:`likelihoods` built on the simulator's outputs
(``GaussianMeasurement("h0", simulator.observable("h0"), 125.09, 2.0)``, a
:class:`~likelihoods.SignalRegion` of a cross section, a :class:`~likelihoods.Viability` of a
0/1 output). A :class:`Steering` holds one of them with the width of its target region and
scores, with the term's own :meth:`~likelihoods.Term.score`, the simulator's values of a
tested point (exactly) and the surrogate's prediction of a candidate.

Its target region generalises the one of the Machine Learning Scan (arXiv:1708.06615: every
observable within ``n_sigma`` standard deviations of its measurement) to any term whose
likelihood falls off on either side of its best observable value :math:`O^*`
(:meth:`~likelihoods.Term.best_observable`): the values whose deviance is at most
``n_sigma`` squared,

.. math:: -2\,\big(\ln L(O) - \ln L(O^*)\big) \le n_\sigma^2,

an interval :math:`[O_\text{low}, O_\text{high}]` found once by bisection. For a Gaussian
measurement :math:`y \pm \sigma` it is :math:`y \pm n_\sigma \sigma`; for a signal region,
the cross sections whose profile-likelihood test statistic :math:`q` is at most
:math:`n_\sigma^2`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fits.resume import describe
from fits.scan.simulators import Simulator, SimulatorObservable, simulated_prediction
from likelihoods import Combination, Term
from surrogates.prediction import Prediction

__all__ = ["Steering", "evaluate", "steer"]

_BISECTIONS = 200  # enough to reach adjacent floats from any bracket


class Steering:
    """One likelihood term of a scan, with the width of its target region.

    Parameters
    ----------
    term : Term
        Built on an output of the scan's simulator (:meth:`Simulator.observable`); it must
        say where it peaks (:meth:`~likelihoods.Term.best_observable`).
    n_sigma : float
        Half-width of the target region in standard deviations (deviance ``n_sigma**2``).

    Attributes
    ----------
    column : str
        The simulator output the term reads.
    classifier : bool
        Whether the term reads a probability (a :class:`~likelihoods.Viability`), which the
        scan learns with a classifier.
    best : float
        :meth:`~likelihoods.Term.best_observable` of the term.
    low, high : float
        Edges of the target region in the observable (``-inf`` / ``inf`` where unbounded).
    """

    def __init__(self, term: Term, n_sigma: float = 2.0) -> None:
        predictor = term.predictor
        if not isinstance(predictor, SimulatorObservable):
            raise ValueError(
                f"term {term.name!r}: a scan steers by terms on the simulator's outputs "
                f"(its {term.predictor_slot} = simulator.observable(name)); got "
                f"{type(predictor).__name__}"
            )
        if not n_sigma > 0:
            raise ValueError(f"term {term.name!r}: n_sigma must be > 0; got {n_sigma!r}")
        self.term = term
        self.n_sigma = float(n_sigma)
        self.column = predictor.column
        self.classifier = term.predictor_slot == "classifier"
        self.best = float(term.best_observable())
        self._best_logl = float(self.exact(np.array([self.best]))[0])
        if not np.isfinite(self._best_logl):
            raise ValueError(
                f"term {term.name!r}: its log-likelihood at its best observable value "
                f"{self.best:g} is {self._best_logl}; it cannot steer a scan"
            )
        self.low, self.high = self._edge(-1.0), self._edge(1.0)

    def exact(self, values: np.ndarray) -> np.ndarray:
        """The term's log-likelihood, shape (n,), of exact observable values (NaN: none)."""
        logl = self.term.score(simulated_prediction(values)).log_likelihood
        return np.where(np.isnan(logl), -np.inf, logl)

    def log_ratio(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        """``ln L - ln L(best)`` of a Gaussian prediction ``mean`` +- ``std``, shape (n,).

        With ``std`` 0 it is minus half the deviance; with the surrogate's ``std`` it is the
        term's own propagation of it (``uncertainty`` of the term), normalised the same way.
        """
        n = len(mean)
        pred = Prediction(mean=np.asarray(mean, float), std=np.asarray(std, float),
                          samples=None, weights=None, outside_domain=np.zeros(n, bool))
        return self.term.score(pred).log_likelihood - self._best_logl

    def in_region(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask, shape (n,): the exact values inside the target region (NaN: outside)."""
        values = np.asarray(values, float)
        with np.errstate(invalid="ignore"):
            return (values >= self.low) & (values <= self.high)

    def _inside(self, value: float) -> bool:
        deviance = -2.0 * (self.exact(np.array([value]))[0] - self._best_logl)
        return bool(deviance <= self.n_sigma**2)

    def _edge(self, direction: float) -> float:
        """The last value inside the region from :attr:`best` in ``direction`` (+1 or -1)."""
        step = max(abs(self.best), 1.0) * 1e-3
        inside, outside = self.best, self.best + direction * step
        while self._inside(outside):
            inside, step = outside, 8.0 * step
            outside = self.best + direction * step
            if not np.isfinite(outside):
                return direction * np.inf
        for _ in range(_BISECTIONS):
            middle = 0.5 * (inside + outside)
            if middle in (inside, outside):
                break
            inside, outside = (middle, outside) if self._inside(middle) else (inside, middle)
        return inside

    def to_dict(self) -> dict:
        """What the scan records of it: the term's description and the region's width."""
        return {"term": describe(self.term), "n_sigma": self.n_sigma}

    def __repr__(self) -> str:
        return (f"Steering({self.term!r} on {self.column!r}, region [{self.low:g}, "
                f"{self.high:g}])")


def steer(
    simulator: Simulator, terms: Sequence[Term], n_sigma: float | Mapping[str, float] = 2.0
) -> list[Steering]:
    """The :class:`Steering` of each term, checked against ``simulator``.

    Parameters
    ----------
    simulator : Simulator
    terms : sequence of Term
        At least one, uniquely named, each on an output of ``simulator``.
    n_sigma : float or mapping of term name to float
        Target-region half-width of every term, or per term (2 for terms not named).

    Raises
    ------
    ValueError
        If there is no term, names repeat, a term is not on an output of ``simulator``, or
        ``n_sigma`` names no term.
    """
    terms = list(terms)
    if not terms:
        raise ValueError("a scan needs at least one likelihood term")
    Combination(terms)  # one parameter space, unique names
    widths = dict(n_sigma) if isinstance(n_sigma, Mapping) else {t.name: n_sigma for t in terms}
    unknown = sorted(set(widths) - {t.name for t in terms})
    if unknown:
        raise ValueError(f"n_sigma names no term of the scan: {', '.join(unknown)}")
    steering = [Steering(t, widths.get(t.name, 2.0)) for t in terms]
    odd = [s.column for s in steering if s.column not in simulator.observables]
    if odd or terms[0].space != simulator.space:
        raise ValueError(
            f"the terms read {', '.join(odd) or 'points of another space'}, not outputs of "
            f"the simulator ({', '.join(simulator.observables)} on {simulator.space!r})"
        )
    return steering


def evaluate(simulator: Simulator, steering: Sequence[Steering], X: np.ndarray) -> pd.DataFrame:
    """Run ``simulator`` on ``X`` (n_points, n_dim) once and score the results by every term.

    Returns
    -------
    DataFrame
        The parameters, the observables, ``in_target`` (every term's value in its region)
        and ``log_likelihood`` (the terms' sum), one row per point.
    """
    observed = simulator(X)
    frame = pd.concat([pd.DataFrame(X, columns=list(simulator.space.names)), observed], axis=1)
    in_target = np.ones(len(observed), dtype=bool)
    logl = np.zeros(len(observed))
    for s in steering:
        values = observed[s.column].to_numpy(dtype=float)
        in_target &= s.in_region(values)
        logl += s.exact(values)
    frame["in_target"] = in_target
    frame["log_likelihood"] = logl
    return frame
