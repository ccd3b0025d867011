"""Closure with an unsure surrogate: does propagating its uncertainty avoid wrong constraints?

True function: the tree-level light-chargino mass (fits.closure.light_chargino_mass), tan beta
= 10; mock measurement: its value at the truth (Asimov) with a ``--error`` GeV error. The
surrogate is deliberately unsure: an MLP ensemble trained on ``--n-train`` random prior draws
plus the corners of the box (fits.closure.sparse_surrogate). Two setups (``--setup``):

- ``2d``: (M2, mu) in [100, 1000]^2 GeV, truth (400, 700) GeV, 5 GeV error, 25 training
  points, 5 members. The posterior is an L-shaped ridge, broad enough that even the fit that
  trusts the surrogate's mean often covers the truth.
- ``1d``: M2 in [100, 1000] GeV with mu = 800 GeV fixed, truth M2 = 400 GeV (393 GeV
  chargino), 1 GeV error, 4 training points, 10 members. One peak, and a measurement error
  small against the surrogate's error there: the mean-only fit is sharp and, where the
  surrogate is biased, wrong; this is the setup that shows what propagating the
  uncertainty does (tests/test_fits_closure.py uses it with seed 1).

For every seed (training draws, network initialisation and sampler) the same measurement is
fitted with the exact function and with the surrogate under ``uncertainty="none"`` (mean
trusted as exact), ``"quadrature"`` and ``"mixture"``, by UltraNest or (``--grid``, one or two
free parameters) by quadrature on a grid (fits.closure.grid_fit), which has no sampling
noise. Printed per fit (fits.closure.closure_table): where the truth's true chargino mass
lies in the posterior pushed forward through the true function (PPI, pull in posterior std,
inside the 95% interval), the width of that posterior and of the marginals relative to the
exact fit, and the marginals' Wasserstein-1 (in exact posterior std) and KS distances to the
exact fit; at the end, over seeds, how often each fit covers the truth and how often the
mean-only fit misses it while the quadrature fit covers it.

Usage::

    python benchmarks/closure_benchmark.py --setup 1d --seeds $(seq 0 19) --grid
    python benchmarks/closure_benchmark.py --setup 1d --seeds 0 1 2 3 4
    python benchmarks/closure_benchmark.py --setup 2d --seeds 0 1 2 3 4 --n-train 40
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time

import numpy as np
import pandas as pd
import torch

from fits.closure import (
    closure_fits,
    closure_table,
    closure_terms,
    grid_fit,
    light_chargino_mass,
    sparse_surrogate,
)
from fits.priors import pmssm19_prior
from surrogates.space import PARAMETER_NAMES

BENCH = dict(
    zip(PARAMETER_NAMES, [500, 600, 2000, 800, 2000, 10] + [0] * 3 + [2000] * 10, strict=True)
)
SETUPS = {
    "2d": {"box": {"M2": [100.0, 1000.0], "mu": [100.0, 1000.0]},
           "truth": {"M2": 400.0, "mu": 700.0}, "error": 5.0, "n_train": 25, "n_members": 5},
    "1d": {"box": {"M2": [100.0, 1000.0]}, "truth": {"M2": 400.0}, "error": 1.0,
           "n_train": 4, "n_members": 10},
}
GRID_CELLS = {1: 10000, 2: 300}  # per free parameter: well below the posterior widths


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--setup", choices=sorted(SETUPS), default="1d")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--n-train", type=int, help="training points (default: the setup's)")
    p.add_argument("--error", type=float, help="measurement error, GeV (default: the setup's)")
    p.add_argument("--grid", action="store_true", help="grid quadrature instead of UltraNest")
    p.add_argument("--live-points", type=int, default=200)
    p.add_argument("--modes", nargs="+", default=["none", "quadrature", "mixture"])
    args = p.parse_args()
    setup = SETUPS[args.setup]
    n_train = args.n_train or setup["n_train"]
    error = args.error or setup["error"]
    truth = setup["truth"]
    torch.set_num_threads(1)
    logging.getLogger("ultranest").setLevel(logging.WARNING)
    prior = pmssm19_prior(BENCH, setup["box"])
    if args.grid and prior.ndim not in GRID_CELLS:
        p.error(f"--grid needs one or two free parameters; the setup has {prior.ndim}")
    point = prior.to_full(np.array([[truth[n] for n in prior.names]]))
    y_obs = float(light_chargino_mass(point)[0])
    print(f"setup {args.setup}, truth {truth}: m_chargino1 = {y_obs:.2f} GeV, measured +- "
          f"{error} GeV; {n_train} training points + {2**prior.ndim} corners, "
          f"{setup['n_members']} members; "
          + ("grid" if args.grid else f"UltraNest, {args.live_points} live points"))
    shown = ["obs_ppi", "obs_pull", "obs_inside", "obs_width_ratio"] + [
        f"{n}_{c}" for c in ("inside", "width_ratio", "w1", "ks") for n in prior.names]
    tables = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        sur = sparse_surrogate(prior, n_train, seed, n_members=setup["n_members"])
        pred = sur.predict(point)
        if args.grid:
            terms = closure_terms(light_chargino_mass, sur, y_obs, error, args.modes)
            fits = {k: grid_fit(t, prior, GRID_CELLS[prior.ndim]) for k, t in terms.items()}
        else:
            with tempfile.TemporaryDirectory() as tmp:
                fits = closure_fits(light_chargino_mass, sur, prior, y_obs, error, tmp,
                                    modes=args.modes, min_num_live_points=args.live_points,
                                    ndraw_min=1000, resume=False, seed=seed)
        table = closure_table(fits, prior, light_chargino_mass, truth)
        print(f"\n== seed {seed}: surrogate at the truth {pred.mean[0]:.1f} +- {pred.std[0]:.1f} "
              f"GeV (true {y_obs:.1f}); {time.perf_counter() - t0:.0f} s")
        print(table[shown].to_string(float_format=lambda v: f"{v:.3f}"), flush=True)
        tables.append(table.assign(seed=seed, bias=pred.mean[0] - y_obs, sur_std=pred.std[0]))
    allt = pd.concat(tables)
    allt["fit"] = allt.index
    print("\n== over seeds: fraction of seeds with the truth inside the 95% interval of the "
          "pushed-forward posterior, median |pull|, median width ratio, median W1")
    agg = allt.groupby("fit", sort=False).agg(
        obs_inside=("obs_inside", "mean"),
        obs_abs_pull=("obs_pull", lambda v: np.median(np.abs(v.astype(float)))),
        obs_width_ratio=("obs_width_ratio", "median"),
        **{f"{n}_w1": (f"{n}_w1", "median") for n in prior.names})
    print(agg.to_string(float_format=lambda v: f"{v:.3f}"))
    if {"none", "quadrature"} <= set(args.modes):
        per_seed = allt.pivot(index="seed", columns="fit", values="obs_inside").astype(bool)
        per_seed["bias"] = allt.loc["none"].set_index("seed")["bias"]
        per_seed["sur_std"] = allt.loc["none"].set_index("seed")["sur_std"]
        widths = allt.pivot(index="seed", columns="fit", values="obs_width_ratio")
        wider = (widths["quadrature"] > widths["none"]).sum()
        missed = ~per_seed["none"]
        rescued = missed & per_seed["quadrature"]
        print("\n== per seed: truth inside the 95% interval; surrogate bias and std at the "
              "truth (GeV)")
        print(per_seed.to_string(float_format=lambda v: f"{v:.1f}"))
        print(f"\nmean-only fit ('none') misses the truth: {missed.sum()}/{len(per_seed)} seeds;"
              f" of these the quadrature fit covers it in {rescued.sum()}/{missed.sum()}; the "
              f"quadrature fit covers it where 'none' does in "
              f"{(per_seed['none'] & per_seed['quadrature']).sum()}/{(~missed).sum()}; it is "
              f"wider than the 'none' fit in {wider}/{len(per_seed)}")


if __name__ == "__main__":
    main()
