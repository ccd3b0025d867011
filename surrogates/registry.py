"""Names of the surrogate families, for the CLI and for :meth:`Surrogate.load`.

Classes are imported lazily so that ``import surrogates`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surrogates.base import Surrogate

__all__ = ["MODELS", "get_model_class"]

#: model name -> "module:Class"
MODELS: dict[str, str] = {
    "mlp": "surrogates.mlp:MLPEnsemble",
    "rbcm": "surrogates.gp:RBCM",
    "bnn": "surrogates.bnn:BNNEnsemble",
}


def get_model_class(name: str) -> type[Surrogate]:
    """Return the :class:`~surrogates.base.Surrogate` subclass registered as ``name``.

    Raises
    ------
    ValueError
        If no model of that name is registered.
    """
    try:
        module, cls = MODELS[name].split(":")
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None
    return getattr(importlib.import_module(module), cls)
