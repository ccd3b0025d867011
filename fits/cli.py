"""``bsm-surrogates fit --config FIT.yaml``: run a configured global fit.

The lead's ``surrogates/cli.py`` registers the subcommand with :func:`add_fit_parser` and
dispatches to :func:`run_fit`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_fit_parser", "run_fit"]


def add_fit_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fit`` subcommand to ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "fit",
        help="run an emcee or UltraNest fit described by a YAML file",
        description="Run a global fit (terms, surrogates, prior, sampler, output folder) from "
        "a YAML configuration; see examples/fit_mock_excess.yaml. A run found in the output "
        "folder is resumed.",
    )
    p.add_argument("--config", required=True, help="YAML fit configuration")
    p.add_argument("--output", help="output folder (overrides the configuration's 'output')")
    p.add_argument("--restart", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--progress", action="store_true", help="show the sampler's progress")
    p.set_defaults(func=run_fit)
    return p


def run_fit(args: argparse.Namespace) -> int:
    """Run the fit of ``args.config``; print the summary. Returns the exit status (0)."""
    from fits.config import load_config, run_config

    config = load_config(args.config, output=args.output)
    result = run_config(config, resume=not args.restart, progress=args.progress)
    print(f"{result.sampler}: {result.n_calls} likelihood calls, {result.wall_seconds:.1f} s")
    if result.log_evidence is not None:
        print(f"ln Z = {result.log_evidence:.3f} +- {result.log_evidence_error:.3f}")
    print(result.summary().to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"results in {config.output}")
    return 0
