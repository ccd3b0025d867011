"""Shared fixtures: small slices of the embedded data and the shared reference data path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from surrogates.data import load_dataset, split_dataset

#: The project's reference data beside the checkout (absent on a user's machine).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(scope="session")
def small_splits():
    """Per target, a deterministic split of the first 600 rows of its embedded data set
    (by rows: exactly 480 / 60 / 60, the same rows whatever the split of the library)."""
    return {
        t: split_dataset(load_dataset(t).iloc[:600], seed=0, by="rows")
        for t in ("validity", "higgs_mass", "xsec")
    }


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models run faster on one thread, and pytest-xdist already uses both cores."""
    torch.set_num_threads(1)
