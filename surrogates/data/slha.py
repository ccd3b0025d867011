"""Read SOFTSUSY SLHA output files into rows of a points table.

A row has the columns of ``shared/datasets/pmssm19_softsusy/points.csv.gz`` (see
:mod:`surrogates.data.loaders`):

- ``id``: ``<ID>`` for a file named ``point_<ID>.slha``, else the file's stem;
- the 19 parameters of :data:`surrogates.space.PARAMETER_NAMES` (GeV; tan beta
  dimensionless), read from blocks EXTPAR and MINPAR with the SLHA 2 codes (EXTPAR 1 M1, 2 M2,
  3 M3, 11 At, 12 Ab, 13 Atau, 23 mu, 26 mA, 31 mlL1 (= 32), 33 mlL3, 34 meR1 (= 35),
  36 mtauR3, 41 mqL1 (= 42), 43 mqL3, 44 muR1 (= 45), 46 mtR3, 47 mdR1 (= 48), 49 mbR3;
  MINPAR 3 tanb);
- ``valid``: 1 when block SPINFO has no entry 4 (SOFTSUSY's "Point invalid"), else 0;
- ``problem``: the text of SPINFO 4 without its brackets, e.g. ``stop tachyon`` (invalid
  points);
- ``h0``: MASS 25, the lightest CP-even Higgs pole mass, GeV (valid points);
- ``xsec_n2c1_fb``: sigma(pp -> chi2^0 chi1^+-) at 13 TeV in fb from MASS 1000023, 1000024
  and blocks NMIX, UMIX, VMIX, by :func:`surrogates.data.xsec.xsec_n2c1` (valid points; NaN
  where that cross section is undefined);
- ``lsp_pdg``: PDG code of the sparticle (MASS code >= 1000000) of smallest ``|mass|``, the
  smaller code on a tie (valid points).

SOFTSUSY writes no spectrum (no MASS block) for an invalid point; those files are parsed with
pyslha's ``ignorenomass=True``, so no parser of our own is needed. pyslha keeps an SPINFO text
entry as one string (it re-joins consecutive non-numeric words of a line), which is what
``problem`` needs: none of SOFTSUSY's problem words is numeric (checked on the 208 distinct
problem texts of the reference set).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyslha

from surrogates.data.xsec import xsec_n2c1
from surrogates.space import PARAMETER_NAMES

__all__ = [
    "EXTPAR_CODES", "MINPAR_CODES", "POINT_COLUMNS", "read_slha", "read_slha_files",
    "read_slha_text", "slha_input",
]

#: EXTPAR code (SLHA 2) of each pMSSM-19 parameter set there.
EXTPAR_CODES: dict[str, int] = {
    "M1": 1,
    "M2": 2,
    "M3": 3,
    "At": 11,
    "Ab": 12,
    "Atau": 13,
    "mu": 23,
    "mA": 26,
    "mlL1": 31,
    "mlL3": 33,
    "meR1": 34,
    "mtauR3": 36,
    "mqL1": 41,
    "mqL3": 43,
    "muR1": 44,
    "mtR3": 46,
    "mdR1": 47,
    "mbR3": 49,
}

#: MINPAR code of each pMSSM-19 parameter set there.
MINPAR_CODES: dict[str, int] = {"tanb": 3}

# First/second-generation soft masses are equal in the pMSSM-19: code -> code of generation 2.
_SECOND_GENERATION = {31: 32, 34: 35, 41: 42, 44: 45, 47: 48}

#: Columns of a row, in the order of ``points.csv.gz``.
POINT_COLUMNS: tuple[str, ...] = (
    "id",
    *PARAMETER_NAMES,
    "valid",
    "problem",
    "h0",
    "xsec_n2c1_fb",
    "lsp_pdg",
)

_PDG_H0, _PDG_N2, _PDG_C1 = 25, 1000023, 1000024
_PDG_SPARTICLE_MIN = 1000000


def _point_id(path: Path) -> str:
    stem = path.stem
    return stem[len("point_") :] if stem.startswith("point_") and stem != "point_" else stem


def _block(doc: pyslha.Doc, name: str, where: str) -> Mapping[Any, Any]:
    try:
        return doc.blocks[name]
    except KeyError:
        raise ValueError(f"{where}: no block {name}") from None


def _entry(block: Mapping[Any, Any], key: Any, name: str, where: str) -> Any:
    try:
        return block[key]
    except KeyError:
        shown = " ".join(str(k) for k in key) if isinstance(key, tuple) else key
        raise ValueError(f"{where}: block {name} has no entry {shown}") from None


def _matrix(doc: pyslha.Doc, name: str, size: int, where: str) -> np.ndarray:
    block = _block(doc, name, where)
    indices = range(1, size + 1)
    return np.array(
        [[_entry(block, (i, j), name, where) for j in indices] for i in indices], dtype=np.float64
    )


def _parameters(doc: pyslha.Doc, where: str) -> dict[str, float]:
    extpar = _block(doc, "EXTPAR", where)
    minpar = _block(doc, "MINPAR", where)
    for code, code2 in _SECOND_GENERATION.items():
        if code2 in extpar and extpar[code2] != _entry(extpar, code, "EXTPAR", where):
            raise ValueError(
                f"{where}: EXTPAR {code} = {extpar[code]} and {code2} = {extpar[code2]}"
                " differ; the pMSSM-19 has equal first- and second-generation soft masses"
            )
    values = {name: _entry(extpar, code, "EXTPAR", where) for name, code in EXTPAR_CODES.items()}
    values |= {name: _entry(minpar, code, "MINPAR", where) for name, code in MINPAR_CODES.items()}
    return {name: float(values[name]) for name in PARAMETER_NAMES}


def read_slha(path: str | Path) -> dict[str, Any]:
    """One SOFTSUSY SLHA output file as a row of a points table.

    Parameters
    ----------
    path : str or Path
        SOFTSUSY output (``softpoint.x leshouches``) of a pMSSM-19 point, valid or not.

    Returns
    -------
    dict
        Keys :data:`POINT_COLUMNS` in order: ``id`` (str), the 19 parameters (float, GeV;
        ``tanb`` dimensionless), ``valid`` (int, 0 or 1), ``problem`` (str for an invalid
        point, None for a valid one), ``h0`` (float, GeV), ``xsec_n2c1_fb`` (float, fb) and
        ``lsp_pdg`` (int); the last three are NaN for an invalid point, ``xsec_n2c1_fb`` also
        where the cross section is undefined (see :func:`surrogates.data.xsec.xsec_n2c1`).

    Raises
    ------
    ValueError
        If the file is missing or unreadable, or lacks a needed block or entry (SPINFO, EXTPAR,
        MINPAR; for a valid point also MASS, NMIX, UMIX, VMIX); the message names the file and
        the block.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"SLHA file {path} does not exist or is not a file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"SLHA file {path} could not be parsed: {err}") from err
    return read_slha_text(text, _point_id(path), where=f"SLHA file {path}")


def read_slha_text(text: str, point_id: str = "", where: str = "SLHA text") -> dict[str, Any]:
    """SOFTSUSY's SLHA output, as a string (e.g. its standard output), as a row.

    Parameters
    ----------
    text : str
        The output of ``softpoint.x leshouches`` for one pMSSM-19 point.
    point_id : str
        The row's ``id``.
    where : str
        What the text is, for error messages.

    Returns
    -------
    dict
        As :func:`read_slha`.

    Raises
    ------
    ValueError
        As :func:`read_slha`, the message starting with ``where``.
    """
    try:
        doc = pyslha.readSLHA(text, ignorenomass=True)
    except (pyslha.ParseError, pyslha.AccessError, ValueError, TypeError, IndexError) as err:
        raise ValueError(f"{where} could not be parsed: {err}") from err

    spinfo = _block(doc, "SPINFO", where)
    row: dict[str, Any] = {"id": point_id, **_parameters(doc, where)}
    if 4 in spinfo:
        row |= {
            "valid": 0,
            "problem": str(spinfo[4]).strip().removeprefix("[").removesuffix("]").strip(),
            "h0": np.nan,
            "xsec_n2c1_fb": np.nan,
            "lsp_pdg": np.nan,
        }
        return row

    mass = _block(doc, "MASS", where)
    sparticles = sorted(
        (abs(float(m)), pdg) for pdg, m in mass.items() if pdg >= _PDG_SPARTICLE_MIN
    )
    if not sparticles:
        raise ValueError(f"{where}: block MASS has no sparticle (code >= 1000000)")
    xsec = xsec_n2c1(
        float(_entry(mass, _PDG_N2, "MASS", where)),
        float(_entry(mass, _PDG_C1, "MASS", where)),
        _matrix(doc, "NMIX", 4, where),
        _matrix(doc, "UMIX", 2, where),
        _matrix(doc, "VMIX", 2, where),
    )
    row |= {
        "valid": 1,
        "problem": None,
        "h0": float(_entry(mass, _PDG_H0, "MASS", where)),
        "xsec_n2c1_fb": float(xsec),
        "lsp_pdg": int(sparticles[0][1]),
    }
    return row


def read_slha_files(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Many SOFTSUSY SLHA output files as a points table.

    Parameters
    ----------
    paths : iterable of str or Path
        SOFTSUSY output files, one per point (see :func:`read_slha`).

    Returns
    -------
    DataFrame
        One row per file, in the order given, with the columns :data:`POINT_COLUMNS` and the
        dtypes that ``pandas.read_csv`` gives ``points.csv.gz``: ``valid`` int64, the
        parameters, ``h0``, ``xsec_n2c1_fb`` and ``lsp_pdg`` float64 (NaN where missing),
        ``id`` and ``problem`` strings (``problem`` missing for valid points).

    Raises
    ------
    ValueError
        As :func:`read_slha`, for the first file that fails.
    """
    rows = [read_slha(p) for p in paths]
    df = pd.DataFrame(rows, columns=list(POINT_COLUMNS))
    floats = [*PARAMETER_NAMES, "h0", "xsec_n2c1_fb", "lsp_pdg"]
    df[floats] = df[floats].astype(np.float64)
    df["valid"] = df["valid"].astype(np.int64)
    return df


#: The fixed blocks of every SOFTSUSY input of the reference data (PROVENANCE.md, "SLHA input").
_INPUT_HEAD = """Block MODSEL
    1    0   # general MSSM, parameters at MX
Block SMINPUTS
    1   1.279160000e+02   # alpha_em^-1(MZ) MSbar
    2   1.166370000e-05   # G_Fermi
    3   1.181000000e-01   # alpha_s(MZ) MSbar
    4   9.118760000e+01   # MZ pole
    5   4.180000000e+00   # mb(mb) MSbar
    6   1.731000000e+02   # mtop pole
    7   1.776860000e+00   # mtau pole
Block SOFTSUSY
    1   1.000000000e-04   # numerical precision
    5   1.000000000e+00   # 2-loop scalar mass^2 / trilinear RGEs
"""


def slha_input(values: dict[str, float]) -> str:
    """SOFTSUSY's SLHA input for one pMSSM-19 point, as the reference data were run.

    The blocks and conventions of ``shared/datasets/pmssm19_softsusy/slha/*.in``: MODSEL 1 = 0,
    the SMINPUTS and SOFTSUSY settings of PROVENANCE.md, MINPAR 3 = tan beta and EXTPAR with
    MX = MSUSY (code 0 = -1) and the 19 parameters, generations 1 and 2 sharing one value.

    Parameters
    ----------
    values : mapping
        The 19 parameters by name (GeV; ``tanb`` dimensionless).
    """
    missing = [n for n in PARAMETER_NAMES if n not in values]
    if missing:
        raise ValueError(f"slha_input needs every pMSSM-19 parameter; missing {', '.join(missing)}")
    lines = [_INPUT_HEAD + "Block MINPAR", f"    3   {values['tanb']:.9e}   # tan beta(MZ)",
             "Block EXTPAR", "    0  -1.000000000e+00   # MX = MSUSY"]
    rows = []
    for name, code in EXTPAR_CODES.items():
        rows.append((code, name))
        if code in _SECOND_GENERATION:
            rows.append((_SECOND_GENERATION[code], name))
    for code, name in sorted(rows):
        lines.append(f"   {code:>2}   {float(values[name]):g}   # {name}")
    return "\n".join(lines) + "\n"
