"""bsm-surrogates: fast surrogates of pMSSM-19 spectrum codes with honest uncertainties."""

from surrogates._version import __version__
from surrogates.base import Prediction, Surrogate
from surrogates.space import PARAMETER_NAMES, PARAMETERS
from surrogates.targets import TARGETS, get_target

__all__ = [
    "__version__",
    "Prediction",
    "Surrogate",
    "PARAMETER_NAMES",
    "PARAMETERS",
    "TARGETS",
    "get_target",
]
