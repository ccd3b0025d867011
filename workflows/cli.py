"""Command-line interface ``bsm-surrogates``: a thin layer over the public functions.

``train`` and ``evaluate`` run :mod:`workflows.training` and :mod:`workflows.scoring`,
``compare`` the report (:mod:`workflows.report`), ``fit`` and ``scan`` the subcommands of
:mod:`workflows.fit_commands`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from surrogates.base import Surrogate
from surrogates.calibration import RECALIBRATIONS
from surrogates.data.loaders import read_table
from surrogates.io import atomic_write, check_output, write_text
from surrogates.registry import MODELS
from surrogates.targets import TARGETS
from workflows.fit_commands import add_fit_parser, add_scan_parser
from workflows.scoring import evaluate_model
from workflows.training import recalibrate_model, train_model

__all__ = ["main", "build_parser"]


def _read_config(text: str | None) -> dict[str, Any]:
    """``--config``: a JSON/YAML file, or an inline JSON object."""
    if not text:
        return {}
    path = Path(text)
    if path.is_file():
        try:
            config = yaml.safe_load(path.read_text())
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise ValueError(f"--config {path} is not valid YAML/JSON: {_one_line(err)}") from None
    else:
        try:
            config = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"--config {text!r} is neither an existing file nor inline JSON ({err})"
            ) from None
    if not isinstance(config, dict):
        raise ValueError(f"--config must be a mapping of option names to values; got {config!r}")
    return config


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _cmd_train(args: argparse.Namespace) -> None:
    check_output(args.out, [args.data], overwrite=args.overwrite)
    surrogate = train_model(
        args.target,
        args.model,
        data=args.data,
        budget=args.budget,
        config=_read_config(args.config),
        seed=args.seed,
        device=args.device,
        support=args.support,
        distance=args.distance,
    )
    out = surrogate.save(args.out, overwrite=args.overwrite)
    seconds = surrogate.fit_info_["train_seconds"]
    print(f"trained {args.model} on {args.target} in {seconds:.1f} s; saved to {out}")


def _cmd_recalibrate(args: argparse.Namespace) -> None:
    model = Path(args.model)
    check_output(args.out, [args.data, model], overwrite=args.overwrite)
    surrogate = recalibrate_model(Surrogate.load(model), args.recalibration, args.data)
    out = surrogate.save(args.out, overwrite=args.overwrite)
    n_val = surrogate.fit_info_["recalibrated"]["n_val"]
    print(f"recalibrated {surrogate.model_name} on {surrogate.target.name} as "
          f"{args.recalibration} on {n_val} validation points; saved to {out}")


def _cmd_predict(args: argparse.Namespace) -> None:
    if args.scheduler is not None or args.partition_rows is not None:
        _predict_partitioned(args)
        return
    check_output(args.out, [args.data, args.model], overwrite=args.overwrite)
    surrogate = Surrogate.load(args.model)
    df = read_table(args.data)
    pred = surrogate.predict(df, strict=args.strict)
    ids = df["id"] if "id" in df.columns else pd.Series(np.arange(len(df)), name="id")
    out = pred.to_frame(ids)
    finite = np.isfinite(pred.mean) & np.isfinite(pred.std)
    if not finite.all():
        if not args.allow_nonfinite:
            rows = np.flatnonzero(~finite)
            raise ValueError(
                f"{args.data}: the prediction of {rows.size} row(s) is not finite (first at "
                f"row {rows[0]}, id {ids.iloc[rows[0]]}); the inputs are probably far outside "
                "the training box. Nothing was written; --allow-nonfinite writes them with "
                "finite=False"
            )
        out["finite"] = finite
    atomic_write(args.out, lambda p: out.to_csv(p, index=False))
    unit = surrogate.target.unit or "probability"
    print(
        f"wrote {len(out)} predictions ({surrogate.target.name}, {unit}) to {args.out}; "
        f"{int(pred.outside_domain.sum())} outside the training box"
        + ("" if finite.all() else f", {int((~finite).sum())} not finite")
    )


def _predict_partitioned(args: argparse.Namespace) -> None:
    """``predict`` over a table larger than memory, on Dask workers or here (no scheduler)."""
    from surrogates.parallel import dask_client, predict_table

    kwargs = {"partition_rows": args.partition_rows or 100_000, "strict": args.strict,
              "allow_nonfinite": args.allow_nonfinite, "overwrite": args.overwrite}
    if args.scheduler is None:
        counts = predict_table(args.model, args.data, args.out, **kwargs)
    else:
        local = args.scheduler == "local"
        with dask_client(args.scheduler, n_workers=args.workers if local else None,
                         memory_limit=args.worker_memory if local else None) as client:
            counts = predict_table(args.model, args.data, args.out, client=client, **kwargs)
    print(
        f"wrote {counts['rows']} predictions to {args.out}; {counts['outside_domain']} "
        "outside the training box"
        + (f", {counts['nonfinite']} not finite" if counts["nonfinite"] else "")
    )


def _cmd_evaluate(args: argparse.Namespace) -> None:
    out = Path(args.json) if args.json else Path(args.model) / f"evaluation_{args.split}.json"
    model = Path(args.model)
    model_files = (  # the model's own files; its earlier evaluations are results
        [f for f in model.iterdir() if not f.name.startswith("evaluation_")]
        if model.is_dir() else [model]
    )
    check_output(out, [args.data, *model_files], overwrite=args.overwrite)
    surrogate = Surrogate.load(args.model)
    recorded = surrogate.fit_info_.get("data")
    if args.data is None and recorded not in (None, "embedded"):
        check_output(out, [recorded], overwrite=args.overwrite)
    result = evaluate_model(surrogate, args.data, args.split)
    width = max(len(k) for k in result)
    print(f"{surrogate.model_name} on {surrogate.target.name}, {args.split} split")
    for key, value in result.items():
        print(
            f"  {key:<{width}}  {value:.6g}"
            if isinstance(value, float)
            else f"  {key:<{width}}  {value}"
        )
    write_text(out, json.dumps(result, indent=1))
    print(f"wrote {out}")


def _cmd_compare(args: argparse.Namespace) -> None:
    from workflows.report.compare import run_compare  # matplotlib only when reporting

    html = run_compare(
        args.targets.split(","),
        args.models.split(","),
        Path(args.out),
        budget=args.budget,
        data=args.data,
        seed=args.seed,
        models_dir=Path(args.models_dir) if args.models_dir else None,
        recalibrate=not args.no_recalibrate,
        shipped=args.shipped,
    )
    print(f"report: {html}")


_OVERWRITE = "replace an existing output (a model folder is replaced as a whole)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bsm-surrogates``."""
    parser = argparse.ArgumentParser(
        prog="bsm-surrogates",
        description="Train, evaluate and compare surrogates of pMSSM-19 observables.",
    )
    parser.add_argument("--traceback", action="store_true", help="show Python tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a surrogate and save it")
    p.add_argument("--target", required=True, choices=list(TARGETS))
    p.add_argument("--model", required=True, choices=list(MODELS))
    p.add_argument(
        "--data", help="points table (.csv, .csv.gz, .parquet); default: embedded subset"
    )
    p.add_argument("--out", required=True, help="folder to save the model in")
    p.add_argument(
        "--budget", default="small", help="named configuration (tiny, small, full, paper)"
    )
    p.add_argument("--config", help="JSON/YAML file or inline JSON overriding the budget's options")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of training")
    p.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    p.add_argument(
        "--support", metavar="BUDGET",
        help="also train the support model (where the target has a value), an MLP ensemble of "
             "this budget (e.g. support); regression targets only",
    )
    p.add_argument(
        "--distance", action="store_true",
        help="also fit the distance-from-data flag (k-NN; 0.1%% of held-back points flagged)",
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "recalibrate", help="fit a saved surrogate's error-bar recalibration again (no training)"
    )
    p.add_argument("--model", required=True, help="folder of a saved surrogate")
    p.add_argument("--recalibration", required=True, choices=list(RECALIBRATIONS[1:]),
                   help="the kind (surrogates.calibration), fitted on the validation split")
    p.add_argument("--data", help="points table; default: the one the model was trained on")
    p.add_argument("--out", required=True, help="folder to save the recalibrated model in")
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE)
    p.set_defaults(func=_cmd_recalibrate)

    p = sub.add_parser("predict", help="predict with a saved surrogate")
    p.add_argument("--model", required=True, help="folder of a saved surrogate")
    p.add_argument("--data", required=True, help="CSV/Parquet with the 19 parameter columns")
    p.add_argument(
        "--out", required=True,
        help="CSV to write: id, mean, std, outside_domain (and p_defined, support_outside, "
        "far_from_data where the model has them; with --scheduler or --partition-rows: "
        ".parquet, .csv or .csv.gz)",
    )
    p.add_argument(
        "--scheduler",
        help="predict partition by partition on Dask workers: 'local' (a local cluster) or a "
        "scheduler address (tcp://HOST:8786); for tables larger than memory",
    )
    p.add_argument(
        "--partition-rows", type=int,
        help="rows per partition (default 100000); without --scheduler the partitions run "
        "here, one after the other",
    )
    p.add_argument("--workers", type=int, help="workers of --scheduler local (default: cores)")
    p.add_argument("--worker-memory", help="memory per local worker, e.g. 2GiB")
    p.add_argument("--strict", action="store_true", help="fail on points outside the training box")
    p.add_argument(
        "--allow-nonfinite",
        action="store_true",
        help="write non-finite predictions (flagged in a 'finite' column) instead of failing",
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate", help="paper metrics of a saved surrogate")
    p.add_argument("--model", required=True, help="folder of a saved surrogate")
    p.add_argument("--data", help="points table; default: the one the model was trained on")
    p.add_argument("--split", default="test", choices=["train", "val", "test", "all"])
    p.add_argument(
        "--json", help="where to write the metrics (default: MODEL/evaluation_SPLIT.json)"
    )
    p.add_argument("--overwrite", action="store_true", help=_OVERWRITE)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("compare", help="train or load models and write the comparison report")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--out", default="report")
    p.add_argument("--budget", default="small")
    p.add_argument("--data", help="points table; default: embedded subset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models-dir", help="load saved models from / save trained models to here")
    p.add_argument(
        "--shipped", action="store_true",
        help="evaluate the surrogates shipped with the package (use with --data full)",
    )
    p.add_argument(
        "--no-recalibrate",
        action="store_true",
        help="skip the variance recalibration fitted on the validation split",
    )
    p.set_defaults(func=_cmd_compare)

    add_fit_parser(sub)
    add_scan_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; errors are printed as one line (``--traceback`` for the full story).

    Any exception raised by a command (a user's input or files: values, missing or damaged
    files, configuration types) ends in one line naming the problem and exit status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Exception as err:  # the CLI boundary: one line, not a traceback
        if args.traceback:
            raise
        kind = "" if isinstance(err, (ValueError, OSError)) else f"{type(err).__name__}: "
        print(
            f"bsm-surrogates {args.command}: error: {kind}{_one_line(err)}"
            + ("" if kind == "" else " (--traceback shows where)"),
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
