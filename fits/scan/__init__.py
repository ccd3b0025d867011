"""Surrogate-guided active-learning scans: the Machine Learning Scan and beyond.

:class:`ActiveScan` runs the iterative scan of arXiv:1708.06615 on any
:class:`~fits.scan.simulators.Simulator` (SOFTSUSY itself:
:class:`~fits.scan.softsusy.SoftsusySimulator`) with Gaussian :class:`Constraint` s, with the
original likelihood acquisition or ones that use the surrogate's uncertainty;
:mod:`fits.scan.baselines` runs uniform sampling, emcee and UltraNest at the same number of
simulator calls and :mod:`fits.scan.metrics` scores them.
"""

from fits.scan.constraints import Constraint
from fits.scan.loop import ActiveScan, ScanResult
from fits.scan.simulators import (
    FunctionSimulator,
    PMSSMSimulator,
    Simulator,
    SurrogateSimulator,
    eggbox,
    hypersphere,
)
from fits.scan.softsusy import SoftsusySimulator

__all__ = [
    "ActiveScan",
    "Constraint",
    "FunctionSimulator",
    "PMSSMSimulator",
    "ScanResult",
    "Simulator",
    "SoftsusySimulator",
    "SurrogateSimulator",
    "eggbox",
    "hypersphere",
]
