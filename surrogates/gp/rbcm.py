r"""Distributed Gaussian process surrogate: exact GP experts combined by the robust BCM."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from tqdm.auto import tqdm

from surrogates.base import GaussianOutput, Surrogate
from surrogates.calibration import RECALIBRATIONS, VarianceScale
from surrogates.gp.aggregation import (
    AGGREGATIONS,
    aggregate,
    aggregation_weights,
    clip_variance,
)
from surrogates.gp.classifier import fit_probit_link, probit_link_moments
from surrogates.gp.experts import KERNELS, PARTITIONS, BatchedExperts, partition
from surrogates.params import Interval, Options
from surrogates.targets import Target, get_target

__all__ = ["RBCM"]

_PRECISIONS = {"float32": torch.float32, "float64": torch.float64}


class RBCM(Surrogate):
    r"""Robust Bayesian committee machine, Deisenroth & Ng (2015), arXiv:1502.02843.

    The training set is split among :math:`M` experts (random parts by default, k-means
    clusters as an option), each an exact GP with an ARD squared-exponential kernel (or
    Matern-5/2) and Gaussian noise, as the LHC surrogates of Bertone et al., arXiv:1611.02704.
    Shared hyper-parameters maximise the sum of the experts' log marginal likelihoods
    (as Deisenroth & Ng do), by Adam; all experts run as one batched program
    (:class:`~surrogates.gp.experts.BatchedExperts`). At a test point the experts' noise-free
    predictions :math:`\mu_k, \sigma_k^2` are combined, for the rBCM by

    .. math:: \sigma_*^{-2} = \sum_k \beta_k \sigma_k^{-2} + (1 - \sum_k \beta_k)\,\sigma_{**}^{-2},
              \quad \mu_* = \sigma_*^2 \sum_k \beta_k \sigma_k^{-2}\mu_k,
              \quad \beta_k = \tfrac12(\log\sigma_{**}^2 - \log\sigma_k^2),

    with :math:`\sigma_{**}^2` the kernel's prior variance (outputscale): latent predictions
    are aggregated against the latent prior, consistently. PoE, gPoE and BCM are selectable
    (:mod:`surrogates.gp.aggregation`). For regression the learnt noise variance is then added,
    :math:`\sigma_y^2 = \sigma_*^2 + \sigma_n^2`: SOFTSUSY is deterministic, but the noise term
    absorbs the misfit of a stationary kernel, and only the noisy predictive is calibrated
    against held-out SOFTSUSY values (``include_noise=False`` gives the latent one). For the
    validity target the experts regress :math:`\pm1` labels and a fitted probit link gives
    calibrated probabilities (:mod:`surrogates.gp.classifier`).

    **Local experts.** With ``partition="tree"`` the shared hyper-parameters are first fitted
    on random experts as above; their lengthscales :math:`\ell` then define the metric
    :math:`x/\ell` in which the training set is cut into equal, compact parts
    (:func:`~surrogates.gp.experts.principal_bisection`), one local expert each. With
    ``n_iter_local`` each local expert then fits its own lengthscales, signal and noise
    variance from the shared values (the function is not stationary over the pMSSM: a
    region where m_h is steep needs shorter lengthscales than the bulk), and with
    ``n_nearest`` a test point is predicted by the rBCM of only the experts whose centroids
    are nearest in that metric: the others know nothing there (their rBCM weight is ~0
    anyway), and the cost per point no longer grows with the training set. This is the
    local-approximation family of scalable GPs (Gramacy & Apley, J. Comput. Graph. Stat. 24
    (2015) 561, arXiv:1303.0383; the review of Liu, Ong, Shen & Cai, IEEE TNNLS 31 (2020)
    4405, arXiv:1807.01065) with the rBCM as the combination rule.

    Parameters
    ----------
    target : str or Target
    expert_size : int
        Training points per expert when ``n_experts`` is not given; ~500 keeps each
        Cholesky cheap while the experts stay informative.
    n_experts : int, optional
        Number of experts :math:`M`; default ``ceil(n_train / expert_size)``. 256 in
        arXiv:1611.02704.
    partition : {"random", "kmeans", "tree"}
        How training points are assigned to experts: random parts (Deisenroth & Ng),
        k-means clusters of the standardised inputs, or equal local parts in the metric of
        the fitted lengthscales (see *Local experts*).
    n_nearest : int, optional
        Predict each point with the rBCM of its ``n_nearest`` experts by centroid distance
        (local partitions only); default all experts.
    n_iter_local : int
        Adam steps on per-expert hyper-parameters after the shared fit, all experts in
        every step, each starting from the shared values; 0 keeps the shared ones. Needs
        ``shared_hyperparameters=True`` (the shared fit comes first).
    kernel : {"rbf", "matern52"}
        ARD squared exponential or ARD Matern-5/2.
    shared_hyperparameters : bool
        One set of hyper-parameters for all experts (the paper's choice) or one per expert.
    aggregation : {"rbcm", "bcm", "poe", "gpoe"}
    n_iter : int
        Adam steps on the summed log marginal likelihood.
    hyper_batch : int, optional
        Experts whose log marginal likelihoods enter each Adam step, a fresh random subset
        every step (stochastic optimisation of the same sum; cost per step independent of
        the data size). Default: all experts. Needs shared hyper-parameters.
    lr : float
        Adam learning rate (on gpytorch's softplus-raw hyper-parameters).
    min_noise : float
        Lower bound of the noise variance in model space (standardised units squared).
    include_noise : bool
        Add the noise variance to the regression predictive variance.
    n_iter_warm : int
        Adam steps of a fit with ``warm_start``, which starts the shared hyper-parameters
        from the previous fit (with per-expert hyper-parameters it starts afresh).
    precision : {"float32", "float64"}
        Floating-point type of all model-space tensors.
    max_jitter_tries : int
        Jitter escalations before a failing Cholesky raises
        :class:`~surrogates.gp.experts.CholeskyError`.
    predict_memory_mb : float
        Memory budget of the per-chunk intermediates in prediction.
    recalibration : {"variance_scale", "local_scale", "local_quantile", "none"}, optional
        Error-bar recalibration on the validation data (:mod:`surrogates.calibration`).
        Default: ``"variance_scale"`` for regression, so that the validation chi^2/dof is 1
        (random-partition rBCMs are over-confident when the experts are small, Liu et al.,
        ICML 2018, arXiv:1806.00720; the scale found is ``recalibration_.s2``), ``"none"``
        for the classifier.
    **common
        ``space``, ``features``, ``baseline``, ``warm_start``, ``seed``, ``device``: the
        options of every family (:class:`~surrogates.base.Surrogate`).
    """

    model_name: ClassVar[str] = "rbcm"
    budgets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"expert_size": 64, "n_iter": 10},
        "small": {"expert_size": 512, "n_iter": 100, "hyper_batch": 8},
        "full": {"expert_size": 1024, "n_iter": 300, "hyper_batch": 32, "predict_memory_mb": 4096},
        # The comparison with the shipped BNNs (benchmarks/accuracy.py): the physics
        # features (for m_h with the loop terms: 0.303 -> 0.236 % mean error on the test
        # split, where the BNN gained nothing from them) and the tree-level baseline, local
        # experts of ~768 points with their own hyper-parameters, each point predicted by
        # its 4 nearest, the heavy-tailed local-quantile recalibration (the classifier:
        # random experts, as before).
        "paper": {"features": "pmssm19_physics", "expert_size": 768, "n_iter": 200,
                  "hyper_batch": 16, "partition": "tree", "n_iter_local": 60, "n_nearest": 4,
                  "recalibration": "local_quantile", "predict_memory_mb": 2048,
                  "per_target": {
                      "xsec": {"baseline": "ln_xsec_tree"},
                      "higgs_mass": {"features": "pmssm19_loops"},
                      "validity": {"recalibration": "none", "expert_size": 512,
                                   "partition": "random", "n_iter_local": 0,
                                   "n_nearest": None},
                  }},
    }

    parameter_constraints: ClassVar[dict[str, Any]] = {
        **Surrogate.parameter_constraints,
        "expert_size": Interval("int", 1),
        "n_experts": [Interval("int", 1), None],
        "partition": Options(PARTITIONS),
        "n_nearest": [Interval("int", 1), None],
        "n_iter_local": Interval("int", 0),
        "kernel": Options(KERNELS),
        "shared_hyperparameters": bool,
        "aggregation": Options(AGGREGATIONS),
        "n_iter": Interval("int", 1),
        "hyper_batch": [Interval("int", 1), None],
        "lr": Interval("real", 0, closed="neither"),
        "min_noise": Interval("real", 0, closed="neither"),
        "include_noise": bool,
        "recalibration": [Options(RECALIBRATIONS), None],
        "n_iter_warm": Interval("int", 1),
        "precision": Options(tuple(_PRECISIONS)),
        "max_jitter_tries": Interval("int", 1),
        "predict_memory_mb": Interval("real", 0, closed="neither"),
    }

    def __init__(
        self,
        target: str | Target,
        *,
        expert_size: int = 512,
        n_experts: int | None = None,
        partition: str = "random",
        n_nearest: int | None = None,
        n_iter_local: int = 0,
        kernel: str = "rbf",
        shared_hyperparameters: bool = True,
        aggregation: str = "rbcm",
        n_iter: int = 100,
        hyper_batch: int | None = None,
        lr: float = 0.1,
        min_noise: float = 1e-4,
        include_noise: bool = True,
        n_iter_warm: int = 25,
        precision: str = "float32",
        max_jitter_tries: int = 6,
        predict_memory_mb: float = 256.0,
        recalibration: str | None = None,
        **common: Any,
    ) -> None:
        self._check_arguments(locals())
        if recalibration is None:
            recalibration = "none" if get_target(target).is_classifier else "variance_scale"
        super().__init__(target, recalibration=recalibration, **common)
        if hyper_batch is not None and not shared_hyperparameters:
            raise ValueError("hyper_batch needs shared_hyperparameters=True")
        if (n_iter_local or partition == "tree") and not shared_hyperparameters:
            raise ValueError(
                f"partition={partition!r}, n_iter_local={n_iter_local} needs "
                "shared_hyperparameters=True: the shared fit comes first (n_iter_local > 0 "
                "gives the experts their own hyper-parameters after it)"
            )
        if n_nearest is not None and partition == "random":
            raise ValueError(
                f"n_nearest={n_nearest} needs local experts (partition 'kmeans' or 'tree'); "
                "random experts have no locality to choose by"
            )
        self._store_arguments(locals())
        self.experts_: BatchedExperts | None = None
        self.link_: tuple[float, float] | None = None
        self.centroids_: torch.Tensor | None = None
        self.metric_scale_: torch.Tensor | None = None

    @property
    def dtype(self) -> torch.dtype:
        """``float32`` or ``float64``, from ``precision``."""
        return _PRECISIONS[self.precision]

    def _new_experts(
        self, X: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, shared: bool | None = None
    ) -> BatchedExperts:
        if shared is None:  # the experts as fitted
            shared = self.shared_hyperparameters and self.n_iter_local == 0
        return BatchedExperts(
            X, y, mask, kernel=self.kernel, shared=shared,
            min_noise=self.min_noise, max_jitter_tries=self.max_jitter_tries,
        ).to(device=self.device, dtype=self.dtype)

    def _optimise(
        self, experts: BatchedExperts, n_iter: int, batch: int, desc: str, progress: bool
    ) -> list[float]:
        """Adam on the summed log marginal likelihood, ``batch`` random experts per step."""
        opt = torch.optim.Adam(experts.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        history = []
        bar = tqdm(range(n_iter), desc=desc, disable=not progress)
        for _ in bar:
            # All experts in their order: with per-expert hyper-parameters a permuted subset
            # would pair expert i's kernel with another expert's points.
            sel = None
            if batch < experts.n_experts:
                sel = torch.randperm(experts.n_experts, generator=gen)[:batch].to(self.device)
            opt.zero_grad(set_to_none=True)
            n_points = experts.mask.sum() if sel is None else experts.mask[sel].sum()
            loss = -experts.log_marginal_likelihood(sel).sum() / n_points
            loss.backward()
            opt.step()
            history.append(loss.item())
            bar.set_postfix(nlml_per_point=f"{history[-1]:.4g}")
        return history

    def _fit(self, X, z, val, progress, aux=None):
        labels = z
        if self.target.is_classifier:
            z = 2.0 * z - 1.0
        n = X.shape[0]
        n_experts = min(n, self.n_experts or math.ceil(n / self.expert_size))
        first = "random" if self.partition == "tree" else self.partition
        index, mask = self._partition(X, n_experts, first)
        previous = self.experts_
        shared = self.shared_hyperparameters
        experts = self._new_experts(X[index], z[index], mask, shared=shared)
        n_iter = self.n_iter
        if self.warm_start and previous is not None and previous.shared:
            experts.load_state_dict(dict(previous.named_parameters()), strict=False)
            n_iter = self.n_iter_warm
        batch = min(n_experts, self.hyper_batch or n_experts)
        history = self._optimise(experts, n_iter, batch, f"rbcm {self.target.name}", progress)
        self.centroids_ = self.metric_scale_ = None
        if self.partition != "random":
            self.metric_scale_ = torch.ones_like(X[0])
            if self.partition == "tree":
                lengthscale = experts.covar_module.base_kernel.lengthscale
                self.metric_scale_ = lengthscale.detach().reshape(-1)
                index, mask = self._partition(X / self.metric_scale_, n_experts, "tree")
                local = self._new_experts(X[index], z[index], mask, shared=True)
                local.load_state_dict(dict(experts.named_parameters()), strict=False)
                experts = local
            self.centroids_ = self._centroids(X / self.metric_scale_, index, mask)
        if self.n_iter_local:
            experts = experts.per_expert()
            self.fit_info_["nlml_per_point_history_local"] = self._optimise(
                experts, self.n_iter_local, n_experts, f"rbcm {self.target.name} local", progress
            )
        self.experts_ = experts
        self.experts_.condition()
        if self.target.is_classifier:
            if val is not None:
                mean, var, _ = self._latent(val[0])
                self.link_ = fit_probit_link(mean, var, val[1])
            else:
                mean, var = self.experts_.loo_latent()
                self.link_ = fit_probit_link(mean[mask], var[mask], labels[index][mask])
            self.fit_info_["probit_link"] = list(self.link_)
        self.fit_info_.update(
            n_experts=n_experts,
            max_expert_size=int(mask.shape[1]),
            nlml_per_point_history=history,
            jitter=self.experts_.jitter_,
            hyperparameters=self._hyperparameters(),
        )

    def _partition(
        self, X: torch.Tensor, n_experts: int, method: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        index, mask = partition(X.cpu().numpy(), n_experts, method, self.seed)
        return torch.as_tensor(index, device=self.device), torch.as_tensor(mask, device=self.device)

    @staticmethod
    def _centroids(U: torch.Tensor, index: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of each expert's points ``U[index]`` over its filled slots."""
        w = mask.to(U.dtype)
        return (U[index] * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True)

    def _hyperparameters(self) -> dict[str, Any]:
        kern = self.experts_.covar_module
        return {
            "lengthscale": kern.base_kernel.lengthscale.detach().cpu().squeeze().tolist(),
            "outputscale": kern.outputscale.detach().cpu().tolist(),
            "noise": self.experts_.noise_variance().detach().cpu().squeeze().tolist(),
        }

    @torch.no_grad()
    def _latent(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""Aggregated latent mean and variance, and the noise variance, shape (n_points,).

        The noise variance is the experts' mean, or with ``n_nearest`` that of the chosen
        experts weighted as the rBCM weighs their means (:math:`\beta_k/\sigma_k^2`)."""
        noise = self.experts_.noise_variance().reshape(-1)
        if self.n_nearest is None:
            mean, var = self.experts_.predict_latent(X, max_bytes=self.predict_memory_mb * 2**20)
            mean, var = aggregate(mean, var, self.experts_.prior_variance(), self.aggregation)
            return mean, var, noise.mean().expand_as(mean)
        k = min(self.n_nearest, self.experts_.n_experts)
        chosen = torch.cdist(X / self.metric_scale_, self.centroids_).topk(k, largest=False)[1]
        mean, var, prior = self.experts_.predict_latent_selected(X, chosen)
        clipped = clip_variance(var.double(), prior.double(), var.dtype)  # as aggregate does
        beta, _ = aggregation_weights(clipped, prior.double(), self.aggregation)
        weight = (beta / clipped).clamp_min(0.0)
        chosen_noise = noise.double().expand(self.experts_.n_experts)[chosen.T]
        noise = (weight * chosen_noise).sum(0) / weight.sum(0).clamp_min(1e-300)
        return (*aggregate(mean, var, prior, self.aggregation), noise.to(var.dtype))

    def _predict_model_space(self, X):
        mean, var, noise = self._latent(X)
        if self.target.is_classifier:
            return GaussianOutput(*probit_link_moments(mean, var, *self.link_))
        if self.include_noise:
            var = var + noise
        return GaussianOutput(mean=mean, std=var.sqrt())

    def _state_tensors(self):
        local = {}
        if self.centroids_ is not None:
            local = {"centroids": self.centroids_, "metric_scale": self.metric_scale_}
        return {**self.experts_.state_dict(), **local}

    def _state_json(self):
        return {"probit_link": self.link_}

    @classmethod
    def _saved_config(cls, meta, path):
        """Maps ``calibrate_variance`` of rBCMs saved before the common recalibration: its
        variance scale (the state's ``variance_scale``) becomes
        ``recalibration="variance_scale"``, applied as before."""
        config = dict(meta["config"])
        calibrate = config.pop("calibrate_variance", False)
        if not calibrate or meta["state"].get("probit_link") is not None:
            return config  # off, or the classifier, which it never scaled
        if config.get("recalibration", "none") != "none":
            raise ValueError(
                f"{path} was saved by an rBCM with calibrate_variance=True and "
                f"recalibration={config['recalibration']!r}, two recalibrations one after the "
                "other, which this version does not apply; re-train it"
            )
        meta["recalibration"] = VarianceScale(
            s2=float(meta["state"]["variance_scale"]), n_val=int(meta["fit_info"]["n_val"])
        ).to_dict()
        return {**config, "recalibration": "variance_scale"}

    def _load_state(self, tensors, extra):
        tensors = dict(tensors)
        self.centroids_ = tensors.pop("centroids", None)
        self.metric_scale_ = tensors.pop("metric_scale", None)
        self.link_ = None if extra["probit_link"] is None else tuple(extra["probit_link"])
        self.experts_ = self._new_experts(tensors["X"], tensors["y"], tensors["mask"])
        self.experts_.load_state_dict(tensors)
        self.experts_.condition()
