"""Closure with an unsure surrogate: does propagating its uncertainty avoid wrong constraints?

True function: the tree-level light-chargino mass (fits.closure.light_chargino_mass) of
(M2, mu) in [100, 1000]^2 GeV, tan beta = 10; mock measurement: its value at the truth
(M2, mu) = (400, 700) GeV (Asimov) with a ``--error`` GeV error. The surrogate is deliberately
unsure: an MLP ensemble trained on ``--n-train`` random prior draws plus the four corners of
the box (fits.closure.sparse_surrogate).

For every seed (training draws, network initialisation and sampler) the same measurement is
fitted with UltraNest four times: with the exact function, and with the surrogate under
``uncertainty="none"`` (mean trusted as exact), ``"quadrature"`` and ``"mixture"``. Printed
per fit (fits.closure.closure_table): where the truth's true chargino mass lies in the
posterior pushed forward through the true function (PPI, pull in posterior std, inside the
95% interval), the width of that posterior and of the marginals relative to the exact fit,
and the marginals' Wasserstein-1 (in exact posterior std) and KS distances to the exact fit.

Usage::

    python benchmarks/closure_benchmark.py --seeds 0 1 2 3 4 --n-train 40
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time

import numpy as np
import pandas as pd
import torch

from fits.closure import closure_fits, closure_table, light_chargino_mass, sparse_surrogate
from fits.priors import Prior
from surrogates.space import PARAMETER_NAMES

BENCH = dict(
    zip(PARAMETER_NAMES, [500, 600, 2000, 800, 2000, 10] + [0] * 3 + [2000] * 10, strict=True)
)
BOX = {"M2": [100.0, 1000.0], "mu": [100.0, 1000.0]}
TRUTH = {"M2": 400.0, "mu": 700.0}
SHOWN = ["obs_ppi", "obs_pull", "obs_inside", "obs_width_ratio", "M2_inside", "mu_inside",
         "M2_width_ratio", "mu_width_ratio", "M2_w1", "mu_w1", "M2_ks", "mu_ks"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--n-train", type=int, default=25)
    p.add_argument("--error", type=float, default=5.0, help="measurement error, GeV")
    p.add_argument("--live-points", type=int, default=200)
    p.add_argument("--modes", nargs="+", default=["none", "quadrature", "mixture"])
    args = p.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("ultranest").setLevel(logging.WARNING)
    prior = Prior.around(BENCH, BOX)
    point = prior.to_full(np.array([[TRUTH["M2"], TRUTH["mu"]]]))
    y_obs = float(light_chargino_mass(point)[0])
    print(f"truth {TRUTH}: m_chargino1 = {y_obs:.2f} GeV, measured +- {args.error} GeV; "
          f"{args.n_train} training points + 4 corners; {args.live_points} live points")
    tables = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        sur = sparse_surrogate(prior, args.n_train, seed)
        pred = sur.predict(point)
        with tempfile.TemporaryDirectory() as tmp:
            fits = closure_fits(light_chargino_mass, sur, prior, y_obs, args.error, tmp,
                                modes=args.modes, min_num_live_points=args.live_points,
                                ndraw_min=1000, resume=False, seed=seed)
        table = closure_table(fits, prior, light_chargino_mass, TRUTH)
        print(f"\n== seed {seed}: surrogate at the truth {pred.mean[0]:.1f} +- {pred.std[0]:.1f} "
              f"GeV (true {y_obs:.1f}); {time.perf_counter() - t0:.0f} s")
        print(table[SHOWN].to_string(float_format=lambda v: f"{v:.3f}"), flush=True)
        tables.append(table.assign(seed=seed))
    allt = pd.concat(tables)
    allt["fit"] = allt.index
    print("\n== over seeds: fraction of seeds with the truth inside the 95% interval of the "
          "pushed-forward posterior, median |pull|, median width ratio, median W1")
    agg = allt.groupby("fit", sort=False).agg(
        obs_inside=("obs_inside", "mean"),
        obs_abs_pull=("obs_pull", lambda v: np.median(np.abs(v.astype(float)))),
        obs_width_ratio=("obs_width_ratio", "median"),
        M2_w1=("M2_w1", "median"), mu_w1=("mu_w1", "median"))
    print(agg.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
