"""SOFTSUSY SLHA output files read by surrogates.data.slha against the rows of points.csv.gz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surrogates.data.slha import (
    EXTPAR_CODES,
    MINPAR_CODES,
    POINT_COLUMNS,
    read_slha,
    read_slha_files,
)
from surrogates.space import PARAMETER_NAMES
from tests.conftest import SHARED_DATA

#: Five SOFTSUSY outputs of the reference set: s2-1 (valid, bino-like N2 so no cross section,
#: LSP u_R degenerate with c_R), s2-25 (valid, higgsino-like pair), s2-45 (valid, wino-like
#: pair), s2-13 and s2-59 (invalid); ``expected.csv`` holds their rows of points.csv.gz.
SLHA_DIR = Path(__file__).parent / "data" / "slha"
REFERENCE = SHARED_DATA / "pmssm19_softsusy"

#: points.csv.gz prints h0 with 6 significant digits.
H0_RTOL = 5e-6
#: points.csv.gz's cross section was computed from spectrum.csv.gz, whose masses are printed
#: with 6 significant digits; the steep sigma(m) (|d ln sigma / d ln m| up to ~20 at 3.5 TeV)
#: turns that rounding into relative differences up to ~1e-4 against the full-precision SLHA
#: masses (at most 2.9e-5 on the 53 reference files).
XSEC_RTOL = 1e-4


def _assert_rows_match(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Rows of a read_slha_files table equal the rows of points.csv.gz with the same ids."""
    expected = expected.set_index("id").loc[got["id"]].reset_index()
    assert list(got.columns) == list(POINT_COLUMNS) == list(expected.columns)
    params = list(PARAMETER_NAMES)
    np.testing.assert_array_equal(got[params].to_numpy(), expected[params].to_numpy())
    np.testing.assert_array_equal(got["valid"].to_numpy(), expected["valid"].to_numpy())
    assert got["problem"].fillna("").tolist() == expected["problem"].fillna("").tolist()
    np.testing.assert_array_equal(got["lsp_pdg"].to_numpy(), expected["lsp_pdg"].to_numpy())
    np.testing.assert_allclose(got["h0"], expected["h0"], rtol=H0_RTOL, equal_nan=True)
    np.testing.assert_allclose(
        got["xsec_n2c1_fb"], expected["xsec_n2c1_fb"], rtol=XSEC_RTOL, equal_nan=True
    )


def test_reader_reproduces_the_expected_rows():
    expected = pd.read_csv(SLHA_DIR / "expected.csv")
    got = read_slha_files(sorted(SLHA_DIR.glob("*.slha")))
    assert sorted(got["id"]) == sorted(expected["id"])
    _assert_rows_match(got, expected)
    assert got["xsec_n2c1_fb"].notna().sum() == 2 and (got["valid"] == 0).sum() == 2
    for col in (*PARAMETER_NAMES, "h0", "xsec_n2c1_fb", "lsp_pdg"):
        assert got[col].dtype == np.float64
    assert got["valid"].dtype == np.int64


def test_single_files_as_dicts():
    valid = read_slha(SLHA_DIR / "point_s2-1.slha")
    assert list(valid) == list(POINT_COLUMNS)
    assert valid["id"] == "s2-1" and valid["valid"] == 1 and valid["problem"] is None
    assert valid["lsp_pdg"] == 2000002  # tied with ~c_R (2000004): the smaller code
    assert valid["h0"] == 128.574949 and np.isnan(valid["xsec_n2c1_fb"])
    assert valid["mlL1"] == 3537.8 and valid["tanb"] == 24.932 and valid["At"] == 5939.0

    invalid = read_slha(str(SLHA_DIR / "point_s2-59.slha"))
    assert invalid["valid"] == 0
    assert invalid["problem"] == "No convergence stau tachyon stau is tree-level tachyon at MZ"
    assert np.isnan([invalid["h0"], invalid["xsec_n2c1_fb"], invalid["lsp_pdg"]]).all()
    assert invalid["mtauR3"] == 67.1


def test_id_is_the_stem_of_other_names_and_empty_input(tmp_path):
    other = tmp_path / "my_point.spc"
    other.write_bytes((SLHA_DIR / "point_s2-13.slha").read_bytes())
    assert read_slha(other)["id"] == "my_point"
    empty = read_slha_files([])
    assert empty.empty and list(empty.columns) == list(POINT_COLUMNS)


def test_parameter_codes_cover_the_19_parameters():
    assert set(EXTPAR_CODES) | set(MINPAR_CODES) == set(PARAMETER_NAMES)
    assert len(EXTPAR_CODES) + len(MINPAR_CODES) == len(PARAMETER_NAMES)


def _without_block(text: str, block: str) -> str:
    """``text`` with the SLHA block ``block`` (its header and indented lines) removed."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.upper().startswith("BLOCK"):
            skipping = line.split()[1].upper() == block
        elif not line.startswith((" ", "\t", "#")):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


@pytest.mark.parametrize(
    ("source", "block"),
    [
        ("point_s2-1.slha", "MASS"),
        ("point_s2-1.slha", "NMIX"),
        ("point_s2-1.slha", "EXTPAR"),
        ("point_s2-13.slha", "MINPAR"),
        ("point_s2-13.slha", "SPINFO"),
    ],
)
def test_a_missing_block_names_the_file_and_the_block(tmp_path, source, block):
    path = tmp_path / source
    path.write_text(_without_block((SLHA_DIR / source).read_text(), block))
    with pytest.raises(ValueError, match=rf"{path.name}.*no block {block}"):
        read_slha(path)


def test_clear_errors_for_missing_entries_files_and_garbage(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere\.slha does not exist"):
        read_slha(tmp_path / "nowhere.slha")
    text = (SLHA_DIR / "point_s2-25.slha").read_text()
    no_h0 = tmp_path / "no_h0.slha"
    no_h0.write_text("".join(ln for ln in text.splitlines(True) if "# h0" not in ln))
    with pytest.raises(ValueError, match=r"no_h0\.slha: block MASS has no entry 25"):
        read_slha(no_h0)
    split = tmp_path / "split.slha"
    split.write_text(text.replace("32    2.28520000e+03", "32    2.28530000e+03"))
    with pytest.raises(ValueError, match=r"split\.slha: EXTPAR 31 .* differ"):
        read_slha(split)
    garbage = tmp_path / "garbage.slha"
    garbage.write_bytes(bytes(range(128, 256)))
    with pytest.raises(ValueError, match=r"garbage\.slha could not be parsed"):
        read_slha(garbage)


def test_all_reference_files():
    slha_dir = REFERENCE / "slha"
    if not slha_dir.is_dir():
        pytest.skip(f"reference data {slha_dir} not present (../shared is not checked out)")
    paths = sorted(slha_dir.glob("point_*.slha"))
    assert len(paths) == 53
    got = read_slha_files(paths)
    _assert_rows_match(got, pd.read_csv(REFERENCE / "points.csv.gz"))
    assert got["valid"].sum() == 29 and got["xsec_n2c1_fb"].notna().sum() == 16


def test_slha_input_reproduces_the_reference_inputs_byte_for_byte():
    from surrogates.data.slha import slha_input

    folder = REFERENCE / "slha"
    if not folder.is_dir():
        pytest.skip("reference data ../shared not present")
    points = pd.read_csv(REFERENCE / "points.csv.gz", nrows=2000).set_index("id")
    files = sorted(folder.glob("*.in"))
    checked = 0
    for f in files:
        pid = f.stem.removeprefix("point_")
        if pid in points.index:
            assert slha_input(points.loc[pid].to_dict()) == f.read_text(), pid
            checked += 1
    assert checked == len(files) > 0


def test_slha_input_names_a_missing_parameter():
    from surrogates.data.slha import slha_input

    with pytest.raises(ValueError, match="missing mtauR3"):
        slha_input({n: 1.0 for n in PARAMETER_NAMES if n != "mtauR3"})
