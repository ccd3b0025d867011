"""The one training loop of batched networks (:class:`~surrogates.nn.BatchedMLP`).

Deep-ensemble members (:class:`~surrogates.mlp.MLPEnsemble`) and the networks that start the
HMC chains (:func:`surrogates.bnn.pretrain.pretrain`) are trained alike, as one program: in
every epoch each member sees the training points in its own random order, minibatch by
minibatch, and the optimiser steps on the sum of the members' mean losses (the members share
no parameter, so each gets its own loss's gradient). After each epoch every member's loss on
the selection data is compared with its best so far, and each member keeps the weights of its
own best epoch (per-member early stopping, Prechelt, "Early stopping -- but when?", 1998).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from surrogates.nn import BatchedMLP

__all__ = ["MemberFit", "train_members"]

#: Per-member mean loss, shape (n_members,), of inputs (n_members, n, d) or (n, d) and targets
#: (n_members, n) or (n,).
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class MemberFit:
    """What :func:`train_members` did.

    Attributes
    ----------
    best_loss : Tensor of shape (n_members,) or None
        Each member's selection loss at its kept weights; None without selection data.
    epochs_run : int
        Epochs trained (fewer than asked when ``patience`` stopped the loop).
    history : list of float
        Mean selection loss over the members after each epoch.
    """

    best_loss: torch.Tensor | None
    epochs_run: int = 0
    history: list[float] = field(default_factory=list)


def train_members(
    net: BatchedMLP,
    loss: Loss,
    X: torch.Tensor,
    z: torch.Tensor,
    selection: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    selection_loss: Loss | None = None,
    best_loss: torch.Tensor | None = None,
    patience: int | None = None,
    generator: torch.Generator | None = None,
    desc: str = "",
    progress: bool = False,
) -> MemberFit:
    """Train the members of ``net`` in place (see the module text).

    Parameters
    ----------
    net : BatchedMLP
    loss : callable
        Training loss of per-member minibatches, ``(n_members,)``.
    X : Tensor of shape (n_points, n_inputs)
    z : Tensor of shape (n_points,)
    selection : (X_sel, z_sel) or None
        Data the best epoch of each member is selected on; None: no selection, the last
        epoch is kept.
    optimizer : torch.optim.Optimizer
        Over ``net``'s parameters.
    epochs : int
        Passes over the training data.
    batch_size : int
        Minibatch size per member.
    scheduler : LRScheduler, optional
        Stepped after every minibatch.
    selection_loss : callable, optional
        Loss on the selection data (default: ``loss``).
    best_loss : Tensor of shape (n_members,), optional
        The selection loss to beat (e.g. at the starting weights, so that a member never ends
        worse than it began); default: infinite.
    patience : int, optional
        Stop when no member's selection loss improved for this many epochs.
    generator : torch.Generator, optional
        Source of the minibatch orders (default: torch's global generator on ``X``'s device).
    desc : str
        Progress-bar label.
    progress : bool

    Returns
    -------
    MemberFit
        Each member's best selection loss; ``net`` holds the members' best weights.
    """
    select = loss if selection_loss is None else selection_loss
    n_members, n = net.weights[0].shape[0], X.shape[0]
    steps = -(-n // batch_size)
    order_device = X.device if generator is None else generator.device
    best = [p.detach().clone() for p in net.parameters()]
    if selection is not None and best_loss is None:
        best_loss = torch.full((n_members,), float("inf"), device=X.device)
    fit = MemberFit(best_loss=best_loss)
    stale = 0
    bar = tqdm(range(epochs), desc=desc, disable=not progress)
    for _ in bar:
        net.train()
        fit.epochs_run += 1
        order = torch.rand(n_members, n, generator=generator, device=order_device)
        perm = torch.argsort(order, dim=1).to(X.device)
        for s in range(steps):
            idx = perm[:, s * batch_size : (s + 1) * batch_size]
            total = loss(X[idx], z[idx]).sum()
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        if selection is None:
            continue
        with torch.no_grad():
            current = select(*selection)
            improved = current < fit.best_loss
            fit.best_loss = torch.where(improved, current, fit.best_loss)
            for b, p in zip(best, net.parameters(), strict=True):
                b[improved] = p[improved]
        fit.history.append(current.mean().item())
        bar.set_postfix(val_loss=f"{fit.history[-1]:.3g}")
        stale = 0 if improved.any() else stale + 1
        if patience is not None and stale >= patience:
            break
    if selection is not None:
        with torch.no_grad():
            for b, p in zip(best, net.parameters(), strict=True):
                p.copy_(b)
    return fit
