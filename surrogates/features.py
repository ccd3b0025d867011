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
      third-generation squark and slepton soft masses;
    - tree-level spectrum (:mod:`surrogates.tree_level`): :math:`\ln|m_{\chi^0_1}|`,
      :math:`\ln|m_{\chi^0_2}|`, :math:`\ln m_{\chi^\pm_1}`, the pair's
      :math:`\ln m`, :math:`f_W`, :math:`f_H` and :math:`\ln\sigma` of the cross-section
      definition at tree level (sigma floored at 1e-12 fb), :math:`m_h` at tree level and with
      the leading one-loop stop term, and the signed lighter stop, sbottom and stau masses
      (negative: tachyonic at tree level).

``"pmssm19_loops"``
    ``"pmssm19_physics"`` plus 19 terms that the residuals of the shipped ``paper`` models point
    to (the m_h error is largest where :math:`|\mu\tan\beta|` is largest, the validity
    errors are tachyons of the first two generations; the formulas and their sources are in
    :mod:`surrogates.tree_level`):

    - large :math:`\tan\beta`: :math:`\Delta_b` (clipped to :math:`\pm 3`), :math:`\ln y_b`,
      :math:`\ln(1 + |\Delta m_h^2|/M_Z^2)` of the sbottom and of the stau term,
      :math:`\ln(|\mu| / M_{\tilde b})`, :math:`\ln(|\mu| / M_{\tilde\tau})` (abs(mu)
      floored at 1 GeV), and :math:`\operatorname{asinh} x_b`,
      :math:`\operatorname{asinh} x_\tau` with :math:`x_f = X_f / M_{\tilde f}`;
    - the first two generations: the signed roots of the seven D-term-corrected squared
      masses (:math:`\tilde u_L, \tilde u_R, \tilde d_L, \tilde d_R, \tilde e_L,
      \tilde e_R, \tilde\nu`), the smallest of them, and the hypercharge trace :math:`S` in
      TeV\ :sup:`2`;
    - electroweak symmetry breaking: the signed roots of the tree-level :math:`m_{H_u}^2` and
      :math:`m_{H_d}^2` that the minimisation conditions give for :math:`m_A, \mu, \tan\beta`.

Masses in GeV; :math:`\ln m_A` in ln GeV with a floor of 1 GeV (finite at the box's edge).
Every feature is bounded on the box, so no point of it gets a standardised input far beyond
those seen in training.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from surrogates import tree_level as tl
from surrogates.space import ParameterSpace

__all__ = ["FEATURE_MAPS", "feature_names", "transform_features", "check_feature_map"]

M_TOP, M_Z = tl.M_TOP, tl.M_Z
#: Floor of the tree-level cross section under its logarithm, fb.
_XSEC_FLOOR = 1e-12
#: Largest abs(x_t) of the one-loop stop correction: twice maximal mixing (x_t = sqrt 6).
_XT_MAX = 2 * 6**0.5
#: Floor of masses under a logarithm, GeV.
_LOG_FLOOR = 1.0

_PHYSICS_NAMES = (
    "absM1", "absM2", "absmu", "absM2_minus_absmu", "absM1_minus_absM2", "absM1_minus_absmu",
    "m_chargino_tree", "m_lightest_ewino", "m_middle_ewino", "sign_M1_mu", "sign_M2_mu",
    "abs_cos2beta", "ln_MS", "xt", "stop_loop", "ln_mA", "ln1p_At2_over_m2",
    "ln1p_Ab2_over_m2", "ln1p_Atau2_over_m2", "min_m_squark3", "min_m_slepton3",
    "ln_mN1_tree", "ln_mN2_tree", "ln_mC1_tree", "ln_m_n2c1_tree", "fW_tree", "fH_tree",
    "ln_xsec_tree", "mh_tree", "mh_one_loop", "m_stop1_tree", "m_sbottom1_tree",
    "m_stau1_tree",
)
_LOOP_NAMES = (
    "delta_b", "ln_yb", "ln_dmh2_sbottom", "ln_dmh2_stau", "ln_mu_over_msbottom",
    "ln_mu_over_mstau", "asinh_xb", "asinh_xtau",
    "m_uL_tree", "m_uR_tree", "m_dL_tree", "m_dR_tree", "m_eL_tree", "m_eR_tree", "m_nuL_tree",
    "m_sfermion12_min", "hypercharge_trace", "m_Hu_tree", "m_Hd_tree",
)
#: abs(Delta_b) beyond this is clipped: the resummed coupling has no meaning there.
_DELTA_B_MAX = 3.0


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
        np.abs(tl.cos_2beta(tanb)),
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
    neutralino = tl.neutralinos(p["M1"], p["M2"], p["mu"], tanb)
    chargino = tl.charginos(p["M2"], p["mu"], tanb)
    mn, mc = neutralino[0], chargino[0]
    mass, f_w, f_h, sigma = tl.n2c1_tree(neutralino, chargino)
    mh_tree, mh_loop = tl.higgs_mass_one_loop(p["mA"], tanb, p["At"], p["mu"], p["mqL3"],
                                              p["mtR3"])
    floor = _LOG_FLOOR
    derived += [
        np.log(np.maximum(np.abs(mn[:, 0]), floor)), np.log(np.maximum(np.abs(mn[:, 1]), floor)),
        np.log(np.maximum(mc[:, 0], floor)), np.log(np.maximum(mass, floor)), f_w, f_h,
        np.log(np.maximum(sigma, _XSEC_FLOOR)), mh_tree, mh_loop,
        tl.lightest_sfermion(p["mqL3"], p["mtR3"], tl.M_TOP, p["At"] - p["mu"] / tanb),
        tl.lightest_sfermion(p["mqL3"], p["mbR3"], tl.M_B, p["Ab"] - p["mu"] * tanb),
        tl.lightest_sfermion(p["mlL3"], p["mtauR3"], tl.M_TAU, p["Atau"] - p["mu"] * tanb),
    ]
    return np.column_stack([X, *derived])


def _loops(X: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    p = {name: X[:, i] for i, name in enumerate(names)}
    mu, tanb = p["mu"], p["tanb"]
    delta_b = np.clip(
        tl.bottom_yukawa_correction(p["M3"], mu, tanb, p["At"], p["mqL3"], p["mtR3"], p["mbR3"]),
        -_DELTA_B_MAX, _DELTA_B_MAX,
    )
    sbottom, stau = tl.sbottom_stau_higgs_terms(
        mu, tanb, delta_b, p["mqL3"], p["mbR3"], p["mlL3"], p["mtauR3"]
    )
    m_b = tl.sfermion_scale(p["mqL3"], p["mbR3"], tl.M_B)
    m_tau = tl.sfermion_scale(p["mlL3"], p["mtauR3"], tl.M_TAU)
    abs_mu = np.maximum(np.abs(mu), _LOG_FLOOR)
    soft12 = (p["mqL1"], p["muR1"], p["mdR1"], p["mlL1"], p["meR1"])
    soft3 = (p["mqL3"], p["mtR3"], p["mbR3"], p["mlL3"], p["mtauR3"])
    light = tl.signed_root(tl.first_generation_sfermions(tanb, *soft12))
    derived = [
        delta_b, np.log(tl.bottom_yukawa(tanb, delta_b)),
        np.log1p(-sbottom / M_Z**2), np.log1p(-stau / M_Z**2),
        np.log(abs_mu / m_b), np.log(abs_mu / m_tau),
        np.arcsinh((p["Ab"] - mu * tanb) / m_b), np.arcsinh((p["Atau"] - mu * tanb) / m_tau),
        *light.T, light.min(axis=1),
        tl.hypercharge_trace(p["mA"], tanb, soft12, soft3) / 1e6,
        *tl.signed_root(tl.higgs_soft_masses(p["mA"], mu, tanb)).T,
    ]
    return np.column_stack([_physics(X, names), *derived])


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
    "pmssm19_loops": (
        ("M1", "M2", "M3", "mu", "mA", "tanb", "At", "Ab", "Atau", "mqL1", "muR1", "mdR1",
         "mlL1", "meR1", "mqL3", "mtR3", "mbR3", "mlL3", "mtauR3"),
        _loops,
        _PHYSICS_NAMES + _LOOP_NAMES,
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
