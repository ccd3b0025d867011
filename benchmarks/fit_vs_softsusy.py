"""Does a global fit driven by the shipped surrogates land where the SOFTSUSY-driven fit lands?

The 314,910 reference points (``load_points("full")``) are uniform prior draws over the
pMSSM-19 box, each labelled by SOFTSUSY. Every scenario's likelihood is computed twice on
the same draws, once from SOFTSUSY's labels and once from the shipped surrogates
(:meth:`Surrogate.pretrained`), and the two importance-sampled posteriors are compared with
:func:`fits.agreement.compare_importance` (ESS, W1 / prior width, KS, Delta ln Z, overlap of
the 68 % / 95 % regions of (M1, M2, mu, tan beta)).

Scenarios (mock data in the spirit of Bertone et al., arXiv:1611.02704):

- ``excess``: m_h = 125.09 +- 0.24 (exp) +- 2 (th) GeV, one signal region (L = 139 fb^-1,
  efficiency 0.002, signal systematic 10 %, background 20 +- 4) with the Asimov count of
  the benchmark point s2-135258 of issue #5 (M1 = -29.1, M2 = -335.3, mu = -432.1 GeV),
  n_obs = 69, profile likelihood ratio; viability;
- ``excess_higgsino``: the same with a higgsino-like benchmark and a larger signal: among
  valid points with 124.6 <= m_h <= 125.6 GeV and |mu| + 300 GeV < min(|M1|, |M2|), the one
  whose sigma is closest to 500 fb (n_obs = 159);
- ``higgs``: m_h and viability alone (a broad posterior over the whole box);
- ``no_excess``: m_h, viability and the signal region with n_obs = 20 = background, the
  one-sided test statistic of exclusions.

The SOFTSUSY likelihood follows the stated conventions of :mod:`likelihoods.base`: an invalid
point is not viable, and where sigma(N2 C1) has no value (PROVENANCE.md: a bino-like N2, or a
pair below 100 GeV) the signal region gets no signal. The surrogate likelihood comes in
five variants: ``propagated`` (the surrogates' uncertainty in quadrature / in the signal
nuisance, the point's probability of being valid multiplied in, support mixture),
``mixture`` (as ``propagated`` with the m_h term a mixture over the members: the
heavy-tailed predictive of the ``local_quantile`` recalibration),
``mean_only`` (no surrogate uncertainty, validity cut at p >= 0.5), ``cut_3std`` (as
``propagated`` but the viability cut at mean + 3 std of issue #5) and ``no_support``
(``propagated`` with the support models ignored: the library before issue #14). Each is
reported on all draws and on the draws that no shipped model trained or validated on
(``unseen``).

Finally, the fit a user runs: UltraNest on (M1, M2, mu) with the other 16 parameters fixed at
the benchmark of ``excess``, driven by the surrogates (``propagated``); SOFTSUSY itself
(:class:`fits.scan.SoftsusySimulator`) labels ``--softsusy-points`` equally weighted posterior
draws, and the ratio of the SOFTSUSY-label likelihood to the surrogate likelihood reweights them
to the SOFTSUSY posterior of the same sub-space. Reported: the reweighting's Kish ESS (1 when
the two agree everywhere), the shift of each parameter's mean in units of its posterior std,
and P(|mu| < 500 GeV) before and after.

Usage::

    python benchmarks/fit_vs_softsusy.py --out runs/fit_vs_softsusy
    python benchmarks/fit_vs_softsusy.py --models runs/models   # your own <target>_bnn folders

Prints one table per scenario; writes ``agreement.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fits.agreement import ImportancePosterior, compare_importance
from fits.priors import pmssm19_prior
from fits.scan import SoftsusySimulator
from fits.ultranest_fit import run_ultranest
from likelihoods import (
    Combination,
    FunctionObservable,
    GaussianMeasurement,
    SignalRegion,
    Viability,
)
from surrogates import Surrogate
from surrogates.base import Prediction
from surrogates.data import features, load_dataset, load_points
from surrogates.io import write_text
from surrogates.space import PMSSM19

SR = {"background": 20.0, "background_error": 4.0, "luminosity": 139.0, "efficiency": 0.002,
      "signal_rel_error": 0.1}
BENCHMARK_ID = "s2-135258"
REGION = ("M1", "M2", "mu", "tanb")
HIGGSINO_SIGMA_FB = 500.0
VARIANTS = {
    "propagated": {"uncertainty": "quadrature", "support": "mixture", "viability": "multiply"},
    "mixture": {"uncertainty": "mixture", "support": "mixture", "viability": "multiply"},
    "mean_only": {"uncertainty": "none", "support": "mixture", "viability": "cut"},
    "cut_3std": {"uncertainty": "quadrature", "support": "mixture", "viability": "cut_3std"},
    "no_support": {"uncertainty": "quadrature", "support": "ignore", "viability": "multiply"},
}
VIABILITY = {"multiply": {"mode": "multiply"}, "cut": {"mode": "cut"},
             "cut_3std": {"mode": "cut", "n_std": 3.0}}


class Cached:
    """An observable whose prediction at the reference draws was computed once."""

    space = PMSSM19  # the likelihood terms check their observable's space

    def __init__(self, pred: Prediction) -> None:
        self.pred = pred

    def predict(self, X: np.ndarray) -> Prediction:
        if len(X) != len(self.pred.mean):
            raise ValueError("Cached answers only for the draws it was computed on")
        return self.pred


def n_observed(sigma_fb: float) -> int:
    """Asimov count of a signal of ``sigma_fb`` over the background of :data:`SR`."""
    return int(round(SR["background"] + SR["luminosity"] * sigma_fb * SR["efficiency"]))


def higgsino_benchmark(points: pd.DataFrame, sigma_fb: float) -> pd.Series:
    """The higgsino-like benchmark of the module docstring."""
    a = points
    ok = ((a["valid"] == 1) & a["h0"].between(124.6, 125.6) & a["xsec_n2c1_fb"].notna()
          & (a["mu"].abs() + 300 < np.minimum(a["M1"].abs(), a["M2"].abs())))
    cand = a[ok]
    return cand.loc[(np.log(cand["xsec_n2c1_fb"]) - np.log(sigma_fb)).abs().idxmin()]


def scenarios(points: pd.DataFrame) -> dict[str, dict]:
    bench = points.loc[points["id"] == BENCHMARK_ID].iloc[0]
    higgsino = higgsino_benchmark(points, HIGGSINO_SIGMA_FB)
    return {
        "excess": {"sr": {"n_observed": n_observed(bench["xsec_n2c1_fb"]),
                          "test_statistic": "two_sided"}, "benchmark": bench},
        "excess_higgsino": {"sr": {"n_observed": n_observed(higgsino["xsec_n2c1_fb"]),
                                   "test_statistic": "two_sided"}, "benchmark": higgsino},
        "higgs": {"sr": None},
        "no_excess": {"sr": {"n_observed": 20, "test_statistic": "upper_limit"}},
    }


def likelihood(higgs, xsec, valid, sr: dict | None, *, uncertainty: str,
               support: str, viability: str) -> Combination:
    """The scenario's likelihood; ``uncertainty`` is the m_h term's mode ("quadrature",
    "mixture" over the members, "none"), the signal nuisance widens unless "none"."""
    terms = [
        GaussianMeasurement.higgs_mass(higgs, uncertainty=uncertainty, support=support),
        Viability("valid", valid, **VIABILITY[viability]),
    ]
    if sr is not None:
        terms.append(SignalRegion("sr", xsec, **SR, **sr, support=support,
                                  uncertainty="none" if uncertainty == "none" else "nuisance"))
    return Combination(terms)


def softsusy_observables(points: pd.DataFrame) -> tuple:
    """The observables of SOFTSUSY's labels (columns ``h0``, ``xsec_n2c1_fb``, ``valid``)."""
    h0 = points["h0"].fillna(0.0).to_numpy()
    xs = points["xsec_n2c1_fb"]
    valid = points["valid"].to_numpy(float)
    return (FunctionObservable(lambda _: h0, "h0", space=PMSSM19),
            FunctionObservable(lambda _: (xs.fillna(0.0).to_numpy(), np.zeros(len(xs)),
                                          xs.notna().to_numpy(float)), "xsec", space=PMSSM19),
            FunctionObservable(lambda _: valid, "valid", space=PMSSM19))


def load_model(target: str, folder: str | None) -> Surrogate:
    """``folder/<target>_bnn`` when it exists, else the shipped BNN of ``target`` (said)."""
    path = None if folder is None else Path(folder) / f"{target}_bnn"
    if path is not None and path.exists():
        print(f"{target}: {path}", flush=True)
        return Surrogate.load(path)
    print(f"{target}: the shipped BNN", flush=True)
    return Surrogate.pretrained(target, "bnn")


def seen_ids(models: dict[str, Surrogate]) -> set:
    """Ids of the points any model (or its support model) trained or validated on."""
    seen: set = set()
    for sur in models.values():
        parts = [sur] + ([sur.support_] if sur.support_ is not None else [])
        for part in parts:
            split = part.recorded_split(load_dataset(part.target, "full"))
            seen |= set(split.train["id"]) | set(split.val["id"])
    return seen


def subspace_check(preds_models: dict[str, Surrogate], bench: pd.Series, sr: dict, out: Path,
                   n_softsusy: int) -> dict[str, float]:
    """UltraNest on (M1, M2, mu) with the surrogates, reweighted by SOFTSUSY's labels."""
    free = ["M1", "M2", "mu"]
    prior = pmssm19_prior({k: float(bench[k]) for k in PMSSM19.names}, free)
    lik = likelihood(preds_models["higgs_mass"], preds_models["xsec"],
                     preds_models["validity"], sr, **VARIANTS["propagated"])
    t0 = time.perf_counter()
    fit = run_ultranest(lik, prior, out / "ultranest_3p", min_num_live_points=400,
                        ndraw_min=2000, resume=False)
    fit_seconds = time.perf_counter() - t0
    theta = fit.equal_weight_samples(n_softsusy, seed=0)
    X = prior.to_full(theta)
    t0 = time.perf_counter()
    labels = SoftsusySimulator(n_workers=2)(X)
    soft_seconds = time.perf_counter() - t0
    ll_soft = likelihood(*softsusy_observables(labels), sr, uncertainty="none", support="mixture",
                         viability="cut").log_likelihood(X)
    ll_sur = lik.log_likelihood(X)
    reweight = ImportancePosterior.from_log_likelihood(ll_soft - ll_sur)
    row: dict[str, float] = {
        "ln_z_surrogates": fit.log_evidence, "ln_z_error": fit.log_evidence_error,
        "fit_seconds": fit_seconds, "softsusy_points": len(X),
        "softsusy_seconds": soft_seconds, "softsusy_valid": float(labels["valid"].mean()),
        "reweight_ess_fraction": reweight.ess / len(X),
        "p_mu500_surrogates": float(np.mean(np.abs(theta[:, 2]) < 500)),
        "p_mu500_softsusy": float(reweight.weights @ (np.abs(theta[:, 2]) < 500)),
    }
    for j, name in enumerate(free):
        std = theta[:, j].std()
        row[f"shift_{name}_std"] = float((reweight.weights @ theta[:, j] - theta[:, j].mean())
                                         / std)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/fit_vs_softsusy")
    ap.add_argument("--limit", type=int, default=0, help="use N random draws only (a smoke run)")
    ap.add_argument("--models", help="folder of <target>_bnn models to check instead of the "
                    "shipped ones (a target without a folder there: the shipped model)")
    ap.add_argument("--softsusy-points", type=int, default=300,
                    help="posterior draws of the sub-space fit that SOFTSUSY labels (0: skip)")
    ap.add_argument("--skip-importance", action="store_true",
                    help="only the sub-space fit (the importance comparison takes ~30 min)")
    args = ap.parse_args()
    if args.models is not None and not Path(args.models).is_dir():
        ap.error(f"--models: no folder {args.models!r}")
    torch.set_num_threads(2)
    points = load_points("full")
    cases = scenarios(points)  # benchmarks chosen from all draws
    if args.limit:
        points = points.sample(args.limit, random_state=0).reset_index(drop=True)
    X = features(points)
    names = list(PMSSM19.names)
    lows, highs = PMSSM19.low, PMSSM19.high
    t0 = time.perf_counter()
    models = {t: load_model(t, args.models) for t in ("higgs_mass", "xsec", "validity")}
    for t, m in models.items():
        print(f"{t}: {m.fit_info_.get('data')} data, split {m.fit_info_.get('split', 'rows')}, "
              f"trained in {m.fit_info_.get('train_seconds', float('nan')):.0f} s", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    if args.softsusy_points:
        sc = cases["excess"]
        row = subspace_check(models, sc["benchmark"], sc["sr"], out, args.softsusy_points)
        results["subspace_excess"] = row
        print("\n## excess, UltraNest on (M1, M2, mu), reweighted by SOFTSUSY")
        print(pd.Series(row).to_string(float_format=lambda v: f"{v:.4g}"), flush=True)
    if args.skip_importance:
        write_text(out / "agreement.json", json.dumps(results, indent=1, default=str))
        return
    preds = {t: Cached(m.predict(X)) for t, m in models.items()}
    print(f"predicted {len(X)} draws with the surrogates in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    unseen = ~points["id"].isin(seen_ids(models)).to_numpy()
    print(f"{unseen.sum()} draws no shipped model trained or validated on", flush=True)
    exact = softsusy_observables(points)
    mu_small = np.abs(points["mu"].to_numpy()) < 500
    for name, sc in cases.items():
        if "benchmark" in sc:
            b = sc["benchmark"]
            print(f"\n## {name}: benchmark {b['id']} (M1 {b['M1']}, M2 {b['M2']}, mu {b['mu']}, "
                  f"m_h {b['h0']:.2f} GeV, sigma {b['xsec_n2c1_fb']:.1f} fb), "
                  f"n_obs {sc['sr']['n_observed']}")
        else:
            print(f"\n## {name}")
        ll_ref = likelihood(*exact, sc["sr"], uncertainty="none", support="mixture",
                            viability="cut").log_likelihood(X)
        rows = {}
        for variant, opts in VARIANTS.items():
            lik = likelihood(preds["higgs_mass"], preds["xsec"], preds["validity"], sc["sr"],
                             **opts)
            ll = lik.log_likelihood(X)
            for subset, mask in (("all", np.ones(len(X), bool)), ("unseen", unseen)):
                try:
                    summary, table = compare_importance(
                        X[mask], ll_ref[mask], ll[mask], names, lows, highs, region=REGION)
                except ValueError as err:
                    print(f"{variant}/{subset}: {err}")
                    continue
                w_ref = np.exp(ll_ref[mask] - ll_ref[mask].max())
                w_sur = np.exp(ll[mask] - ll[mask].max())
                summary["p_mu500_reference"] = float(w_ref @ mu_small[mask] / w_ref.sum())
                summary["p_mu500_other"] = float(w_sur @ mu_small[mask] / w_sur.sum())
                summary["n_draws"] = int(mask.sum())
                summary["w1_prior"] = table["w1_prior"].to_dict()
                rows[f"{variant}/{subset}"] = summary
        results[name] = rows
        show = pd.DataFrame({k: {c: v[c] for c in (
            "n_draws", "ess_reference", "ess_other", "p_mu500_reference", "p_mu500_other",
            "ln_z_reference", "ln_z_other", "ln_z_error", "delta_ln_z_sigmas", "max_w1_prior",
            "worst_parameter", "max_ks", "overlap_0.68", "overlap_0.95")} for k, v in rows.items()})
        print(show.to_string(float_format=lambda v: f"{v:.3g}"), flush=True)
    write_text(out / "agreement.json", json.dumps(results, indent=1, default=str))
    print(f"\nwrote {out / 'agreement.json'}")


if __name__ == "__main__":
    main()
