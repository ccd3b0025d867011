r"""Input features derived from the parameters of a space, computed before standardisation.

A surrogate learns on ``features(X)`` rather than on the raw parameters ``X`` when a feature
map is named (``features="pmssm19_physics"``). The training box, the input checks and the
``outside_domain`` flag stay on the raw parameters; only the network (or GP) sees the features.

``"raw"``
    The parameters themselves (any space).
``"pmssm19_physics"``
    The 19 pMSSM parameters plus 21 combinations that the spectrum depends on simply, where
    the raw parameters would make a network learn them first:

    - electroweakinos (tree-level mass matrices, e.g. Martin, *A Supersymmetry Primer*,
      hep-ph/9709356, Sec. 8.2): :math:`|M_1|, |M_2|, |\mu|`; their differences
      :math:`|M_2| - |\mu|`, :math:`|M_1| - |M_2|`, :math:`|M_1| - |\mu|`, which decide the
      bino / wino / higgsino nature of :math:`\tilde\chi^0_2` and :math:`\tilde\chi^\pm_1`;
      :math:`\min(|M_2|, |\mu|)` (lightest chargino mass at tree level),
      the smallest and the middle of :math:`|M_1|, |M_2|, |\mu|` (LSP and next mass scale),
      and the signs of :math:`M_1\mu` and :math:`M_2\mu` (they set the mixing);
    - the light Higgs mass (Carena, Espinosa, Quiros, Wagner, hep-ph/9504316; Djouadi,
      hep-ph/0503173, Eq. 1.112): :math:`|\cos 2\beta|` (tree level
      :math:`m_h = M_Z |\cos 2\beta|` for :math:`m_A \gg M_Z`),
      the stop mass scale :math:`M_S^2 = m_{\tilde t_1} m_{\tilde t_2}` with the diagonal
      stop masses :math:`m_{\tilde t_{L,R}}^2 \approx m_{Q_3, t_R}^2 + m_t^2` (as
      :math:`\ln M_S`), :math:`x_t = X_t / M_S` with :math:`X_t = A_t - \mu/\tan\beta`, and
      the one-loop stop correction :math:`\ln(M_S^2/m_t^2) + x_t^2 (1 - x_t^2/12)`, with
      :math:`x_t` clipped to :math:`\pm 2\sqrt6` (twice maximal mixing; beyond it the
      expansion has no meaning and would dominate the inputs); :math:`m_t = 173.1` GeV, the
      SMINPUTS of the reference data (PROVENANCE.md); :math:`\ln m_A`;
    - validity: the trilinear-to-soft-mass ratios
      :math:`\ln(1 + A_t^2/(m_{Q_3}^2 + m_{t_R}^2 + M_Z^2))`, the same for
      :math:`(A_b; m_{Q_3}, m_{b_R})` and :math:`(A_\tau; m_{L_3}, m_{\tau_R})` (large ones drive
      a sfermion tachyonic or break the charge- and colour-conserving vacuum, the bound of
      Casas, Lleyda, Munoz, hep-ph/9507294; :math:`M_Z = 91.1876` GeV of SMINPUTS regularises
      the ratio at the box's edge, the logarithm keeps it of order one), and the smallest
      third-generation squark and slepton soft masses.

Masses in GeV; :math:`\ln m_A` in ln GeV with a floor of 1 GeV (finite at the box's edge).
Every feature is bounded on the box, so no point of it gets a standardised input far beyond
those seen in training.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from surrogates.space import ParameterSpace

__all__ = ["FEATURE_MAPS", "feature_names", "transform_features", "check_feature_map"]

#: Top-quark pole mass and Z mass of the reference data's SMINPUTS (PROVENANCE.md), GeV.
M_TOP = 173.1
M_Z = 91.1876
#: Largest |x_t| of the one-loop stop correction: twice maximal mixing (x_t = sqrt 6).
_XT_MAX = 2 * 6**0.5
#: Floor of masses under a logarithm, GeV.
_LOG_FLOOR = 1.0

_PHYSICS_NAMES = (
    "absM1", "absM2", "absmu", "absM2_minus_absmu", "absM1_minus_absM2", "absM1_minus_absmu",
    "m_chargino_tree", "m_lightest_ewino", "m_middle_ewino", "sign_M1_mu", "sign_M2_mu",
    "abs_cos2beta", "ln_MS", "xt", "stop_loop", "ln_mA", "ln1p_At2_over_m2",
    "ln1p_Ab2_over_m2", "ln1p_Atau2_over_m2", "min_m_squark3", "min_m_slepton3",
)


def _physics(X: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    p = {name: X[:, i] for i, name in enumerate(names)}
    a1, a2, am = np.abs(p["M1"]), np.abs(p["M2"]), np.abs(p["mu"])
    ewino = np.sort(np.stack([a1, a2, am], axis=1), axis=1)
    tanb = p["tanb"]
    ms = np.sqrt(np.sqrt((p["mqL3"] ** 2 + M_TOP**2) * (p["mtR3"] ** 2 + M_TOP**2)))
    xt = (p["At"] - p["mu"] / tanb) / ms
    xc = np.clip(xt, -_XT_MAX, _XT_MAX)
    derived = [
        a1, a2, am, a2 - am, a1 - a2, a1 - am,
        np.minimum(a2, am), ewino[:, 0], ewino[:, 1],
        np.sign(p["M1"] * p["mu"]), np.sign(p["M2"] * p["mu"]),
        np.abs((1 - tanb**2) / (1 + tanb**2)),
        np.log(ms),
        xt,
        np.log(ms**2 / M_TOP**2) + xc**2 * (1 - xc**2 / 12),
        np.log(np.maximum(p["mA"], _LOG_FLOOR)),
        np.log1p(p["At"] ** 2 / (p["mqL3"] ** 2 + p["mtR3"] ** 2 + M_Z**2)),
        np.log1p(p["Ab"] ** 2 / (p["mqL3"] ** 2 + p["mbR3"] ** 2 + M_Z**2)),
        np.log1p(p["Atau"] ** 2 / (p["mlL3"] ** 2 + p["mtauR3"] ** 2 + M_Z**2)),
        np.minimum(np.minimum(p["mqL3"], p["mtR3"]), p["mbR3"]),
        np.minimum(p["mlL3"], p["mtauR3"]),
    ]
    return np.column_stack([X, *derived])


#: name -> (parameter names required, or None for any space; the map; names of the extra columns)
FEATURE_MAPS: dict[
    str, tuple[tuple[str, ...] | None, Callable[[np.ndarray, tuple[str, ...]], np.ndarray],
               tuple[str, ...]]
] = {
    "raw": (None, lambda X, names: X, ()),
    "pmssm19_physics": (
        ("M1", "M2", "mu", "mA", "tanb", "At", "Ab", "Atau", "mqL3", "mtR3", "mbR3", "mlL3",
         "mtauR3"),
        _physics,
        _PHYSICS_NAMES,
    ),
}


def check_feature_map(name: str, space: ParameterSpace) -> None:
    """Raise ``ValueError`` unless ``name`` is a feature map that applies to ``space``."""
    if name not in FEATURE_MAPS:
        raise ValueError(f"features must be one of {', '.join(FEATURE_MAPS)}; got {name!r}")
    required = FEATURE_MAPS[name][0]
    missing = [] if required is None else [r for r in required if r not in space.names]
    if missing:
        raise ValueError(
            f"features={name!r} needs the parameter(s) {', '.join(missing)}, which the space "
            f"{space.name!r} does not have"
        )


def feature_names(name: str, space: ParameterSpace) -> tuple[str, ...]:
    """Names of the columns of :func:`transform_features`: the parameters, then the extras."""
    return (*space.names, *FEATURE_MAPS[name][2])


def transform_features(name: str, space: ParameterSpace, X: np.ndarray) -> np.ndarray:
    """The features of points ``X`` of shape (n_points, n_dim), shape (n_points, n_features)."""
    return FEATURE_MAPS[name][1](X, tuple(space.names))
