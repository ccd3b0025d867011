"""Benchmark of the rBCM surrogate on the SOFTSUSY data, with exact-GP and SVGP baselines.

For each target: train the :class:`~surrogates.gp.RBCM` on the training split (80 % of the
target's data set, ``split_dataset(seed=0)``), predict the test split, and report the mean
absolute percent error, coverage at 1/2/3 std, chi^2/dof of the pulls (target units; for the
cross section also of the log-space pulls), training time and prediction time per point. For
the regression targets two baselines run on the same split: gpytorch's exact GP on a random
subset (``--exact-n`` points) and a sparse variational GP (SVGP, Hensman et al. 2015,
arXiv:1411.2005) trained for the rBCM's training time. The validity classifier reports
precision/recall/F1/AUC, the Brier score and the expected calibration error (10 bins).

Reference figures (Bertone et al., arXiv:1611.02704): 256 experts, 16,647 training points,
15 min of training on a 4 GHz desktop CPU, 0.06 s per evaluation, chi^2 ~ 1300 for 2000 test
points.

Examples
--------
The embedded data, the ``small`` budget, 2-core CPU::

    python benchmarks/rbcm_benchmark.py --device cpu --budget small --threads 1

The full SOFTSUSY set on a GPU::

    python benchmarks/rbcm_benchmark.py --device cuda --budget full \\
        --source full --exact-n 20000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gpytorch
import numpy as np
import torch

from surrogates.data import features, labels, load_dataset, load_points, split_dataset
from surrogates.device import resolve_device
from surrogates.gp import RBCM
from surrogates.metrics import classification_metrics, pull_chi2, regression_metrics
from surrogates.targets import get_target
from surrogates.transforms import InputScaler, TargetTransform

TARGETS = ("higgs_mass", "xsec", "validity")


def _log_space_chi2(y, mean, std):
    """chi^2/dof of ln(y) against the log-normal with the given moments (exact inversion)."""
    s2 = np.log1p((std / mean) ** 2)
    return pull_chi2(np.log(y), np.log(mean) - s2 / 2, np.sqrt(s2))["chi2_per_dof"]


def _regression_report(target, y, mean, std):
    out = regression_metrics(y, mean, std)
    if target == "xsec":
        out["chi2_per_dof_log"] = _log_space_chi2(y, mean, std)
    return out


def _classification_report(t, p, p_std):
    out = classification_metrics(t, p, p_std)
    out["brier"] = float(np.mean((p - t) ** 2))
    bins = np.minimum((p * 10).astype(int), 9)
    out["ece"] = float(sum(abs(t[bins == b].mean() - p[bins == b].mean()) * (bins == b).mean()
                           for b in range(10) if (bins == b).any()))
    return out


def _timed_predict(model, X):
    model.predict(X[: min(len(X), 256)])  # warm-up (CUDA kernels, caches)
    start = time.perf_counter()
    pred = model.predict(X)
    return pred, (time.perf_counter() - start) / len(X)


class _ExactGP(gpytorch.models.ExactGP):
    def __init__(self, X, y, likelihood):
        super().__init__(X, y, likelihood)
        self.mean_module = gpytorch.means.ZeroMean()
        self.covar_module = gpytorch.kernels.ScaleKernel(
            gpytorch.kernels.RBFKernel(ard_num_dims=X.shape[-1])
        )

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


class _SVGP(gpytorch.models.ApproximateGP):
    def __init__(self, inducing):
        dist = gpytorch.variational.CholeskyVariationalDistribution(inducing.shape[0])
        strategy = gpytorch.variational.VariationalStrategy(
            self, inducing, dist, learn_inducing_locations=True
        )
        super().__init__(strategy)
        self.mean_module = gpytorch.means.ZeroMean()
        self.covar_module = gpytorch.kernels.ScaleKernel(
            gpytorch.kernels.RBFKernel(ard_num_dims=inducing.shape[-1])
        )

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


def _baseline(kind, target, X, y, Xt, device, n_sub, seconds, seed):
    """Exact GP on a subset (100 Adam steps) or SVGP for ``seconds``; target-unit moments."""
    torch.manual_seed(seed)
    scaler = InputScaler.fit(X)
    tt = TargetTransform(get_target(target).transform).fit(y)

    def tensor(a):
        return torch.as_tensor(a, dtype=torch.float32, device=device)

    Z, z, Zt = tensor(scaler.transform(X)), tensor(tt.forward(y)), tensor(scaler.transform(Xt))
    likelihood = gpytorch.likelihoods.GaussianLikelihood().to(device)
    start = time.perf_counter()
    if kind == "exact":
        idx = torch.randperm(len(z))[:n_sub]
        model = _ExactGP(Z[idx], z[idx], likelihood).to(device)
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
        params = model.parameters()
        n_steps = 100
    else:
        model = _SVGP(Z[torch.randperm(len(z))[:n_sub]].clone()).to(device)
        mll = gpytorch.mlls.VariationalELBO(likelihood, model, num_data=len(z))
        params = [*model.parameters(), *likelihood.parameters()]
        n_steps = None
    opt = torch.optim.Adam(params, lr=0.1 if kind == "exact" else 0.01)
    model.train(), likelihood.train()
    step = 0
    with gpytorch.settings.max_cholesky_size(100_000):
        while (step < n_steps) if n_steps else (time.perf_counter() - start < seconds):
            if kind == "exact":
                out, target_z = model(*model.train_inputs), model.train_targets
            else:
                batch = torch.randint(len(z), (1024,), device=device)
                out, target_z = model(Z[batch]), z[batch]
            loss = -mll(out, target_z)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        train_s = time.perf_counter() - start
        model.eval(), likelihood.eval()
        start = time.perf_counter()
        means, stds = [], []
        with torch.no_grad():
            for i in range(0, len(Zt), 4096):
                pred = likelihood(model(Zt[i : i + 4096]))
                means.append(pred.mean.cpu()), stds.append(pred.stddev.cpu())
        pred_s = (time.perf_counter() - start) / len(Zt)
    mean, std = tt.inverse_gaussian(torch.cat(means).double().numpy(),
                                    torch.cat(stds).double().numpy())
    return mean, std, train_s, pred_s, step


def run(args):
    device = resolve_device(args.device)
    points = load_points(args.source)
    budget = dict(RBCM.budgets[args.budget])
    if args.experts:
        budget["n_experts"] = args.experts
    results = []
    for target in args.targets:
        split = split_dataset(load_dataset(target, points), seed=0)
        train = split.train if args.n_train is None else split.train.iloc[: args.n_train]
        val, test = split.val.iloc[: args.n_eval], split.test.iloc[: args.n_eval]
        X, y = features(train), labels(train, target)
        Xt, yt = features(test), labels(test, target)
        model = RBCM(target, device=str(device), precision=args.precision, seed=args.seed,
                     **budget)
        model.fit(X, y, X_val=features(val), y_val=labels(val, target), progress=False)
        pred, per_point = _timed_predict(model, Xt)
        row = {
            "target": target, "model": "rbcm", "device": str(device), "budget": args.budget,
            "n_train": len(y), "n_test": len(yt), "n_experts": model.fit_info_["n_experts"],
            "train_seconds": model.fit_info_["train_seconds"], "predict_us_per_point":
            1e6 * per_point,
            "variance_scale": None if model.recalibration_ is None else model.recalibration_.s2,
        }
        if model.target.is_classifier:
            row.update(_classification_report(yt, pred.mean, pred.std))
        else:
            row.update(_regression_report(target, yt, pred.mean, pred.std))
            model.recalibration_ = None  # the same model without the validation sigma scaling
            raw = model.predict(Xt)
            raw = _regression_report(target, yt, raw.mean, raw.std)
            keep = ("coverage_1std", "coverage_2std", "coverage_3std", "chi2_per_dof",
                    "chi2_per_dof_log")
            row.update({f"uncalibrated_{k}": raw[k] for k in keep if k in raw})
        results.append(row)
        print(json.dumps(row), flush=True)
        if model.target.is_classifier or args.no_baselines:
            continue
        for kind, n_sub in (("exact", args.exact_n), ("svgp", args.inducing)):
            mean, std, train_s, pred_s, steps = _baseline(
                kind, target, X, y, Xt, device, min(n_sub, len(y)), row["train_seconds"],
                args.seed,
            )
            base = {"target": target, "model": f"{kind}_gp", "device": str(device),
                    "n_train": min(n_sub, len(y)) if kind == "exact" else len(y),
                    "n_inducing": n_sub if kind == "svgp" else None, "steps": steps,
                    "n_test": len(yt), "train_seconds": train_s,
                    "predict_us_per_point": 1e6 * pred_s}
            base.update(_regression_report(target, yt, mean, std))
            results.append(base)
            print(json.dumps(base), flush=True)
    return results


def _table(results):
    cols = ("target", "model", "device", "n_train", "train_seconds", "predict_us_per_point",
            "mape_percent", "coverage_1std", "coverage_2std", "coverage_3std", "chi2_per_dof",
            "chi2_per_dof_log", "uncalibrated_coverage_1std", "uncalibrated_chi2_per_dof",
            "uncalibrated_chi2_per_dof_log", "accuracy", "roc_auc", "brier", "ece")
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append("" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if any)")
    parser.add_argument("--budget", default="small", choices=tuple(RBCM.budgets))
    parser.add_argument("--n-train", type=int, default=None, help="first N training points")
    parser.add_argument("--n-eval", type=int, default=None,
                        help="first N points of the validation and test splits")
    parser.add_argument("--experts", type=int, default=None, help="number of experts")
    parser.add_argument("--precision", default="float32", choices=("float32", "float64"))
    parser.add_argument("--source", default=None, help="points table (default: embedded)")
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    parser.add_argument("--exact-n", type=int, default=1500, help="exact-GP subset size")
    parser.add_argument("--inducing", type=int, default=512, help="SVGP inducing points")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write results as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = run(args)
    print(_table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
