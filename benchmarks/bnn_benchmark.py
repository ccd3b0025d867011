"""Benchmark of the HMC BNN surrogate against Kronheim et al., arXiv:2007.04506 (not a test).

For each target: train on the training split, predict the test split, print accuracy and
coverage next to the paper's figures, the sampler diagnostics, the training wall time and the
prediction time per point of an ensemble of at least ``--predict-members`` networks.

Examples
--------
Small budget on the embedded data (2-core CPU)::

    python benchmarks/bnn_benchmark.py --budget small

Full budget on the whole reference data, on a GPU::

    python benchmarks/bnn_benchmark.py --budget full --device cuda \\
        --data full --predict-points 1000000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from surrogates.bnn import BNNEnsemble
from surrogates.data import features, labels, load_dataset, split_dataset
from surrogates.data.problems import problem_flags
from surrogates.metrics import (
    classification_metrics,
    mean_abs_percent_error,
    regression_metrics,
)

#: arXiv:2007.04506 Tables 2-3 (XSEC, OHIGGS: mean abs % error and 3-std coverage; VPAR: P/R/F1)
PAPER = {
    "xsec": {"mape_percent": 3.34, "coverage_3std": 0.99},
    "higgs_mass": {"mape_percent": "0.10-0.14", "coverage_3std": 0.87},
    "validity": {"precision": 0.953, "recall": 0.955, "f1": 0.954,
                 "precision_3std": 0.915, "recall_3std": 0.982, "f1_3std": 0.947},
}
NOMINAL = {"coverage_1std": 0.6827, "coverage_2std": 0.9545, "coverage_3std": 0.9973}


def _row(name: str, paper, ours, goal="") -> str:
    def fmt(v) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    return f"| {name:<22} | {fmt(paper):>10} | {fmt(ours):>10} | {goal:>8} |"


def _prediction_time(model: BNNEnsemble, X: np.ndarray, n_points: int, n_members: int) -> dict:
    """Seconds per point of ``predict`` with the members tiled to ``n_members`` networks."""
    members = model.members_
    reps = -(-n_members // members.shape[0])
    model._set_members(members.repeat(reps, 1)[: max(n_members, members.shape[0])])
    rng = np.random.default_rng(0)
    Xp = X[rng.integers(0, len(X), n_points)]
    model.predict(Xp[:1000])  # warm-up
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.predict(Xp)
    seconds = time.perf_counter() - start
    Xm = model._inputs(Xp)
    start = time.perf_counter()
    model._predict_chunked(Xm)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    net_seconds = time.perf_counter() - start
    n = model.members_.shape[0]
    model._set_members(members)
    return {"members": n, "points": n_points, "us_per_point": 1e6 * seconds / n_points,
            "us_per_point_networks_only": 1e6 * net_seconds / n_points}


def run_target(target: str, args: argparse.Namespace) -> dict:
    df = load_dataset(target, args.data)
    split = split_dataset(df, seed=args.seed)
    train = split.train.iloc[: args.max_train] if args.max_train else split.train
    config = {**BNNEnsemble.budget_config(args.budget, target), **json.loads(args.config)}
    model = BNNEnsemble(target, seed=args.seed, device=args.device, **config)
    start = time.perf_counter()
    model.fit(features(train), labels(train, target), X_val=features(split.val),
              y_val=labels(split.val, target), progress=args.progress,
              y_aux=problem_flags(train) if model.learns_auxiliary else None)
    train_seconds = time.perf_counter() - start
    X_test, y_test = features(split.test), labels(split.test, target)
    pred = model.predict(X_test)
    if target == "validity":
        metrics = classification_metrics(y_test, pred.mean, pred.std)
    else:
        metrics = regression_metrics(y_test, pred.mean, pred.std)
        metrics["mape_percent_member_median"] = mean_abs_percent_error(
            y_test, np.median(pred.samples, axis=0))
    timing = _prediction_time(model, X_test, args.predict_points, args.predict_members)
    out = {"target": target, "n_train": len(train), "n_test": len(split.test),
           "members": model.n_members, "train_seconds": train_seconds,
           "pretrain_seconds": model.fit_info_["pretrain_seconds"],
           "hmc_seconds": model.fit_info_["hmc_seconds"], "metrics": metrics,
           "sampler": model.fit_info_["sampler"], "convergence": model.fit_info_["convergence"],
           "prediction": timing, "device": str(model.device), "config": model.get_config()}
    _print(out)
    return out


def _print(r: dict) -> None:
    t, m = r["target"], r["metrics"]
    print(f"\n## {t}: {r['n_train']} train / {r['n_test']} test points, {r['members']} members, "
          f"{r['device']}")
    print(_row("metric", "paper", "this run", "goal"))
    print("|" + "-" * 24 + "|" + "-" * 12 + "|" + "-" * 12 + "|" + "-" * 10 + "|")
    paper = PAPER[t]
    if t == "validity":
        for k in ("precision", "recall", "f1", "precision_3std", "recall_3std", "f1_3std"):
            print(_row(k, paper[k], m[k], ">= paper"))
        print(_row("roc_auc", "-", m["roc_auc"]))
    else:
        print(_row("mean abs % error", paper["mape_percent"], m["mape_percent"], "< paper"))
        for k in ("coverage_1std", "coverage_2std", "coverage_3std"):
            print(_row(k, paper.get(k, "-"), m[k], f"{NOMINAL[k]:.4f}"))
        print(_row("  same, member median", "-", m["mape_percent_member_median"]))
        print(_row("median abs % error", "-", m["median_abs_percent_error"]))
        print(_row("chi2 / dof", "-", m["chi2_per_dof"], "1"))
    s, c, p = r["sampler"], r["convergence"], r["prediction"]
    print(_row("train wall time [s]", "2-5 days", r["train_seconds"], "< 900"))
    print(_row("  pre-training [s]", "-", r["pretrain_seconds"]))
    print(_row("  HMC [s]", "-", r["hmc_seconds"]))
    print(_row(f"predict us/pt ({p['members']} nets)", 12.7, p["us_per_point"], "< 0.1 GPU"))
    print(_row("  networks only us/pt", "-", p["us_per_point_networks_only"]))
    print(_row("accept rate", "-", s["accept_rate"], "~0.65"))
    print(_row("divergences (burn-in)", "-", f"{s['divergences']} ({s['divergences_burnin']})"))
    print(_row("R-hat median / max", "-", f"{c['rhat_median']:.3f} / {c['rhat_max']:.3f}"))
    print(_row("ESS bulk median / min", "-",
               f"{c['ess_bulk_median']:.0f} / {c['ess_bulk_min']:.0f}"))
    print(_row("ESS within chains", "-", f"{c['ess_within_median']:.0f}"))
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", nargs="+", default=["xsec", "higgs_mass", "validity"])
    parser.add_argument("--budget", default="small", choices=list(BNNEnsemble.budgets))
    parser.add_argument("--config", default="{}", help="JSON overriding the budget")
    parser.add_argument("--data", default=None, help="points table (default: embedded subset)")
    parser.add_argument("--max-train", type=int, default=None, help="cap on training points")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--predict-points", type=int, default=100_000)
    parser.add_argument("--predict-members", type=int, default=100)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; budget {args.budget}, "
          f"config {args.config}, data {args.data or 'embedded'}")
    results = [run_target(t, args) for t in args.targets]
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1, default=float)


if __name__ == "__main__":
    main()
