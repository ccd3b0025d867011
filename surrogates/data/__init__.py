"""pMSSM-19 data: points tables, per-target data sets, splits, SLHA files and sigma(N2C1)."""

from surrogates.data.loaders import (
    EMBEDDED_POINTS,
    Split,
    features,
    labels,
    load_dataset,
    load_points,
    split_dataset,
    split_method,
)

__all__ = [
    "EMBEDDED_POINTS",
    "Split",
    "features",
    "labels",
    "load_dataset",
    "load_points",
    "split_dataset",
    "split_method",
]
