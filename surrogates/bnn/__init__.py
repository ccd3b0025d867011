"""Bayesian neural network surrogate sampled by Hamiltonian Monte Carlo (arXiv:2007.04506).

Modules: :mod:`~.prior` (weight priors and hyper-priors), :mod:`~.posterior` (batched log
posterior of many chains), :mod:`~.hmc` (leapfrog, Metropolis, step-size adaptation),
:mod:`~.pretrain` (AMSGrad starting points), :mod:`~.diagnostics`, :mod:`~.ensemble`
(:class:`BNNEnsemble`).
"""

from surrogates.bnn.ensemble import BNNEnsemble
from surrogates.bnn.prior import WeightPrior

__all__ = ["BNNEnsemble", "WeightPrior"]
