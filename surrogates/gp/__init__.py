"""Distributed Gaussian processes: batched exact GP experts combined by the robust BCM.

- :mod:`surrogates.gp.experts`: partition of the training set, batched exact GP experts;
- :mod:`surrogates.gp.aggregation`: rBCM, BCM, PoE and gPoE as pure functions;
- :mod:`surrogates.gp.classifier`: probit link for the validity target;
- :mod:`surrogates.gp.rbcm`: :class:`RBCM`, the :class:`~surrogates.base.Surrogate`.
"""

from surrogates.gp.rbcm import RBCM

__all__ = ["RBCM"]
