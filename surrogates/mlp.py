"""Deterministic MLP regression/classification as a small deep ensemble: the baseline.

SCYNet's direct approach (Bechtle et al., Eur. Phys. J. C 77 (2017) 707, arXiv:1703.01309)
regresses the observable on the model parameters with a fully connected network. Here
``n_members`` such networks, each with its own initialisation and minibatch order (a deep
ensemble, Lakshminarayanan et al., arXiv:1612.01474, without their variance head), are
trained as one batched program. The predictive std is the members' spread: it reflects the
disagreement between networks only, so it is an honest but usually too narrow error bar. This
is the reference the HMC BNN and the rBCM must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from surrogates.base import MemberOutput, Surrogate
from surrogates.nn import ACTIVATIONS, BatchedMLP, chunk_points
from surrogates.params import Interval, ListOf, Options
from surrogates.targets import Target
from surrogates.training import train_members

__all__ = ["MLPEnsemble"]


class MLPEnsemble(Surrogate):
    """Deep ensemble of MLPs trained by AMSGrad on the mean-squared error (regression) or the
    binary cross entropy (classification) in model space.

    .. math:: \\hat y(x) = \\frac1K \\sum_{k=1}^K f_{\\theta_k}(x), \\qquad
              \\hat\\sigma^2(x) = \\frac1K \\sum_k \\big(f_{\\theta_k}(x) - \\hat y(x)\\big)^2

    (members back-transformed to target units first; for the classifier ``f`` is the
    sigmoid probability).

    Parameters
    ----------
    target : str or Target
    hidden : sequence of int
        Hidden widths; default 5 x 50 as the networks of arXiv:2007.04506.
    activation : str
        ``relu``, ``tanh``, ``silu`` or ``gelu``.
    n_members : int
        Ensemble size.
    epochs : int
        Maximum passes over the training data.
    batch_size : int
        Minibatch size (per member).
    lr : float
        Initial AMSGrad learning rate, annealed to zero on a cosine schedule.
    weight_decay : float
        Decoupled weight decay (AdamW).
    patience : int
        Stop when no member's validation loss improved for this many epochs; each member
        keeps its best-validation weights. Without validation data the last epoch is kept.
    **common
        ``space``, ``features``, ``recalibration``, ``baseline``, ``warm_start``, ``seed``,
        ``device``: the options of every family (:class:`~surrogates.base.Surrogate`).
    """

    model_name: ClassVar[str] = "mlp"
    budgets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"hidden": [16, 16], "n_members": 3, "epochs": 3},
        "small": {"n_members": 5, "epochs": 40},
        "full": {"n_members": 10, "epochs": 300, "patience": 30},
        # The support models of the shipped surrogates (where sigma or m_h exists): physics
        # features make the boundary (e.g. the wino + higgsino content of N2 C1 >= 0.5)
        # nearly linear; 99.8 % accuracy on the valid test points of the full data.
        "support": {"hidden": [256, 256, 256, 256], "activation": "silu", "n_members": 2,
                    "epochs": 15, "batch_size": 256, "lr": 2e-3, "patience": 5,
                    "features": "pmssm19_physics"},
    }
    parameter_constraints: ClassVar[dict[str, Any]] = {
        **Surrogate.parameter_constraints,
        "hidden": ListOf(Interval("int", 1)),
        "activation": Options(tuple(ACTIVATIONS)),
        "n_members": Interval("int", 1),
        "epochs": Interval("int", 1),
        "batch_size": Interval("int", 1),
        "lr": Interval("real", 0, closed="neither"),
        "weight_decay": Interval("real", 0),
        "patience": Interval("int", 1),
    }

    def __init__(
        self,
        target: str | Target,
        *,
        hidden: Sequence[int] = (50, 50, 50, 50, 50),
        activation: str = "relu",
        n_members: int = 5,
        epochs: int = 40,
        batch_size: int = 256,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        patience: int = 10,
        **common: Any,
    ) -> None:
        self._check_arguments(locals())
        super().__init__(target, **common)
        self._store_arguments(locals())
        self.net_ = self._new_net()
        self.trained_ = False

    @property
    def predict_chunk_size(self) -> int:
        """Points per prediction chunk: every member's widest activations within a cap."""
        return chunk_points(self.n_members * max(self.hidden, default=1), self.device)

    def _new_net(self) -> BatchedMLP:
        return BatchedMLP(self.n_members, self.n_inputs, self.hidden, 1, self.activation).to(
            self.device
        )

    def _losses(self, X: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Per-member mean loss, shape (n_members,).

        ``X`` is (K, n, 19) or (n, 19), ``z`` (K, n) or (n,).
        """
        out = self.net_(X)[..., 0]
        z = z.expand_as(out)
        if self.target.is_classifier:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out, z, reduction="none")
        else:
            loss = (out - z) ** 2
        return loss.mean(dim=1)

    def _fit(self, X, z, val, progress, aux=None):
        torch.manual_seed(self.seed)
        if not self._keeps_transforms():
            self.net_ = self._new_net()
        opt = torch.optim.AdamW(
            self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay, amsgrad=True
        )
        steps = -(-X.shape[0] // self.batch_size)
        fit = train_members(
            self.net_, self._losses, X, z, val, optimizer=opt, epochs=self.epochs,
            batch_size=self.batch_size, patience=self.patience,
            scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.epochs * steps),
            generator=torch.Generator(device="cpu").manual_seed(self.seed),
            desc=f"mlp {self.target.name}", progress=progress,
        )
        if val is not None:
            self.fit_info_["best_val_loss"] = fit.best_loss.tolist()
        self.fit_info_["epochs_run"] = fit.epochs_run
        self.fit_info_["val_loss_history"] = fit.history
        self.trained_ = True

    def _keeps_transforms(self) -> bool:
        return self.warm_start and self.trained_

    def _predict_model_space(self, X):
        self.net_.eval()
        out = self.net_(X)[..., 0]
        return MemberOutput(values=torch.sigmoid(out) if self.target.is_classifier else out)

    def _state_tensors(self):
        return {k: v for k, v in self.net_.state_dict().items()}

    def _load_state(self, tensors, extra):
        self.net_.load_state_dict(tensors)
        self.trained_ = True
