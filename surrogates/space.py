"""Parameter spaces: one source of truth for names, units, labels and the box.

:data:`PMSSM19` is the pMSSM-19 space of the library. Its box is Table 1 of Kronheim et al.,
arXiv:2007.04506, with the exact ranges used to draw the SOFTSUSY-labelled reference points
(``shared/datasets/pmssm19_softsusy/PROVENANCE.md``); every parameter is drawn independently
and uniformly inside its range. Other spaces (a pMSSM sub-space, the analytic benchmarks of
:mod:`fits.scan`) are :class:`ParameterSpace` objects built the same way; every surrogate takes
one (``space=``, default :data:`PMSSM19`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Parameter",
    "ParameterSpace",
    "PMSSM19",
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
    """One input parameter.

    Attributes
    ----------
    name : str
        Column name used in data files and DataFrames.
    low, high : float
        Edges of the sampling box, in ``unit``.
    unit : str
        E.g. ``"GeV"``, or ``""`` for a dimensionless parameter (tan beta).
    latex : str
        LaTeX label for plots.
    description : str
        Meaning of the parameter (pMSSM soft parameters are given at MX = MSUSY).
    """

    name: str
    low: float
    high: float
    unit: str = ""
    latex: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise ValueError(
                f"parameter {self.name!r}: the box needs finite low < high; "
                f"got [{self.low!r}, {self.high!r}]"
            )


class ParameterSpace:
    """An ordered set of parameters, each uniform in its range: the box of a surrogate or scan.

    Parameters
    ----------
    parameters : sequence of Parameter
        In column order; names must be unique.
    name : str
        Short name, e.g. ``"pMSSM-19"`` or ``"eggbox"``.

    Examples
    --------
    >>> space = ParameterSpace([Parameter("x1", 0.0, 1.0), Parameter("x2", 0.0, 1.0)], "square")
    >>> space.sample_uniform(3, rng=0).shape
    (3, 2)
    """

    def __init__(self, parameters: Sequence[Parameter], name: str = "custom") -> None:
        self.parameters = tuple(parameters)
        self.name = str(name)
        if not self.parameters:
            raise ValueError("a parameter space needs at least one parameter")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"parameter names must be unique; repeated: {', '.join(dup)}")
        self.names: tuple[str, ...] = tuple(names)
        self.low = np.array([p.low for p in self.parameters])
        self.high = np.array([p.high for p in self.parameters])

    @classmethod
    def box(cls, low: Sequence[float], high: Sequence[float], name: str = "box") -> ParameterSpace:
        """A space of dimensionless parameters ``x1 .. xd`` with the given edges."""
        low, high = np.broadcast_arrays(np.asarray(low, float), np.asarray(high, float))
        params = [
            Parameter(f"x{i + 1}", float(lo), float(hi), latex=f"$x_{{{i + 1}}}$")
            for i, (lo, hi) in enumerate(zip(low.ravel(), high.ravel(), strict=True))
        ]
        return cls(params, name)

    @property
    def n_dim(self) -> int:
        """Number of parameters."""
        return len(self.parameters)

    def __len__(self) -> int:
        return self.n_dim

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterSpace) and self.parameters == other.parameters

    def __hash__(self) -> int:
        return hash(self.parameters)

    def __repr__(self) -> str:
        return f"ParameterSpace({self.name!r}, {self.n_dim} parameters: {', '.join(self.names)})"

    def index(self, name: str) -> int:
        """Position of parameter ``name``.

        Raises
        ------
        ValueError
            If ``name`` is not a parameter of this space.
        """
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown parameter {name!r}; the {self.name} parameters are "
                f"{', '.join(self.names)}"
            ) from None

    def unit_cube_transform(self, u: np.ndarray) -> np.ndarray:
        """Map points of the unit hypercube onto the box (the prior transform of nested sampling).

        Parameters
        ----------
        u : ndarray of shape (n_points, n_dim)
            Coordinates in ``[0, 1]``.

        Returns
        -------
        ndarray of shape (n_points, n_dim)
            ``low + u * (high - low)`` per column, in each parameter's unit.
        """
        u = np.asarray(u, dtype=float)
        if u.ndim != 2 or u.shape[1] != self.n_dim:
            raise ValueError(f"u must have shape (n_points, {self.n_dim}); got {u.shape}")
        return self.low + u * (self.high - self.low)

    def to_unit_cube(self, X: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`unit_cube_transform`."""
        return (np.asarray(X, dtype=float) - self.low) / (self.high - self.low)

    def contains(self, X: np.ndarray) -> np.ndarray:
        """Boolean mask of shape (n_points,): True where a point lies inside the box."""
        X = np.asarray(X, dtype=float)
        return ((X >= self.low) & (X <= self.high)).all(axis=1)

    def sample_uniform(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``n`` points uniformly in the box, shape ``(n, n_dim)``."""
        if n < 0:
            raise ValueError(f"n must be >= 0; got {n}")
        rng = np.random.default_rng(rng)
        return self.unit_cube_transform(rng.uniform(size=(n, self.n_dim)))

    def subspace(self, free: Sequence[str], name: str | None = None) -> ParameterSpace:
        """The space of the parameters ``free`` (in that order), with this space's ranges."""
        params = [self.parameters[self.index(n)] for n in free]
        return ParameterSpace(params, name or f"{self.name}[{','.join(free)}]")

    def to_dict(self) -> dict[str, list]:
        """JSON-serialisable form: ``{name: [low, high, unit, latex, description]}``."""
        return {p.name: [p.low, p.high, p.unit, p.latex, p.description] for p in self.parameters}

    @classmethod
    def from_dict(cls, state: dict[str, list], name: str = "custom") -> ParameterSpace:
        """Inverse of :meth:`to_dict`."""
        return cls([Parameter(k, *v) for k, v in state.items()], name)


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

#: The pMSSM-19 space of the reference data.
PMSSM19 = ParameterSpace(PARAMETERS, "pMSSM-19")
PARAMETER_NAMES: tuple[str, ...] = PMSSM19.names
N_PARAMETERS: int = PMSSM19.n_dim


def box_low() -> np.ndarray:
    """Lower edges of the pMSSM-19 box, shape ``(19,)``, in each parameter's unit."""
    return PMSSM19.low.copy()


def box_high() -> np.ndarray:
    """Upper edges of the pMSSM-19 box, shape ``(19,)``, in each parameter's unit."""
    return PMSSM19.high.copy()


def parameter_index(name: str) -> int:
    """Position of parameter ``name`` in :data:`PARAMETER_NAMES`.

    Raises
    ------
    ValueError
        If ``name`` is not a pMSSM-19 parameter.
    """
    return PMSSM19.index(name)


def unit_cube_transform(u: np.ndarray) -> np.ndarray:
    """:meth:`ParameterSpace.unit_cube_transform` of :data:`PMSSM19`."""
    return PMSSM19.unit_cube_transform(u)


def sample_uniform(n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Draw ``n`` pMSSM-19 points uniformly in the box, as the reference data were drawn."""
    return PMSSM19.sample_uniform(n, rng)
