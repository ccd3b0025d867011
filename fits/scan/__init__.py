"""Surrogate-guided active-learning scans: the Machine Learning Scan and beyond.

:class:`ActiveScan` runs the iterative scan of arXiv:1708.06615 on any
:class:`~fits.scan.simulators.Simulator` (SOFTSUSY itself:
:class:`~fits.scan.softsusy.SoftsusySimulator`), steered by likelihood terms of
:mod:`likelihoods` on the simulator's outputs (a :class:`~likelihoods.GaussianMeasurement`, a
:class:`~likelihoods.SignalRegion`, a :class:`~likelihoods.Viability`;
:mod:`fits.scan.steering`), with the original likelihood acquisition or ones that use the
surrogate's uncertainty; :mod:`fits.scan.baselines` runs uniform sampling, emcee and UltraNest
(the samplers of :mod:`fits`) at the same number of simulator calls and
:mod:`fits.scan.metrics` scores them.
"""

from fits.scan.loop import ActiveScan, ScanResult
from fits.scan.simulators import (
    FunctionSimulator,
    PMSSMSimulator,
    PMSSMSurrogateSimulator,
    Simulator,
    SimulatorObservable,
    eggbox,
    hypersphere,
)
from fits.scan.softsusy import SoftsusySimulator
from fits.scan.steering import Steering, steer

__all__ = [
    "ActiveScan",
    "FunctionSimulator",
    "PMSSMSimulator",
    "PMSSMSurrogateSimulator",
    "ScanResult",
    "Simulator",
    "SimulatorObservable",
    "SoftsusySimulator",
    "Steering",
    "eggbox",
    "hypersphere",
    "steer",
]
