"""Closure tests: a fit with a surrogate against the same fit with the true function.

Split by job: the true function (:mod:`fits.closure.chargino`, the tree-level light-chargino
mass of the pMSSM-19), posterior metrics (:mod:`fits.closure.metrics`), a deliberately unsure
surrogate (:mod:`fits.closure.surrogate`) and the closure fits themselves
(:mod:`fits.closure.run`); the grid sampler they use as a noise-free reference is
:func:`fits.grid_fit.grid_fit`. Every name is importable from :mod:`fits.closure`.
"""

from fits.closure.chargino import CHARGINO, M_W, light_chargino_mass
from fits.closure.metrics import compare_posteriors, push_forward, truth_position, weighted_ks
from fits.closure.run import closure_fits, closure_table, closure_terms
from fits.closure.surrogate import sparse_surrogate
from fits.grid_fit import grid_fit

__all__ = [
    "CHARGINO",
    "M_W",
    "closure_fits",
    "closure_table",
    "closure_terms",
    "compare_posteriors",
    "grid_fit",
    "light_chargino_mass",
    "push_forward",
    "sparse_surrogate",
    "truth_position",
    "weighted_ks",
]
