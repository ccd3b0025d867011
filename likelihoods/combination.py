r"""A product of independent likelihood terms, inspectable term by term.

.. math:: \ln L(x) = \sum_t \ln L_t(x)

:meth:`Combination.evaluate` returns one DataFrame with the total, each term's
log-likelihood (column ``<term>``) and its diagnostics (columns ``<term>.<name>``), so a fit
can show which term drives (or vetoes) a region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from likelihoods.base import Term, TermOutput
from surrogates.space import ParameterSpace
from surrogates.validation import check_features

__all__ = ["Combination"]


class Combination:
    """Sum of the log-likelihoods of several terms.

    Parameters
    ----------
    terms : sequence of Term
        At least one; names must be unique.
    """

    def __init__(self, terms: Sequence[Term]) -> None:
        terms = list(terms)
        if not terms:
            raise ValueError("a Combination needs at least one term")
        for t in terms:
            if not isinstance(t, Term):
                raise ValueError(f"Combination takes likelihood Terms; got {type(t).__name__}")
        names = [t.name for t in terms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup or "logl" in names:
            raise ValueError(f"term names must be unique and not 'logl'; repeated: {dup}")
        spaces = {t.space for t in terms}
        if len(spaces) > 1:
            raise ValueError(
                "the terms of a Combination must share one parameter space; got "
                + "; ".join(f"{t.name!r} on {t.space!r}" for t in terms)
            )
        self.terms = terms

    @property
    def space(self) -> ParameterSpace:
        """The parameter space of the terms' points."""
        return self.terms[0].space

    @property
    def names(self) -> list[str]:
        """Names of the terms, in order."""
        return [t.name for t in self.terms]

    def _outputs(self, X: np.ndarray) -> list[TermOutput]:
        return [t._scored(X) for t in self.terms]

    def log_likelihood(self, X: Any) -> np.ndarray:
        """Total log-likelihood, shape (n,), of points ``X`` (n, n_dim) of :attr:`space`."""
        outs = self._outputs(check_features(X, space=self.space))
        return np.sum([o.log_likelihood for o in outs], axis=0)

    def evaluate(self, X: Any) -> pd.DataFrame:
        """Total and per-term log-likelihoods with each term's diagnostics.

        Returns
        -------
        DataFrame with n rows
            ``logl`` (total), ``<term>`` (its log-likelihood), ``<term>.outside`` and
            ``<term>.<diagnostic>`` for every term.
        """
        outs = self._outputs(check_features(X, space=self.space))
        cols: dict[str, np.ndarray] = {"logl": np.sum([o.log_likelihood for o in outs], axis=0)}
        for term, out in zip(self.terms, outs, strict=True):
            cols[term.name] = out.log_likelihood
            cols[f"{term.name}.outside"] = out.outside
            cols.update({f"{term.name}.{k}": v for k, v in out.columns.items()})
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        return f"Combination({self.terms!r})"
