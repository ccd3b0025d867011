"""Train a surrogate of a registered family on a data split, or load a saved one.

:func:`fit_on_split` is the one place where a family is built from a budget and options and
trained on the train split (validation split for early stopping and selection); the CLI's
``train`` (:func:`train_model`) and the comparison report (:func:`obtain_model`) both use it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from surrogates.base import Surrogate
from surrogates.data import Split, features, labels, load_dataset, split_dataset, split_method
from surrogates.data.loaders import PACKAGED_DATA
from surrogates.data.problems import problem_flags
from surrogates.mlp import MLPEnsemble
from surrogates.registry import get_model_class
from surrogates.targets import Target

__all__ = [
    "data_source", "fit_extras", "fit_on_split", "obtain_model", "recalibrate_model", "train_model",
]


def fit_on_split(
    model: str,
    target: str | Target,
    split: Split,
    *,
    budget: str = "small",
    config: dict[str, Any] | None = None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
) -> Surrogate:
    """The family ``model`` with the options of ``budget`` (``config`` overriding them),
    trained on ``split.train`` with ``split.val`` as validation data; a model that
    :attr:`~surrogates.base.Surrogate.learns_auxiliary` learns SOFTSUSY's problem flags of the
    training points beside its label (:func:`~surrogates.data.problems.problem_flags`).

    Raises
    ------
    ValueError
        If the model, the budget or an option is unknown or out of range.
    """
    cls = get_model_class(model)
    options = {**cls.budget_config(budget, target), **(config or {})}
    cls.check_options(options, f"model {model!r} (--budget {budget}, --config)")
    surrogate = cls(target, seed=seed, device=device, **options)
    return surrogate.fit(
        features(split.train),
        labels(split.train, surrogate.target),
        X_val=features(split.val),
        y_val=labels(split.val, surrogate.target),
        y_aux=problem_flags(split.train) if surrogate.learns_auxiliary else None,
        progress=progress,
    )


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
    """Train ``model`` on the train split of ``target``'s data set (:func:`fit_on_split`);
    records the data source and split seed in ``fit_info_``.

    With ``support`` (a budget of the MLP family, e.g. ``"support"``), also train the
    support model (:meth:`Surrogate.fit_support`) on the same split of the points its target
    selects (:meth:`Target.support`: the valid points for the pMSSM targets). With
    ``distance``, also fit the distance-from-data flag (:meth:`Surrogate.fit_distance`:
    reference from the train split, threshold from the validation split).
    """
    table = load_dataset(target, data)
    surrogate = fit_on_split(
        model, target, split_dataset(table, seed=seed), budget=budget, config=config,
        seed=seed, device=device, progress=progress,
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


def data_source(surrogate: Surrogate, data: str | Path | None = None) -> str | Path | None:
    """``data`` if given, else the data source recorded at training (None: the embedded
    subset), as :func:`~surrogates.data.load_dataset` takes it."""
    if data is not None:
        return data
    recorded = surrogate.fit_info_.get("data", "embedded")
    return None if recorded == "embedded" else recorded


def recalibrate_model(
    surrogate: Surrogate, recalibration: str, data: str | Path | None = None
) -> Surrogate:
    """Fit ``surrogate``'s error-bar recalibration again as ``recalibration``, on the
    validation split of its data (the source and split recorded at training unless ``data``
    is given), without retraining (:meth:`~surrogates.base.Surrogate.recalibrate`).

    The model's ``fit_info_`` records the kind and the validation points under
    ``"recalibrated"``.
    """
    source = data_source(surrogate, data)
    val = surrogate.recorded_split(load_dataset(surrogate.target, source)).val
    surrogate.recalibrate(features(val), labels(val, surrogate.target),
                          recalibration=recalibration)
    surrogate.fit_info_["recalibrated"] = {"recalibration": recalibration, "n_val": len(val),
                                           "data": str(source or "embedded")}
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


def log_step(progress: bool, message: str) -> None:
    """Print ``[compare] message`` on stderr when ``progress``."""
    if progress:
        print(f"[compare] {message}", file=sys.stderr, flush=True)


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def obtain_model(
    name: str,
    target: Target,
    split: Split,
    *,
    budget: str,
    seed: int,
    models_dir: Path | None,
    progress: bool,
    shipped: bool = False,
) -> tuple[Surrogate, bool, int]:
    """Load ``models_dir/<target>_<name>`` if it holds a saved model, else train one
    (:func:`fit_on_split`); with ``shipped``, the surrogate shipped with the package
    (:mod:`surrogates.shipped`), never trained here.

    A trained model is saved there when ``models_dir`` is given, otherwise to a temporary
    folder just to measure its size.

    Returns
    -------
    model : Surrogate
    loaded : bool
    bytes_on_disk : int

    Raises
    ------
    ValueError
        If a saved model was trained on another number of points than this train split (it
        may have seen the test points), or the budget is unknown for the model.
    """
    cls = get_model_class(name)
    if shipped:
        from surrogates.shipped import shipped_path

        models_dir = shipped_path(target.name, name).parent
    folder = None if models_dir is None else Path(models_dir) / f"{target.name}_{name}"
    if folder is not None and (folder / "metadata.json").is_file():
        model = cls.load(folder)
        n_fit = model.fit_info_.get("n_train")
        if model.target.name != target.name or n_fit != len(split.train):
            raise ValueError(
                f"{folder} holds a {model.target.name!r} model trained on {n_fit} points, but "
                f"the {target.name!r} train split here has {len(split.train)}: it was trained on "
                "other data or another split and may have seen these test points; remove it or "
                "choose another models_dir"
            )
        log_step(progress, f"{target.name}/{name}: loaded {folder}")
        return model, True, _folder_bytes(folder)
    model = fit_on_split(name, target, split, budget=budget, seed=seed, progress=progress)
    log_step(progress, f"{target.name}/{name}: trained in {model.fit_info_['train_seconds']:.1f} s")
    if folder is not None:
        return model, False, _folder_bytes(model.save(folder))
    with tempfile.TemporaryDirectory() as tmp:
        return model, False, _folder_bytes(model.save(Path(tmp) / "model"))
