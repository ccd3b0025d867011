"""Resumes that cannot mix two fits: the settings of a run are stored with it and compared.

A sampler's output folder holds ``fit_settings.json``: the prior, a description of the
likelihood (each term's options and the identity of its surrogates) and the sampler's options.
A resume whose settings differ from the stored ones in anything that changes the results is
refused, naming each difference. Options that only decide when a run stops (a larger budget:
more steps, more likelihood calls, a tighter evidence tolerance) may change; each change is
recorded in the file's ``budget_history``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from surrogates.io import write_text

__all__ = ["SETTINGS", "check_resume", "describe"]

SETTINGS = "fit_settings.json"


def describe(obj: Any) -> Any:
    """A JSON-able description of a likelihood: terms, their options, their surrogates.

    A :class:`~likelihoods.Combination` is the list of its terms; a term is its class and
    options (:attr:`parameter_constraints`) with its observable or classifier; a surrogate is
    its family, target and training record (``fit_info_``: data, seed, time, ...). Anything
    else that is not a number or a string (a plain function, a user's observable) has no
    description that survives the process: None, "unknown", which :func:`check_resume` does
    not compare.
    """
    if hasattr(obj, "terms"):
        return [describe(t) for t in obj.terms]
    if hasattr(obj, "fit_info_"):
        return {"model": obj.model_name, "target": obj.target.name, "fit_info": obj.fit_info_}
    if hasattr(obj, "parameter_constraints"):
        keys = [*obj.parameter_constraints, "observable", "classifier"]
        return {"type": type(obj).__name__,
                **{k: describe(getattr(obj, k)) for k in keys if hasattr(obj, k)}}
    if obj is None or isinstance(obj, str | int | float | bool | list | dict):
        return obj
    return None


def check_resume(
    folder: str | Path, settings: dict[str, Any], budget: Iterable[str], resuming: bool
) -> None:
    """Store ``settings`` in ``folder``; on a resume, first compare them with the stored ones.

    Parameters
    ----------
    folder : path
        The sampler's output folder.
    settings : dict
        Everything that defines the run (JSON-able after ``default=str``).
    budget : iterable of str
        Keys of ``settings`` a resume may change; changes are appended to ``budget_history``.
    resuming : bool
        Whether the folder holds a run that will be continued.

    Raises
    ------
    ValueError
        If the stored run differs in a key outside ``budget``; names each difference. Nothing
        is written then. A key that is None on either side (unknown, e.g. a likelihood given
        as a plain function) is not compared.
    """
    file = Path(folder) / SETTINGS
    now = json.loads(json.dumps(settings, default=str))
    history: list[dict[str, Any]] = []
    if resuming and file.is_file():
        stored = json.loads(file.read_text())
        history = stored.pop("budget_history", [])
        budget = set(budget)
        diff = [f"{k}: stored {stored.get(k)!r}, now {now.get(k)!r}"
                for k in sorted({*stored, *now} - budget)
                if stored.get(k) != now.get(k) and None not in (stored.get(k), now.get(k))]
        if diff:
            raise ValueError(
                f"{folder} holds a fit run with other settings ({'; '.join(diff)}); resuming "
                "would mix two fits. Restore the configuration, choose another output folder, "
                "or --restart"
            )
        changed = {k: {"stored": stored.get(k), "now": now.get(k)}
                   for k in sorted(budget) if stored.get(k) != now.get(k)}
        if changed:
            history.append({"time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "changed": changed})
    write_text(file, json.dumps({**now, "budget_history": history}, indent=1))
