"""Shared fixtures: small slices of the embedded data and the shared reference data path."""

from __future__ import annotations

from pathlib import Path

import pytest

from surrogates.data import load_dataset, split_dataset

#: The project's reference data beside the checkout (absent on a user's machine).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(scope="session")
def small_splits():
    """Per target, a deterministic split of the first 600 rows of its embedded data set."""
    return {
        t: split_dataset(load_dataset(t).iloc[:600], seed=0)
        for t in ("validity", "higgs_mass", "xsec")
    }
