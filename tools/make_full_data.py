"""Write the packaged full reference data: every SOFTSUSY point, its id (which the split is
keyed on), the columns the targets need and SOFTSUSY's problem text of the invalid points
(the auxiliary labels of the validity classifier, :mod:`surrogates.data.problems`).

Usage: python tools/make_full_data.py ../shared/datasets/pmssm19_softsusy/points.csv.gz

The 314,910 rows of the reference file keep their order. Stored losslessly as integers where
the reference values are decimal numbers with a fixed number of places (PROVENANCE.md: the
parameters are rounded to 0.1 GeV, tan beta to 0.001; ``h0`` is printed with 3 decimals), so
that the decoded floats equal the values parsed from the CSV; ``xsec_n2c1_fb`` stays float64;
``problem`` is text (empty for valid points), dictionary-encoded by Parquet.
Parquet with zstd compression. The encoding (column -> decimal places) is
:data:`surrogates.data.loaders.FULL_DECIMALS`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.data.loaders import FULL_DECIMALS, FULL_POINTS


def main(source: str) -> None:
    """Encode ``source`` and write it to the package."""
    points = pd.read_csv(source, dtype={"id": str, "problem": str})
    out = pd.DataFrame({"id": points["id"]}, index=points.index)  # the split is keyed on it
    for column, places in FULL_DECIMALS.items():
        scaled = points[column].to_numpy(np.float64) * 10**places
        finite = np.isfinite(scaled)
        ints = np.rint(scaled[finite])
        if np.abs(ints - scaled[finite]).max() > 1e-6:
            raise ValueError(f"column {column!r} has more than {places} decimal places")
        # Nullable integers keep the empty h0 of invalid points empty.
        out[column] = pd.array(np.where(finite, np.rint(scaled), 0).astype(np.int32),
                               dtype="Int32")
        out.loc[~finite, column] = pd.NA
    out["valid"] = points["valid"].astype(np.int8)
    for column in ("h0", "xsec_n2c1_fb"):
        out[column] = points[column].astype(np.float64)
    out["problem"] = points["problem"]
    FULL_POINTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = FULL_POINTS.with_name(FULL_POINTS.name + ".tmp")
    out.to_parquet(tmp, compression="zstd", compression_level=19, index=False)
    os.replace(tmp, FULL_POINTS)  # complete or absent
    print(f"wrote {len(out)} rows to {FULL_POINTS} ({FULL_POINTS.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(
        Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "pmssm19_softsusy"
        / "points.csv.gz"))
