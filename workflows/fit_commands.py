"""``bsm-surrogates fit --config FIT.yaml`` and ``bsm-surrogates scan --config SCAN.yaml``.

:mod:`workflows.cli` registers the subcommands with :func:`add_fit_parser` and
:func:`add_scan_parser`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_fit_parser", "add_scan_parser", "run_fit", "run_scan"]


def _config_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--config", required=True, help=f"YAML {what} configuration")
    parser.add_argument("--output", help="output folder (overrides the configuration's 'output')")
    parser.add_argument("--restart", action="store_true", help="start afresh instead of resuming")


def add_fit_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fit`` subcommand to ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "fit",
        help="run an emcee or UltraNest fit described by a YAML file",
        description="Run a global fit (terms, surrogates, prior, sampler, output folder) from "
        "a YAML configuration; see examples/fit_mock_excess.yaml. A run found in the output "
        "folder is resumed. Under 'mpiexec -n N bsm-surrogates fit ...' the likelihood calls "
        "are shared out over the N ranks (UltraNest: always; emcee: with sampler option "
        "pool: mpi).",
    )
    _config_arguments(p, "fit")
    p.add_argument("--progress", action="store_true", help="show the sampler's progress")
    p.set_defaults(func=run_fit)
    return p


def run_fit(args: argparse.Namespace) -> int:
    """Run the fit of ``args.config``; print the summary. Returns the exit status (0)."""
    from fits.config import load_config, run_config
    from fits.mpi import is_root

    config = load_config(args.config, output=args.output)
    result = run_config(config, resume=not args.restart, progress=args.progress)
    if not is_root():  # under mpiexec rank 0 reports
        return 0
    print(f"{result.sampler}: {result.n_calls} likelihood calls, {result.wall_seconds:.1f} s")
    if result.log_evidence is not None:
        print(f"ln Z = {result.log_evidence:.3f} +- {result.log_evidence_error:.3f}")
    print(result.summary().to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"results in {config.output}")
    return 0


def add_scan_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``scan`` subcommand to ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "scan",
        help="run a surrogate-guided active-learning scan described by a YAML file",
        description="Run a Machine-Learning-Scan-style active-learning scan (simulator, "
        "constraints, budget, acquisition) from a YAML configuration; see "
        "examples/scan_eggbox.yaml. A scan found in the output folder is resumed.",
    )
    _config_arguments(p, "scan")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_scan)
    return p


def run_scan(args: argparse.Namespace) -> int:
    """Run the scan of ``args.config``; print its efficiency. Returns the exit status (0)."""
    from fits.scan.config import load_scan_config, run_scan_config

    config = load_scan_config(args.config, output=args.output)
    result = run_scan_config(config, resume=not args.restart, progress=not args.quiet)
    n_in = int(result.tested["in_target"].sum())
    print(f"{len(result.tested)} points tested, {n_in} in the target region "
          f"(efficiency {result.efficiency:.1%})")
    print(f"results in {config.output}")
    return 0
