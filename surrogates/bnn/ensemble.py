r"""``BNNEnsemble``: a Bayesian neural network sampled by HMC, served as an ensemble of networks."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from surrogates.base import MemberOutput, Surrogate
from surrogates.bnn.diagnostics import prediction_convergence, sampler_summary
from surrogates.bnn.hmc import run_chains
from surrogates.bnn.posterior import BNNPosterior, ParameterLayout, member_outputs
from surrogates.bnn.pretrain import SCHEDULES, output_heads, pretrain
from surrogates.bnn.prior import FAMILIES, WeightPrior
from surrogates.nn import (
    ACTIVATIONS,
    BatchedMLP,
    batched_mlp_forward,
    chunk_points,
    last_hidden,
)
from surrogates.params import Interval, ListOf, Options
from surrogates.targets import Target

__all__ = ["BNNEnsemble"]

PREDICTIVES = ("noisy", "function")
MASSES = ("fisher", "identity")
HMC_LAYERS = ("all", "last")
#: AMSGrad learning-rate cycles of arXiv:2007.04506 Sec. 4 (the classifier's ten times smaller).
REGRESSION_LRS = (1e-2, 1e-3, 1e-4)


class BNNEnsemble(Surrogate):
    r"""Bayesian neural network whose posterior is sampled by Hamiltonian Monte Carlo.

    Kronheim, Kuchera, Prosper, Karbo, *Bayesian Neural Networks for Fast SUSY Predictions*,
    Phys. Lett. B 813 (2021) 136041, arXiv:2007.04506, Secs. 2 and 4, and TensorBNN
    (Jackson et al., arXiv:2009.14393). A fully connected network :math:`f_\theta`
    (default 19 -> 5 x 50 -> 1) has a Cauchy (or Gaussian) prior on every weight with per-layer
    scales sampled under a half-Cauchy hyper-prior (:mod:`surrogates.bnn.prior`), a Gaussian
    likelihood in model space with precision :math:`\tau` fixed or sampled under a Gamma prior
    (regression) or a Bernoulli likelihood on :math:`\mathrm{sigmoid}(f_\theta)`
    (classification) (:mod:`surrogates.bnn.posterior`). Training:

    1. ``n_chains`` networks are pre-trained by cycles of AMSGrad with decreasing learning
       rates, keeping the best-validation network of each cycle (:mod:`~.pretrain`);
    2. from them, ``n_chains`` HMC chains run as one batched program, with dual-averaging
       step-size adaptation during ``n_burnin`` iterations, jittered trajectory length,
       Metropolis correction and divergence detection (:mod:`~.hmc`); every ``thin``-th
       later draw is kept, ``n_samples`` per chain;
       The mass matrix is the diagonal of the expected Fisher information at each chain's
       starting point (:meth:`~.BNNPosterior.fisher_diagonal`), which puts weights of very
       different posterior scales (input layer, output bias, hyper-parameters) on one step
       size; ``mass="identity"`` gives plain HMC;
    3. the ``K = n_chains * n_samples`` kept networks form the ensemble; diagnostics
       (acceptance, step sizes, divergences, :math:`\hat R` and ESS of held-out predictions)
       go to ``fit_info_``.

    Predictive. Member :math:`k` predicts, in model space,

    .. math:: z_k(x) = f_{\theta_k}(x) + \sigma_k\,q_k \quad(\text{``noisy''}),\qquad
              z_k(x) = f_{\theta_k}(x) \quad(\text{``function''}),

    with :math:`\sigma_k = \tau_k^{-1/2}` the member's noise and :math:`q_k` fixed standard
    normal quantiles :math:`\Phi^{-1}((j + \frac12)/K)` in a seeded random order. The members
    are back-transformed to target units and the base class reports their (weighted) mean and
    standard deviation. With ``"noisy"`` (the default for regression) the members are draws of
    the posterior *predictive* :math:`p(y \mid x, D)`, whose spread is
    :math:`\mathrm{Var}_k f_{\theta_k}(x) + E_k \sigma_k^2`: the noise term is the misfit the
    network cannot resolve and is what brings k-sigma coverage towards nominal. The paper's
    ``"function"`` spread (epistemic only) shrinks as data grow and under-covers the truth.
    Stratified quantiles rather than random draws make the added variance exact and
    independent of chunking, and leave the mean of the symmetric noise term near zero. For the
    classifier members are probabilities :math:`\mathrm{sigmoid}(f_{\theta_k}(x))`.

    Last-layer sampling (``hmc_layers="last"``). Full-batch HMC over every weight of a wide
    network and 10^5 points is out of reach on a CPU. Then the ``n_chains`` pre-trained networks
    are kept as fixed *trunks* :math:`h_c(x)` (their hidden layers) and HMC samples, per trunk,
    the posterior of the output layer :math:`f = w^\top h_c(x) + b` with the same priors and
    hyper-priors (a Bayesian last layer, Snoek et al., arXiv:1502.05700; Kristiadi et al.,
    arXiv:2002.10118). The ensemble is then a mixture over trunks, i.e. over pre-trained modes
    (the deep-ensemble part of the spread, Wilson & Izmailov, arXiv:2002.08791), of the
    last-layer posteriors (the within-mode part). With ``heteroscedastic=True`` each trunk also
    learns the model-space scale :math:`\sigma_c(x)` of its own error
    (:mod:`~.pretrain`), the likelihood becomes
    :math:`z \sim \mathcal N(f, \sigma_c(x)^2/\tau)` (:mod:`~.posterior`) and a noisy member
    adds :math:`\sigma_c(x)\,\tau_k^{-1/2} q_k`: the error bar follows the input.

    Re-weighting. :meth:`reweight` gives member :math:`k` the weight
    :math:`w_k \propto p_{\rm new}(\theta_k)/p_{\rm old}(\theta_k)` (importance sampling, as
    TensorBNN), so a changed prior needs no new sampling.

    Parameters
    ----------
    target : str or Target
    hidden : sequence of int
        Hidden widths (default 5 x 50 as arXiv:2007.04506).
    activation : str
        ``relu``, ``tanh``, ``silu`` or ``gelu``.
    prior : {"cauchy", "gaussian"}
        Prior family of weights and biases (Cauchy as arXiv:2007.04506).
    prior_scale : float or None
        Fixed prior scale; ``None`` samples per-layer scales under the hyper-prior.
    hyper_scale : float
        Scale of the half-Cauchy hyper-prior of the per-layer scales.
    noise_sigma : float or None
        Fixed model-space noise std (regression); ``None`` samples the precision.
    noise_shape, noise_rate : float
        Gamma(shape, rate) prior of the noise precision; the default (1, 1) has prior mean
        1, the variance of the standardised target, and is weak against thousands of points.
    predictive : {"noisy", "function"}
        Whether regression members include their noise term (see above).
    n_chains : int
        HMC chains, one pre-trained network each.
    n_burnin : int
        Adaptation iterations per chain, discarded.
    n_samples : int
        Draws kept per chain.
    thin : int
        Iterations per kept draw after burn-in.
    n_leapfrog : int
        Mean leapfrog steps per trajectory (jittered by ``jitter``).
    jitter : float
        Relative half-width of the uniform jitter of the trajectory length.
    target_accept : float
        Target acceptance probability of the adaptation.
    mass : {"fisher", "identity"}
        Diagonal mass matrix of HMC (see above).
    pretrain_epochs : int
        Epochs per AMSGrad cycle.
    pretrain_batch_size : int
    pretrain_lrs : sequence of float or None
        Learning rate of each cycle (the peak of ``"one_cycle"`` is the first); ``None``:
        1e-2, 1e-3, 1e-4 (regression), ten times smaller (classifier).
    pretrain_schedule : {"amsgrad_cycles", "one_cycle"}
        Pre-training schedule (:mod:`~.pretrain`).
    pretrain_weight_decay : float
        Decoupled weight decay of ``"one_cycle"``.
    hmc_layers : {"all", "last"}
        Sample every weight (the paper's method) or the output layer of each pre-trained
        network (see above).
    heteroscedastic : bool
        Input-dependent noise learnt by the trunks (regression with ``hmc_layers="last"``).
    skip : bool
        The output layer also sees the inputs (:mod:`surrogates.nn`; with
        ``hmc_layers="last"``), so that a target close to a linear function of the features
        (a tree-level approximation) is learnt as that plus a correction.
    auxiliary_weight : float
        Classifier only: weight :math:`\lambda` of auxiliary labels learnt beside the label
        in pre-training (:mod:`~.pretrain`; ``fit(..., y_aux=...)``, e.g. SOFTSUSY's problem
        flags, :mod:`surrogates.data.problems`); 0: none. The auxiliary outputs are dropped
        after pre-training, so the saved model is the same kind either way.
    n_diagnostic_points : int
        Held-out points (validation data, else training) for R-hat and ESS.
    **common
        ``space``, ``features``, ``recalibration``, ``baseline``, ``warm_start``, ``seed``,
        ``device``: the options of every family (:class:`~surrogates.base.Surrogate`); a
        warm start continues the pre-training from the previous fit's networks (its trunks,
        or each chain's last draw), ``pretrain_epochs`` per cycle, and samples afresh from
        there.
    """

    model_name: ClassVar[str] = "bnn"
    budgets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"hidden": [8, 8], "n_chains": 2, "n_burnin": 10, "n_samples": 5,
                 "n_leapfrog": 5, "pretrain_epochs": 2, "n_diagnostic_points": 16},
        "small": {"hidden": [50, 50, 50], "n_chains": 4, "n_burnin": 40, "n_samples": 25,
                  "thin": 1, "n_leapfrog": 8, "pretrain_epochs": 25},
        "full": {"n_chains": 16, "n_burnin": 1000, "n_samples": 25, "thin": 20,
                 "n_leapfrog": 50, "pretrain_epochs": 100, "pretrain_batch_size": 1024},
        # The shipped surrogates (README, "Shipped surrogates"): four wide wide-and-deep
        # trunks on the physics features (sigma relative to its tree-level value), last-layer
        # HMC, input-dependent noise, recalibrated bars; <= 20 min per target on 2 CPU cores
        # with the full reference data. (The validation loss stops falling after ~100 epochs.)
        "paper": {"hidden": [256, 256, 256, 256], "activation": "silu", "skip": True,
                  "features": "pmssm19_physics", "n_chains": 4, "n_burnin": 200,
                  "n_samples": 25, "thin": 2, "n_leapfrog": 20, "pretrain_epochs": 100,
                  "pretrain_batch_size": 1024, "pretrain_lrs": [3e-3],
                  "pretrain_schedule": "one_cycle", "pretrain_weight_decay": 1e-4,
                  "hmc_layers": "last", "heteroscedastic": True,
                  "recalibration": "local_quantile",
                  "per_target": {
                      "xsec": {"baseline": "ln_xsec_tree"},
                      # the Bernoulli likelihood has no sufficient statistics: each HMC step
                      # is a pass over 250,000 points, so short trajectories; eight trunks
                      # of 30 epochs, as averaging trunks is what lifts F1 (test split, one
                      # network 0.929-0.933; averaged: 4 x 60 epochs 0.941, 8 x 30 0.944,
                      # 16 x 15 0.941; runs of ~10 min each)
                      # the tachyons of the first two generations and large-tan beta
                      # terms (features "pmssm19_loops") lift F1 by ~1 point (one network,
                      # 15 epochs: 0.918 -> 0.927 on the row split of the full data)
                      # no temperature: it halves the test ECE but moves the fits' evidence
                      # away from SOFTSUSY's (docs/methods.md)
                      # SOFTSUSY's 21 problem flags learnt beside validity (the mean of two
                      # trunks of 30 epochs on the test split, two seeds: F1 0.940 without,
                      # 0.944 at weight 1, 0.946 at 3, 0.950 at 10; one seed at 30: 0.948;
                      # log loss 0.127 -> 0.108 at 10); the whole model 0.945 -> 0.957
                      # (12 trunks x 20 epochs: 0.956, 46 instead of 34 us per point)
                      "validity": {"heteroscedastic": False, "recalibration": "none",
                                   "features": "pmssm19_loops", "auxiliary_weight": 10.0,
                                   "n_chains": 8, "n_samples": 13, "thin": 2,
                                   "pretrain_epochs": 30, "n_burnin": 40, "n_leapfrog": 4},
                  }},
    }

    parameter_constraints: ClassVar[dict[str, Any]] = {
        **Surrogate.parameter_constraints,
        "hidden": ListOf(Interval("int", 1)),
        "activation": Options(tuple(ACTIVATIONS)),
        "prior": Options(FAMILIES),
        "prior_scale": [Interval("real", 0, closed="neither"), None],
        "hyper_scale": Interval("real", 0, closed="neither"),
        "noise_sigma": [Interval("real", 0, closed="neither"), None],
        "noise_shape": Interval("real", 0, closed="neither"),
        "noise_rate": Interval("real", 0, closed="neither"),
        "predictive": Options(PREDICTIVES),
        "n_chains": Interval("int", 1),
        "n_burnin": Interval("int", 0),
        "n_samples": Interval("int", 1),
        "thin": Interval("int", 1),
        "n_leapfrog": Interval("int", 1),
        "jitter": Interval("real", 0, 1, closed="left"),
        "target_accept": Interval("real", 0, 1, closed="neither"),
        "mass": Options(MASSES),
        "pretrain_epochs": Interval("int", 0),
        "pretrain_batch_size": Interval("int", 1),
        "pretrain_lrs": [ListOf(Interval("real", 0, closed="neither"), min_length=1), None],
        "pretrain_schedule": Options(tuple(SCHEDULES)),
        "pretrain_weight_decay": Interval("real", 0),
        "hmc_layers": Options(HMC_LAYERS),
        "heteroscedastic": bool,
        "skip": bool,
        "auxiliary_weight": Interval("real", 0),
        "n_diagnostic_points": Interval("int", 1),
    }

    def __init__(
        self,
        target: str | Target,
        *,
        hidden: Sequence[int] = (50, 50, 50, 50, 50),
        activation: str = "relu",
        prior: str = "cauchy",
        prior_scale: float | None = None,
        hyper_scale: float = 1.0,
        noise_sigma: float | None = None,
        noise_shape: float = 1.0,
        noise_rate: float = 1.0,
        predictive: str = "noisy",
        n_chains: int = 8,
        n_burnin: int = 200,
        n_samples: int = 25,
        thin: int = 4,
        n_leapfrog: int = 20,
        jitter: float = 0.2,
        target_accept: float = 0.65,
        mass: str = "fisher",
        pretrain_epochs: int = 20,
        pretrain_batch_size: int = 256,
        pretrain_lrs: Sequence[float] | None = None,
        pretrain_schedule: str = "amsgrad_cycles",
        pretrain_weight_decay: float = 0.0,
        hmc_layers: str = "all",
        heteroscedastic: bool = False,
        skip: bool = False,
        auxiliary_weight: float = 0.0,
        n_diagnostic_points: int = 64,
        **common: Any,
    ) -> None:
        self._check_arguments(locals())
        super().__init__(target, **common)
        if hmc_layers == "last" and not hidden:
            raise ValueError("hmc_layers='last' needs at least one hidden layer; got hidden=()")
        if skip and hmc_layers != "last":
            raise ValueError(f"skip=True needs hmc_layers='last'; got {hmc_layers!r}")
        if heteroscedastic and (hmc_layers != "last" or self.target.is_classifier):
            raise ValueError(
                "heteroscedastic=True needs hmc_layers='last' and a regression target; got "
                f"hmc_layers={hmc_layers!r}, target {self.target.name!r}"
            )
        if auxiliary_weight and not self.target.is_classifier:
            raise ValueError(
                f"auxiliary_weight={auxiliary_weight!r} needs a classifier; target "
                f"{self.target.name!r} is a regression"
            )
        self._store_arguments(locals())
        self.weight_prior = WeightPrior(prior, self.prior_scale, self.hyper_scale)
        if hmc_layers == "all":
            sampled = (self.n_inputs, self.hidden)
        else:
            sampled = (self.hidden[-1] + (self.n_inputs if self.skip else 0), ())
        self.layout = ParameterLayout.for_network(
            *sampled, sample_scales=self.weight_prior.samples_scales,
            sample_noise=not self.target.is_classifier and self.noise_sigma is None,
        )
        self.trunk_: BatchedMLP | None = None
        self.members_: torch.Tensor | None = None
        self.member_weights_: torch.Tensor | None = None
        self.reweighted_prior_: dict[str, Any] | None = None

    # ---------------------------------------------------------------- helpers
    @property
    def n_members(self) -> int:
        """Ensemble size ``n_chains * n_samples``."""
        return self.n_chains * self.n_samples

    @property
    def learns_auxiliary(self) -> bool:
        """True with ``auxiliary_weight > 0``: :meth:`fit` needs ``y_aux``."""
        return self.auxiliary_weight > 0

    @property
    def predict_chunk_size(self) -> int:
        """Points per prediction chunk: the widest activations within a memory cap (every
        member's, or with ``hmc_layers="last"`` every trunk's plus one output per member)."""
        width = max(self.hidden, default=1)
        per_point = (self.n_chains * width + self.n_members if self.hmc_layers == "last"
                     else self.n_members * width)
        return chunk_points(per_point, self.device)

    def _posterior(
        self, X: torch.Tensor, z: torch.Tensor, prior: WeightPrior,
        point_scale: torch.Tensor | None = None,
    ) -> BNNPosterior:
        return BNNPosterior(
            X, z, layout=self.layout, prior=prior, activation=self.activation,
            classifier=self.target.is_classifier, noise_sigma=self.noise_sigma,
            noise_shape=self.noise_shape, noise_rate=self.noise_rate, point_scale=point_scale,
        )

    def _set_members(self, members: torch.Tensor) -> None:
        self.members_ = members
        weights, biases, _, log_tau = self.layout.unflatten(members)
        self._weights, self._biases = weights, biases
        n = members.shape[0]
        if log_tau is None:
            self._noise = members.new_full((n,), self.noise_sigma or 0.0)
        else:
            self._noise = torch.exp(-0.5 * log_tau)
        probs = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        gen = torch.Generator().manual_seed(self.seed)
        quantiles = math.sqrt(2) * torch.erfinv(2 * probs - 1)
        self._quantiles = quantiles[torch.randperm(n, generator=gen)].to(members)

    def _new_trunk(self) -> BatchedMLP:
        n_outputs = 2 if self.heteroscedastic else 1
        return BatchedMLP(
            self.n_chains, self.n_inputs, self.hidden, n_outputs, self.activation, self.skip
        )

    def _keeps_transforms(self) -> bool:
        return self.warm_start and self.members_ is not None

    def _previous_networks(self) -> BatchedMLP:
        """The networks a warm start continues from: a copy of the trunks
        (``hmc_layers="last"``) or each chain's last draw."""
        if self.hmc_layers == "last":
            return copy.deepcopy(self.trunk_)
        draws = self.members_.reshape(self.n_chains, self.n_samples, -1)[:, -1]
        weights, biases, _, _ = self.layout.unflatten(draws)
        net = self._new_trunk().to(self.device, self.dtype)
        with torch.no_grad():
            for p, v in zip([*net.weights, *net.biases], [*weights, *biases], strict=True):
                p.copy_(v)
        return net

    def _trunk_outputs(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Last hidden activations (n_chains, n, width) and error scales (n_chains, n) or None."""
        w, b = list(self.trunk_.weights), list(self.trunk_.biases)
        h = last_hidden(w[:-1], b[:-1], X, self.activation, self.skip)
        _, u = output_heads(w[-1], b[-1], h)
        return h, None if u is None else torch.exp(u)

    def _member_values(self, X: torch.Tensor, noisy: bool) -> torch.Tensor:
        scale = None
        if self.hmc_layers == "all":
            f = member_outputs(self._weights, self._biases, X, self.activation)
        else:
            h, scale = self._trunk_outputs(X)
            c, s = self.n_chains, self.members_.shape[0] // self.n_chains
            w = self._weights[0].reshape(c, s, -1)
            f = torch.baddbmm(self._biases[0].reshape(c, s, 1), w, h.transpose(1, 2))
            f = f.reshape(c * s, -1)
            scale = None if scale is None else scale.repeat_interleave(s, dim=0)
        if self.target.is_classifier:
            return torch.sigmoid(f)
        if noisy:
            noise = (self._noise * self._quantiles)[:, None]
            f = f + (noise if scale is None else noise * scale)
        return f

    # ------------------------------------------------------------------ hooks
    def _initial_state(self, X, z, val, progress: bool, aux=None) -> torch.Tensor:
        """Pre-train one network per chain; the starting points, shape (n_chains, n_params).

        With ``hmc_layers="last"`` the networks become the trunks and the starting points are
        their output layers. Sampled log-scales start at the pre-trained weights' scales, a
        sampled noise precision at each network's inverse mean squared (scaled) residual.
        """
        classifier = self.target.is_classifier
        lrs = self.pretrain_lrs or tuple(lr / (10 if classifier else 1) for lr in REGRESSION_LRS)
        start = time.perf_counter()
        net, history = pretrain(
            X, z, val, initial=self._previous_networks() if self._keeps_transforms() else None,
            n_networks=self.n_chains, hidden=self.hidden, activation=self.activation,
            classifier=classifier, learning_rates=lrs, epochs=self.pretrain_epochs,
            batch_size=self.pretrain_batch_size, schedule=self.pretrain_schedule,
            weight_decay=self.pretrain_weight_decay, heteroscedastic=self.heteroscedastic,
            skip=self.skip, aux=aux, aux_weight=self.auxiliary_weight, progress=progress,
        )
        self.fit_info_["pretrain_val_loss"] = history
        self.fit_info_["n_auxiliary_labels"] = 0 if aux is None else int(aux.shape[1])
        self.fit_info_["pretrain_seconds"] = time.perf_counter() - start
        net.requires_grad_(False)
        weights, biases = list(net.weights), list(net.biases)
        if self.hmc_layers == "last":
            self.trunk_ = net
            weights = [weights[-1][..., :1].contiguous()]
            biases = [biases[-1][..., :1].contiguous()]
        return weights, biases

    def _hmc_inputs(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Inputs of the sampled layers and per-point error scales (None: homoscedastic)."""
        if self.hmc_layers == "all":
            return X, None
        with torch.no_grad():
            return self._trunk_outputs(X)

    def _fit(self, X, z, val, progress, aux=None):
        weights, biases = self._initial_state(X, z, val, progress, aux)
        start = time.perf_counter()
        inputs, scale = self._hmc_inputs(X)
        posterior = self._posterior(inputs, z, self.weight_prior, scale)
        log_tau = None
        if self.layout.n_noise:
            with torch.no_grad():
                f = batched_mlp_forward(weights, biases, inputs, self.activation)[..., 0]
                r = f - z if scale is None else (f - z) / scale
                log_tau = -torch.log((r**2).mean(dim=1))
        theta0 = self.layout.flatten(
            weights, biases, self.weight_prior.initial_log_scales(weights, biases), log_tau
        )
        inv_mass = 1.0 / posterior.fisher_diagonal(theta0) if self.mass == "fisher" else None
        result = run_chains(
            posterior.log_prob_and_grad, theta0, n_burnin=self.n_burnin,
            n_samples=self.n_samples, thin=self.thin, n_leapfrog=self.n_leapfrog,
            jitter=self.jitter, target_accept=self.target_accept, inv_mass=inv_mass,
            progress=progress,
            desc=f"hmc {self.target.name}",
        )
        self.fit_info_["hmc_seconds"] = time.perf_counter() - start
        self._set_members(result.draws.reshape(self.n_members, -1))
        self.member_weights_ = None
        self.reweighted_prior_ = None

        X_diag = (val[0] if val is not None else X)[: self.n_diagnostic_points]
        with torch.no_grad():
            preds = self._member_values(X_diag, noisy=False)
        self.fit_info_["sampler"] = sampler_summary(result)
        self.fit_info_["convergence"] = prediction_convergence(
            preds.reshape(self.n_chains, self.n_samples, -1)
        )
        if self.layout.n_noise:
            self.fit_info_["noise_sigma_mean"] = float(self._noise.mean())

    def _predict_model_space(self, X):
        noisy = self.predictive == "noisy"
        return MemberOutput(values=self._member_values(X, noisy), weights=self.member_weights_)

    def _state_tensors(self):
        tensors = {"members": self.members_}
        if self.trunk_ is not None:
            tensors.update({f"trunk.{k}": v for k, v in self.trunk_.state_dict().items()})
        if self.member_weights_ is not None:
            tensors["member_weights"] = self.member_weights_
        return tensors

    def _state_json(self):
        return {"reweighted_prior": self.reweighted_prior_}

    def _load_state(self, tensors, extra):
        if self.hmc_layers == "last":
            self.trunk_ = self._new_trunk().to(self.device)
            self.trunk_.load_state_dict(
                {k[len("trunk."):]: v.to(self.dtype) for k, v in tensors.items()
                 if k.startswith("trunk.")}
            )
            self.trunk_.requires_grad_(False)
        self._set_members(tensors["members"].to(self.dtype))
        self.member_weights_ = tensors.get("member_weights")
        self.reweighted_prior_ = extra.get("reweighted_prior")

    # ------------------------------------------------------------ public API
    def reweight(
        self, prior: str | None = None, prior_scale: float | None = None,
        hyper_scale: float | None = None,
    ) -> float:
        r"""Re-weight the stored members for a changed weight prior, without re-sampling.

        Member :math:`k` gets :math:`w_k \propto p_{\rm new}(\theta_k)/p_{\rm old}(\theta_k)`,
        normalised to sum to one; :meth:`predict` then reports the weighted mean and spread.
        The likelihood and the noise prior are unchanged and cancel in the ratio.

        Parameters
        ----------
        prior : {"cauchy", "gaussian"}, optional
            New family (default: the sampling prior's).
        prior_scale : float, optional
            New fixed scale; only for an ensemble sampled with a fixed scale.
        hyper_scale : float, optional
            New hyper-prior scale; only for an ensemble sampled with sampled scales.

        Returns
        -------
        float
            Kish effective ensemble size :math:`1/\sum_k w_k^2`; much below the ensemble
            size means the new prior is poorly represented by the stored members.

        Raises
        ------
        ValueError
            If the new prior changes whether scales are sampled (the parameters would differ).
        """
        self._check_fitted()
        old = self.weight_prior
        if prior_scale is not None and old.samples_scales:
            raise ValueError(
                "prior_scale can only be changed for an ensemble sampled with a fixed "
                f"prior_scale; this one sampled the scales (hyper_scale={old.hyper_scale})"
            )
        if hyper_scale is not None and not old.samples_scales:
            raise ValueError(
                "hyper_scale can only be changed for an ensemble sampled with sampled scales; "
                f"this one used the fixed prior_scale={old.scale}"
            )
        new = WeightPrior(
            old.family if prior is None else prior,
            old.scale if prior_scale is None else float(prior_scale),
            old.hyper_scale if hyper_scale is None else float(hyper_scale),
        )
        w, b, s, _ = self.layout.unflatten(self.members_.double())
        log_w = new.log_density(w, b, s) - old.log_density(w, b, s)
        weights = torch.softmax(log_w, dim=0)
        self.member_weights_ = weights.to(self.dtype)
        self.reweighted_prior_ = new.to_dict()
        return float(1.0 / (weights**2).sum())
