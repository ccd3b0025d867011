"""Command-line interface ``bsm-surrogates``: a thin layer over the public functions.

The CLI is the application layer on top of all three packages: ``fit`` and ``compare`` import
``fits`` and the report lazily, so the library packages keep their one-way imports.
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
from surrogates.data import features, labels, load_dataset, split_dataset, split_method
from surrogates.data.loaders import PACKAGED_DATA, read_table
from surrogates.io import atomic_write, check_output, write_text
from surrogates.mlp import MLPEnsemble
from surrogates.registry import MODELS, get_model_class
from surrogates.targets import TARGETS

__all__ = ["main", "build_parser", "evaluate_model", "fit_extras", "train_model"]


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




def train_model(
    target: str,
    model: str,
    *,
    data: str | Path | None = None,
    budget: str = "small",
    config: dict[str, Any] | None = None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    support: str | None = None,
    distance: bool = False,
) -> Surrogate:
    """Train ``model`` on the train split of ``target``'s data set (validation split for
    early stopping and selection); records the data source and split seed in ``fit_info_``.

    With ``support`` (a budget of the MLP family, e.g. ``"support"``), also train the
    support model (:meth:`Surrogate.fit_support`) on the same split of the points its target
    selects (:meth:`Target.support`: the valid points for the pMSSM targets). With
    ``distance``, also fit the distance-from-data flag (:meth:`Surrogate.fit_distance`:
    reference from the train split, threshold from the validation split).
    """
    cls = get_model_class(model)
    options = {**cls.budget_config(budget, target), **(config or {})}
    cls.check_options(options, f"model {model!r} (--budget {budget}, --config)")
    surrogate = cls(target, seed=seed, device=device, **options)
    table = load_dataset(target, data)
    split = split_dataset(table, seed=seed)
    surrogate.fit(
        features(split.train),
        labels(split.train, target),
        X_val=features(split.val),
        y_val=labels(split.val, target),
        progress=progress,
    )
    surrogate.fit_info_["data"] = (
        "embedded" if data is None else str(data) if str(data) in PACKAGED_DATA
        else str(Path(data).resolve())
    )
    surrogate.fit_info_["split_seed"] = seed
    surrogate.fit_info_["split"] = split_method(table)
    surrogate.fit_info_["budget"] = budget
    fit_extras(surrogate, data, support=support, distance=distance, seed=seed, progress=progress)
    return surrogate


def fit_extras(
    surrogate: Surrogate,
    data: str | Path | None = None,
    *,
    support: str | None = None,
    distance: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> Surrogate:
    """Fit the support model and/or the distance flag of a trained ``surrogate``.

    The distance flag (:meth:`Surrogate.fit_distance`) takes its reference from the train
    split the surrogate was trained on and its threshold from that validation split
    (:meth:`Surrogate.recorded_split`). The support model (``support``: a budget of the
    MLP family) learns on the points its target selects (:meth:`Target.support`), split
    with ``seed``.
    """
    target = surrogate.target
    if distance:
        split = surrogate.recorded_split(load_dataset(target, data))
        surrogate.fit_distance(features(split.train), features(split.val))
    if support is not None:
        table = load_dataset(target.support(), data)
        points = split_dataset(table, seed=seed)
        surrogate.fit_support(
            features(points.train),
            labels(points.train, target.support()),
            X_val=features(points.val),
            defined_val=labels(points.val, target.support()),
            options=MLPEnsemble.budget_config(support, target.support()),
            progress=progress,
        )
        surrogate.support_.fit_info_.update(
            data=surrogate.fit_info_.get("data"), split_seed=seed, split=split_method(table),
            budget=support,
        )
    return surrogate


def evaluate_model(
    surrogate: Surrogate, data: str | Path | None = None, split: str = "test"
) -> dict[str, Any]:
    """The paper metrics of ``surrogate`` on a split of its target's data set.

    Uses the data source and split seed recorded at training unless ``data`` is given.
    """
    from surrogates import metrics

    recorded = surrogate.fit_info_.get("data", "embedded")
    source = data if data is not None else (None if recorded == "embedded" else recorded)
    df = load_dataset(surrogate.target, source)
    if split != "all":
        df = getattr(surrogate.recorded_split(df), split)
    pred = surrogate.predict(features(df))
    y = labels(df, surrogate.target)
    if surrogate.target.is_classifier:
        result = metrics.classification_metrics(y, pred.mean, pred.std)
    else:
        result = metrics.regression_metrics(y, pred.mean, pred.std)
    result["n_outside_domain"] = int(pred.outside_domain.sum())
    return result


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
    from surrogates.report.compare import run_compare

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

    p = sub.add_parser("predict", help="predict with a saved surrogate")
    p.add_argument("--model", required=True, help="folder of a saved surrogate")
    p.add_argument("--data", required=True, help="CSV/Parquet with the 19 parameter columns")
    p.add_argument(
        "--out", required=True,
        help="CSV to write: id, mean, std, outside_domain (and p_defined, far_from_data where "
        "the model has them; with --scheduler or --partition-rows: .parquet, .csv or .csv.gz)",
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

    from fits.cli import add_fit_parser, add_scan_parser  # the application layer imports fits

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
