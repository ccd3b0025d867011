"""A deliberately unsure surrogate for closure tests: an MLP ensemble on few points."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fits.closure.chargino import CHARGINO, light_chargino_mass
from fits.priors import Prior
from surrogates.mlp import MLPEnsemble

__all__ = ["sparse_surrogate"]


def sparse_surrogate(
    prior: Prior,
    n_train: int,
    seed: int,
    true_fn: Callable[[np.ndarray], np.ndarray] = light_chargino_mass,
    *,
    epochs: int = 300,
    n_members: int = 5,
) -> MLPEnsemble:
    """A deliberately unsure surrogate of ``true_fn``: an MLP ensemble on few points.

    ``n_members`` networks of 32 x 32 units, trained full-batch on ``n_train`` prior draws
    (seeded by ``seed``) plus the corners of the prior box, so that its training box is the
    prior's and no fit point is vetoed as outside the domain. Only for boxes of free
    parameters (uniform or log-uniform).
    """
    lows = [p.low for p in prior.free]
    highs = [p.high for p in prior.free]
    corners = np.array(np.meshgrid(*zip(lows, highs, strict=True))).reshape(prior.ndim, -1).T
    X = prior.to_full(np.vstack([prior.sample(n_train, seed), corners]))
    return MLPEnsemble(CHARGINO, hidden=(32, 32), n_members=n_members, epochs=epochs,
                       batch_size=len(X), patience=epochs, seed=seed).fit(
        X, true_fn(X), progress=False)
