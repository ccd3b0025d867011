"""Accuracy, calibration and speed of the surrogates, family x target (a benchmark, not a test).

Scores the shipped surrogates (``Surrogate.pretrained``; or the models of ``--models``, folders
``<target>_<family>``) on the test split of the full reference data (seed 0, the split they were
trained with), and prints one markdown table per kind of figure:

- regression: mean / median absolute % error, fraction of points off by more than 10 % (sigma)
  or 2 % (m_h); the coverage of the central 68.3 / 95.4 / 99.7 % intervals of the members
  (:func:`~surrogates.metrics.interval_coverage`: the same in fb and in ln sigma), its largest
  deviation over the deciles of the predicted relative std and the KS distance of the members'
  PIT from uniform; and the Gaussian reading, mean +- k std in target units (and, for sigma,
  in ln sigma), with its worst decile and the PIT of a Gaussian;
- validity: precision / recall / F1 at the mean and at mean + 3 std, ROC AUC, Brier score, ECE;
- speed: training time (from the model's metadata), prediction us/point at batch
  ``--predict-points`` with the model's networks, its arithmetic limit (FLOPs per point over
  the float32 matmul rate measured here), of the networks alone and of all that ``predict``
  computes (the networks, the support model and the distance flag; printed as "limit / all")
  and the speed-up over SOFTSUSY itself (``../shared/tools/softsusy/softpoint.x`` run serially
  on ``--softsusy-points`` test points, process start included, measured in the same run).

Example::

    python benchmarks/accuracy.py                      # shipped BNNs, SOFTSUSY on 200 points
    python benchmarks/accuracy.py --models runs/rbcm_paper --families rbcm
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from surrogates import Surrogate
from surrogates.data import features, labels, load_dataset
from surrogates.data.slha import slha_input
from surrogates.metrics import (
    classification_metrics,
    coverage,
    interval_coverage,
    pit,
    pit_from_samples,
)
from surrogates.space import PARAMETER_NAMES

ROOT = Path(__file__).resolve().parents[1]
SOFTPOINT = ROOT / ".." / "shared" / "tools" / "softsusy" / "softpoint.x"
#: arXiv:2007.04506 Tables 2-3 (their SOFTSUSY version, 14 TeV Prospino sigma).
PAPER = {
    "xsec": "MAPE 3.34 %, 3-std coverage 99 %",
    "higgs_mass": "MAPE 0.10-0.14 %, 3-std coverage 87 %",
    "validity": "P/R/F1 0.953/0.955/0.954; at mean+3std R 0.982 (0.987 in the issue), F1 0.947",
}
K = (1.0, 2.0, 3.0)


def _cov(y, mean, std) -> list[float]:
    return [round(float(v), 4) for v in coverage(y, mean, std, K).values()]


def _decile_deviation(y, pred, intervals: bool = False) -> float:
    """Largest |coverage - nominal| over the deciles of the relative std, at 1/2/3 std
    (``intervals``: of the members' central intervals instead of mean +- k std)."""
    rel = pred.std / np.abs(pred.mean)
    edges = np.quantile(rel, np.linspace(0, 1, 11))
    idx = np.clip(np.searchsorted(edges, rel, side="right") - 1, 0, 9)
    nominal = np.array([0.682689, 0.954500, 0.997300])
    worst = 0.0
    for d in range(10):
        sel = idx == d
        got = (interval_coverage(y[sel], pred.samples[:, sel], K) if intervals
               else coverage(y[sel], pred.mean[sel], pred.std[sel], K))
        worst = max(worst, float(np.abs(np.array(list(got.values())) - nominal).max()))
    return worst


def regression_row(model: Surrogate, X: np.ndarray, y: np.ndarray) -> dict:
    pred = model.predict(X)
    ape = 100 * np.abs(pred.mean - y) / np.abs(y)
    row = {
        "mape_percent": float(ape.mean()), "median_ape_percent": float(np.median(ape)),
        "off_10_percent": float((ape > 10).mean()), "off_2_percent": float((ape > 2).mean()),
        "coverage": _cov(y, pred.mean, pred.std),
        "pit_ks": float(stats.kstest(pit(y, pred.mean, pred.std), "uniform").statistic),
        "decile_max_deviation": _decile_deviation(y, pred),
    }
    if pred.samples is not None:
        row["interval_coverage"] = [round(v, 4) for v in
                                    interval_coverage(y, pred.samples, K).values()]
        row["interval_decile_max_deviation"] = _decile_deviation(y, pred, intervals=True)
        row["pit_ks_members"] = float(
            stats.kstest(pit_from_samples(y, pred.samples), "uniform").statistic)
    if model.target_transform_.is_log and pred.samples is not None:
        ln = np.log(pred.samples)
        w = np.full(ln.shape[0], 1 / ln.shape[0]) if pred.weights is None else pred.weights
        m = w @ ln
        s = np.sqrt(w @ (ln - m) ** 2)
        row["coverage_ln"] = _cov(np.log(y), m, s)
        row["pit_ks_ln"] = float(stats.kstest(pit(np.log(y), m, s), "uniform").statistic)
    return row


def classifier_row(model: Surrogate, X: np.ndarray, y: np.ndarray) -> dict:
    pred = model.predict(X)
    return {k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in classification_metrics(y, pred.mean, pred.std).items()}


def matmul_gflops(seconds: float = 1.0) -> float:
    """float32 matmul rate of this machine (GFLOP/s) at the shapes of a 256-wide layer."""
    a, b = torch.randn(8192, 256), torch.randn(256, 256)
    a @ b
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    return 2 * 8192 * 256 * 256 * n / (time.perf_counter() - start) / 1e9


def flops_per_point(model: Surrogate) -> float:
    """Multiply-adds x 2 of the model's networks for one point (not the input features)."""
    n_in = model.n_inputs
    if getattr(model, "trunk_", None) is not None:
        trunk = sum(w.shape[1] * w.shape[2] for w in model.trunk_.weights) * model.n_chains
        head = model.members_.shape[0] * model.layout.sizes[0][0]
        return 2.0 * (trunk + head)
    if hasattr(model, "members_"):
        sizes = model.layout.sizes
        return 2.0 * model.members_.shape[0] * sum(i * o for i, o in sizes)
    if hasattr(model, "net_"):
        return 2.0 * sum(w.numel() for w in model.net_.weights)
    if getattr(model, "experts_", None) is not None:
        # per expert: kernel row (n_k x d), mean (n_k), variance (triangular solve, n_k^2);
        # with n_nearest, that many experts of the mean size, plus the centroid distances
        mask = model.experts_.mask
        n_k = mask.sum(dim=1).double()
        per_expert = 2.0 * (n_k * (n_in + 1) + n_k**2)
        if getattr(model, "n_nearest", None) is None:
            return float(per_expert.sum())
        n_near = min(model.n_nearest, len(n_k))
        return float(n_near * per_expert.mean() + 2.0 * len(n_k) * n_in)
    return float("nan")


def predict_flops_per_point(model: Surrogate) -> float:
    """FLOPs of everything ``predict`` computes for one point: the networks, the support
    model's networks and the distance flag (squared distances to each reference input)."""
    flops = flops_per_point(model)
    if model.support_ is not None:
        flops += flops_per_point(model.support_)
    if model.distance_ is not None:
        flops += 2.0 * model.distance_.reference.numel()
    return flops


def prediction_speed(model: Surrogate, X: np.ndarray, n_points: int) -> float:
    """Seconds per point of ``predict`` at batch ``n_points`` (test points resampled)."""
    Xp = X[np.random.default_rng(0).integers(0, len(X), n_points)]
    model.predict(Xp[:1000])
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        model.predict(Xp)
        best = min(best, time.perf_counter() - start)
    return best / n_points


def softsusy_seconds(X: np.ndarray, n: int, timeout: float = 60.0) -> list[float] | None:
    """Wall seconds per SOFTSUSY call on the first ``n`` points (serial), or None if absent."""
    if not SOFTPOINT.is_file():
        return None
    times = []
    for row in X[:n]:
        text = slha_input(dict(zip(PARAMETER_NAMES, row, strict=True)))
        start = time.perf_counter()
        subprocess.run([str(SOFTPOINT), "leshouches"], input=text, capture_output=True,
                       text=True, timeout=timeout, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="bnn")
    ap.add_argument("--targets", default="validity,higgs_mass,xsec")
    ap.add_argument("--models", help="folder of <target>_<family> models (default: shipped)")
    ap.add_argument("--predict-points", type=int, default=100_000)
    ap.add_argument("--softsusy-points", type=int, default=200)
    ap.add_argument("--out", default="runs/accuracy")
    args = ap.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    rate = matmul_gflops()
    results = {"matmul_gflops": rate}
    X_soft = None
    for target in args.targets.split(","):
        table = load_dataset(target, "full")
        for family in args.families.split(","):
            if args.models:
                model = Surrogate.load(Path(args.models) / f"{target}_{family}")
            else:
                model = Surrogate.pretrained(target, family)
            test = model.recorded_split(table).test  # never a point it trained on
            X, y = features(test), labels(test, target)
            X_soft = X if X_soft is None else X_soft
            row = (classifier_row if model.target.is_classifier else regression_row)(model, X, y)
            row["train_minutes"] = model.fit_info_.get("train_seconds", float("nan")) / 60
            n_members = getattr(model, "n_members", None)
            row["networks"] = n_members
            sec = prediction_speed(model, X, args.predict_points)
            row["us_per_point"] = sec * 1e6
            flops = flops_per_point(model)
            row["flops_per_point"] = flops
            row["arithmetic_limit_us"] = flops / (rate * 1e9) * 1e6
            row["predict_flops_per_point"] = predict_flops_per_point(model)
            row["predict_limit_us"] = row["predict_flops_per_point"] / (rate * 1e9) * 1e6
            results[f"{target}/{family}"] = row
            print(f"{target}/{family}: {json.dumps(row)}", flush=True)
    soft = softsusy_seconds(X_soft, args.softsusy_points) if args.softsusy_points > 0 else None
    if soft is not None:
        results["softsusy_seconds"] = {"mean": float(np.mean(soft)),
                                       "median": float(np.median(soft)), "n": len(soft)}
    _print_tables(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "accuracy.json.tmp"
    tmp.write_text(json.dumps(results, indent=1))
    tmp.replace(out / "accuracy.json")


def _print_tables(results: dict) -> None:
    soft = results.get("softsusy_seconds")
    print(f"\nfloat32 matmul rate here: {results['matmul_gflops']:.1f} GFLOP/s")
    if soft:
        print(f"SOFTSUSY: mean {1e3 * soft['mean']:.1f} ms/point, median "
              f"{1e3 * soft['median']:.1f} ms/point over {soft['n']} test points (serial)")
    print("\n| model | MAPE % (median) | off >10% / >2% | intervals 68/95/99.7 % | worst decile "
          "| PIT KS | mean +- 1/2/3 std | ln | worst decile | PIT KS | train min "
          "| us/point (limit / all) | x SOFTSUSY | paper |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key, row in results.items():
        if "/" not in key or "mape_percent" not in row:
            continue
        speed = (f"{row['us_per_point']:.1f} ({row['arithmetic_limit_us']:.1f} / "
                 f"{row['predict_limit_us']:.1f})")
        ratio = f"{soft['mean'] / (row['us_per_point'] * 1e-6):.0f}" if soft else "n/a"
        print(f"| {key} | {row['mape_percent']:.3f} ({row['median_ape_percent']:.3f}) | "
              f"{100 * row['off_10_percent']:.2f} / {100 * row['off_2_percent']:.2f} | "
              f"{row.get('interval_coverage', '')} | "
              f"{row.get('interval_decile_max_deviation', float('nan')):.3f} | "
              f"{row.get('pit_ks_members', float('nan')):.3f} | "
              f"{row['coverage']} | {row.get('coverage_ln', '')} | "
              f"{row['decile_max_deviation']:.3f} | {row['pit_ks']:.3f} | "
              f"{row['train_minutes']:.1f} | {speed} | "
              f"{ratio} | {PAPER[key.split('/')[0]]} |")
    print("\n| model | P / R / F1 | at mean+3std P / R / F1 | AUC | Brier | ECE | train min "
          "| us/point (limit / all) | x SOFTSUSY | paper |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key, row in results.items():
        if "/" not in key or "f1" not in row:
            continue
        speed = (f"{row['us_per_point']:.1f} ({row['arithmetic_limit_us']:.1f} / "
                 f"{row['predict_limit_us']:.1f})")
        ratio = f"{soft['mean'] / (row['us_per_point'] * 1e-6):.0f}" if soft else "n/a"
        print(f"| {key} | {row['precision']} / {row['recall']} / {row['f1']} | "
              f"{row['precision_3std']} / {row['recall_3std']} / {row['f1_3std']} | "
              f"{row['roc_auc']} | {row['brier']} | {row['ece']} | {row['train_minutes']:.1f} | "
              f"{speed} | {ratio} | {PAPER['validity']} |")


if __name__ == "__main__":
    main()
