"""Global fits over the box of any parameter space with emcee and UltraNest, on any likelihood.

Imports flow ``fits -> likelihoods -> surrogates``. Entry points: :class:`Prior`,
:func:`run_emcee`, :func:`run_ultranest` (both resumable), :class:`FitResult`, the closure
tools of :mod:`fits.closure` and the YAML-driven :mod:`fits.config` behind
``bsm-surrogates fit``.
"""

from fits.emcee_fit import run_emcee
from fits.priors import FreeParameter, Prior, pmssm19_prior
from fits.problem import FitProblem
from fits.results import FitResult
from fits.ultranest_fit import run_ultranest

__all__ = [
    "FitProblem", "FitResult", "FreeParameter", "Prior", "pmssm19_prior", "run_emcee",
    "run_ultranest",
]
