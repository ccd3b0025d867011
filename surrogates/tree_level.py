r"""Tree-level (and leading one-loop) MSSM quantities computed from pMSSM-19 parameters.

These are the simple approximations a spectrum generator improves on; the surrogates get them
as input features (:mod:`surrogates.features`) and learn the corrections. Conventions of SLHA
(Skands et al., hep-ph/0311123) and Martin, *A Supersymmetry Primer*, hep-ph/9709356; all
masses in GeV.

- **Electroweak inputs**: the SMINPUTS of the reference data (PROVENANCE.md):
  :math:`\alpha^{-1}(M_Z) = 127.916`, :math:`G_F = 1.16637\times10^{-5}` GeV\ :sup:`-2`,
  :math:`M_Z = 91.1876`, :math:`m_t = 173.1`, :math:`m_b(m_b) = 4.18`,
  :math:`m_\tau = 1.77686`. Tree-level :math:`\sin^2\theta_W\cos^2\theta_W = \pi\alpha /
  (\sqrt2 G_F M_Z^2)`, :math:`M_W = M_Z\cos\theta_W`, :math:`v = (\sqrt2 G_F)^{-1/2}`.
- **Neutralinos** (Martin Eq. 8.2.2, basis :math:`\tilde B, \tilde W, \tilde H_d, \tilde H_u`):
  the symmetric mass matrix is diagonalised, :math:`N M N^T = \mathrm{diag}(m_{\chi^0_i})`,
  eigenvalues signed and ordered by :math:`|m|`.
- **Charginos** (Martin Eq. 8.2.11):
  :math:`X = \begin{pmatrix} M_2 & \sqrt2 s_\beta M_W\\ \sqrt2 c_\beta M_W & \mu\end{pmatrix}`,
  :math:`U X V^T = \mathrm{diag}(m_{\chi^\pm_1}, m_{\chi^\pm_2})` by the singular value
  decomposition.
- **sigma(N2 C1) at tree level**: the definition of :mod:`surrogates.data.xsec` (fW, fH, m and
  the working-group sigma_wino) applied to the tree-level masses and mixings.
- **Light Higgs**: tree level (Martin Eq. 8.1.20)
  :math:`m_h^2 = \frac12\big[m_A^2 + M_Z^2 - \sqrt{(m_A^2 + M_Z^2)^2 - 4 m_A^2 M_Z^2
  \cos^2 2\beta}\big]`, plus the leading one-loop stop term (Carena, Espinosa, Quiros, Wagner,
  hep-ph/9504316) :math:`\Delta m_h^2 = \frac{3 m_t^4}{2\pi^2 v^2}\big[\ln\frac{M_S^2}{m_t^2}
  + x_t^2\big(1 - \frac{x_t^2}{12}\big)\big]`, :math:`x_t = X_t/M_S`,
  :math:`X_t = A_t - \mu\cot\beta`.
- **Third-generation sfermions** (Martin Eqs. 8.4.18-8.4.20 without D-terms): the lighter
  eigenvalue of
  :math:`\begin{pmatrix} m_{\tilde L}^2 + m_f^2 & m_f X_f\\ m_f X_f & m_{\tilde R}^2 + m_f^2
  \end{pmatrix}` with :math:`X_t = A_t - \mu\cot\beta`, :math:`X_{b,\tau} = A_{b,\tau} -
  \mu\tan\beta`; negative means a tachyon (an invalid point), returned as the signed root
  :math:`\mathrm{sign}(m^2)\sqrt{|m^2|}`.
- **Large-tan beta corrections** (the terms that make the sbottom and stau loops matter):
  the gluino-sbottom and higgsino-stop correction to the bottom Yukawa coupling (Carena,
  Garcia, Nierste, Wagner, hep-ph/9912516; Hall, Rattazzi, Sarid, hep-ph/9306309)
  :math:`\Delta_b = \frac{2\alpha_s}{3\pi} M_3 \mu \tan\beta\, I(m_{Q_3}^2, m_{b_R}^2, M_3^2)
  + \frac{y_t^2}{16\pi^2} A_t \mu \tan\beta\, I(m_{Q_3}^2, m_{t_R}^2, \mu^2)` with
  :math:`I(a, b, c) = \int_0^\infty t\,dt / ((t+a)(t+b)(t+c))` (the closed form
  :math:`[ab\ln\frac ab + bc\ln\frac bc + ca\ln\frac ca]/[(a-b)(b-c)(a-c)]`, free of its
  0/0 at equal masses), the soft masses standing in for the sfermion masses and
  :math:`\alpha_s(M_Z) = 0.1181` of SMINPUTS for the coupling at the sparticle scale; and the
  leading negative sbottom and stau contributions to :math:`m_h^2` at large
  :math:`\mu\tan\beta` (Carena, Gori, Shah, Wagner, arXiv:1112.3336)
  :math:`\Delta m_h^2 = -\frac{y_b^4 v^2}{16\pi^2}\frac{\mu^4}{M_{\tilde b}^4}
  - \frac{y_\tau^4 v^2}{48\pi^2}\frac{\mu^4}{M_{\tilde\tau}^4}`, with
  :math:`v = 174.1` GeV (:math:`v^2 = 1/(2\sqrt2 G_F)`),
  :math:`y_b = m_b / (v\cos\beta\,|1 + \Delta_b|)` (:math:`|1 + \Delta_b|` floored at 0.1,
  where the resummation has no meaning), :math:`y_\tau = m_\tau / (v \cos\beta)`,
  :math:`M_{\tilde f}^4 = (m_{L}^2 + m_f^2)(m_{R}^2 + m_f^2)`; :math:`m_b(m_b)` of SMINPUTS for
  :math:`m_b`. The expansion holds for :math:`|\mu| \lesssim M_{\tilde f}`; the ratio
  :math:`|\mu|/M_{\tilde f}` is clipped at :math:`2\sqrt6`, as :math:`x_t` is (beyond it the
  terms say only "large").
- **First- and second-generation sfermions** (Martin Sec. 8.4): the
  squared masses with their D-terms, :math:`m^2 + (T_3 - Q\sin^2\theta_W)\cos2\beta\,M_Z^2`,
  and the hypercharge trace that drives them in the renormalisation-group running
  (the :math:`S` term of the one-loop soft-mass RGEs, Martin Sec. 5.5; Martin & Vaughn,
  hep-ph/9311340), :math:`S = m_{H_u}^2 - m_{H_d}^2 + \sum_{\rm gen}(m_Q^2 - 2m_{u_R}^2 +
  m_{d_R}^2 - m_L^2 + m_{e_R}^2)`, with :math:`m_{H_u}^2 - m_{H_d}^2 = (m_A^2 + M_Z^2)
  \cos 2\beta` from the tree-level minimisation conditions (Martin Sec. 8.1), which also give
  :math:`m_{H_u}^2 = m_A^2\cos^2\beta - \mu^2 + \tfrac12 M_Z^2\cos2\beta` and
  :math:`m_{H_d}^2 = m_A^2\sin^2\beta - \mu^2 - \tfrac12 M_Z^2\cos2\beta`.
"""

from __future__ import annotations

import math

import numpy as np

from surrogates.data.xsec import higgsino_wino_ratio, n2c1_composition, sigma_wino

__all__ = [
    "M_B", "M_TAU", "M_TOP", "M_W", "M_Z", "SIN2_THETA_W", "V_HIGGS",
    "bottom_yukawa", "bottom_yukawa_correction", "charginos", "cos_2beta",
    "first_generation_sfermions",
    "higgs_mass_one_loop", "higgs_soft_masses", "hypercharge_trace", "lightest_sfermion",
    "loop_function_i", "n2c1_tree", "neutralinos", "sbottom_stau_higgs_terms", "sfermion_scale",
    "signed_root", "xsec_n2c1_tree",
]

ALPHA_EM_INV = 127.916
G_F = 1.16637e-5
M_Z = 91.1876
M_TOP = 173.1
M_B = 4.18
M_TAU = 1.77686
ALPHA_S = 0.1181
_S2C2 = math.pi / ALPHA_EM_INV / (math.sqrt(2.0) * G_F * M_Z**2)
SIN2_THETA_W = 0.5 * (1.0 - math.sqrt(1.0 - 4.0 * _S2C2))
M_W = M_Z * math.sqrt(1.0 - SIN2_THETA_W)
V_HIGGS = (math.sqrt(2.0) * G_F) ** -0.5


def cos_2beta(tanb: np.ndarray) -> np.ndarray:
    """``cos(2 beta) = (1 - tan^2 beta) / (1 + tan^2 beta)``, shape of ``tanb``."""
    return (1 - tanb**2) / (1 + tanb**2)


def signed_root(m2: np.ndarray) -> np.ndarray:
    """``sign(m^2) sqrt(|m^2|)``: a mass from its square, negative for a tachyon."""
    return np.sign(m2) * np.sqrt(np.abs(m2))


def _angles(tanb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    beta = np.arctan(tanb)
    return np.sin(beta), np.cos(beta)


def neutralinos(
    M1: np.ndarray, M2: np.ndarray, mu: np.ndarray, tanb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Signed tree-level neutralino masses (n, 4), ordered by absolute value, and N (n, 4, 4)."""
    sb, cb = _angles(tanb)
    sw, cw = math.sqrt(SIN2_THETA_W), math.sqrt(1.0 - SIN2_THETA_W)
    m = np.zeros((len(M1), 4, 4))
    m[:, 0, 0], m[:, 1, 1] = M1, M2
    m[:, 0, 2] = m[:, 2, 0] = -cb * sw * M_Z
    m[:, 0, 3] = m[:, 3, 0] = sb * sw * M_Z
    m[:, 1, 2] = m[:, 2, 1] = cb * cw * M_Z
    m[:, 1, 3] = m[:, 3, 1] = -sb * cw * M_Z
    m[:, 2, 3] = m[:, 3, 2] = -mu
    values, vectors = np.linalg.eigh(m)
    order = np.argsort(np.abs(values), axis=1)
    values = np.take_along_axis(values, order, axis=1)
    nmix = np.take_along_axis(vectors, order[:, None, :], axis=2).transpose(0, 2, 1)
    return values, nmix


def charginos(
    M2: np.ndarray, mu: np.ndarray, tanb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Tree-level chargino masses (n, 2) ascending, and U, V (n, 2, 2) with U X V^T diagonal.

    The singular value decomposition of the 2 x 2 matrix in closed form (a batched LAPACK
    call costs ~1.5 us per matrix): the rows :math:`v_2, v_1` of V are the eigenvectors of
    :math:`X^T X` at the angle :math:`\theta = \frac12\,\mathrm{atan2}(2 (X^T X)_{12},
    (X^T X)_{11} - (X^T X)_{22})`, :math:`u_1 = X v_1 / |X v_1|`, and :math:`u_2 \perp u_1`
    with the sign that makes :math:`m_{\chi^\pm_1} = u_2^T X v_2 \ge 0`.
    """
    sb, cb = _angles(tanb)
    a, b, c, d = M2, math.sqrt(2.0) * sb * M_W, math.sqrt(2.0) * cb * M_W, mu
    theta = 0.5 * np.arctan2(2 * (a * b + c * d), a**2 + c**2 - b**2 - d**2)
    v1 = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # the heavier state
    v2 = np.stack([-v1[:, 1], v1[:, 0]], axis=1)
    xv1 = np.stack([a * v1[:, 0] + b * v1[:, 1], c * v1[:, 0] + d * v1[:, 1]], axis=1)
    heavy = np.hypot(xv1[:, 0], xv1[:, 1])  # > 0: the off-diagonal entries never vanish
    u1 = xv1 / heavy[:, None]
    w = np.stack([-u1[:, 1], u1[:, 0]], axis=1)
    light = w[:, 0] * (a * v2[:, 0] + b * v2[:, 1]) + w[:, 1] * (c * v2[:, 0] + d * v2[:, 1])
    u2 = np.where(light[:, None] < 0, -w, w)
    return (np.stack([np.abs(light), heavy], axis=1), np.stack([u2, u1], axis=1),
            np.stack([v2, v1], axis=1))


def xsec_n2c1_tree(
    M1: np.ndarray, M2: np.ndarray, mu: np.ndarray, tanb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tree-level ``m = (|m_N2| + m_C1) / 2``, fW, fH and sigma (fb).

    ``sigma = (fW + r fH) sigma_wino(m)``, the definition of :mod:`surrogates.data.xsec`.

    Unlike the target, sigma is returned everywhere (no cut on fW + fH or m).
    """
    return n2c1_tree(neutralinos(M1, M2, mu, tanb), charginos(M2, mu, tanb))


def n2c1_tree(
    neutralino: tuple[np.ndarray, np.ndarray],
    chargino: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`xsec_n2c1_tree` from the outputs of :func:`neutralinos` and :func:`charginos`."""
    (mn, nmix), (mc, umix, vmix) = neutralino, chargino
    mass = (np.abs(mn[:, 1]) + mc[:, 0]) / 2
    f_w, f_h = n2c1_composition(nmix, umix, vmix)
    return mass, f_w, f_h, (f_w + higgsino_wino_ratio() * f_h) * sigma_wino(mass)


def higgs_mass_one_loop(
    mA: np.ndarray, tanb: np.ndarray, At: np.ndarray, mu: np.ndarray, mQ3: np.ndarray,
    mU3: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Tree-level m_h and m_h with the leading one-loop stop term (GeV), each of shape (n,).

    ``M_S^2 = sqrt((mQ3^2 + m_t^2)(mU3^2 + m_t^2))``; the one-loop value is
    ``sqrt(max(m_h,tree^2 + Delta, 0))``.
    """
    cos2b = cos_2beta(tanb)
    s = mA**2 + M_Z**2
    tree2 = 0.5 * (s - np.sqrt(np.maximum(s**2 - 4 * mA**2 * M_Z**2 * cos2b**2, 0.0)))
    ms2 = np.sqrt((mQ3**2 + M_TOP**2) * (mU3**2 + M_TOP**2))
    xt2 = (At - mu / tanb) ** 2 / ms2
    delta = 3 * M_TOP**4 / (2 * math.pi**2 * V_HIGGS**2) * (
        np.log(ms2 / M_TOP**2) + xt2 * (1 - xt2 / 12)
    )
    return np.sqrt(tree2), np.sqrt(np.maximum(tree2 + delta, 0.0))


def lightest_sfermion(
    m_left: np.ndarray, m_right: np.ndarray, m_f: float, x_f: np.ndarray
) -> np.ndarray:
    """Signed root of the lighter tree-level sfermion mass squared (GeV), shape (n,)."""
    a, b = m_left**2 + m_f**2, m_right**2 + m_f**2
    m2 = 0.5 * (a + b - np.sqrt((a - b) ** 2 + 4 * (m_f * x_f) ** 2))
    return signed_root(m2)


#: Gauss-Legendre nodes of :func:`loop_function_i` in ln t.
_LEGENDRE = np.polynomial.legendre.leggauss(64)
#: Half-width, in e-folds beyond the smallest and largest mass squared, of its integration range.
_E_FOLDS = 14.0
#: Floor of abs(1 + Delta_b) in the bottom Yukawa coupling.
_ONE_PLUS_DELTA_B_FLOOR = 0.1
#: Largest abs(mu) / M_sfermion of the sbottom and stau terms (as x_t of the stop term).
_XF_MAX = 2 * 6**0.5
#: v = 174.1 GeV, the normalisation of m_f = y_f v sin(beta) or cos(beta).
_V_174 = V_HIGGS / math.sqrt(2.0)


def loop_function_i(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``I(a, b, c)`` of squared masses (GeV^2), shape (n,), in GeV^-2; ``I(m, m, m) = 1/(2m)``.

    The integral ``int_0^inf t dt / ((t + a)(t + b)(t + c))`` in ``u = ln t`` by 64-point
    Gauss-Legendre quadrature over ``[ln min - 14, ln max + 14]`` (relative error ~1e-5 against
    the closed form; no 0/0 where two masses are equal). Arguments are floored at 1 GeV^2.
    """
    a, b, c = (np.maximum(np.asarray(v, dtype=float), 1.0) for v in (a, b, c))
    lo = np.log(np.minimum(np.minimum(a, b), c)) - _E_FOLDS
    hi = np.log(np.maximum(np.maximum(a, b), c)) + _E_FOLDS
    nodes, weights = _LEGENDRE
    t = np.exp(lo[:, None] + (nodes[None, :] + 1) / 2 * (hi - lo)[:, None])
    f = t * t / ((t + a[:, None]) * (t + b[:, None]) * (t + c[:, None]))
    return (hi - lo) / 2 * (f @ weights)


def bottom_yukawa_correction(
    M3: np.ndarray, mu: np.ndarray, tanb: np.ndarray, At: np.ndarray, mQ3: np.ndarray,
    mU3: np.ndarray, mD3: np.ndarray,
) -> np.ndarray:
    """``Delta_b`` (dimensionless), shape (n,): gluino-sbottom plus higgsino-stop loops."""
    sb, _ = _angles(tanb)
    y_t2 = (M_TOP / (_V_174 * sb)) ** 2
    gluino = 2 * ALPHA_S / (3 * math.pi) * M3 * mu * tanb * loop_function_i(mQ3**2, mD3**2, M3**2)
    higgsino = y_t2 / (16 * math.pi**2) * At * mu * tanb * loop_function_i(mQ3**2, mU3**2, mu**2)
    return gluino + higgsino


def bottom_yukawa(tanb: np.ndarray, delta_b: np.ndarray) -> np.ndarray:
    """``y_b = m_b / (v cos(beta) |1 + Delta_b|)``, shape (n,), the floor of the module text."""
    _, cb = _angles(tanb)
    return M_B / (_V_174 * cb * np.maximum(np.abs(1 + delta_b), _ONE_PLUS_DELTA_B_FLOOR))


def sfermion_scale(m_left: np.ndarray, m_right: np.ndarray, m_f: float) -> np.ndarray:
    """``M = ((m_L^2 + m_f^2)(m_R^2 + m_f^2))^(1/4)`` (GeV), shape (n,)."""
    return ((m_left**2 + m_f**2) * (m_right**2 + m_f**2)) ** 0.25


def sbottom_stau_higgs_terms(
    mu: np.ndarray, tanb: np.ndarray, delta_b: np.ndarray, mQ3: np.ndarray, mD3: np.ndarray,
    mL3: np.ndarray, mE3: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The sbottom and stau terms of ``m_h^2`` (GeV^2, <= 0), each of shape (n,)."""
    _, cb = _angles(tanb)
    y_tau = M_TAU / (_V_174 * cb)
    r_b = np.minimum(np.abs(mu) / sfermion_scale(mQ3, mD3, M_B), _XF_MAX)
    r_tau = np.minimum(np.abs(mu) / sfermion_scale(mL3, mE3, M_TAU), _XF_MAX)
    sbottom = -bottom_yukawa(tanb, delta_b) ** 4 * _V_174**2 / (16 * math.pi**2) * r_b**4
    stau = -(y_tau**4) * _V_174**2 / (48 * math.pi**2) * r_tau**4
    return sbottom, stau


#: (T3, Q) of the first-generation sfermions u_L, u_R, d_L, d_R, e_L, e_R, nu_L.
_SFERMION_CHARGES = {
    "uL": (0.5, 2 / 3), "uR": (0.0, 2 / 3), "dL": (-0.5, -1 / 3), "dR": (0.0, -1 / 3),
    "eL": (-0.5, -1.0), "eR": (0.0, -1.0), "nuL": (0.5, 0.0),
}


def first_generation_sfermions(
    tanb: np.ndarray, mQ: np.ndarray, mU: np.ndarray, mD: np.ndarray, mL: np.ndarray,
    mE: np.ndarray,
) -> np.ndarray:
    """Squared masses (GeV^2) with D-terms of u_L, u_R, d_L, d_R, e_L, e_R, nu_L: (n, 7)."""
    cos2b = cos_2beta(tanb)
    soft = {"uL": mQ, "uR": mU, "dL": mQ, "dR": mD, "eL": mL, "eR": mE, "nuL": mL}
    return np.column_stack([
        soft[name] ** 2 + (t3 - q * SIN2_THETA_W) * cos2b * M_Z**2
        for name, (t3, q) in _SFERMION_CHARGES.items()
    ])


def higgs_soft_masses(mA: np.ndarray, mu: np.ndarray, tanb: np.ndarray) -> np.ndarray:
    """Tree-level ``m_Hu^2`` and ``m_Hd^2`` (GeV^2) from the minimisation conditions: (n, 2).

    ``m_Hu^2 = m_A^2 cos^2(beta) - mu^2 + M_Z^2 cos(2 beta) / 2`` and
    ``m_Hd^2 = m_A^2 sin^2(beta) - mu^2 - M_Z^2 cos(2 beta) / 2`` (``b = m_A^2 sin(2 beta) / 2``).
    """
    sb, cb = _angles(tanb)
    cos2b = cb**2 - sb**2
    return np.column_stack([mA**2 * cb**2 - mu**2 + M_Z**2 * cos2b / 2,
                            mA**2 * sb**2 - mu**2 - M_Z**2 * cos2b / 2])


def hypercharge_trace(
    mA: np.ndarray, tanb: np.ndarray, soft12: tuple[np.ndarray, ...], soft3: tuple[np.ndarray, ...]
) -> np.ndarray:
    """``S = Tr[Y m^2]`` (GeV^2), shape (n,); ``soft12``, ``soft3``: (m_Q, m_U, m_D, m_L, m_E).

    The first and second generations share ``soft12``; the Higgs part is
    ``(m_A^2 + M_Z^2) cos 2 beta``.
    """
    cos2b = cos_2beta(tanb)

    def trace(m: tuple[np.ndarray, ...]) -> np.ndarray:
        q, u, d, lep, e = m
        return q**2 - 2 * u**2 + d**2 - lep**2 + e**2

    return (mA**2 + M_Z**2) * cos2b + 2 * trace(soft12) + trace(soft3)
