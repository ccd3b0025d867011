"""SOFTSUSY's problem flags of invalid points, as auxiliary labels of the validity classifier.

The ``problem`` column of the reference points holds, for each invalid point, the words
SOFTSUSY 4.1.22 wrote in entry 4 of block SPINFO (``shared/datasets/pmssm19_softsusy/
PROVENANCE.md``): which sfermion or Higgs is tachyonic, whether the Higgs potential is
unbounded from below, the m_3^2 problem, no convergence, a numerical problem. A point may
carry several. :func:`problem_flags` turns that text into one 0/1 column per problem of
:data:`PROBLEM_FLAGS` and one for any other problem text, which a classifier can learn beside
validity (multi-task learning, Caruana, Machine Learning 28 (1997) 41): each problem has its
own boundary in parameter space, and the validity boundary is their union.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PROBLEM_COLUMN", "PROBLEM_FLAGS", "problem_flags"]

#: Column of a points table with SOFTSUSY's problem text (empty for valid points).
PROBLEM_COLUMN = "problem"
#: The problems, as SOFTSUSY words them; each is one auxiliary label. Together they name a
#: problem of every invalid point of the reference data; text that names none of them (e.g.
#: of another SOFTSUSY version) sets the last column of :func:`problem_flags`.
PROBLEM_FLAGS = (
    "stop tachyon",
    "sbottom tachyon",
    "stau tachyon",
    "A0 tachyon",
    "hpm tachyon",
    "snutau tachyon",
    "scharm tachyon",
    "sstrange tachyon",
    "smuon tachyon",
    "selectron tachyon",
    "snumu tachyon",
    "m3sq-problem",
    "Higgs potential ufb",
    "No convergence",
    "No rho convergence",
    "Numerical problem",
    "Z tachyon",
    "W tachyon",
    "h0 tachyon",
    "Quasi-fixed point",
)


def problem_flags(points: pd.DataFrame) -> np.ndarray:
    """One 0/1 column per problem of :data:`PROBLEM_FLAGS` (1 where SOFTSUSY's text names it)
    and a last column "other problem" (1 where the text is not empty but names none).

    Parameters
    ----------
    points : DataFrame
        Rows with the column :data:`PROBLEM_COLUMN` (text; empty or missing for valid points).

    Returns
    -------
    ndarray of shape (n_points, len(PROBLEM_FLAGS) + 1), float32

    Raises
    ------
    ValueError
        If the column is missing.
    """
    if PROBLEM_COLUMN not in points.columns:
        raise ValueError(
            f"the points table has no column {PROBLEM_COLUMN!r} (SOFTSUSY's problem text), "
            "needed for the auxiliary labels of the validity classifier"
        )
    text = points[PROBLEM_COLUMN].fillna("").astype(str).str.strip()
    named = np.stack(
        [text.str.contains(flag, regex=False).to_numpy() for flag in PROBLEM_FLAGS], axis=1
    )
    other = (text != "").to_numpy() & ~named.any(axis=1)
    return np.column_stack([named, other]).astype(np.float32)
