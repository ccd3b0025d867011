"""Names of the surrogate families, for the commands and for :meth:`Surrogate.load`.

Classes are imported lazily so that ``import surrogates`` stays light.
"""

from __future__ import annotations

import importlib

__all__ = ["MODELS", "get_model_class", "model_option_names"]

#: model name -> "module:Class"
MODELS: dict[str, str] = {
    "mlp": "surrogates.mlp:MLPEnsemble",
    "rbcm": "surrogates.gp:RBCM",
    "bnn": "surrogates.bnn:BNNEnsemble",
}


def get_model_class(name: str) -> type:
    """Return the :class:`~surrogates.base.Surrogate` subclass registered as ``name``.

    (The registry holds names only; it imports no family, nor the base class, which imports
    it to load a saved model of any family.)

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


def model_option_names(name: str) -> list[str]:
    """Keyword options of the family ``name`` that a configuration may set.

    These are the constructor's arguments, except ``target``, ``space``, ``seed`` and
    ``device``, which commands set themselves.
    """
    names = get_model_class(name).option_names()
    return [p for p in names if p not in ("space", "seed", "device")]
