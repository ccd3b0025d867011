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
"""

from __future__ import annotations

import math

import numpy as np

from surrogates.data.xsec import higgsino_wino_ratio, n2c1_composition, sigma_wino

__all__ = [
    "M_B", "M_TAU", "M_TOP", "M_W", "M_Z", "SIN2_THETA_W", "V_HIGGS",
    "charginos", "higgs_mass_one_loop", "lightest_sfermion", "neutralinos", "xsec_n2c1_tree",
]

ALPHA_EM_INV = 127.916
G_F = 1.16637e-5
M_Z = 91.1876
M_TOP = 173.1
M_B = 4.18
M_TAU = 1.77686
_S2C2 = math.pi / ALPHA_EM_INV / (math.sqrt(2.0) * G_F * M_Z**2)
SIN2_THETA_W = 0.5 * (1.0 - math.sqrt(1.0 - 4.0 * _S2C2))
M_W = M_Z * math.sqrt(1.0 - SIN2_THETA_W)
V_HIGGS = (math.sqrt(2.0) * G_F) ** -0.5


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
    """Tree-level chargino masses (n, 2) ascending, and U, V (n, 2, 2) with U X V^T diagonal."""
    sb, cb = _angles(tanb)
    x = np.empty((len(M2), 2, 2))
    x[:, 0, 0], x[:, 1, 1] = M2, mu
    x[:, 0, 1] = math.sqrt(2.0) * sb * M_W
    x[:, 1, 0] = math.sqrt(2.0) * cb * M_W
    a, s, bt = np.linalg.svd(x)  # x = a diag(s) bt, s descending
    return s[:, ::-1], a.transpose(0, 2, 1)[:, ::-1], bt[:, ::-1]


def xsec_n2c1_tree(
    M1: np.ndarray, M2: np.ndarray, mu: np.ndarray, tanb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tree-level ``m = (|m_N2| + m_C1) / 2``, fW, fH and sigma (fb).

    ``sigma = (fW + r fH) sigma_wino(m)``, the definition of :mod:`surrogates.data.xsec`.

    Unlike the target, sigma is returned everywhere (no cut on fW + fH or m).
    """
    mn, nmix = neutralinos(M1, M2, mu, tanb)
    mc, umix, vmix = charginos(M2, mu, tanb)
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
    cos2b = (1 - tanb**2) / (1 + tanb**2)
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
    return np.sign(m2) * np.sqrt(np.abs(m2))
