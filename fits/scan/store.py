"""The output folder of a scan: nothing a kill can lose, nothing a resume can mix up.

* ``tested.csv`` is an append-only log: every batch of simulator results is appended and
  fsync'd as soon as it arrives, so a kill at any moment loses at most the calls in flight.
  A kill during an append leaves an incomplete last line, which :meth:`ScanStore.tested`
  drops (and removes from the file) before a resume appends again.
* ``settings.json`` is written before the first simulator call; a resume whose settings
  differ in anything is refused with the differences named (the budget is not a setting:
  a resume may extend it).
* ``state/iteration_K/`` holds the surrogates trained at iteration ``K`` (those that
  warm-start the next fit), kept until the batch they proposed is stored, so a resumed scan
  proposes bit-identical points.
* ``history.csv`` (diagnostics per iteration) is rewritten atomically.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from surrogates.base import Surrogate
from surrogates.io import append_lines, atomic_folder, atomic_write, write_text

__all__ = ["ScanStore", "jsonable_settings", "read_log"]

TESTED = "tested.csv"
HISTORY = "history.csv"
SETTINGS = "settings.json"
STATE = "state"


def jsonable_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` as read back from ``settings.json`` (tuples become lists, ...)."""
    return json.loads(json.dumps(settings, default=str))


def read_log(path: Path) -> tuple[pd.DataFrame, int]:
    """Rows of the append-only CSV ``path`` and the byte length of its complete lines."""
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if not complete:
        return pd.DataFrame(), 0
    return pd.read_csv(io.BytesIO(complete)), len(complete)


class ScanStore:
    """The output folder ``folder`` of one scan (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def clear(self) -> None:
        """Remove the files of an earlier scan (``--restart``)."""
        for name in (TESTED, HISTORY, SETTINGS):
            (self.folder / name).unlink(missing_ok=True)
        shutil.rmtree(self.folder / STATE, ignore_errors=True)

    def start(self, settings: dict[str, Any]) -> pd.DataFrame | None:
        """Check ``settings`` against a stored scan and return its tested points (or None).

        Raises
        ------
        ValueError
            If a scan stored here was run with other settings; names each difference.
        """
        stored_file = self.folder / SETTINGS
        now = jsonable_settings(settings)
        if stored_file.is_file():
            stored = json.loads(stored_file.read_text())
            diff = [f"{k}: stored {stored.get(k)!r}, now {now.get(k)!r}"
                    for k in sorted({*stored, *now}) if stored.get(k) != now.get(k)]
            if diff:
                raise ValueError(
                    f"{self.folder} holds a scan run with other settings ({'; '.join(diff)}); "
                    "resuming would mix two scans. Restore the configuration, choose another "
                    "output folder, or --restart"
                )
        else:
            write_text(stored_file, json.dumps(now, indent=1))
        log = self.folder / TESTED
        if not log.is_file():
            return None
        tested, length = read_log(log)
        if length != log.stat().st_size:  # a kill during an append: drop the partial line
            atomic_write(log, lambda p: p.write_bytes(log.read_bytes()[:length]))
        return tested if len(tested) else None

    def append(self, batch: pd.DataFrame) -> None:
        """Append the simulator results ``batch`` to ``tested.csv`` and fsync it; then drop
        the warm-start state of the iterations before ``batch``'s."""
        log = self.folder / TESTED
        header = not log.is_file() or log.stat().st_size == 0
        append_lines(log, [batch.to_csv(index=False, header=header)])
        done = int(batch["iteration"].max())  # the state that proposed earlier batches is spent
        for old in (self.folder / STATE).glob("iteration_*"):
            if int(old.name.split("_")[1]) < done:
                shutil.rmtree(old)

    def save_history(self, history: pd.DataFrame) -> None:
        """Rewrite ``history.csv`` atomically."""
        atomic_write(self.folder / HISTORY, lambda p: history.to_csv(p, index=False))

    def history(self) -> pd.DataFrame:
        """The stored ``history.csv`` (empty if none)."""
        path = self.folder / HISTORY
        return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()

    def save_state(self, iteration: int, surrogates: dict[str, Surrogate]) -> None:
        """Store the surrogates trained at ``iteration`` (atomically, as one folder)."""
        with atomic_folder(self._state(iteration), overwrite=True) as tmp:
            for name, model in surrogates.items():
                model.save(tmp / name)

    def load_state(self, iteration: int) -> dict[str, Surrogate]:
        """The surrogates stored for ``iteration`` ({} if none)."""
        folder = self._state(iteration)
        if not folder.is_dir():
            return {}
        return {m.name: Surrogate.load(m) for m in sorted(folder.iterdir())}

    def _state(self, iteration: int) -> Path:
        return self.folder / STATE / f"iteration_{iteration}"
