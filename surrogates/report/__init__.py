"""Calibration-comparison reports: train or load surrogates, score them, write HTML/Markdown/JSON.

See :func:`surrogates.report.compare.run_compare`, the main job of ``bsm-surrogates compare``.
"""

from surrogates.report.compare import run_compare
from surrogates.report.recalibration import VarianceScale

__all__ = ["VarianceScale", "run_compare"]
