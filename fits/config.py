"""Fit configuration files (YAML): surrogates, likelihood terms, prior, sampler, output.

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

from fits.emcee_fit import run_emcee
from fits.priors import Prior
from fits.results import FitResult
from fits.ultranest_fit import run_ultranest
from likelihoods import Combination, GaussianMeasurement, SignalRegion, Viability
from surrogates.validation import check_keys

__all__ = ["FitConfig", "load_config", "run_config"]

TERMS = {"gaussian": (GaussianMeasurement, "observable"),
         "signal_region": (SignalRegion, "observable"),
         "viability": (Viability, "classifier")}
SAMPLERS = {"emcee": run_emcee, "ultranest": run_ultranest}
_KEYS = {"output", "surrogates", "benchmark", "prior", "terms", "sampler"}


def _arguments(function: Any) -> set[str]:
    """Keyword arguments a configuration may give ``function`` (a class: its constructor)."""
    params = inspect.signature(function).parameters
    return set(params) - {"self", "likelihood", "prior", "output_dir"}



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
    path: str | Path, what: str, allowed: set[str], required: tuple[str, ...]
) -> tuple[Path, dict[str, Any]]:
    """Read a YAML configuration, checking its top-level keys.

    Returns
    -------
    path, dict
        The file as a Path and its content.

    Raises
    ------
    ValueError
        If the file is missing, has keys outside ``allowed`` or lacks one of ``required``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} configuration {path} does not exist")
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid YAML: {' '.join(str(err).split())}") from None
    return path, check_keys(cfg, allowed, str(path), required=required)


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
        Naming the offending key or term: unknown keys (with the closest allowed one),
        unknown term types or samplers, references to undeclared surrogates, a surrogate of
        the wrong kind for its slot (a classifier as a measured observable), wrong term
        arguments. All of it is checked before any sampling starts.
    """
    path, cfg = read_yaml_config(path, "fit", _KEYS, ("terms", "prior", "sampler"))
    base = path.parent
    surrogates = {name: load_surrogate(base, folder)
                  for name, folder in (cfg.get("surrogates") or {}).items()}
    terms = []
    for i, spec in enumerate(cfg["terms"]):
        spec = dict(spec)
        kind = spec.pop("type", None)
        if kind not in TERMS:
            raise ValueError(
                f"{path}: term #{i}: type must be one of {sorted(TERMS)}; got {kind!r}"
            )
        cls, slot = TERMS[kind]
        where = f"{path}: term #{i} ({spec.get('name', kind)})"
        check_keys(spec, _arguments(cls), where, required=(slot,))
        ref = spec.get(slot)
        if ref not in surrogates:
            raise ValueError(
                f"{path}: term #{i} ({spec.get('name', kind)}): {slot} {ref!r} is not one of the "
                f"declared surrogates {sorted(surrogates)}"
            )
        if surrogates[ref].target.is_classifier != (slot == "classifier"):
            raise ValueError(
                f"{where}: {slot} {ref!r} is a {surrogates[ref].target.name!r} surrogate; a "
                f"{kind} term needs "
                + ("a validity classifier" if slot == "classifier" else "a regression surrogate")
            )
        spec[slot] = surrogates[ref]
        spec.setdefault("name", kind)
        try:
            terms.append(cls(**spec))
        except TypeError as err:
            raise ValueError(f"{path}: term #{i} ({spec['name']}): {err}") from None
    benchmark = {k: float(v) for k, v in (cfg.get("benchmark") or {}).items()}
    prior_cfg = check_keys(cfg["prior"], {"free", "fixed"}, f"{path}: prior")
    free = prior_cfg.get("free")
    if not free:
        raise ValueError(f"{path}: prior.free must name at least one parameter")
    prior = Prior.around({**benchmark, **(prior_cfg.get("fixed") or {})}, free)
    sampler_cfg = dict(cfg["sampler"]) if isinstance(cfg["sampler"], dict) else {}
    name = sampler_cfg.pop("name", None)
    if name not in SAMPLERS:
        raise ValueError(f"{path}: sampler.name must be one of {sorted(SAMPLERS)}; got {name!r}")
    check_keys(sampler_cfg, _arguments(SAMPLERS[name]), f"{path}: sampler {name}")
    out = resolve_path(base, output if output is not None else cfg.get("output", "fit_output"))
    return FitConfig(Combination(terms), prior, name, sampler_cfg, out, benchmark)


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
    result.corner(config.output / "corner.png", truths=truths or None)
    return result
