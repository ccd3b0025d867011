"""Effective samples per second: batched HMC of surrogates.bnn against pyro's NUTS (not a test).

Both samplers target the *same* posterior (the ``BNNPosterior`` of a ``BNNEnsemble``
configuration: same network, priors, hyper-priors and data subset; pyro gets its potential
energy as ``potential_fn``) from the same pre-trained starting point. The figure of merit is
the bulk effective sample size (arviz) of the network's predictions at held-out points,
median over points, divided by the sampler's wall time including warm-up. For our chains it
is the sum of each chain's own ESS (chains started from different pre-trained networks sit
in different modes, which no sampler here crosses; pyro's one chain explores one mode too);
the multi-chain ESS and R-hat are printed beside it. pyro runs one chain
(multiprocess chains would share the same 2 cores); ours runs ``n_chains`` as one program.

Example (2,000 Higgs-mass points, 2-core CPU)::

    python benchmarks/bnn_vs_pyro_nuts.py --n-train 2000 --pyro-warmup 100 --pyro-samples 100
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from surrogates.bnn import BNNEnsemble
from surrogates.bnn.diagnostics import prediction_convergence
from surrogates.bnn.hmc import run_chains
from surrogates.data import features, labels, load_dataset, split_dataset
from surrogates.transforms import InputScaler, TargetTransform


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", default="higgs_mass")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-heldout", type=int, default=64)
    parser.add_argument("--config", default='{"hidden": [50, 50, 50, 50, 50]}',
                        help="BNNEnsemble configuration (JSON)")
    parser.add_argument("--pyro-warmup", type=int, default=100)
    parser.add_argument("--pyro-samples", type=int, default=100)
    parser.add_argument("--pyro-max-tree-depth", type=int, default=10)
    parser.add_argument("--n-chains", type=int, default=8)
    parser.add_argument("--n-burnin", type=int, default=100)
    parser.add_argument("--n-samples", type=int, default=100)
    parser.add_argument("--n-leapfrog", type=int, default=20)
    parser.add_argument("--mass", nargs="+", default=["fisher", "identity"],
                        help="mass matrices of our HMC to compare")
    parser.add_argument("--pretrain-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--skip-pyro", action="store_true")
    args = parser.parse_args()

    split = split_dataset(load_dataset(args.target), seed=args.seed)
    train, held = split.train.iloc[: args.n_train], split.val.iloc[: args.n_heldout]
    model = BNNEnsemble(args.target, seed=args.seed, device=args.device, n_chains=args.n_chains,
                        pretrain_epochs=args.pretrain_epochs, **json.loads(args.config))
    X_train, y_train = features(train), labels(train, args.target)
    scaler = InputScaler.fit(X_train)
    transform = TargetTransform(model.target.transform).fit(y_train)

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=model.dtype, device=model.device)

    X, z = tensor(scaler.transform(X_train)), tensor(transform.forward(y_train))
    X_held = tensor(scaler.transform(features(held)))
    posterior = model._posterior(X, z, model.weight_prior)
    torch.manual_seed(args.seed)
    theta0 = model._initial_state(X, z, None, progress=False)
    print(f"{args.target}: {len(train)} points, network {model.hidden}, "
          f"{model.layout.n_params} parameters, prior {model.prior}, {torch.get_num_threads()} "
          f"threads, device {model.device}", flush=True)

    results = {}
    for mass in args.mass:
        start = time.perf_counter()
        inv_mass = 1.0 / posterior.fisher_diagonal(theta0) if mass == "fisher" else None
        res = run_chains(posterior.log_prob_and_grad, theta0, n_burnin=args.n_burnin,
                         n_samples=args.n_samples, n_leapfrog=args.n_leapfrog, inv_mass=inv_mass)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            preds = torch.stack([posterior.outputs(res.draws[c], X_held)
                                 for c in range(args.n_chains)])
        conv = prediction_convergence(preds)
        results[mass] = {"seconds": seconds, "ess": conv["ess_within_median"],
                         "ess_multichain": conv["ess_bulk_median"], "rhat": conv["rhat_median"],
                         "accept": float(res.accept_prob[args.n_burnin:].mean())}
        _report(f"batched HMC, {mass} mass", results[mass])

    if not args.skip_pyro:
        from pyro.infer import MCMC, NUTS

        def potential(params):
            return -posterior.log_prob(params["theta"][None])[0]

        kernel = NUTS(potential_fn=potential, max_tree_depth=args.pyro_max_tree_depth)
        mcmc = MCMC(kernel, num_samples=args.pyro_samples, warmup_steps=args.pyro_warmup,
                    initial_params={"theta": theta0[0]}, disable_progbar=True)
        start = time.perf_counter()
        mcmc.run()
        seconds = time.perf_counter() - start
        draws = mcmc.get_samples()["theta"]
        with torch.no_grad():
            preds = posterior.outputs(draws, X_held)[None]
        conv = prediction_convergence(preds)
        pyro = {"seconds": seconds, "ess": conv["ess_bulk_median"],
                "ess_multichain": float("nan"), "rhat": float("nan"), "accept": float("nan")}
        _report("pyro NUTS (1 chain)", pyro)
        for mass in args.mass:
            ratio = (results[mass]["ess"] / results[mass]["seconds"]) / (
                pyro["ess"] / pyro["seconds"])
            print(f"ratio of ESS/s, batched HMC ({mass} mass) / pyro NUTS: {ratio:.1f} "
                  "(goal >= 10)")


def _report(name: str, r: dict) -> None:
    print(f"{name:<28} wall {r['seconds']:7.1f} s  ESS {r['ess']:7.1f}  "
          f"ESS/s {r['ess'] / r['seconds']:.4f}  (multi-chain ESS {r['ess_multichain']:.1f}, "
          f"R-hat {r['rhat']:.2f})  accept {r['accept']:.2f}", flush=True)


if __name__ == "__main__":
    main()
