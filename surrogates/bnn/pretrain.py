"""Pre-training of the HMC starting points: cycles of AMSGrad with decreasing learning rates.

Kronheim et al., arXiv:2007.04506 Sec. 4 (and TensorBNN, arXiv:2009.14393): before sampling,
each network is trained by AMSGrad (Reddi et al., arXiv:1904.09237) in cycles whose learning
rates decrease (regression 1e-2, 1e-3, 1e-4; the classifier ten times smaller); every cycle
starts from, and ends on, the network with the best validation loss seen in that cycle. One
network per HMC chain is trained, each from its own initialisation and minibatch order, all as
one batched program.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from surrogates.nn import BatchedMLP

__all__ = ["pretrain"]


def _loss(net: BatchedMLP, X: torch.Tensor, z: torch.Tensor, classifier: bool) -> torch.Tensor:
    """Per-network mean loss, shape (n_networks,); ``X``/``z`` shared or one batch per network."""
    f = net(X)[..., 0]
    z = z.expand_as(f)
    if classifier:
        return torch.nn.functional.binary_cross_entropy_with_logits(f, z, reduction="none").mean(1)
    return ((f - z) ** 2).mean(dim=1)


def pretrain(
    X: torch.Tensor,
    z: torch.Tensor,
    val: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    n_networks: int,
    hidden: Sequence[int],
    activation: str,
    classifier: bool,
    learning_rates: Sequence[float],
    epochs: int,
    batch_size: int,
    progress: bool = False,
) -> tuple[BatchedMLP, list[float]]:
    """Train ``n_networks`` networks by cycles of AMSGrad.

    Parameters
    ----------
    X : Tensor of shape (n_points, n_inputs)
    z : Tensor of shape (n_points,)
    val : (X_val, z_val) or None
        Validation data selecting the best network of each cycle; the training data when None.
    learning_rates : sequence of float
        One cycle per learning rate.
    epochs : int
        Epochs per cycle.

    Returns
    -------
    net : BatchedMLP
        The networks, each at its best validation loss.
    history : list of float
        Mean best validation loss after each cycle.
    """
    X_val, z_val = val if val is not None else (X, z)
    net = BatchedMLP(n_networks, X.shape[1], hidden, 1, activation).to(X.device, X.dtype)
    n = X.shape[0]
    steps = -(-n // batch_size)
    history = []
    for lr in learning_rates:
        opt = torch.optim.Adam(net.parameters(), lr=lr, amsgrad=True)
        best = [p.detach().clone() for p in net.parameters()]
        with torch.no_grad():
            best_loss = _loss(net, X_val, z_val, classifier)
        bar = tqdm(range(epochs), desc=f"pre-train lr={lr:g}", disable=not progress)
        for _ in bar:
            perm = torch.argsort(torch.rand(n_networks, n, device=X.device), dim=1)
            for s in range(steps):
                idx = perm[:, s * batch_size : (s + 1) * batch_size]
                loss = _loss(net, X[idx], z[idx], classifier).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            with torch.no_grad():
                vloss = _loss(net, X_val, z_val, classifier)
                better = vloss < best_loss
                best_loss = torch.where(better, vloss, best_loss)
                for b, p in zip(best, net.parameters(), strict=True):
                    b[better] = p[better]
            bar.set_postfix(val_loss=f"{best_loss.mean().item():.3g}")
        with torch.no_grad():
            for b, p in zip(best, net.parameters(), strict=True):
                p.copy_(b)
        history.append(best_loss.mean().item())
    return net, history
