"""The output folder of a scan: nothing a kill can lose, nothing a resume can mix up.

* ``tested.csv`` is an append-only log: every batch of simulator results is appended and
  fsync'd as soon as it arrives, so a kill at any moment loses at most the calls in flight.
  A kill during an append leaves an incomplete batch (and perhaps an incomplete line), which
  :meth:`ScanStore.start` drops (and removes from the file) before a resume proposes that
  batch again.
* ``settings.json`` is written before the first simulator call; a resume whose settings
  differ in anything is refused with the differences named (the budget is not a setting:
  a resume may change it; each change is recorded in its ``budget_history``).
* ``state/iteration_K/`` holds the surrogates trained at iteration ``K`` (those that
  warm-start the next fit), kept until the batch they proposed is stored, so a resumed scan
  proposes bit-identical points.
* ``history.jsonl`` is an append-only log of the diagnostics of each iteration (one JSON
  object a line, fsync'd after the iteration's batch); ``history.csv`` is its table, rewritten
  atomically after every row. A kill between a batch and its row loses nothing either: a
  resume rebuilds the missing rows (iteration, points, in-target count) from ``tested.csv``.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from surrogates.base import Surrogate
from surrogates.io import append_lines, atomic_folder, atomic_write, write_text

__all__ = ["ScanStore", "jsonable_settings", "read_log"]

TESTED = "tested.csv"
HISTORY = "history.csv"
HISTORY_LOG = "history.jsonl"
SETTINGS = "settings.json"
STATE = "state"


def jsonable_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` as read back from ``settings.json`` (tuples become lists, ...)."""
    return json.loads(json.dumps(settings, default=str))


def _drop_partial_line(log: Path) -> None:
    """Cut an incomplete last line (a kill during an append) off the append-only ``log``."""
    data = log.read_bytes()
    length = data.rfind(b"\n") + 1
    if length != len(data):
        atomic_write(log, lambda p: p.write_bytes(data[:length]))


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
        for name in (TESTED, HISTORY, HISTORY_LOG, SETTINGS):
            (self.folder / name).unlink(missing_ok=True)
        shutil.rmtree(self.folder / STATE, ignore_errors=True)

    def start(self, settings: dict[str, Any], budget: int | None = None) -> pd.DataFrame | None:
        """Check ``settings`` against a stored scan and return its tested points (or None).

        ``budget`` (total simulator calls) is not a setting: a resume may change it; each
        budget a run was started with is recorded in ``settings.json``'s ``budget_history``.

        Raises
        ------
        ValueError
            If a scan stored here was run with other settings; names each difference.
        """
        stored_file = self.folder / SETTINGS
        now = jsonable_settings(settings)
        history: list[dict[str, Any]] = []
        if stored_file.is_file():
            stored = json.loads(stored_file.read_text())
            history = stored.pop("budget_history", [])
            diff = [f"{k}: stored {stored.get(k)!r}, now {now.get(k)!r}"
                    for k in sorted({*stored, *now}) if stored.get(k) != now.get(k)]
            if diff:
                raise ValueError(
                    f"{self.folder} holds a scan run with other settings ({'; '.join(diff)}); "
                    "resuming would mix two scans. Restore the configuration, choose another "
                    "output folder, or --restart"
                )
        if budget is not None and (not history or history[-1]["budget"] != budget):
            history.append({"time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "budget": int(budget)})
        if not stored_file.is_file() or budget is not None:
            write_text(stored_file, json.dumps({**now, "budget_history": history}, indent=1))
        log = self.folder / TESTED
        if not log.is_file():
            return None
        _drop_partial_line(log)
        tested = read_log(log)[0]
        if not len(tested):
            return None
        last = tested["iteration"] == tested["iteration"].max()
        full = now["n_initial"] if tested["iteration"].max() == 0 else now["batch_size"]
        if last.sum() < full and len(tested) not in {h["budget"] for h in history}:
            # a kill during the append of a batch left some complete lines of it: the batch
            # was in flight; it is proposed again, identically, on resume
            tested = tested.loc[~last].reset_index(drop=True)
            lines = log.read_bytes().split(b"\n")
            atomic_write(log, lambda p: p.write_bytes(b"\n".join(lines[: len(tested) + 1])
                                                      + b"\n"))
        if (self.folder / HISTORY_LOG).is_file():
            _drop_partial_line(self.folder / HISTORY_LOG)
        logged = set(self.history().get("iteration", []))
        for it in sorted(set(tested["iteration"]) - logged):  # rows lost to a kill
            self.append_history({
                "iteration": int(it), "n_tested": int((tested["iteration"] <= it).sum()),
                "n_in_target_batch": int(tested.loc[tested["iteration"] == it, "in_target"].sum()),
            })
        return tested

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

    def append_history(self, row: dict[str, Any]) -> None:
        """Append the diagnostics ``row`` of one iteration to ``history.jsonl`` (fsync'd) and
        rewrite ``history.csv`` from it."""
        append_lines(self.folder / HISTORY_LOG, [json.dumps(row, default=float) + "\n"])
        history = self.history()
        atomic_write(self.folder / HISTORY, lambda p: history.to_csv(p, index=False))

    def history(self) -> pd.DataFrame:
        """The diagnostics of every stored iteration, one row each (empty if none)."""
        path = self.folder / HISTORY_LOG
        if not path.is_file():
            return pd.DataFrame()
        lines = path.read_bytes().splitlines(keepends=True)
        rows = [json.loads(line) for line in lines if line.endswith(b"\n")]
        return pd.DataFrame(rows)

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
