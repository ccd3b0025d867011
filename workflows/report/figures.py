"""Figures of the comparison report, one set per target, drawn with matplotlib's Agg canvas.

Figures are built on :class:`matplotlib.figure.Figure` directly (no ``pyplot``, so no global
backend switch and no open-figure bookkeeping) and returned as PNG bytes. Regression targets
get: predicted vs true with error bars; bias and RMS bands against the target value from the
true errors and from the predicted std (Kronheim et al., arXiv:2007.04506, Figs. 2 and 4);
pull histograms against N(0, 1) (Bertone et al., arXiv:1611.02704, Fig. 1); calibration curves
and PIT histograms; error and predicted std against the distance to the nearest training point.
The validity classifier gets a reliability diagram, the ROC curve and the distance plot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import norm
from sklearn.calibration import calibration_curve as reliability_curve
from sklearn.metrics import roc_curve

from surrogates.metrics import calibration_curve, classification_metrics, pit, pulls

if TYPE_CHECKING:
    from workflows.report.evaluation import Evaluation

__all__ = ["FigureImage", "target_figures"]

_PANEL = (4.2, 3.4)  # inches per panel
_DPI = 100
_N_BINS = 10
_N_ERRORBARS = 300  # points drawn with error bars in "predicted vs true"
_PULL_RANGE = 5.0


@dataclass
class FigureImage:
    """One rendered figure: ``key`` (file stem), ``title``, ``caption`` and ``png`` bytes."""

    key: str
    title: str
    caption: str
    png: bytes


def _panels(n: int) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(_PANEL[0] * n, _PANEL[1]), dpi=_DPI, layout="constrained")
    return fig, np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _binned(x: np.ndarray, *columns: np.ndarray, log: bool = False):
    """Quantile bins of ``x``: centres (n_bins,) and the per-bin values of each column."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, _N_BINS + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    keep = [b for b in range(len(edges) - 1) if np.any(idx == b)]
    lo, hi = edges[keep], edges[np.array(keep) + 1]
    centres = np.sqrt(lo * hi) if log else 0.5 * (lo + hi)
    return centres, [[col[idx == b] for b in keep] for col in columns]


def _percent_of_truth(ev: Evaluation, values: np.ndarray) -> np.ndarray:
    return 100.0 * values / np.abs(ev.y_test)


def _label(ev: Evaluation) -> str:
    return ev.target.latex or ev.target.name


# --------------------------------------------------------------------------- regression


def _pred_vs_true(evs: Sequence[Evaluation]) -> Figure:
    fig, axes = _panels(len(evs))
    for ax, ev in zip(axes, evs, strict=True):
        y, pred = ev.y_test, ev.prediction
        pick = np.random.default_rng(0).permutation(len(y))[:_N_ERRORBARS]
        ax.plot(y, pred.mean, ".", ms=2, alpha=0.3, color="0.5", label="all test points")
        ax.errorbar(y[pick], pred.mean[pick], yerr=pred.std[pick], fmt=".", ms=3, lw=0.8,
                    color="C0", label=f"{len(pick)} with $\\pm1$ std")
        lim = [min(y.min(), pred.mean.min()), max(y.max(), pred.mean.max())]
        ax.plot(lim, lim, "k--", lw=0.8)
        if ev.model.target_transform_.is_log:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set(xlabel=f"true {_label(ev)}", ylabel="predicted", title=ev.name)
        ax.legend(fontsize=7, loc="upper left")
    return fig


def _bias_rms(evs: Sequence[Evaluation]) -> Figure:
    fig, axes = _panels(len(evs))
    for ax, ev in zip(axes, evs, strict=True):
        log = ev.model.target_transform_.is_log
        rel_err = _percent_of_truth(ev, ev.prediction.mean - ev.y_test)
        stds = {"predicted std": ev.prediction.std}
        if ev.recalibrated is not None:
            stds["recalibrated std"] = ev.recalibrated.std
        x, (errs, *std_bins) = _binned(
            ev.y_test, rel_err, *(_percent_of_truth(ev, s) for s in stds.values()), log=log
        )
        bias = np.array([e.mean() for e in errs])
        rms = np.array([e.std() for e in errs])
        ax.plot(x, bias, "k-", marker="o", ms=3, label="bias (mean error)")
        ax.fill_between(x, bias - rms, bias + rms, color="C0", alpha=0.3,
                        label="bias $\\pm$ RMS of true errors")
        for (name, _), bins, style in zip(stds.items(), std_bins, ("--", ":"), strict=False):
            rms_pred = np.array([np.sqrt(np.mean(b**2)) for b in bins])
            ax.plot(x, bias + rms_pred, "C3" + style, label=f"bias $\\pm$ RMS {name}")
            ax.plot(x, bias - rms_pred, "C3" + style)
        ax.axhline(0, color="0.5", lw=0.6)
        if log:
            ax.set_xscale("log")
        ax.set(xlabel=f"true {_label(ev)}", ylabel="error / true value [%]", title=ev.name)
        ax.legend(fontsize=7)
    return fig


def _pull_hists(evs: Sequence[Evaluation]) -> Figure:
    fig, axes = _panels(len(evs))
    grid = np.linspace(-_PULL_RANGE, _PULL_RANGE, 201)
    for ax, ev in zip(axes, evs, strict=True):
        variants = {"raw": ev.prediction}
        if ev.recalibrated is not None:
            variants[f"recalibrated (s = {ev.scale.s:.2f})"] = ev.recalibrated
        for (name, pred), color in zip(variants.items(), ("C0", "C1"), strict=False):
            p = pulls(ev.y_test, pred.mean, pred.std)
            outside = np.mean(np.abs(p) > _PULL_RANGE)
            ax.hist(np.clip(p, -_PULL_RANGE, _PULL_RANGE), bins=50, density=True,
                    histtype="step", color=color, label=f"{name}; {100 * outside:.1f} % beyond "
                    f"$\\pm{_PULL_RANGE:g}$ (in edge bins)")
        ax.plot(grid, norm.pdf(grid), "k--", lw=1, label="N(0, 1)")
        ax.set(xlabel="pull (true - mean) / std", ylabel="density", title=ev.name)
        ax.legend(fontsize=7)
    return fig


def _calibration(evs: Sequence[Evaluation]) -> Figure:
    fig, axes = _panels(1)
    ax = axes[0]
    for i, ev in enumerate(evs):
        nominal, observed = calibration_curve(ev.y_test, ev.prediction.mean, ev.prediction.std)
        ax.plot(nominal, observed, f"C{i}-", label=f"{ev.name} raw")
        if ev.recalibrated is not None:
            _, observed = calibration_curve(ev.y_test, ev.recalibrated.mean, ev.recalibrated.std)
            ax.plot(nominal, observed, f"C{i}--", label=f"{ev.name} recalibrated")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="nominal coverage", ylabel="observed coverage", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=7)
    return fig


def _pit_hists(evs: Sequence[Evaluation]) -> Figure:
    fig, axes = _panels(len(evs))
    for ax, ev in zip(axes, evs, strict=True):
        variants = {"raw": ev.prediction}
        if ev.recalibrated is not None:
            variants["recalibrated"] = ev.recalibrated
        for (name, pred), color in zip(variants.items(), ("C0", "C1"), strict=False):
            ax.hist(pit(ev.y_test, pred.mean, pred.std), bins=20, range=(0, 1), density=True,
                    histtype="step", color=color, label=name)
        ax.axhline(1, color="k", ls="--", lw=0.8, label="uniform")
        ax.set(xlabel="PIT $\\Phi$((true - mean) / std)", ylabel="density", title=ev.name)
        ax.legend(fontsize=7)
    return fig


def _distance(evs: Sequence[Evaluation]) -> Figure:
    fig, axes = _panels(len(evs))
    for ax, ev in zip(axes, evs, strict=True):
        pred = ev.prediction
        if ev.target.is_classifier:
            err, std, unit = np.abs(pred.mean - ev.y_test), pred.std, "probability"
        else:
            err = np.abs(_percent_of_truth(ev, pred.mean - ev.y_test))
            std, unit = _percent_of_truth(ev, pred.std), "% of true value"
        ax.plot(ev.distance, err, ".", ms=2, alpha=0.25, color="C0")
        x, (err_b, std_b) = _binned(ev.distance, err, std)
        ax.plot(x, [np.mean(b) for b in err_b], "C0-o", ms=3, label="|error|, bin mean")
        ax.plot(x, [np.mean(b) for b in std_b], "C3-s", ms=3, label="predicted std, bin mean")
        if not ev.target.is_classifier:
            ax.set_yscale("log")
        ax.set(xlabel="distance to nearest training point",
               ylabel=unit, title=ev.name)
        ax.legend(fontsize=7)
    return fig


# --------------------------------------------------------------------------- classifier


def _reliability_roc(evs: Sequence[Evaluation]) -> Figure:
    fig, (rel, roc) = _panels(2)
    for i, ev in enumerate(evs):
        p = ev.prediction.mean
        frac, mean_p = reliability_curve(ev.y_test, p, n_bins=_N_BINS, strategy="quantile")
        rel.plot(mean_p, frac, f"C{i}-o", ms=3, label=ev.name)
        fpr, tpr, _ = roc_curve(ev.y_test, p)
        auc = classification_metrics(ev.y_test, p)["roc_auc"]
        roc.plot(fpr, tpr, f"C{i}-", label=f"{ev.name} (AUC {auc:.4f})")
    rel.plot([0, 1], [0, 1], "k:", lw=0.8)
    rel.set(xlabel="mean predicted P(valid), per bin", ylabel="observed fraction valid",
            title="reliability (quantile bins)")
    roc.plot([0, 1], [0, 1], "k:", lw=0.8)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    rel.legend(fontsize=7)
    roc.legend(fontsize=7)
    return fig


_REGRESSION = (
    ("pred_vs_true", "Predicted vs true",
     "Predictive mean against the true value; error bars (+-1 predicted std) on a random "
     f"subset of {_N_ERRORBARS} test points.", _pred_vs_true),
    ("bias_rms", "Bias and RMS against the target value",
     "In quantile bins of the true value: mean relative error (bias), band of +-RMS of the "
     "true relative errors around it, and lines at +-RMS of the predicted relative std "
     "(arXiv:2007.04506, Figs. 2 and 4). Calibrated error bars put the lines on the band "
     "edges.", _bias_rms),
    ("pulls", "Pulls against N(0, 1)",
     "Histogram of (true - mean) / std on the test split (arXiv:1611.02704, Fig. 1); pulls "
     "beyond the range are drawn in the edge bins.", _pull_hists),
    ("calibration", "Calibration curves",
     "Observed fraction of test points inside the central Gaussian interval mean +- z std "
     "against its nominal level; below the diagonal = error bars too small.", _calibration),
    ("pit", "PIT histograms",
     "Phi((true - mean) / std): flat when calibrated, U-shaped when the error bars are too "
     "small, hump-shaped when too large.", _pit_hists),
    ("distance", "Error and predicted std against distance to the training data",
     "Absolute relative error and predicted relative std against the Euclidean distance to "
     "the nearest training point in standardised inputs; lines are means in quantile bins.",
     _distance),
)
_CLASSIFIER = (
    ("reliability_roc", "Reliability diagram and ROC",
     "Left: observed fraction of valid points against the mean predicted probability in "
     "quantile bins (on the diagonal when calibrated). Right: ROC of the mean probability.",
     _reliability_roc),
    ("distance", "Error and predicted std against distance to the training data",
     "|P(valid) - label| and the predicted std of P(valid) against the Euclidean distance to "
     "the nearest training point in standardised inputs; lines are means in quantile bins.",
     _distance),
)


def target_figures(evaluations: Sequence[Evaluation]) -> list[FigureImage]:
    """All figures of one target, models side by side, as PNG images.

    Parameters
    ----------
    evaluations : sequence of Evaluation
        One per model, all for the same target.

    Returns
    -------
    list of FigureImage
    """
    specs = _CLASSIFIER if evaluations[0].target.is_classifier else _REGRESSION
    return [FigureImage(key, title, caption, _png(draw(evaluations)))
            for key, title, caption, draw in specs]
