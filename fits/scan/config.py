"""Scan configuration files (YAML), as run by the command ``bsm-surrogates scan``.

An analytic benchmark (see ``examples/scan_eggbox.yaml``)::

    output: runs/scan_eggbox             # relative paths: relative to this file
    simulator: {name: eggbox}            # or {name: hypersphere, n_dim: 7, half_width: 3.0}
    constraints:                         # Gaussian measurements of simulator outputs
      - {observable: O, value: 100.0, sigma: 10.0}          # n_sigma: 2 by default
    budget: 1000
    scan: {acquisition: target_probability, model: rbcm, n_initial: 100, batch_size: 100,
           random_fraction: 0.1, proposal: rejection, seed: 0}

Any likelihood term of :data:`fits.config.TERMS` can steer the scan too (``terms:``, beside
or instead of ``constraints:``), on a simulator output named by its ``observable`` (or, for
``viability``, ``classifier``), e.g.::

    terms:
      - {type: signal_region, name: sr, observable: xsec_n2c1_fb, n_observed: 25,
         background: 10, background_error: 2, luminosity: 139, efficiency: 0.02, n_sigma: 1}
      - {type: gaussian, name: mh, observable: h0, value: 125.09, exp_error: 0.24,
         theory_error: 2.0}

A constraint ``{observable, value, sigma, n_sigma}`` is the term
``{type: gaussian, name: <observable>, observable: <observable>, value, exp_error: sigma,
n_sigma}``.

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
      scheduler: local               # optional: the calls go to Dask workers, a LocalCluster
                                     # of n_workers processes or a scheduler's address
                                     # (tcp://HOST:8786), for the run of the scan

``scan`` takes the keyword arguments of :class:`~fits.scan.loop.ActiveScan`. The output folder
holds ``tested.csv`` (appended as simulator results arrive), ``history.csv``,
``settings.json``, the warm-start ``state/`` and ``tested_points.png``
(see :mod:`fits.scan.store`); a scan found there is resumed if its settings are the same.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fits.config import TERMS, load_surrogate, read_yaml_config, required_arguments, resolve_path
from fits.scan.loop import DEFAULT_MODEL_OPTIONS, ActiveScan, ScanResult
from fits.scan.proposals import PROPOSAL_OPTIONS
from fits.scan.simulators import PMSSMSurrogateSimulator, Simulator, eggbox, hypersphere
from fits.scan.softsusy import OPTIONS as SOFTSUSY_OPTIONS
from fits.scan.softsusy import SoftsusySimulator
from fits.scan.store import ScanStore
from likelihoods import GaussianMeasurement
from surrogates.io import atomic_write
from surrogates.params import Interval, ListOf, MappingOf, OneOf, Options, Section, validate
from surrogates.registry import get_model_class
from surrogates.space import PARAMETER_NAMES

__all__ = ["ScanConfig", "load_scan_config", "run_scan_config"]

_POSITIVE = Interval("real", 0, closed="neither")
#: A measured constraint of the Machine Learning Scan: a Gaussian term on an output.
CONSTRAINT = {"observable": str, "value": Interval("real"), "sigma": _POSITIVE,
              "n_sigma": _POSITIVE}
#: Options of each simulator a configuration may name.
SIMULATORS: dict[str, dict[str, Any]] = {
    "eggbox": {},
    "hypersphere": {"n_dim": Interval("int", 1), "half_width": _POSITIVE},
    "pmssm_surrogate": {
        "surrogates": MappingOf(str, min_length=1), "validity": [str, None],
        "free": ListOf(Options(PARAMETER_NAMES), min_length=1),
        "benchmark": MappingOf(Interval("real"), keys=PARAMETER_NAMES),
        "min_valid_probability": Interval("real", 0, 1),
    },
    "softsusy": {
        "free": ListOf(Options(PARAMETER_NAMES), min_length=1),
        "benchmark": MappingOf(Interval("real"), keys=PARAMETER_NAMES),
        "executable": [str, None], "scheduler": [str, None], **SOFTSUSY_OPTIONS,
    },
}
#: The scan configuration file, declared as data (:mod:`surrogates.params`); the surrogate's
#: ``model_options`` and the ``proposal_options`` are checked against the tables of the
#: chosen family and proposal. All of it before the first simulator call.
SCHEMA: dict[str, Any] = {
    "output": str,
    "simulator": OneOf("name", SIMULATORS,
                       {"pmssm_surrogate": ("surrogates", "free", "benchmark")}),
    "constraints": ListOf(Section(CONSTRAINT, required=("observable", "value", "sigma"))),
    "terms": ListOf(OneOf(
        "type",
        {kind: {**cls.parameter_constraints, slot: str, "n_sigma": _POSITIVE}
         for kind, (cls, slot) in TERMS.items()},
        {kind: required_arguments(cls) for kind, (cls, _) in TERMS.items()},
    )),
    "budget": Interval("int", 1),
    "scan": Section({k: v for k, v in ActiveScan.parameter_constraints.items()
                     if k != "progress"}),
}


@dataclass
class ScanConfig:
    """A parsed scan configuration, ready to run (``scheduler``: the Dask scheduler of the
    simulator's calls, ``"local"`` or an address, or None for in-process calls)."""

    scan: ActiveScan
    budget: int
    output: Path
    scheduler: str | None = None


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
            return PMSSMSurrogateSimulator(
                surrogates,
                free=spec.pop("free"),
                fixed=spec.pop("benchmark"),
                validity=None if validity is None else load_surrogate(base, validity),
                **spec,
            )
        if name == "softsusy":
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


def _output(simulator: Simulator, name: str, path: Path) -> Any:
    try:
        return simulator.observable(name)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def load_scan_config(path: str | Path, *, output: str | Path | None = None) -> ScanConfig:
    """Read and check a YAML scan configuration.

    Raises
    ------
    ValueError
        Naming the offending key path (:data:`SCHEMA`): unknown or missing keys, values of a
        wrong type or range, an unknown simulator, bad constraints, scan, model or proposal
        options, a surrogate of the wrong kind for its role.
    """
    path, cfg = read_yaml_config(path, "scan", SCHEMA, ("simulator", "budget"))
    if not cfg.get("constraints") and not cfg.get("terms"):
        raise ValueError(f"{path}: a scan needs at least one of constraints or terms")
    options = cfg.get("scan") or {}
    model = options.get("model", "rbcm")
    get_model_class(model).check_options(
        options.get("model_options", DEFAULT_MODEL_OPTIONS.get(model, {})), str(path),
        path="scan.model_options")
    validate(options.get("proposal_options") or {},
             PROPOSAL_OPTIONS[options.get("proposal", "rejection")], str(path),
             path="scan.proposal_options")
    simulator_spec = dict(cfg["simulator"])
    scheduler = simulator_spec.pop("scheduler", None)
    simulator = _simulator(simulator_spec, path.parent, str(path))
    terms, n_sigma = [], dict(options.pop("n_sigma", None) or {})
    for c in cfg.get("constraints") or []:
        terms.append(GaussianMeasurement(c["observable"], _output(simulator, c["observable"],
                                                                  path), c["value"], c["sigma"]))
        n_sigma[c["observable"]] = c.get("n_sigma", 2.0)
    for spec in cfg.get("terms") or []:
        spec = dict(spec)
        cls, slot = TERMS[spec["type"]]
        spec[slot] = _output(simulator, spec[slot], path)
        spec.setdefault("name", spec.pop("type"))
        if "n_sigma" in spec:
            n_sigma[spec["name"]] = spec.pop("n_sigma")
        terms.append(cls(**spec))
    scan = ActiveScan(simulator, terms, n_sigma=n_sigma, **options)
    out = output if output is not None else cfg.get("output", "scan_output")
    return ScanConfig(scan, int(cfg["budget"]), resolve_path(path.parent, out), scheduler)


def _dispatch_to_dask(simulator: Simulator, scheduler: str, stack: contextlib.ExitStack) -> None:
    """Send the simulator's calls to Dask workers until ``stack`` closes."""
    from surrogates.parallel.cluster import LOCAL, dask_client

    n_workers = simulator.n_workers if scheduler == LOCAL else None
    client = stack.enter_context(dask_client(scheduler, n_workers=n_workers))
    simulator.executor = client.get_executor()
    stack.callback(setattr, simulator, "executor", None)


def run_scan_config(
    config: ScanConfig, *, resume: bool = True, progress: bool = True
) -> ScanResult:
    """Run (or resume) the scan: results and history rows stored as they arrive
    (:class:`~fits.scan.store.ScanStore`), a figure at the end; ``resume=False`` discards a
    scan stored in the folder. A resume may change the budget (recorded in ``settings.json``).

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
    tested = store.start(config.scan.settings, budget=config.budget)
    with contextlib.ExitStack() as stack:
        if config.scheduler is not None:
            _dispatch_to_dask(config.scan.simulator, config.scheduler, stack)
        result = config.scan.run(config.budget, tested=tested, store=store)
    result = ScanResult(result.tested, store.history(), result.settings)
    fig = plot_tested_points({"scan": result.tested}, config.scan.simulator.space)
    atomic_write(config.output / "tested_points.png", lambda p: fig.savefig(p, dpi=120))
    return result
