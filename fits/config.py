"""Fit configuration files (YAML): surrogates, likelihood terms, prior, sampler, output.

The fit configuration is a pMSSM-19 entry point: its ``benchmark`` and ``prior`` name
pMSSM-19 parameters (:func:`~fits.priors.pmssm19_prior`), and its surrogates must be pMSSM-19
surrogates (a fit of another model calls :class:`~fits.priors.Prior` and the samplers).

A configuration names saved surrogates, builds likelihood terms on them, frees some
parameters around a benchmark point and picks a sampler; see ``examples/fit_mock_excess.yaml``::

    output: runs/mock_excess            # relative paths: relative to this file
    surrogates:                         # name -> folder written by Surrogate.save, or
      higgs: models/higgs_mass          #   pretrained:TARGET/MODEL for a shipped surrogate
      xsec: pretrained:xsec/bnn
      valid: models/validity
    benchmark: {M1: 300.0, M2: 500.0, ...}   # all 19 parameters (fixed values)
    prior:
      free: {M1: [-1000, 1000], M2: [100, 1500], mu: {low: 100, high: 1500, shape: log_uniform}}
    terms:
      - {type: gaussian, name: higgs_mass, observable: higgs, value: 125.09, exp_error: 0.24,
         theory_error: 2.0, uncertainty: quadrature}
      - {type: signal_region, name: sr, observable: xsec, n_observed: 25, background: 10,
         background_error: 2, luminosity: 139, efficiency: 0.02}
      - {type: viability, name: valid, classifier: valid, mode: cut, n_std: 3}
    sampler: {name: ultranest, min_num_live_points: 400, seed: 0}

Every term takes the keyword arguments of its class (:class:`~likelihoods.GaussianMeasurement`,
:class:`~likelihoods.SignalRegion`, :class:`~likelihoods.Viability`); every sampler those of
:func:`~fits.emcee_fit.run_emcee` or :func:`~fits.ultranest_fit.run_ultranest`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fits.emcee_fit import EMCEE_OPTIONS, run_emcee
from fits.priors import SHAPES, Prior, pmssm19_prior
from fits.results import FitResult
from fits.ultranest_fit import ULTRANEST_OPTIONS, run_ultranest
from likelihoods import Combination, GaussianMeasurement, SignalRegion, Viability
from surrogates.params import Interval, ListOf, MappingOf, OneOf, Options, Section, validate
from surrogates.space import PARAMETER_NAMES

__all__ = ["FitConfig", "load_config", "required_arguments", "run_config"]

TERMS = {"gaussian": (GaussianMeasurement, "observable"),
         "signal_region": (SignalRegion, "observable"),
         "viability": (Viability, "classifier")}
SAMPLERS = {"emcee": run_emcee, "ultranest": run_ultranest}


def required_arguments(cls: type) -> tuple[str, ...]:
    """Arguments of ``cls`` without a default, except ``self`` and ``name``."""
    params = inspect.signature(cls).parameters.values()
    return tuple(p.name for p in params if p.default is p.empty and p.name != "name")


_VALUE = Interval("real")
_FREE = [None, Options(SHAPES), ListOf(_VALUE, min_length=2),
         Section({"low": _VALUE, "high": _VALUE, "shape": Options(SHAPES)})]
#: The fit configuration file, declared as data (:mod:`surrogates.params`): every key, type,
#: range, term and sampler option is checked before any surrogate is loaded.
SCHEMA: dict[str, Any] = {
    "output": str,
    "surrogates": MappingOf(str),
    "benchmark": MappingOf(_VALUE, keys=PARAMETER_NAMES),
    "prior": Section({"free": MappingOf(_FREE, keys=PARAMETER_NAMES, min_length=1),
                      "fixed": MappingOf(_VALUE, keys=PARAMETER_NAMES)}, required=("free",)),
    "terms": ListOf(OneOf(
        "type",
        {kind: {**cls.parameter_constraints, slot: str} for kind, (cls, slot) in TERMS.items()},
        {kind: required_arguments(cls) for kind, (cls, _) in TERMS.items()},
    ), min_length=1),
    "sampler": OneOf("name", {"emcee": {k: v for k, v in EMCEE_OPTIONS.items() if k != "initial"},
                              "ultranest": ULTRANEST_OPTIONS}),
}


@dataclass
class FitConfig:
    """A parsed configuration, ready to run."""

    likelihood: Combination
    prior: Prior
    sampler: str
    sampler_kwargs: dict[str, Any]
    output: Path
    benchmark: dict[str, float]


def resolve_path(base: Path, value: Any) -> Path:
    """``value`` as a path, relative to the folder ``base`` unless absolute."""
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else base / p


#: Prefix of a configuration's reference to a shipped surrogate, e.g. ``pretrained:xsec/bnn``.
PRETRAINED = "pretrained:"


def load_surrogate(base: Path, value: Any) -> Any:
    """The surrogate a configuration names: ``pretrained:TARGET/MODEL`` (shipped with the
    package, :meth:`~surrogates.base.Surrogate.pretrained`) or a saved model folder, relative
    to ``base`` unless absolute."""
    from surrogates.base import Surrogate  # lazily: reading a config needs no torch

    text = str(value)
    if text.startswith(PRETRAINED):
        target, _, model = text[len(PRETRAINED):].partition("/")
        return Surrogate.pretrained(target, model or None)
    return Surrogate.load(resolve_path(base, text))


def read_yaml_config(
    path: str | Path, what: str, schema: dict[str, Any], required: tuple[str, ...]
) -> tuple[Path, dict[str, Any]]:
    """Read a YAML configuration and check it against ``schema`` (:mod:`surrogates.params`).

    Returns
    -------
    path, dict
        The file as a Path and its content.

    Raises
    ------
    ValueError
        If the file is missing or not YAML, has unknown keys, values of a wrong type or range,
        or lacks one of ``required``; names the key path.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} configuration {path} does not exist")
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid YAML: {' '.join(str(err).split())}") from None
    return path, validate(cfg, schema, str(path), required=required)


def load_config(path: str | Path, *, output: str | Path | None = None) -> FitConfig:
    """Read and check a YAML fit configuration, loading its surrogates.

    Parameters
    ----------
    path : path
        The YAML file.
    output : path, optional
        Overrides the file's ``output``.

    Raises
    ------
    ValueError
        Naming the offending key path (:data:`SCHEMA`): unknown keys (with the closest allowed
        one), missing keys, values of a wrong type or range, unknown term types or samplers,
        prior ranges outside the box, references to undeclared surrogates, a surrogate of the
        wrong kind for its slot (a classifier as a measured observable). All of it is checked
        before any sampling starts; everything but the slots before any surrogate is loaded.
    """
    path, cfg = read_yaml_config(path, "fit", SCHEMA, ("terms", "prior", "sampler"))
    base = path.parent
    benchmark = {k: float(v) for k, v in (cfg.get("benchmark") or {}).items()}
    try:
        prior = pmssm19_prior({**benchmark, **(cfg["prior"].get("fixed") or {})},
                              cfg["prior"]["free"])
    except ValueError as err:
        raise ValueError(f"{path}: prior: {err}") from None
    surrogates = cfg.get("surrogates") or {}
    for i, spec in enumerate(cfg["terms"]):
        _, slot = TERMS[spec["type"]]
        if spec[slot] not in surrogates:
            raise ValueError(
                f"{path}: terms[{i}].{slot}: {spec[slot]!r} is not one of the declared "
                f"surrogates {sorted(surrogates)}"
            )
    surrogates = {name: load_surrogate(base, folder) for name, folder in surrogates.items()}
    terms = []
    for i, spec in enumerate(cfg["terms"]):
        spec = dict(spec)
        kind = spec.pop("type")
        cls, slot = TERMS[kind]
        ref = spec[slot]
        if surrogates[ref].target.is_classifier != (slot == "classifier"):
            raise ValueError(
                f"{path}: terms[{i}].{slot}: {ref!r} is a {surrogates[ref].target.name!r} "
                f"surrogate; a {kind} term needs "
                + ("a validity classifier" if slot == "classifier" else "a regression surrogate")
            )
        spec[slot] = surrogates[ref]
        spec.setdefault("name", kind)
        terms.append(cls(**spec))
    sampler_cfg = dict(cfg["sampler"])
    name = sampler_cfg.pop("name")
    out = resolve_path(base, output if output is not None else cfg.get("output", "fit_output"))
    likelihood = Combination(terms)
    if likelihood.space != prior.space:
        raise ValueError(
            f"{path}: the surrogates are on {likelihood.space!r}; a fit configuration's prior is "
            f"on the pMSSM-19 parameters"
        )
    return FitConfig(likelihood, prior, name, sampler_cfg, out, benchmark)


def run_config(config: FitConfig, **overrides: Any) -> FitResult:
    """Run the configured sampler, then save the result and a corner plot in ``output``.

    ``overrides`` replace sampler arguments (e.g. ``resume=False``, ``progress=True``).
    """
    run = SAMPLERS[config.sampler]
    kwargs = {**config.sampler_kwargs, **overrides}
    try:
        result = run(config.likelihood, config.prior, config.output / config.sampler, **kwargs)
    except TypeError as err:
        raise ValueError(f"sampler {config.sampler}: {err}") from None
    result.save(config.output)
    truths = {n: config.benchmark[n] for n in config.prior.names if n in config.benchmark}
    result.corner(config.output / "corner.png", truths=truths or None, labels=config.prior.labels)
    return result
