r"""Input and target transforms, fitted on the training data, with exact inverses.

Models learn in a *model space*: standardised inputs, and targets that are standardised
(m_h), log-then-standardised (sigma) or left alone (the validity label). Predictions go back to
target units here. Two kinds of predictive output are inverted:

- ensemble members (BNN, deep ensemble): every member is mapped back with the exact inverse and
  the summary is the mean and standard deviation of the back-transformed members;
- a Gaussian in model space (GP): its exact moments in target units, e.g. for
  :math:`z = (\ln y - m)/s \sim \mathcal N(\mu, \sigma^2)` the log-normal moments
  :math:`E[y] = e^{m + s\mu + s^2\sigma^2/2}`,
  :math:`\mathrm{Var}[y] = (e^{s^2\sigma^2} - 1)\,E[y]^2`.

A naive back-transform of the standard deviation alone is never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["InputScaler", "TargetTransform"]

TransformKind = Literal["none", "standardize", "log_standardize"]


@dataclass
class InputScaler:
    """Per-column standardisation ``(x - mean) / scale`` fitted on training inputs.

    Attributes
    ----------
    mean, scale : ndarray of shape (n_features,)
        In each parameter's unit.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> InputScaler:
        """Fit on ``X`` of shape (n_points, n_features); constant columns get scale 1."""
        scale = X.std(axis=0)
        return cls(mean=X.mean(axis=0), scale=np.where(scale > 0, scale, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardise ``X`` of shape (n_points, n_features)."""
        return (X - self.mean) / self.scale

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> InputScaler:
        """Inverse of :meth:`to_dict`."""
        return cls(mean=np.asarray(state["mean"], float), scale=np.asarray(state["scale"], float))


@dataclass
class TargetTransform:
    """Target transform ``z = (g(y) - shift) / scale`` with ``g`` the identity or ``ln``.

    Parameters
    ----------
    kind : {"none", "standardize", "log_standardize"}
        ``"none"`` leaves the target alone (classifier labels and probabilities).
    shift, scale : float
        Fitted by :meth:`fit` on the training targets.
    """

    kind: TransformKind
    shift: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("none", "standardize", "log_standardize"):
            raise ValueError(
                f"kind must be one of 'none', 'standardize', 'log_standardize'; got {self.kind!r}"
            )

    @property
    def is_log(self) -> bool:
        """Whether the target is log-transformed."""
        return self.kind == "log_standardize"

    def _g(self, y: np.ndarray) -> np.ndarray:
        return np.log(y) if self.is_log else y

    def fit(self, y: np.ndarray, offset: np.ndarray | None = None) -> TargetTransform:
        """Fit shift and scale on training targets ``y`` of shape (n_points,); returns self.

        ``offset`` (shape (n_points,), in the units of ``g(y)``): a per-point baseline that
        :meth:`shifted` will subtract; shift and scale are then those of ``g(y) - offset``.
        """
        if self.kind != "none":
            g = self._g(np.asarray(y, float))
            g = g if offset is None else g - offset
            self.shift = float(g.mean())
            std = float(g.std())
            self.scale = std if std > 0 else 1.0
        return self

    def shifted(self, offset: np.ndarray) -> TargetTransform:
        """The transform with a per-point baseline: ``z = (g(y) - offset - shift) / scale``.

        ``offset`` of shape (n_points,) broadcasts against the last axis (points) of the
        arrays given to :meth:`forward`, :meth:`inverse` and :meth:`inverse_gaussian`.
        """
        return TargetTransform(self.kind, self.shift + np.asarray(offset, float), self.scale)

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Map targets (target units) to model space."""
        return (self._g(np.asarray(y, float)) - self.shift) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Exact inverse of :meth:`forward`, elementwise (members, points, ...)."""
        g = np.asarray(z, float) * self.scale + self.shift
        return np.exp(g) if self.is_log else g

    def inverse_gaussian(self, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation in target units of ``z ~ N(mean, std^2)`` in model space.

        Exact: linear for the standardisations, log-normal moments for the log transform.
        """
        mu = np.asarray(mean, float) * self.scale + self.shift
        sd = np.asarray(std, float) * self.scale
        if not self.is_log:
            return mu, sd
        expected = np.exp(mu + 0.5 * sd**2)
        return expected, expected * np.sqrt(np.expm1(sd**2))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"kind": self.kind, "shift": self.shift, "scale": self.scale}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> TargetTransform:
        """Inverse of :meth:`to_dict`."""
        return cls(kind=state["kind"], shift=float(state["shift"]), scale=float(state["scale"]))
