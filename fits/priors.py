r"""Priors over the box of a parameter space: free parameters (uniform or log-uniform), fixed ones.

A :class:`Prior` lives on a :class:`~surrogates.space.ParameterSpace` (the space of the
likelihood's observables: a saved surrogate knows its own). It names the free parameters in
order, each with a range inside the space's box and a shape, and fixes every other parameter
at a value (typically a benchmark point), so fits can run in a sub-space, e.g.
:math:`(M_1, M_2, \mu)` of the pMSSM-19 with 16 parameters held fixed
(:func:`pmssm19_prior`, the convenience of the pMSSM-19 entry points).

- uniform on :math:`[a, b]`: :math:`x = a + u (b - a)`, :math:`\ln p = -\ln(b - a)`;
- log-uniform on :math:`[a, b]`, :math:`0 < a`: :math:`x = a (b/a)^u`,
  :math:`\ln p = -\ln x - \ln\ln(b/a)`.

Points are kept in two forms: ``theta`` (n, n_free), what the samplers move, and the full
points (n, n_dim) of the space that the likelihood sees (:meth:`Prior.to_full`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from surrogates.space import PMSSM19, ParameterSpace

__all__ = ["FreeParameter", "Prior", "pmssm19_prior"]

SHAPES = ("uniform", "log_uniform")


@dataclass(frozen=True)
class FreeParameter:
    """A free parameter: ``name``, range ``[low, high]`` in its unit, ``shape``."""

    name: str
    low: float
    high: float
    shape: str = "uniform"


class Prior:
    """Product prior over free parameters of a space, the others fixed.

    Parameters
    ----------
    space : ParameterSpace
        The parameters of the likelihood's points; ranges default to its box.
    free : mapping name -> spec, or sequence of FreeParameter or names
        A spec is ``None`` (uniform over the whole box range), ``"uniform"`` or
        ``"log_uniform"`` (whole box range), ``[low, high]`` (uniform), or a dict with keys
        ``low``, ``high``, ``shape``.
    fixed : mapping name -> float, optional
        Values of the parameters that are not free. Every parameter of ``space`` must be
        either free or fixed.

    Raises
    ------
    ValueError
        Naming the parameter, for unknown names, ranges outside the box of ``space``, a
        log-uniform range that is not positive, a parameter both free and fixed, or one that
        is neither.

    Examples
    --------
    >>> from surrogates.space import ParameterSpace
    >>> prior = Prior(ParameterSpace.box([0, 0, 0], [1, 1, 1]), ["x1", "x3"], {"x2": 0.5})
    >>> prior.to_full([[0.1, 0.9]]).tolist()
    [[0.1, 0.5, 0.9]]
    """

    def __init__(
        self, space: ParameterSpace, free: Any, fixed: Mapping[str, float] | None = None
    ) -> None:
        if not isinstance(space, ParameterSpace):
            raise ValueError(
                f"a Prior needs a surrogates.space.ParameterSpace first; got {type(space).__name__}"
            )
        self.space = space
        self.free = tuple(_parse_free(space, name, spec) for name, spec in _free_items(free))
        if not self.free:
            raise ValueError("a Prior needs at least one free parameter")
        fixed = dict(fixed or {})
        names = [p.name for p in self.free]
        both = sorted(set(names) & set(fixed))
        if both or len(set(names)) != len(names):
            raise ValueError(
                f"parameter(s) given twice (free and fixed, or free twice): {both or names}"
            )
        missing = [p for p in space.names if p not in names and p not in fixed]
        if missing:
            raise ValueError(
                f"parameter(s) {', '.join(missing)} are neither free nor fixed; give them a value "
                f"in fixed (e.g. a benchmark point)"
            )
        self._base = np.zeros(space.n_dim)
        for name, value in fixed.items():
            i = space.index(name)
            value = float(value)
            p = space.parameters[i]
            if not p.low <= value <= p.high:
                raise ValueError(
                    f"fixed parameter {name!r}: {value:g} lies outside the box [{p.low:g}, "
                    f"{p.high:g}] {p.unit}".rstrip()
                )
            self._base[i] = value
        self.fixed = {n: float(v) for n, v in fixed.items()}
        self._index = np.array([space.index(p.name) for p in self.free])
        self._low = np.array([p.low for p in self.free])
        self._high = np.array([p.high for p in self.free])
        self._log = np.array([p.shape == "log_uniform" for p in self.free])

    @classmethod
    def around(cls, space: ParameterSpace, benchmark: Mapping[str, float], free: Any) -> Prior:
        """Free parameters ``free`` (as in ``__init__``), the others fixed at ``benchmark``.

        ``benchmark`` maps parameter names to values (keys that are no parameter of ``space``
        are ignored).
        """
        names = {name for name, _ in _free_items(free)}
        fixed = {k: v for k, v in benchmark.items() if k in space.names and k not in names}
        return cls(space, free, fixed)

    @property
    def names(self) -> list[str]:
        """Names of the free parameters, in sampling order."""
        return [p.name for p in self.free]

    @property
    def labels(self) -> list[str]:
        """LaTeX labels of the free parameters (their names where the space has none)."""
        return [self.space.parameters[i].latex or self.space.names[i] for i in self._index]

    @property
    def ndim(self) -> int:
        """Number of free parameters."""
        return len(self.free)

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Map the unit cube to the free parameters: ``u`` (n, ndim) -> ``theta`` (n, ndim)."""
        u = np.asarray(u, float)
        lin = self._low + u * (self._high - self._low)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = self._low * (self._high / self._low) ** u
        return np.where(self._log, logs, lin)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        """Log prior density of ``theta`` (n, ndim), shape (n,); ``-inf`` outside the ranges."""
        theta = np.asarray(theta, float)
        inside = ((theta >= self._low) & (theta <= self._high)).all(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp_log = -np.log(np.abs(theta)) - np.log(np.log(self._high / self._low))
        lp = np.where(self._log, lp_log, -np.log(self._high - self._low)).sum(axis=1)
        return np.where(inside, lp, -np.inf)

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``n`` prior points, shape (n, ndim)."""
        rng = np.random.default_rng(rng)
        return self.transform(rng.uniform(size=(n, self.ndim)))

    def to_full(self, theta: np.ndarray) -> np.ndarray:
        """Insert free values ``theta`` (n, ndim) into the fixed point: shape (n, n_dim)."""
        theta = np.asarray(theta, float)
        full = np.tile(self._base, (theta.shape[0], 1))
        full[:, self._index] = theta
        return full

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description of the free and fixed parameters (round-trips through
        ``Prior(space, **d)``)."""
        return {
            "free": {p.name: {"low": p.low, "high": p.high, "shape": p.shape} for p in self.free},
            "fixed": dict(self.fixed),
        }

    def __repr__(self) -> str:
        return f"Prior(free={self.names}, n_fixed={len(self.fixed)})"


def _free_items(free: Any) -> list[tuple[str, Any]]:
    if isinstance(free, Mapping):
        return list(free.items())
    if isinstance(free, str):
        return [(free, None)]
    return [(p.name, p) if isinstance(p, FreeParameter) else (p, None) for p in free]


def pmssm19_prior(benchmark: Mapping[str, float] | None, free: Any) -> Prior:
    """A prior on the pMSSM-19 space, for the pMSSM-19 entry points (the fit YAML, the
    benchmarks): :meth:`Prior.around` of :data:`~surrogates.space.PMSSM19`."""
    return Prior.around(PMSSM19, benchmark or {}, free)


def _parse_free(space: ParameterSpace, name: str, spec: Any) -> FreeParameter:
    p = space.parameters[space.index(name)]
    if isinstance(spec, FreeParameter):
        low, high, shape = spec.low, spec.high, spec.shape
    elif spec is None or isinstance(spec, str):
        low, high, shape = p.low, p.high, spec or "uniform"
    elif isinstance(spec, Mapping):
        low, high = spec.get("low", p.low), spec.get("high", p.high)
        shape = spec.get("shape", "uniform")
    else:
        try:
            low, high = (float(v) for v in spec)
        except (TypeError, ValueError):
            raise ValueError(
                f"free parameter {name!r}: expected None, a shape, [low, high] or "
                f"{{low, high, shape}}; got {spec!r}"
            ) from None
        shape = "uniform"
    low, high = float(low), float(high)
    if shape not in SHAPES:
        raise ValueError(f"free parameter {name!r}: shape must be one of {SHAPES}; got {shape!r}")
    if not (p.low <= low < high <= p.high):
        raise ValueError(
            f"free parameter {name!r}: range [{low:g}, {high:g}] must satisfy "
            f"{p.low:g} <= low < high <= {p.high:g} {p.unit}".rstrip()
        )
    if shape == "log_uniform" and low <= 0:
        raise ValueError(
            f"free parameter {name!r}: a log-uniform range must be positive; got low={low:g}"
        )
    return FreeParameter(name, low, high, shape)
