"""Active-learning scans against uniform sampling, emcee and UltraNest at equal simulator calls.

Benchmarks (the Machine Learning Scan paper, Ren, Wu, Yang and Zhao, arXiv:1708.06615):

- ``eggbox``: O = (2 + cos(x1/2) cos(x2/2))^5 on [0, 10 pi]^2, O* = 100 +- 10;
- ``sphere2``, ``sphere7``: O = x.x on [-3, 3]^d, O* = 2 +- 0.1 (the paper's box is not
  restated; see :func:`fits.scan.hypersphere`);
- ``pmssm``: m_h on the (tan beta, A_t, m_Q3, m_tR) sub-space, the other 15 parameters fixed
  at the SOFTSUSY point ``s2-135258`` of the embedded data; the "simulator" is a pair of MLP
  ensembles trained on the embedded SOFTSUSY data (m_h and validity; NaN where the validity
  classifier says no spectrum), standing in for SOFTSUSY; m_h* = 125.09 +- hypot(0.24, 2.0)
  GeV (ATLAS+CMS arXiv:1503.07589 and the theory error of arXiv:1611.02704).

The target region is every point within 2 sigma of O*. Methods:

- ``uniform``, ``emcee`` (32 walkers), ``ultranest`` (100 live points): the first ``budget``
  simulator calls;
- ``mls``: the Machine Learning Scan, acquisition = surrogate likelihood, 10 % random points;
- ``mls_r0``: the same without random points;
- ``ucb``: upper confidence bound on the likelihood (kappa = 2), 10 % random points;
- ``target_probability``: probability of the target region, 10 % random points;
- ``target_probability_r0``: the same without random points (exploration comes from the
  surrogate's uncertainty alone).

All scans: an exact GP surrogate (rBCM with one expert; for the eggbox it learns ln O),
100 initial points, batches of 100, rejection-sampled proposals (``--proposal importance``
for the faster sampling-importance-resampling).
Efficiency = fraction of the tested points in the target region.
Coverage: eggbox rings found (of 18); hypersphere: orthants holding a target point (and the
number expected for as many uniform points on the shell), Rayleigh p-value of uniform
directions.

Usage::

    python benchmarks/scan_benchmark.py --output runs/scan_benchmark --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fits.scan import ActiveScan, PMSSMSurrogateSimulator, Simulator, eggbox, hypersphere
from fits.scan.baselines import BASELINES, run_baseline
from fits.scan.figures import plot_tested_points
from fits.scan.metrics import eggbox_rings_found, shell_uniformity
from likelihoods import GaussianMeasurement
from surrogates.base import Surrogate
from surrogates.data.loaders import features, labels, load_dataset, load_points
from surrogates.mlp import MLPEnsemble
from surrogates.space import PARAMETER_NAMES

SCANS = {
    "mls": {"acquisition": "likelihood", "random_fraction": 0.1},
    "mls_r0": {"acquisition": "likelihood", "random_fraction": 0.0},
    "ucb": {"acquisition": "ucb", "random_fraction": 0.1},
    "target_probability": {"acquisition": "target_probability", "random_fraction": 0.1},
    "target_probability_r0": {"acquisition": "target_probability", "random_fraction": 0.0},
}
PMSSM_FREE = ["tanb", "At", "mqL3", "mtR3"]
#: The eggbox spans 1 to 243: its surrogate learns ln O, which is smooth
LOG = {"eggbox": ("O",)}
BENCHMARK_ID = "s2-135258"


def _gaussian(sim: Simulator, observable: str, value: float, sigma: float) -> list:
    """The Machine Learning Scan's measured constraint as a likelihood term on ``sim``."""
    return [GaussianMeasurement(observable, sim.observable(observable), value, sigma)]


def _pmssm(models_dir: Path) -> tuple[PMSSMSurrogateSimulator, list]:
    models = {}
    for target in ("higgs_mass", "validity"):
        folder = models_dir / target
        if (folder / "metadata.json").is_file():
            models[target] = Surrogate.load(folder)
            continue
        data = load_dataset(target)
        model = MLPEnsemble(target, seed=0, **MLPEnsemble.budgets["small"])
        model.fit(features(data), labels(data, target), progress=False)
        model.save(folder)
        models[target] = model
    points = load_points()
    bench = points.loc[points["id"] == BENCHMARK_ID].iloc[0]
    fixed = {p: float(bench[p]) for p in PARAMETER_NAMES}
    sim = PMSSMSurrogateSimulator({"h0": models["higgs_mass"]}, PMSSM_FREE, fixed,
                                  validity=models["validity"])
    return sim, _gaussian(sim, "h0", 125.09, float(np.hypot(0.24, 2.0)))


def _problem(name: str, output: Path):
    if name == "eggbox":
        sim = eggbox()
        return sim, _gaussian(sim, "O", 100.0, 10.0)
    if name.startswith("sphere"):
        sim = hypersphere(int(name[len("sphere"):]))
        return sim, _gaussian(sim, "O", 2.0, 0.1)
    if name == "pmssm":
        return _pmssm(output / "models")
    raise ValueError(f"unknown benchmark {name!r}")


def _coverage(name: str, tested: pd.DataFrame, space) -> dict[str, float]:
    inside = tested.loc[tested["in_target"].astype(bool), list(space.names)].to_numpy()
    if name == "eggbox":
        return {"rings_found": eggbox_rings_found(inside)}
    if name.startswith("sphere"):
        u = shell_uniformity(inside) if len(inside) else {"orthants": 0.0}
        return {k: u.get(k, np.nan) for k in ("orthants", "orthants_expected", "rayleigh_p")}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmarks", nargs="+", default=["eggbox", "sphere2", "sphere7"])
    parser.add_argument("--methods", nargs="+", default=[*BASELINES, *SCANS])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--n-initial", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--proposal", default="rejection",
                        help="proposal of every scan: rejection (exact) or importance")
    parser.add_argument("--output", type=Path, default=Path("runs/scan_benchmark"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.output.mkdir(parents=True, exist_ok=True)
    rows = []
    for bench in args.benchmarks:
        sim, terms = _problem(bench, args.output)
        figure_runs = {}
        for method in args.methods:
            for seed in args.seeds:
                start = time.perf_counter()
                if method in BASELINES:
                    tested = run_baseline(method, sim, terms, args.budget, seed=seed)
                else:
                    scan = ActiveScan(sim, terms, n_initial=args.n_initial,
                                      batch_size=args.batch_size, seed=seed, progress=False,
                                      proposal=args.proposal, log_observables=LOG.get(bench, ()),
                                      **SCANS[method])
                    tested = scan.run(args.budget).tested
                seconds = time.perf_counter() - start
                row = {"benchmark": bench, "method": method, "seed": seed,
                       "n_tested": len(tested), "efficiency": tested["in_target"].mean(),
                       "seconds": seconds, **_coverage(bench, tested, sim.space)}
                rows.append(row)
                print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                                  for k, v in row.items()}), flush=True)
                tested.to_csv(args.output / f"{bench}_{method}_seed{seed}.csv", index=False)
                if seed == args.seeds[0]:
                    figure_runs[method] = tested
        observable = terms[0].predictor.column if sim.space.n_dim > 2 else None
        fig = plot_tested_points(figure_runs, sim.space, observable=observable)
        fig.savefig(args.output / f"{bench}_tested_points.png", dpi=110)
    table = pd.DataFrame(rows)
    table.to_csv(args.output / "results.csv", index=False)
    summary = table.groupby(["benchmark", "method"], sort=False).agg(
        {c: ["mean", "std"] if c == "efficiency" else "mean"
         for c in table.columns if c not in ("benchmark", "method", "seed")}
    )
    summary.columns = [" ".join(c).replace(" mean", "") for c in summary.columns]
    print(f"\n{len(args.seeds)} seed(s), budget {args.budget} simulator calls")
    print(summary.to_markdown(floatfmt=".3f"))
    (args.output / "summary.md").write_text(summary.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
