"""Train the independent parts of an ensemble on Dask workers and merge them into one model.

An ensemble is cut into ``n_parts`` sub-ensembles along its independent axis
(:data:`INDEPENDENT_PARTS`), each with its own seed (``SeedSequence(seed).spawn``); each part
is trained as the family would train it, on a worker or here, and the parts' members are
concatenated into one surrogate of the full size, whose recalibration (if any) is then fitted
on the validation data. The input scaling, target transform and training box depend only on
the data, so every part has the same ones. With the same seed and ``n_parts`` the result is
the same wherever the parts run; it is a different (equally valid) draw of the ensemble than
one batched training, whose members share one random stream.

Independent parts:

* MLP ensemble members (``n_members``): each network has its own initialisation, minibatch
  order and optimiser state; only the early stop is joint, and a part stops on its own members.
* BNN chains (``n_chains``): each chain is one pre-trained network followed by its own HMC
  chain; the chains of a part share the dual-averaging step size, as chains of one batch do.
* Not the rBCM experts: they share one set of kernel hyper-parameters, fitted by maximising the
  sum of the experts' marginal likelihoods, and the aggregation needs every expert's variance
  against the same prior, so training them apart would change the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from surrogates.base import Surrogate

__all__ = ["INDEPENDENT_PARTS", "fit_in_parts"]

#: Per family, the constructor option counting its independent parts.
INDEPENDENT_PARTS = {"mlp": "n_members", "bnn": "n_chains"}


def _fit_part(template: Surrogate, options: dict[str, Any], X: Any, y: Any, X_val: Any,
              y_val: Any) -> Surrogate:
    """A new surrogate configured as ``template`` but with ``options``, trained on the data."""
    config = {**template.get_config(), **options}
    part = type(template)(template.target, space=template.space, device=str(template.device),
                          **config)
    return part.fit(X, y, X_val=X_val, y_val=y_val, progress=False)


def fit_in_parts(
    surrogate: Surrogate,
    X: Any,
    y: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    n_parts: int = 2,
    client: Any = None,
) -> Surrogate:
    """Train ``surrogate`` (unfitted) as ``n_parts`` independent sub-ensembles; merge them.

    Parameters
    ----------
    surrogate : MLPEnsemble or BNNEnsemble
        The configured, unfitted ensemble; its size option (:data:`INDEPENDENT_PARTS`) is
        shared out over the parts as evenly as possible.
    X, y, X_val, y_val
        As :meth:`Surrogate.fit`.
    n_parts : int
        Sub-ensembles, 1 to the ensemble's size.
    client : distributed.Client, optional
        Trains the parts on its workers (:func:`~surrogates.parallel.dask_client`);
        ``None``: here, one after the other.

    Returns
    -------
    Surrogate
        ``surrogate``, fitted; ``fit_info_["parts"]`` holds each part's size, seed and
        ``fit_info_``.

    Raises
    ------
    ValueError
        For a family without independent parts, a fitted surrogate, or ``n_parts`` out of
        range.
    """
    key = INDEPENDENT_PARTS.get(surrogate.model_name)
    if key is None:
        raise ValueError(
            f"{type(surrogate).__name__} has no independent parts to train apart; families "
            f"that have: {', '.join(f'{m} ({k})' for m, k in INDEPENDENT_PARTS.items())}"
        )
    if surrogate.is_fitted:
        raise ValueError("fit_in_parts trains an unfitted surrogate; this one is fitted")
    size = int(getattr(surrogate, key))
    if not isinstance(n_parts, (int, np.integer)) or not 1 <= n_parts <= size:
        raise ValueError(f"n_parts must be an integer in [1, {key}={size}]; got {n_parts!r}")
    sizes = [len(a) for a in np.array_split(np.arange(size), int(n_parts))]
    seeds = [int(s.generate_state(1)[0]) for s in
             np.random.SeedSequence(surrogate.seed).spawn(int(n_parts))]
    options = [{key: k, "seed": s, "recalibration": "none"} for k, s in zip(sizes, seeds,
                                                                               strict=True)]
    if client is None:
        parts = [_fit_part(surrogate, o, X, y, X_val, y_val) for o in options]
    else:
        data = client.scatter([surrogate, X, y, X_val, y_val], broadcast=True, hash=False)
        parts = client.gather([client.submit(_fit_part, data[0], o, *data[1:], pure=False)
                               for o in options])
    return _merge(surrogate, parts, X_val, y_val)


def _merge(surrogate: Surrogate, parts: list[Surrogate], X_val: Any, y_val: Any) -> Surrogate:
    """Load the parts' concatenated members into ``surrogate`` and fit its recalibration."""
    first = parts[0]
    surrogate.input_scaler_ = first.input_scaler_
    surrogate.target_transform_ = first.target_transform_
    surrogate.domain_ = first.domain_
    states = [p._state_tensors() for p in parts]
    tensors = {k: torch.cat([s[k] for s in states]).to(surrogate.device) for k in states[0]}
    surrogate._load_state(tensors, first._state_json())
    key = INDEPENDENT_PARTS[surrogate.model_name]
    surrogate.fit_info_ = {
        "n_train": first.fit_info_["n_train"],
        "n_val": first.fit_info_["n_val"],
        "train_seconds": sum(p.fit_info_["train_seconds"] for p in parts),
        "device": str(surrogate.device),
        "parts": [{key: getattr(p, key), "seed": p.seed, "fit_info": p.fit_info_}
                  for p in parts],
    }
    surrogate._recalibrate(None if X_val is None else surrogate._validation(X_val, y_val))
    return surrogate
