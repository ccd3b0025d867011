"""A real scan: SOFTSUSY in the loop, against uniform sampling and emcee at equal SOFTSUSY calls.

The problem is ``examples/scan_softsusy_higgs.yaml``: m_h on the (tan beta, A_t, m_Q3, m_tR)
sub-space of the pMSSM-19, the other 15 parameters fixed at the reference point
``s2-135258``, every point run through ``softpoint.x`` (SOFTSUSY 4.1.22, through
:class:`fits.scan.SoftsusySimulator`); target region m_h = 125.09 +- 2 x 2.0144 GeV.

Measured:

- SOFTSUSY calls per second on ``--n-throughput`` uniform points, serial and with
  ``--n-workers`` workers;
- efficiency (fraction of the SOFTSUSY calls in the target region) at each of ``--calls``
  calls, for the active scan (the configuration, run by :func:`fits.scan.config.run_scan_config`
  as ``bsm-surrogates scan`` runs it), uniform sampling and emcee (32 walkers;
  :mod:`fits.scan.baselines`). The numbers of calls are stages: every method runs to the
  first, then on to the next (the scan resumes from its folder; the baselines, deterministic
  for their seed, replay their earlier calls from a cache), so each stage's points are those
  of a run with that budget;
- accuracy in the target region of the scan's own surrogate (the model and options of the
  configuration) trained on the valid points among the N calls of the scan, and of the same
  model trained on the N uniform calls: error of m_h on an independent uniform sample
  (``--n-test`` calls, another seed) restricted to the target region.

Usage (the figures of the methods page: about 45 minutes on two cores shared with other
jobs, load average 10-13; the issue's 5,000-call stage is ``--calls 1000 5000``)::

    nice -n 10 python benchmarks/softsusy_scan.py --calls 1000 2000 --n-throughput 100 \
        --n-test 600 --output runs/softsusy_scan
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fits.scan import SoftsusySimulator
from fits.scan.baselines import run_baseline
from fits.scan.config import load_scan_config, run_scan_config
from fits.scan.loop import ActiveScan, observable_target
from fits.scan.simulators import Simulator
from fits.scan.steering import evaluate
from surrogates.registry import get_model_class

CONFIG = Path(__file__).resolve().parents[1] / "examples" / "scan_softsusy_higgs.yaml"


def _throughput(sim: SoftsusySimulator, n_points: int, n_workers: int, seed: int) -> dict:
    """Calls per second (wall) and CPU seconds per call of SOFTSUSY, serial and parallel."""
    X = sim.space.sample_uniform(n_points, np.random.default_rng(seed))
    rows = {"load_average_1min": os.getloadavg()[0]}
    for workers in (1, n_workers):
        sim.n_workers = workers
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        sim(X)
        wall = time.perf_counter() - start
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (used.ru_utime - cpu.ru_utime) + (used.ru_stime - cpu.ru_stime)
        rows[f"calls_per_s_{workers}_workers"] = n_points / wall
        rows[f"cpu_s_per_call_{workers}_workers"] = cpu_s / n_points
    return rows


class _Cached(Simulator):
    """The simulator with its results kept by point: a rerun of a deterministic baseline to
    more calls replays its first calls instead of running SOFTSUSY again."""

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(simulator.space, simulator.observables)
        self.info_columns = simulator.info_columns
        self.simulator, self.name = simulator, simulator.name
        self.results: dict[bytes, dict] = {}

    def _evaluate(self, X: np.ndarray) -> pd.DataFrame:
        keys = [x.tobytes() for x in X]
        new = list({k: i for i, k in enumerate(keys) if k not in self.results}.values())
        if new:
            out = self.simulator(X[new])
            self.results.update(zip([keys[i] for i in new], out.to_dict("records"), strict=True))
        return pd.DataFrame([self.results[k] for k in keys])


def _accuracy(tested: pd.DataFrame, test: pd.DataFrame, scan: ActiveScan) -> dict:
    """The scan's surrogate trained on the valid points of ``tested``, scored on ``test``."""
    space = scan.simulator.space
    train = tested[np.isfinite(tested["h0"])]
    model = get_model_class(scan.model)(observable_target("h0"), space=space, seed=scan.seed,
                                        **{**scan.model_options, "warm_start": False})
    model.fit(train[list(space.names)].to_numpy(), train["h0"].to_numpy(), progress=False)
    pred = model.predict(test[list(space.names)].to_numpy())
    err = pred.mean - test["h0"].to_numpy()
    return {"n_train": len(train), "rmse_GeV": float(np.sqrt(np.mean(err**2))),
            "median_abs_GeV": float(np.median(np.abs(err))),
            "max_abs_GeV": float(np.max(np.abs(err))),
            "coverage_1sigma": float(np.mean(np.abs(err) <= pred.std))}


def _report(args, speed: dict, table: pd.DataFrame, accuracy: pd.DataFrame, n_test: int) -> None:
    speed_table = pd.DataFrame([speed])
    report = "\n\n".join([
        f"SOFTSUSY calls per second ({args.n_throughput} uniform points):\n"
        + speed_table.to_markdown(index=False, floatfmt=".2f"),
        "Efficiency (fraction of SOFTSUSY calls in the target region):\n"
        + table.to_markdown(index=False, floatfmt=".3f"),
        f"m_h surrogate error on {n_test} independent uniform points in the target region:\n"
        + accuracy.to_markdown(index=False, floatfmt=".3f"),
    ])
    print("\n" + report)
    (args.output / "summary.md").write_text(report + "\n")
    table.to_csv(args.output / "efficiency.csv", index=False)
    accuracy.to_csv(args.output / "accuracy.csv", index=False)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--calls", nargs="+", type=int, default=[1000, 5000])
    parser.add_argument("--methods", nargs="+", default=["scan", "uniform", "emcee"])
    parser.add_argument("--batch-size", type=int, default=None,
                        help="points per scan iteration (default: the configuration's)")
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--n-throughput", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=Path("runs/softsusy_scan"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="emcee")  # -inf log p
    args.output.mkdir(parents=True, exist_ok=True)
    # absolute: a relative output is otherwise read relative to the configuration file
    config = load_scan_config(args.config, output=(args.output / "scan").resolve())
    config.scan.seed = args.seed
    if args.batch_size is not None:
        config.scan.batch_size = args.batch_size
    sim, terms = config.scan.simulator, config.scan.terms
    speed = _throughput(sim, args.n_throughput, args.n_workers, args.seed + 2000)
    print(json.dumps(speed), flush=True)

    start = time.perf_counter()
    X_test = sim.space.sample_uniform(args.n_test, np.random.default_rng(args.seed + 1000))
    test_all = evaluate(sim, config.scan.steering, X_test)
    test = test_all[test_all["in_target"]]
    print(f"test set: {len(test)} of {args.n_test} uniform points in the target region "
          f"({time.perf_counter() - start:.0f} s)", flush=True)

    cached = _Cached(sim)
    rows, accuracy = [], []
    for n in sorted(args.calls):  # stages: every method at n calls, then the next n
        runs = {}
        for method in args.methods:
            start = time.perf_counter()
            if method == "scan":  # resumed from its folder: only the new calls run
                config.budget = n
                tested = run_scan_config(config, resume=n != min(args.calls),
                                         progress=False).tested
            else:  # replayed from the cache up to the earlier stage's calls
                tested = run_baseline(method, cached, terms, n, seed=args.seed,
                                      n_sigma=config.scan.n_sigma)
                tested.to_csv(args.output / f"{method}.csv", index=False)
            runs[method] = tested
            rows.append({"method": method, "calls": n, "n_tested": len(tested),
                         "efficiency": float(tested["in_target"].mean()),
                         "valid_fraction": float(tested["valid"].mean()),
                         "stage_seconds": time.perf_counter() - start})
            print(json.dumps(rows[-1]), flush=True)
        for trained_on in [m for m in ("scan", "uniform") if m in runs]:
            accuracy.append({"trained_on": trained_on, "calls": n,
                             **_accuracy(runs[trained_on], test, config.scan)})
            print(json.dumps(accuracy[-1]), flush=True)
        _report(args, speed, pd.DataFrame(rows), pd.DataFrame(accuracy), len(test))


if __name__ == "__main__":
    main()
