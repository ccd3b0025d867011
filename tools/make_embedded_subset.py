"""Write the embedded default data: a random subset of the SOFTSUSY reference points.

Usage: python tools/make_embedded_subset.py ../shared/datasets/pmssm19_softsusy/points.csv.gz

Rows are drawn without replacement with numpy's default_rng(SEED) and written unchanged
(same columns, same values) in their original order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.data.loaders import EMBEDDED_POINTS

N_POINTS = 40_000
SEED = 20261123


def main(source: str) -> None:
    """Draw the subset from ``source`` and write it to the package."""
    points = pd.read_csv(source, dtype={"id": str, "problem": str})
    rows = np.sort(np.random.default_rng(SEED).choice(len(points), N_POINTS, replace=False))
    EMBEDDED_POINTS.parent.mkdir(parents=True, exist_ok=True)
    points.iloc[rows].to_csv(
        EMBEDDED_POINTS, index=False, compression={"method": "gzip", "mtime": 0}
    )
    print(
        f"wrote {N_POINTS} of {len(points)} rows to {EMBEDDED_POINTS} "
        f"({Path(EMBEDDED_POINTS).stat().st_size / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main(sys.argv[1])
