"""The pMSSM-19 parameter space: one source of truth for names, units, labels and the box.

The box is Table 1 of Kronheim et al., arXiv:2007.04506, with the exact ranges used to draw
the SOFTSUSY-labelled reference points (``shared/datasets/pmssm19_softsusy/PROVENANCE.md``).
Every parameter is drawn independently and uniformly inside its range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Parameter",
    "PARAMETERS",
    "PARAMETER_NAMES",
    "N_PARAMETERS",
    "box_low",
    "box_high",
    "sample_uniform",
    "unit_cube_transform",
    "parameter_index",
]


@dataclass(frozen=True)
class Parameter:
    """One pMSSM-19 input parameter.

    Attributes
    ----------
    name : str
        Column name used in data files and DataFrames.
    low, high : float
        Edges of the sampling box, in ``unit``.
    unit : str
        ``"GeV"`` or ``""`` (dimensionless, tan beta).
    latex : str
        LaTeX label for plots.
    description : str
        Meaning of the parameter (soft parameters are given at MX = MSUSY).
    """

    name: str
    low: float
    high: float
    unit: str
    latex: str
    description: str


_TEV4 = 4000.0
_TEV7 = 7000.0

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("M1", -_TEV4, _TEV4, "GeV", r"$M_1$", "bino mass"),
    Parameter("M2", -_TEV4, _TEV4, "GeV", r"$M_2$", "wino mass"),
    Parameter("M3", 0.0, _TEV4, "GeV", r"$M_3$", "gluino mass parameter"),
    Parameter("mu", -_TEV4, _TEV4, "GeV", r"$\mu$", "higgsino mass parameter"),
    Parameter("mA", 0.0, _TEV4, "GeV", r"$m_A$", "pseudoscalar Higgs pole mass"),
    Parameter("tanb", 1.0, 60.0, "", r"$\tan\beta$", "ratio of Higgs vevs at MZ"),
    Parameter("At", -_TEV7, _TEV7, "GeV", r"$A_t$", "stop trilinear coupling"),
    Parameter("Ab", -_TEV7, _TEV7, "GeV", r"$A_b$", "sbottom trilinear coupling"),
    Parameter("Atau", -_TEV7, _TEV7, "GeV", r"$A_\tau$", "stau trilinear coupling"),
    Parameter("mqL1", 0.0, _TEV4, "GeV", r"$m_{\tilde Q_1}$", "1st/2nd-gen. left squark mass"),
    Parameter("muR1", 0.0, _TEV4, "GeV", r"$m_{\tilde u_R}$", "1st/2nd-gen. right up-squark mass"),
    Parameter(
        "mdR1", 0.0, _TEV4, "GeV", r"$m_{\tilde d_R}$", "1st/2nd-gen. right down-squark mass"
    ),
    Parameter("mlL1", 0.0, _TEV4, "GeV", r"$m_{\tilde L_1}$", "1st/2nd-gen. left slepton mass"),
    Parameter("meR1", 0.0, _TEV4, "GeV", r"$m_{\tilde e_R}$", "1st/2nd-gen. right selectron mass"),
    Parameter("mqL3", 0.0, _TEV4, "GeV", r"$m_{\tilde Q_3}$", "3rd-gen. left squark mass"),
    Parameter("mtR3", 0.0, _TEV4, "GeV", r"$m_{\tilde t_R}$", "right stop mass"),
    Parameter("mbR3", 0.0, _TEV4, "GeV", r"$m_{\tilde b_R}$", "right sbottom mass"),
    Parameter("mlL3", 0.0, _TEV4, "GeV", r"$m_{\tilde L_3}$", "3rd-gen. left slepton mass"),
    Parameter("mtauR3", 0.0, _TEV4, "GeV", r"$m_{\tilde \tau_R}$", "right stau mass"),
)

PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
N_PARAMETERS: int = len(PARAMETERS)


def box_low() -> np.ndarray:
    """Lower edges of the box, shape ``(19,)``, in each parameter's unit."""
    return np.array([p.low for p in PARAMETERS])


def box_high() -> np.ndarray:
    """Upper edges of the box, shape ``(19,)``, in each parameter's unit."""
    return np.array([p.high for p in PARAMETERS])


def parameter_index(name: str) -> int:
    """Position of parameter ``name`` in :data:`PARAMETER_NAMES`.

    Raises
    ------
    ValueError
        If ``name`` is not a pMSSM-19 parameter.
    """
    try:
        return PARAMETER_NAMES.index(name)
    except ValueError:
        raise ValueError(
            f"unknown parameter {name!r}; the pMSSM-19 parameters are {', '.join(PARAMETER_NAMES)}"
        ) from None


def unit_cube_transform(u: np.ndarray) -> np.ndarray:
    """Map points of the unit hypercube onto the box (the prior transform of nested sampling).

    Parameters
    ----------
    u : ndarray of shape (n_points, 19)
        Coordinates in ``[0, 1]``.

    Returns
    -------
    ndarray of shape (n_points, 19)
        ``low + u * (high - low)`` per column, in each parameter's unit.
    """
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] != N_PARAMETERS:
        raise ValueError(f"u must have shape (n_points, {N_PARAMETERS}); got {u.shape}")
    low, high = box_low(), box_high()
    return low + u * (high - low)


def sample_uniform(n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Draw ``n`` points uniformly in the box, as the reference data were drawn.

    Parameters
    ----------
    n : int
        Number of points.
    rng : numpy Generator or int seed, optional

    Returns
    -------
    ndarray of shape (n, 19)
    """
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n}")
    rng = np.random.default_rng(rng)
    return unit_cube_transform(rng.uniform(size=(n, N_PARAMETERS)))
