"""Scores of a scan: efficiency and how completely the target region was covered.

Efficiency is the fraction of tested points inside the target region (the figure of merit of
arXiv:1708.06615). Coverage depends on the region's shape: the eggbox's region is 18 rings,
counted as found once a tested point lies in them (:func:`eggbox_rings_found`); the
hypersphere's region is a shell, whose coverage is judged by how uniformly the tested points
inside it spread over directions (:func:`shell_uniformity`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import chi2

__all__ = [
    "efficiency",
    "eggbox_peaks",
    "eggbox_rings_found",
    "shell_fraction",
    "shell_uniformity",
]


def efficiency(in_target: np.ndarray) -> float:
    """Fraction of tested points inside the target region."""
    in_target = np.asarray(in_target, dtype=bool)
    if in_target.size == 0:
        raise ValueError("no tested points")
    return float(in_target.mean())


def eggbox_peaks() -> np.ndarray:
    """The 18 maxima of the eggbox on [0, 10 pi]^2, shape (18, 2).

    They sit at ``(2 pi i, 2 pi j)`` for ``i, j`` in 0..5 of equal parity.
    """
    return np.array(
        [(2 * np.pi * i, 2 * np.pi * j) for i in range(6) for j in range(6) if (i - j) % 2 == 0]
    )


def eggbox_rings_found(X_in_target: np.ndarray) -> int:
    """Number of the 18 eggbox rings holding at least one of ``X_in_target`` (n, 2).

    Each in-target point belongs to the ring around its nearest maximum (the rings have radius
    about 1.9 and the maxima are 2 pi sqrt(2) apart, so the assignment is unambiguous).
    """
    X = np.asarray(X_in_target, dtype=float).reshape(-1, 2)
    if len(X) == 0:
        return 0
    d = np.linalg.norm(X[:, None, :] - eggbox_peaks()[None], axis=-1)
    return int(np.unique(d.argmin(axis=1)).size)


def shell_fraction(n_dim: int, r_low: float, r_high: float, half_width: float) -> float:
    """Fraction of the cube ``[-half_width, half_width]^n_dim`` inside the shell.

    Exact when the shell lies inside the cube (``r_high <= half_width``).
    """
    if r_high > half_width:
        raise ValueError("the formula needs the shell inside the cube")
    unit_ball = math.pi ** (n_dim / 2) / math.gamma(n_dim / 2 + 1)
    return unit_ball * (r_high**n_dim - r_low**n_dim) / (2 * half_width) ** n_dim


def shell_uniformity(X_in_target: np.ndarray) -> dict[str, float]:
    """How uniformly points spread over the directions of a shell centred at the origin.

    Returns
    -------
    dict
        ``orthants``: fraction of the 2^d orthants holding a point; ``orthants_expected``:
        the same for as many points uniform on the shell, ``1 - (1 - 2^-d)^n``;
        ``resultant``: length of the mean unit vector (0 for perfect balance; about
        ``1/sqrt(n)`` for uniform points); ``rayleigh_p``: p-value of Rayleigh's test of
        uniformity, ``d n R^2 ~ chi^2_d`` (Mardia & Jupp, Directional Statistics, 10.4.1).
    """
    X = np.asarray(X_in_target, dtype=float)
    n, d = X.shape
    if n == 0:
        return {"n": 0, "orthants": 0.0, "orthants_expected": 0.0, "resultant": float("nan"),
                "rayleigh_p": float("nan")}
    u = X / np.linalg.norm(X, axis=1, keepdims=True)
    orthants = np.unique(u > 0, axis=0).shape[0] / 2.0**d
    resultant = float(np.linalg.norm(u.mean(axis=0)))
    return {
        "n": int(n),
        "orthants": float(orthants),
        "orthants_expected": float(1 - (1 - 2.0**-d) ** n),
        "resultant": resultant,
        "rayleigh_p": float(chi2.sf(d * n * resultant**2, d)),
    }
