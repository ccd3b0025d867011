"""Scan configuration files (YAML), as run by the command ``bsm-surrogates scan``.

An analytic benchmark (see ``examples/scan_eggbox.yaml``)::

    output: runs/scan_eggbox             # relative paths: relative to this file
    simulator: {name: eggbox}            # or {name: hypersphere, n_dim: 7, half_width: 3.0}
    constraints:
      - {observable: O, value: 100.0, sigma: 10.0}
    budget: 1000
    scan: {acquisition: target_probability, model: rbcm, n_initial: 100, batch_size: 100,
           random_fraction: 0.1, proposal: rejection, seed: 0}

A pMSSM sub-space with saved surrogates standing in for SOFTSUSY
(``examples/scan_pmssm_higgs.yaml``)::

    simulator:
      name: pmssm_surrogate
      surrogates: {h0: ../runs/scan_pmssm/models/higgs_mass}   # observable -> saved surrogate
      validity: ../runs/scan_pmssm/models/validity              # optional
      free: [tanb, At, mqL3, mtR3]
      benchmark: {M1: ..., ...}                                 # values of the fixed parameters

SOFTSUSY itself in the loop (``examples/scan_softsusy_higgs.yaml``; see
:class:`~fits.scan.softsusy.SoftsusySimulator`)::

    simulator:
      name: softsusy
      free: [tanb, At, mqL3, mtR3]
      benchmark: {M1: ..., ...}      # values of the fixed parameters
      n_workers: 2                   # SOFTSUSY runs at once
      timeout: 60                    # seconds per point, then invalid ("timeout")
      executable: ...                # optional; else $BSM_SURROGATES_SOFTPOINT or
                                     # ../shared/tools/softsusy/softpoint.x

``scan`` takes the keyword arguments of :class:`~fits.scan.loop.ActiveScan`. The output folder
holds ``tested.csv`` (appended as simulator results arrive), ``history.csv``,
``settings.json``, the warm-start ``state/`` and ``tested_points.png``
(see :mod:`fits.scan.store`); a scan found there is resumed if its settings are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fits.config import load_surrogate, read_yaml_config, resolve_path
from fits.scan.constraints import Constraint
from fits.scan.loop import ActiveScan, ScanResult
from fits.scan.simulators import Simulator, SurrogateSimulator, eggbox, hypersphere
from fits.scan.softsusy import SoftsusySimulator
from fits.scan.store import ScanStore
from surrogates.io import atomic_write
from surrogates.validation import check_keys

__all__ = ["ScanConfig", "load_scan_config", "run_scan_config"]

_KEYS = {"output", "simulator", "constraints", "budget", "scan"}
_SOFTSUSY_KEYS = {"free", "benchmark", "executable", "timeout", "n_workers"}


@dataclass
class ScanConfig:
    """A parsed scan configuration, ready to run."""

    scan: ActiveScan
    budget: int
    output: Path


def _simulator(spec: dict[str, Any], base: Path, where: str) -> Simulator:
    spec = dict(spec)
    name = spec.pop("name", None)
    try:
        if name == "eggbox":
            return eggbox(**spec)
        if name == "hypersphere":
            return hypersphere(**spec)
        if name == "pmssm_surrogate":
            surrogates = {obs: load_surrogate(base, folder)
                          for obs, folder in spec.pop("surrogates").items()}
            validity = spec.pop("validity", None)
            return SurrogateSimulator(
                surrogates,
                free=spec.pop("free"),
                fixed=spec.pop("benchmark"),
                validity=None if validity is None else load_surrogate(base, validity),
                **spec,
            )
        if name == "softsusy":
            check_keys(spec, _SOFTSUSY_KEYS, f"{where}: simulator softsusy")
            executable = spec.pop("executable", None)
            return SoftsusySimulator(
                free=spec.pop("free", None),
                fixed=spec.pop("benchmark", None),
                executable=None if executable is None else resolve_path(base, executable),
                **spec,
            )
    except (TypeError, KeyError) as err:
        raise ValueError(f"{where}: simulator {name!r}: {err}") from None
    raise ValueError(
        f"{where}: simulator.name must be eggbox, hypersphere, pmssm_surrogate or softsusy; "
        f"got {name!r}"
    )


def load_scan_config(path: str | Path, *, output: str | Path | None = None) -> ScanConfig:
    """Read and check a YAML scan configuration.

    Raises
    ------
    ValueError
        Naming the offending key: unknown or missing keys, an unknown simulator, bad
        constraints or scan options.
    """
    path, cfg = read_yaml_config(path, "scan", _KEYS, ("simulator", "constraints", "budget"))
    simulator = _simulator(cfg["simulator"], path.parent, str(path))
    try:
        constraints = [Constraint.from_dict(c) for c in cfg["constraints"]]
        scan = ActiveScan(simulator, constraints, **(cfg.get("scan") or {}))
    except TypeError as err:
        raise ValueError(f"{path}: {err}") from None
    out = output if output is not None else cfg.get("output", "scan_output")
    return ScanConfig(scan, int(cfg["budget"]), resolve_path(path.parent, out))


def run_scan_config(
    config: ScanConfig, *, resume: bool = True, progress: bool = True
) -> ScanResult:
    """Run (or resume) the scan: results stored as they arrive, history after every
    iteration, a figure at the end; ``resume=False`` discards a scan stored in the folder.

    Raises
    ------
    ValueError
        If the folder holds a scan run with other settings (naming the differences).
    """
    from fits.scan.figures import plot_tested_points

    config.scan.progress = progress
    store = ScanStore(config.output)
    if not resume:
        store.clear()
    tested = store.start(config.scan.settings)
    previous = store.history() if tested is not None else pd.DataFrame()

    def save(result: ScanResult) -> ScanResult:
        history = (result.history if previous.empty  # or keep the interrupted run's history
                   else pd.concat([previous, result.history], ignore_index=True))
        store.save_history(history)
        return ScanResult(result.tested, history, result.settings)

    result = save(config.scan.run(config.budget, callback=save, tested=tested, store=store))
    fig = plot_tested_points({"scan": result.tested}, config.scan.simulator.space)
    atomic_write(config.output / "tested_points.png", lambda p: fig.savefig(p, dpi=120))
    return result
