r"""Exact GP experts on a partition of the training set, all evaluated as one batched program.

The ``n_experts`` experts of a distributed GP (Deisenroth & Ng, "Distributed Gaussian
Processes", ICML 2015, arXiv:1502.02843) are independent exact GPs, expert :math:`k` seeing
only its part :math:`\mathcal D_k` of the data. Their training sets are stacked along a
leading batch dimension, ``(n_experts, n_max, n_params)``, and the kernel is a gpytorch
``ScaleKernel`` over an ARD ``RBFKernel`` (or Matern-5/2) with ``batch_shape = ()`` (shared
hyper-parameters, as in the paper) or ``(n_experts,)`` (per-expert option). Training and
prediction are then a few batched Cholesky factorisations and matrix products.

Parts of unequal size (k-means, or ``n`` not a multiple of ``n_experts``) are padded to
``n_max``: a padded row is decoupled from everything (its kernel row and column are zero), has
unit variance and target 0, so it adds exactly nothing to the log marginal likelihood
(Rasmussen & Williams 2006, eq. 2.30)

.. math:: \log p(\mathbf y_k) = -\tfrac12 \mathbf y_k^\top (K_k + \sigma_n^2 I)^{-1}
          \mathbf y_k - \sum_i \log L_{k,ii} - \tfrac{n_k}{2}\log 2\pi

nor to any prediction. The prior mean is zero: targets are standardised in model space.

The log marginal likelihood is written out here instead of calling gpytorch's
``ExactMarginalLogLikelihood``, which needs equal-size batches and switches to conjugate
gradients above 800 points; this way the Cholesky path, the padding and the jitter escalation
of :func:`robust_cholesky` are explicit.
"""

from __future__ import annotations

import math

import gpytorch
import numpy as np
import torch
from gpytorch.constraints import GreaterThan, Positive
from linear_operator import to_dense

__all__ = [
    "KERNELS",
    "PARTITIONS",
    "BatchedExperts",
    "CholeskyError",
    "partition",
    "principal_bisection",
    "robust_cholesky",
]

KERNELS = ("rbf", "matern52")
PARTITIONS = ("random", "kmeans", "tree")


class CholeskyError(RuntimeError):
    """A kernel matrix stayed numerically indefinite after all jitter escalations."""


def partition(
    X: np.ndarray, n_experts: int, method: str = "random", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Assign training points to experts.

    Parameters
    ----------
    X : ndarray of shape (n_points, n_params)
        Model-space inputs (k-means clusters on them).
    n_experts : int
        Number of experts, ``1 <= n_experts <= n_points``.
    method : {"random", "kmeans", "tree"}
        ``random``: a random permutation cut into parts whose sizes differ by at most one
        (Deisenroth & Ng 2015); ``kmeans``: one expert per k-means cluster
        (scikit-learn ``KMeans``, one initialisation), local experts as in Liu et al. (2018);
        ``tree``: local experts of equal size (:func:`principal_bisection`).
    seed : int

    Returns
    -------
    index : ndarray of int64, shape (n_experts, n_max)
        Row of ``X`` for each slot of each expert; 0 in padded slots.
    mask : ndarray of bool, shape (n_experts, n_max)
        True in the slots holding a training point.
    """
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    if method == "random":
        parts = np.array_split(rng.permutation(n), n_experts)
    elif method == "tree":
        parts = principal_bisection(X, n_experts, seed)
    else:
        from sklearn.cluster import KMeans

        labels = KMeans(n_clusters=n_experts, n_init=1, random_state=seed).fit_predict(X)
        parts = [np.flatnonzero(labels == k) for k in range(n_experts)]
    n_max = max(len(p) for p in parts)
    index = np.zeros((n_experts, n_max), dtype=np.int64)
    mask = np.zeros((n_experts, n_max), dtype=bool)
    for k, p in enumerate(parts):
        index[k, : len(p)] = p
        mask[k, : len(p)] = True
    return index, mask


def principal_bisection(X: np.ndarray, n_parts: int, seed: int = 0) -> list[np.ndarray]:
    """Balanced local parts: recursive bisection along the principal direction.

    Principal direction divisive partitioning (Boley, Data Mining and Knowledge Discovery 2
    (1998) 325): a node of points is cut by the hyperplane orthogonal to the first principal
    axis of its points, at the quantile that gives each side a share of points proportional
    to the parts it will hold, until ``n_parts`` leaves remain. The leaves are compact
    (they follow the data's elongation), their sizes differ by at most one, and there are
    exactly ``n_parts`` of them; unlike k-means no expert grows beyond the others' size.

    Parameters
    ----------
    X : ndarray of shape (n_points, n_params)
        Inputs in the metric the parts should be compact in (the GP's: divided by the
        lengthscales).
    n_parts : int
        ``1 <= n_parts <= n_points``.
    seed : int
        Seed of the subsample (4,096 points at most) that estimates each node's axis.

    Returns
    -------
    list of ndarray of int64
        The row indices of each part.
    """
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    stack = [(np.arange(X.shape[0]), n_parts)]
    while stack:
        rows, m = stack.pop()
        if m == 1:
            parts.append(rows)
            continue
        P = X[rows]
        sample = P[rng.choice(len(rows), min(len(rows), 4096), replace=False)]
        axis = np.linalg.svd(sample - sample.mean(0), full_matrices=False)[2][0]
        order = np.argsort(P @ axis, kind="stable")
        m_left = m // 2
        cut = round(len(rows) * m_left / m)
        stack.append((rows[order[cut:]], m - m_left))
        stack.append((rows[order[:cut]], m_left))
    return parts


def robust_cholesky(A: torch.Tensor, max_tries: int = 6) -> tuple[torch.Tensor, float]:
    """Batched Cholesky factor with jitter escalation on the batch members that fail.

    A failing member gets ``jitter = 1e-8 * mean(diag)`` (float64) or ``1e-6 * mean(diag)``
    (float32) added to its diagonal, multiplied by 10 at each further try (the schedule of
    gpytorch's ``psd_safe_cholesky``).

    Parameters
    ----------
    A : Tensor of shape (..., n, n)
        Symmetric positive (semi-)definite matrices.
    max_tries : int
        Escalations before giving up.

    Returns
    -------
    L : Tensor of shape (..., n, n)
        Lower Cholesky factors (differentiable).
    jitter : float
        Largest relative jitter used (0 if none was needed).

    Raises
    ------
    CholeskyError
        If some member is still not positive definite after ``max_tries`` escalations.
    """
    L, info = torch.linalg.cholesky_ex(A)
    if not bool((info > 0).any()):
        return L, 0.0
    scale = A.diagonal(dim1=-2, dim2=-1).mean(-1, keepdim=True).detach()
    base = 1e-8 if A.dtype == torch.float64 else 1e-6
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    failed = info > 0
    jitter = torch.zeros_like(scale)
    for i in range(max_tries):
        rel = base * 10.0**i
        jitter = torch.where(failed.unsqueeze(-1), rel * scale, jitter)
        L, info = torch.linalg.cholesky_ex(A + jitter.unsqueeze(-1) * eye)
        if not bool((info > 0).any()):
            return L, rel
        failed = failed | (info > 0)
    bad = torch.nonzero(info > 0).flatten().tolist()
    raise CholeskyError(
        f"kernel matrix of expert(s) {bad[:10]} is not positive definite even with a jitter "
        f"of {rel:g} x its mean diagonal ({A.dtype}); use precision='float64', a larger "
        f"min_noise, or fewer duplicate training points"
    )


class BatchedExperts(gpytorch.Module):
    """``n_experts`` exact GP experts with a shared (or per-expert) ARD kernel and noise.

    Parameters
    ----------
    X : Tensor of shape (n_experts, n_max, n_params)
        Padded model-space training inputs.
    y : Tensor of shape (n_experts, n_max)
        Padded model-space targets.
    mask : Tensor of bool, shape (n_experts, n_max)
        True where a slot holds a training point.
    kernel : {"rbf", "matern52"}
        ARD squared exponential (as arXiv:1611.02704) or ARD Matern-5/2.
    shared : bool
        One set of hyper-parameters for all experts (Deisenroth & Ng 2015) or one per expert.
    min_noise : float
        Lower bound of the noise variance (model-space units squared).
    max_jitter_tries : int
        See :func:`robust_cholesky`.
    """

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        mask: torch.Tensor,
        kernel: str = "rbf",
        shared: bool = True,
        min_noise: float = 1e-4,
        max_jitter_tries: int = 6,
    ) -> None:
        super().__init__()
        n_experts, _, n_params = X.shape
        batch = torch.Size() if shared else torch.Size([n_experts])
        # Log-parametrised hyper-parameters: an optimiser step is a relative change, so the
        # lengthscale of an irrelevant input can grow by orders of magnitude in few steps.
        log = {"transform": torch.exp, "inv_transform": torch.log}
        if kernel == "rbf":
            base = gpytorch.kernels.RBFKernel(
                ard_num_dims=n_params, batch_shape=batch, lengthscale_constraint=Positive(**log)
            )
        else:
            base = gpytorch.kernels.MaternKernel(
                nu=2.5, ard_num_dims=n_params, batch_shape=batch,
                lengthscale_constraint=Positive(**log),
            )
        self.covar_module = gpytorch.kernels.ScaleKernel(
            base, batch_shape=batch, outputscale_constraint=Positive(**log)
        )
        self.likelihood = gpytorch.likelihoods.GaussianLikelihood(
            batch_shape=batch, noise_constraint=GreaterThan(min_noise, **log)
        )
        # Start from unit signal variance (standardised targets), unit lengthscales (the spread
        # of standardised inputs) and noise 0.1. Longer initial lengthscales were seen to end
        # in an all-noise optimum on data drawn from a GP (tests/test_gp_rbcm.py); from short
        # ones the lengthscales of irrelevant inputs grow.
        self.covar_module.outputscale = 1.0
        self.covar_module.base_kernel.lengthscale = 1.0
        self.likelihood.noise = max(0.1, 10 * min_noise)
        self.kernel_name = kernel
        self.min_noise = min_noise
        self.register_buffer("X", X)
        self.register_buffer("y", torch.where(mask, y, 0.0))
        self.register_buffer("mask", mask)
        self.max_jitter_tries = max_jitter_tries
        self.jitter_ = 0.0
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def n_experts(self) -> int:
        """Number of experts."""
        return self.X.shape[0]

    @property
    def shared(self) -> bool:
        """Whether all experts share one set of hyper-parameters."""
        return self.covar_module.outputscale.dim() == 0

    def prior_variance(self) -> torch.Tensor:
        """Kernel prior variance (outputscale), shape () or (n_experts, 1)."""
        s = self.covar_module.outputscale
        return s if s.dim() == 0 else s.unsqueeze(-1)

    def noise_variance(self) -> torch.Tensor:
        """Observation-noise variance, shape (1,) or (n_experts, 1)."""
        return self.likelihood.noise

    def kernel(self, X1: torch.Tensor, X2: torch.Tensor) -> torch.Tensor:
        """Dense kernel matrices, shape (n_experts, n1, n2), without noise."""
        return to_dense(self.covar_module(X1, X2))

    def _train_covariance(self, experts: torch.Tensor | slice) -> torch.Tensor:
        X, m = self.X[experts], self.mask[experts].to(self.X.dtype)
        K = self.kernel(X, X) * (m.unsqueeze(-1) * m.unsqueeze(-2))
        noise = self.noise_variance()
        diag = (noise if noise.shape[0] == 1 else noise[experts]) * m + (1.0 - m)
        return K + torch.diag_embed(diag)

    def log_marginal_likelihood(self, experts: torch.Tensor | None = None) -> torch.Tensor:
        """Exact log marginal likelihood of each expert (differentiable).

        Parameters
        ----------
        experts : Tensor of int64, shape (n_selected,), optional
            Evaluate only these experts (a minibatch of the summed objective); default all.
            Only with shared hyper-parameters.

        Returns
        -------
        Tensor of shape (n_selected,) or (n_experts,)
        """
        sel = slice(None) if experts is None else experts
        L, self.jitter_ = robust_cholesky(self._train_covariance(sel), self.max_jitter_tries)
        y, n_k = self.y[sel], self.mask[sel].sum(-1).to(self.X.dtype)
        alpha = torch.cholesky_solve(y.unsqueeze(-1), L).squeeze(-1)
        logdet = torch.log(L.diagonal(dim1=-2, dim2=-1)).sum(-1)
        return -0.5 * (y * alpha).sum(-1) - logdet - 0.5 * n_k * math.log(2 * math.pi)

    @torch.no_grad()
    def condition(self) -> None:
        r"""Cache :math:`\alpha_k = (K_k + \sigma_n^2 I)^{-1}\mathbf y_k` and :math:`L_k^{-1}`."""
        K = self._train_covariance(slice(None))
        L, self.jitter_ = robust_cholesky(K, self.max_jitter_tries)
        eye = torch.eye(L.shape[-1], dtype=L.dtype, device=L.device).expand_as(L)
        L_inv = torch.linalg.solve_triangular(L, eye, upper=False)
        alpha = torch.cholesky_solve(self.y.unsqueeze(-1), L).squeeze(-1)
        self._cache = (alpha, L_inv)

    @torch.no_grad()
    def predict_latent(
        self, Xs: torch.Tensor, max_bytes: float = 2**28
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Each expert's noise-free predictive mean and variance at ``Xs``.

        .. math:: \mu_k = \mathbf k_{k*}^\top \alpha_k, \qquad
                  \sigma_k^2 = k_{**} - \lVert L_k^{-1}\mathbf k_{k*}\rVert^2

        Parameters
        ----------
        Xs : Tensor of shape (n_points, n_params)
        max_bytes : float
            Memory budget of the intermediate (n_experts, n_max, chunk) tensors; test points
            are processed in chunks that fit it.

        Returns
        -------
        mean, var : Tensor of shape (n_experts, n_points)
        """
        if self._cache is None:
            self.condition()
        alpha, L_inv = self._cache
        n_experts, n_max, _ = self.X.shape
        per_point = 4 * n_experts * n_max * Xs.element_size()
        chunk = max(1, int(max_bytes // per_point))
        prior = self.prior_variance()
        means, variances = [], []
        for i in range(0, Xs.shape[0], chunk):
            xs = Xs[i : i + chunk].expand(n_experts, -1, -1)
            Ks = self.kernel(self.X, xs) * self.mask.unsqueeze(-1)
            means.append(torch.einsum("kn,knc->kc", alpha, Ks))
            v = torch.bmm(L_inv, Ks)
            variances.append(prior - v.square().sum(-2))
        var = torch.cat(variances, dim=1)
        tiny = torch.finfo(var.dtype).tiny
        return torch.cat(means, dim=1), torch.minimum(var.clamp_min(tiny), prior)

    @torch.no_grad()
    def predict_latent_selected(
        self, Xs: torch.Tensor, experts: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""Noise-free predictions of chosen experts only: ``experts[i, j]`` at ``Xs[i]``.

        The same :math:`\mu_k, \sigma_k^2` as :meth:`predict_latent`, computed for the
        points each expert was chosen for (the cost is ``n_points * n_chosen`` expert
        evaluations instead of ``n_points * n_experts``).

        Parameters
        ----------
        Xs : Tensor of shape (n_points, n_params)
        experts : Tensor of int64, shape (n_points, n_chosen)

        Returns
        -------
        mean, var, prior : Tensor of shape (n_chosen, n_points)
            Means, variances and prior variances of the chosen experts.
        """
        if self._cache is None:
            self.condition()
        alpha, L_inv = self._cache
        prior_all = self.prior_variance().reshape(-1).expand(self.n_experts)
        shape = experts.T.shape
        mean = torch.empty(shape, dtype=Xs.dtype, device=Xs.device)
        var, prior = torch.empty_like(mean), torch.empty_like(mean)
        shared = self.shared
        for k in torch.unique(experts).tolist():
            rows, slot = torch.nonzero(experts == k, as_tuple=True)
            kernel = self.covar_module if shared else self.covar_module[k]
            Ks = to_dense(kernel(self.X[k], Xs[rows])) * self.mask[k].unsqueeze(-1)
            mean[slot, rows] = alpha[k] @ Ks
            var[slot, rows] = prior_all[k] - (L_inv[k] @ Ks).square().sum(0)
            prior[slot, rows] = prior_all[k]
        tiny = torch.finfo(var.dtype).tiny
        return mean, torch.minimum(var.clamp_min(tiny), prior), prior

    def per_expert(self) -> BatchedExperts:
        """A copy with one set of hyper-parameters per expert, each starting from the shared
        values (local experts may then fit their own lengthscales and noise)."""
        n_experts = self.n_experts
        new = BatchedExperts(
            self.X, self.y, self.mask, kernel=self.kernel_name, shared=False,
            min_noise=self.min_noise, max_jitter_tries=self.max_jitter_tries,
        ).to(device=self.X.device, dtype=self.X.dtype)
        state = {}
        for name, value in self.named_parameters():
            target = dict(new.named_parameters())[name]
            state[name] = value.detach().expand(n_experts, *target.shape[1:]).clone()
        new.load_state_dict(state, strict=False)
        return new

    @torch.no_grad()
    def loo_latent(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Each expert's leave-one-out predictions at its own training points.

        Rasmussen & Williams (2006), eq. 5.12, with the noise variance taken off to give the
        latent variance.

        Returns
        -------
        mean, var : Tensor of shape (n_experts, n_max)
            Meaningless in padded slots (see ``mask``).
        """
        if self._cache is None:
            self.condition()
        alpha, L_inv = self._cache
        kinv_diag = L_inv.square().sum(-2)
        var = (1.0 / kinv_diag - self.noise_variance()).clamp_min(torch.finfo(alpha.dtype).tiny)
        return self.y - alpha / kinv_diag, var
