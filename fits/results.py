"""Fit results: (weighted) posterior samples, a summary table, the evidence, corner plots.

Every sampler returns a :class:`FitResult`. Its ``samples`` DataFrame has one row per
posterior sample with the free parameters, ``weight`` (summing to one; equal for MCMC),
``logl`` and, where the likelihood is inspectable, each term's log-likelihood and
diagnostics. Credible intervals are equal-tailed, from weighted quantiles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fits.mpi import is_root
from surrogates.io import atomic_write, write_text

__all__ = ["FitResult", "weighted_quantile"]


def weighted_quantile(x: np.ndarray, q: np.ndarray | float, weights: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` of samples ``x`` (n,) with ``weights`` (n,), by the weighted ECDF.

    Interpolates linearly between the midpoints of the samples' weight bins, so equal
    weights reproduce ``np.quantile(..., method="hazen")``.
    """
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, x)


@dataclass
class FitResult:
    """Outcome of one fit.

    Attributes
    ----------
    sampler : str
        ``"emcee"`` or ``"ultranest"``.
    parameter_names : list of str
        Free parameters, in sampling order.
    samples : DataFrame
        Posterior samples (see the module docstring).
    log_evidence, log_evidence_error : float or None
        Natural-log evidence and its error (nested sampling only).
    n_calls : int
        Likelihood evaluations (points) made by the sampler, over all resumed sessions.
    wall_seconds : float
        Wall time of the sampling, over all resumed sessions.
    info : dict
        Sampler diagnostics (autocorrelation times, convergence, acceptance, ...).
    """

    sampler: str
    parameter_names: list[str]
    samples: pd.DataFrame
    log_evidence: float | None = None
    log_evidence_error: float | None = None
    n_calls: int = 0
    wall_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def weights(self) -> np.ndarray:
        """Sample weights, shape (n_samples,), summing to one."""
        return self.samples["weight"].to_numpy()

    def summary(self, levels: tuple[float, ...] = (0.68, 0.95)) -> pd.DataFrame:
        """Posterior mean, std, median and equal-tailed credible intervals per parameter.

        Returns
        -------
        DataFrame indexed by parameter
            ``mean``, ``std``, ``median`` and ``lo68``, ``hi68``, ... for each level.
        """
        w = self.weights
        rows = {}
        for name in self.parameter_names:
            x = self.samples[name].to_numpy()
            mean = float(w @ x)
            row = {"mean": mean, "std": float(np.sqrt(w @ (x - mean) ** 2))}
            row["median"] = float(weighted_quantile(x, 0.5, w))
            for level in levels:
                lo, hi = weighted_quantile(x, [(1 - level) / 2, (1 + level) / 2], w)
                tag = f"{round(100 * level)}"
                row[f"lo{tag}"], row[f"hi{tag}"] = float(lo), float(hi)
            rows[name] = row
        return pd.DataFrame(rows).T

    def equal_weight_samples(self, n: int | None = None, seed: int = 0) -> np.ndarray:
        """Resample to ``n`` equally weighted draws of the free parameters, shape (n, ndim)."""
        rng = np.random.default_rng(seed)
        n = len(self.samples) if n is None else int(n)
        idx = rng.choice(len(self.samples), size=n, p=self.weights)
        return self.samples[self.parameter_names].to_numpy()[idx]

    def corner(
        self,
        path: str | Path | None = None,
        truths: dict[str, float] | None = None,
        labels: list[str] | None = None,
    ):
        """Corner plot of the weighted samples (needs the ``corner`` package).

        Parameters
        ----------
        path : path, optional
            Where to save the figure (under MPI by rank 0 only).
        truths : dict, optional
            Parameter values to mark.
        labels : list of str, optional
            Axis labels of the free parameters (e.g. :attr:`fits.priors.Prior.labels`); their
            names by default.

        Returns
        -------
        matplotlib Figure
        """
        try:
            import corner
        except ImportError:
            raise ImportError(
                "corner plots need the 'corner' package: pip install corner"
            ) from None
        fig = corner.corner(
            self.samples[self.parameter_names].to_numpy(),
            weights=self.weights,
            labels=self.parameter_names if labels is None else labels,
            truths=None if truths is None else [truths.get(n) for n in self.parameter_names],
            quantiles=[0.16, 0.5, 0.84],
            show_titles=True,
            plot_datapoints=False,
        )
        if path is not None and is_root():
            atomic_write(path, lambda p: fig.savefig(p, dpi=120, bbox_inches="tight"))
        return fig

    def save(self, folder: str | Path) -> Path:
        """Write ``samples.csv.gz``, ``summary.csv`` and ``result.json`` to ``folder``, each
        atomically; under MPI (:mod:`fits.mpi`) only rank 0 writes, the others return."""
        folder = Path(folder)
        if not is_root():
            return folder
        atomic_write(folder / "samples.csv.gz", lambda p: self.samples.to_csv(p, index=False))
        summary = self.summary()
        atomic_write(folder / "summary.csv", summary.to_csv)
        meta = {
            "sampler": self.sampler,
            "parameter_names": self.parameter_names,
            "log_evidence": self.log_evidence,
            "log_evidence_error": self.log_evidence_error,
            "n_calls": self.n_calls,
            "wall_seconds": self.wall_seconds,
            "info": self.info,
        }
        write_text(folder / "result.json", json.dumps(meta, indent=1, default=float))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> FitResult:
        """Read a result written by :meth:`save`."""
        folder = Path(folder)
        if not (folder / "result.json").is_file():
            raise ValueError(f"{folder} holds no fit result (no result.json)")
        meta = json.loads((folder / "result.json").read_text())
        return cls(samples=pd.read_csv(folder / "samples.csv.gz"), **meta)
