"""Surrogates shipped with the package, trained on the full SOFTSUSY reference data.

Each is a saved model folder ``<target>_<model>/`` (the project's safe format: JSON metadata
and safetensors, integrity-checked on load), made by
``bsm-surrogates train --target T --model bnn --budget paper --data full --distance`` (with
``--support support`` for the regression targets) as the README says; its metadata holds
the exact configuration, the training time and the data it saw. Load one with
:meth:`surrogates.base.Surrogate.pretrained` (``Surrogate.pretrained("xsec", "bnn")``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_DIR", "available", "shipped_path"]

#: Folder holding the shipped model folders.
SHIPPED_DIR = Path(__file__).parent


def available() -> list[tuple[str, str]]:
    """(target, model) of every shipped surrogate, sorted."""
    return sorted(
        tuple(p.name.rsplit("_", 1))
        for p in SHIPPED_DIR.iterdir()
        if (p / "metadata.json").is_file()
    )


def shipped_path(target: str, model: str) -> Path:
    """Folder of the shipped ``model`` for ``target``.

    Raises
    ------
    ValueError
        If it is not shipped; the message lists what is.
    """
    path = SHIPPED_DIR / f"{target}_{model}"
    if not (path / "metadata.json").is_file():
        listed = ", ".join(f"{t}/{m}" for t, m in available()) or "none"
        raise ValueError(f"no shipped surrogate {target}/{model}; shipped: {listed}")
    return path
