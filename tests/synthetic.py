"""A smooth function with known Gaussian noise on the unit square, for end-to-end tests."""

from __future__ import annotations

import numpy as np

from surrogates.space import ParameterSpace
from surrogates.targets import Quantity, Selection, Target

SQUARE = ParameterSpace.box([0.0, 0.0], [1.0, 1.0], name="square")
SMOOTH = Target(Quantity("O", "regression", "", "standardize"),
                Selection("O", "test", requires_valid=False))
NOISE = 0.1  # standard deviation of the Gaussian noise on the targets


def smooth(X: np.ndarray) -> np.ndarray:
    """Noise-free truth, shape (n,): one period of structure per axis, range about [-2, 2]."""
    return np.sin(3.0 * X[:, 0]) + np.cos(2.5 * X[:, 1]) + X[:, 0] * X[:, 1]


def noisy_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` uniform points of the square: inputs, noisy targets and the noise-free truth."""
    rng = np.random.default_rng(seed)
    X = SQUARE.sample_uniform(n, rng)
    f = smooth(X)
    return X, f + NOISE * rng.normal(size=n), f
