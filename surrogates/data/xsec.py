"""sigma(pp -> chi2^0 chi1^+-) at 13 TeV from a SUSY spectrum: the ``xsec_n2c1_fb`` target.

The definition is that of ``shared/datasets/pmssm19_softsusy/PROVENANCE.md`` (the XSEC target
of :mod:`surrogates.targets`). From the pole masses and the SLHA mixing matrices N (block
NMIX), U (UMIX) and V (VMIX), indices 1-based as in SLHA::

    m      = (|m_N2| + m_C1) / 2                               GeV
    fW     = N22^2 (U11^2 + V11^2) / 2                         wino content of N2 times C1
    fH     = (N23^2 + N24^2) (U12^2 + V12^2) / 2               higgsino content of N2 times C1
    sigma  = (fW + r fH) sigma_wino(m)                         fb

- ``sigma_wino``: ln sigma_wino(m) = c0 + c1 ln m + c2 m + c3 m^2 with m in TeV, an unweighted
  least-squares fit of ln(xsec_fb) to all rows (100-2000 GeV) of the LHC SUSY Cross Section
  Working Group wino table (rms residual 1%; it extrapolates above 2 TeV).
- ``r``: the higgsino/wino ratio, the arithmetic mean of sigma_higgsino / sigma_wino over the
  masses the two working-group tables share from 100 to 1000 GeV inclusive (37 masses, step
  25 GeV): r = 0.23507 (0.2351 in PROVENANCE.md), constant there to 0.4% (standard
  deviation / mean).
- sigma is defined only where fW + fH >= 0.5 (a wino- or higgsino-like pair) and m >= 100 GeV
  (the tables' lower end, near the LEP chargino bound); it is NaN elsewhere.

The tables are shipped in ``surrogates/data/xs_tables`` (see the README there); the fit and the
ratio are computed once, on first use, and cached.

With the spectrum of ``shared/datasets/pmssm19_softsusy/spectrum.csv.gz`` (printed to six
significant digits) this reproduces the column ``xsec_n2c1_fb`` of ``points.csv.gz`` on all
138,956 valid points: the same 89,542 points have a value, with relative differences of at
most 5.0e-6 (median 6.7e-7), the printing precision of the CSV.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "XS_TABLE_DIR",
    "MIN_MASS_GEV",
    "MIN_WINO_HIGGSINO_FRACTION",
    "RATIO_MASS_RANGE_GEV",
    "load_xs_table",
    "wino_fit_coefficients",
    "higgsino_wino_ratio",
    "sigma_wino",
    "n2c1_composition",
    "xsec_n2c1",
    "xsec_n2c1_from_spectrum",
]

#: Folder of the packaged LHC SUSY XS WG tables ``n2c1_wino.csv`` and ``n2c1_higgsino.csv``.
XS_TABLE_DIR = Path(__file__).parent / "xs_tables"

#: Lowest mean mass ``(|m_N2| + m_C1) / 2`` with a cross section, GeV.
MIN_MASS_GEV = 100.0

#: Lowest wino-plus-higgsino fraction fW + fH with a cross section.
MIN_WINO_HIGGSINO_FRACTION = 0.5

#: Masses (GeV, inclusive) over which the higgsino/wino ratio r is averaged.
RATIO_MASS_RANGE_GEV = (100.0, 1000.0)

_TABLE_COLUMNS = ("mass_GeV", "xsec_fb", "uncertainty_fb")


def load_xs_table(kind: Literal["wino", "higgsino"]) -> pd.DataFrame:
    """One packaged LHC SUSY XS WG table of sigma(pp -> chi2^0 chi1^+-) at 13 TeV.

    Parameters
    ----------
    kind : {"wino", "higgsino"}
        Wino-like (2017-06-15, 100-2000 GeV) or higgsino-like (2017-07-28, 80-1500 GeV) pair.

    Returns
    -------
    DataFrame
        Columns ``mass_GeV`` (GeV), ``xsec_fb`` (NLO+NLL central value, fb) and
        ``uncertainty_fb`` (absolute, fb), one row per mass.
    """
    if kind not in ("wino", "higgsino"):
        raise ValueError(f"kind must be 'wino' or 'higgsino'; got {kind!r}")
    path = XS_TABLE_DIR / f"n2c1_{kind}.csv"
    table = pd.read_csv(path)
    missing = [c for c in _TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"cross-section table {path} lacks the column(s) {', '.join(missing)}")
    return table


@cache
def _wino_fit() -> np.ndarray:
    table = load_xs_table("wino")
    m_tev = table["mass_GeV"].to_numpy(dtype=np.float64) / 1000.0
    design = np.stack([np.ones_like(m_tev), np.log(m_tev), m_tev, m_tev**2], axis=1)
    coef, *_ = np.linalg.lstsq(design, np.log(table["xsec_fb"].to_numpy(np.float64)), rcond=None)
    coef.setflags(write=False)
    return coef


def wino_fit_coefficients() -> np.ndarray:
    """Coefficients of the fit of the wino table, computed once and cached.

    ln sigma_wino(m) = c0 + c1 ln m + c2 m + c3 m^2, with m in TeV and sigma in fb, fitted by
    unweighted least squares to ln(xsec_fb) of every row of ``n2c1_wino.csv``.

    Returns
    -------
    ndarray of shape (4,)
        ``(c0, c1, c2, c3)``; a copy, free to modify.
    """
    return _wino_fit().copy()


@cache
def higgsino_wino_ratio() -> float:
    """The higgsino/wino cross-section ratio r, computed once and cached.

    r is the arithmetic mean of sigma_higgsino(m) / sigma_wino(m) over the masses present in
    both tables with 100 <= m <= 1000 GeV (:data:`RATIO_MASS_RANGE_GEV`; 37 masses, step
    25 GeV). Its value is 0.23507, constant over that range to 0.4% (standard deviation /
    mean); above 1 TeV the higgsino table's Monte Carlo noise dominates the ratio.

    Returns
    -------
    float
        r, dimensionless.
    """
    both = load_xs_table("wino").merge(
        load_xs_table("higgsino"), on="mass_GeV", suffixes=("_wino", "_higgsino")
    )
    low, high = RATIO_MASS_RANGE_GEV
    both = both[(both["mass_GeV"] >= low) & (both["mass_GeV"] <= high)]
    return float((both["xsec_fb_higgsino"] / both["xsec_fb_wino"]).mean())


def sigma_wino(mass_gev: ArrayLike) -> np.ndarray:
    """The fitted wino-like cross section sigma_wino(m), fb.

    exp(c0 + c1 ln m + c2 m + c3 m^2), m in TeV, coefficients of
    :func:`wino_fit_coefficients`. The fit is used as is at every m > 0 (no domain cut:
    :func:`xsec_n2c1` applies m >= 100 GeV); it extrapolates outside 100-2000 GeV.

    Parameters
    ----------
    mass_gev : array_like of shape (...)
        Common electroweakino mass m, GeV.

    Returns
    -------
    ndarray of shape (...)
        sigma_wino in fb; NaN where m <= 0 or m is NaN.
    """
    m = np.asarray(mass_gev, dtype=np.float64)
    positive = m > 0
    m_tev = np.where(positive, m, 1.0) / 1000.0
    c0, c1, c2, c3 = _wino_fit()
    log_sigma = c0 + c1 * np.log(m_tev) + c2 * m_tev + c3 * m_tev**2
    return np.where(positive, np.exp(log_sigma), np.nan)


def _check_matrix(name: str, matrix: np.ndarray, size: int) -> None:
    if matrix.ndim < 2 or matrix.shape[-2:] != (size, size):
        raise ValueError(f"{name} must have shape (..., {size}, {size}); got {matrix.shape}")


def n2c1_composition(
    nmix: ArrayLike, umix: ArrayLike, vmix: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Wino and higgsino content of the chi2^0 chi1^+- pair.

    fW = N22^2 (U11^2 + V11^2) / 2 and fH = (N23^2 + N24^2) (U12^2 + V12^2) / 2, with the SLHA
    (1-based) indices of the matrices: N_ij is ``nmix[..., i-1, j-1]`` and so on.

    Parameters
    ----------
    nmix : array_like of shape (..., 4, 4)
        Neutralino mixing matrix N (SLHA block NMIX, basis bino, wino, higgsino d, higgsino u).
    umix, vmix : array_like of shape (..., 2, 2)
        Chargino mixing matrices U and V (SLHA blocks UMIX, VMIX, basis wino, higgsino).

    Returns
    -------
    fW, fH : ndarray of shape (...)
        Dimensionless fractions in [0, 1] for unitary matrices; the leading shapes broadcast.
    """
    n = np.asarray(nmix, dtype=np.float64)
    u = np.asarray(umix, dtype=np.float64)
    v = np.asarray(vmix, dtype=np.float64)
    _check_matrix("nmix", n, 4)
    _check_matrix("umix", u, 2)
    _check_matrix("vmix", v, 2)
    f_wino = n[..., 1, 1] ** 2 * (u[..., 0, 0] ** 2 + v[..., 0, 0] ** 2) / 2
    n2_higgsino = n[..., 1, 2] ** 2 + n[..., 1, 3] ** 2
    f_higgsino = n2_higgsino * (u[..., 0, 1] ** 2 + v[..., 0, 1] ** 2) / 2
    return f_wino, f_higgsino


def xsec_n2c1(
    m_n2: ArrayLike, m_c1: ArrayLike, nmix: ArrayLike, umix: ArrayLike, vmix: ArrayLike
) -> np.ndarray:
    """sigma(pp -> chi2^0 chi1^+-, both chargino signs) at 13 TeV, NLO+NLL, fb.

    ``sigma = (fW + r fH) sigma_wino(m)``, ``m = (|m_N2| + m_C1) / 2``, with fW, fH of
    :func:`n2c1_composition`, r of :func:`higgsino_wino_ratio` and sigma_wino of
    :func:`sigma_wino` (definition of ``shared/datasets/pmssm19_softsusy/PROVENANCE.md``,
    built on the LHC SUSY Cross Section Working Group 13 TeV tables).

    Parameters
    ----------
    m_n2 : array_like of shape (...)
        Pole mass of chi2^0 (SLHA MASS 1000023), GeV; its sign (SLHA convention) is dropped.
    m_c1 : array_like of shape (...)
        Pole mass of chi1^+ (SLHA MASS 1000024), GeV, used as given.
    nmix : array_like of shape (..., 4, 4)
        Neutralino mixing matrix N (SLHA block NMIX).
    umix, vmix : array_like of shape (..., 2, 2)
        Chargino mixing matrices U and V (SLHA blocks UMIX, VMIX).

    Returns
    -------
    ndarray of shape (...)
        sigma in fb (the broadcast of the leading shapes); NaN where fW + fH < 0.5
        (a bino-like chi2^0), where m < 100 GeV, or where an input is NaN.
    """
    mass = (np.abs(np.asarray(m_n2, dtype=np.float64)) + np.asarray(m_c1, dtype=np.float64)) / 2
    f_wino, f_higgsino = n2c1_composition(nmix, umix, vmix)
    defined = (f_wino + f_higgsino >= MIN_WINO_HIGGSINO_FRACTION) & (mass >= MIN_MASS_GEV)
    sigma = (f_wino + higgsino_wino_ratio() * f_higgsino) * sigma_wino(mass)
    return np.where(defined, sigma, np.nan)


def xsec_n2c1_from_spectrum(spectrum: pd.DataFrame) -> np.ndarray:
    """:func:`xsec_n2c1` for the rows of a spectrum table.

    Parameters
    ----------
    spectrum : DataFrame
        Rows with the columns of ``shared/datasets/pmssm19_softsusy/spectrum.csv.gz``:
        ``m_N2``, ``m_C1`` (GeV) and ``nmix_ij`` (i, j in 1..4), ``umix_ij``, ``vmix_ij``
        (i, j in 1..2).

    Returns
    -------
    ndarray of shape (n_rows,)
        sigma in fb, NaN where undefined (see :func:`xsec_n2c1`).
    """

    def matrix(prefix: str, size: int) -> np.ndarray:
        names = [f"{prefix}_{i}{j}" for i in range(1, size + 1) for j in range(1, size + 1)]
        missing = [c for c in names if c not in spectrum.columns]
        if missing:
            raise ValueError(f"the spectrum table lacks the column(s) {', '.join(missing)}")
        return spectrum[names].to_numpy(dtype=np.float64).reshape(-1, size, size)

    missing = [c for c in ("m_N2", "m_C1") if c not in spectrum.columns]
    if missing:
        raise ValueError(f"the spectrum table lacks the column(s) {', '.join(missing)}")
    return xsec_n2c1(
        spectrum["m_N2"].to_numpy(dtype=np.float64),
        spectrum["m_C1"].to_numpy(dtype=np.float64),
        matrix("nmix", 4),
        matrix("umix", 2),
        matrix("vmix", 2),
    )
