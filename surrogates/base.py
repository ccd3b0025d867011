"""The ``Surrogate`` interface (fit / predict / save / load) shared by every model family.

A surrogate learns one :class:`~surrogates.targets.Target` as a function of the parameters of
a :class:`~surrogates.space.ParameterSpace` (the 19 pMSSM parameters by default). The base
class owns everything that is common to all families, once: input validation, the training
domain, input standardisation, the target transform and its exact inverse, chunked prediction
and the versioned file format. A family implements four hooks (:meth:`Surrogate._fit`,
:meth:`Surrogate._predict_model_space`, :meth:`Surrogate._state_tensors`,
:meth:`Surrogate._load_state`) on tensors in model space.

Saved models are a folder with ``metadata.json`` (target, transforms, training box, parameter
box, configuration, library and format versions, the SHA-256 of every other file) and
``tensors.safetensors``; the folder is written atomically, checked on loading, and loading
never unpickles Python objects.
"""

from __future__ import annotations

import inspect
import json
import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from surrogates._version import __version__
from surrogates.calibration import (
    CLASSIFIER_RECALIBRATIONS,
    RECALIBRATIONS,
    LocalQuantile,
    Recalibration,
    Temperature,
    fit_recalibration,
    recalibration_from_dict,
    rescale_spread,
)
from surrogates.data.loaders import Split, split_dataset
from surrogates.device import resolve_device
from surrogates.distance import NearestNeighbourDistance
from surrogates.features import (
    FEATURE_MAPS,
    check_feature_map,
    feature_names,
    transform_features,
)
from surrogates.io import atomic_folder, sha256_file
from surrogates.params import Configurable, Options
from surrogates.prediction import Prediction
from surrogates.registry import get_model_class
from surrogates.space import PMSSM19, ParameterSpace
from surrogates.targets import TARGETS, Target, get_target
from surrogates.transforms import InputScaler, TargetTransform
from surrogates.validation import (
    Domain,
    OutsideDomainError,
    check_auxiliary,
    check_features,
    check_target,
)

__all__ = [
    "FORMAT_VERSION",
    "GaussianOutput",
    "MemberOutput",
    "Prediction",
    "Surrogate",
]

#: Version of the saved-model layout; bumped whenever a saved file would be read differently.
FORMAT_VERSION = 1
_METADATA = "metadata.json"
_TENSORS = "tensors.safetensors"
_SUPPORT = "support"
_DISTANCE_REFERENCE = "distance.reference"
_METADATA_KEYS = ("library_version", "model", "target", "config", "input_scaler",
                  "target_transform", "domain", "parameter_box", "fit_info", "state")


@dataclass
class MemberOutput:
    """Model-space output of an ensemble: ``values`` of shape (n_members, n_points)."""

    values: torch.Tensor
    weights: torch.Tensor | None = None


@dataclass
class GaussianOutput:
    """Model-space output of a Gaussian predictive: ``mean``, ``std`` of shape (n_points,)."""

    mean: torch.Tensor
    std: torch.Tensor


class Surrogate(Configurable, ABC):
    """Base class of all surrogates.

    Subclasses take their configuration as keyword arguments of ``__init__`` and store each
    under the same attribute name (the scikit-learn convention), so that
    :meth:`get_config` can save and restore them; they pass the options below on as
    ``**common`` (``super().__init__(target, **common)``).

    Parameters
    ----------
    target : str or Target
        ``"validity"``, ``"higgs_mass"`` or ``"xsec"``, or a :class:`~surrogates.targets.Target`
        of one's own (e.g. an observable of an analytic benchmark).
    space : ParameterSpace, optional
        The input parameters; the pMSSM-19 space by default.
    features : str
        Feature map of :mod:`surrogates.features` the model learns on (``"raw"``: the
        parameters; ``"pmssm19_physics"``: plus derived masses, mixings and ratios).
    recalibration : {"none", "variance_scale", "local_scale", "local_quantile", "temperature"}
        Error-bar recalibration fitted on the validation data given to :meth:`fit`, saved
        with the model and applied by :meth:`predict` (:mod:`surrogates.calibration`).
        ``"local_quantile"`` also gives the predictive the shape of the validation errors
        (heavy tails), as equally weighted members. ``"temperature"`` is the classifier's
        (its probabilities; the others are for regression targets).
    baseline : str, optional
        A column of the feature map that approximates the (log, for ``log_standardize``)
        target, e.g. ``"ln_xsec_tree"``: the model learns the target minus this baseline,
        ``z = (g(y) - b(x) - shift) / scale``, i.e. the correction to an approximation rather
        than the whole function (regression only).
    warm_start : bool
        When :meth:`fit` runs again (an active-learning scan retraining on more points),
        start from what the previous fit (or :meth:`load`) learnt instead of afresh: the
        networks of the MLP ensemble and of the BNN's pre-training, which keep the input
        scaling and target transform they were learnt in, or the rBCM's shared
        hyper-parameters. The family's training length then counts the further training
        (``epochs``, ``pretrain_epochs``; the rBCM's ``n_iter_warm``).
    seed : int
        Seed of every random choice made by :meth:`fit`.
    device : str or torch.device, optional
        Defaults to ``cuda`` when available, else ``cpu``.
    """

    #: Registry name (see :mod:`surrogates.registry`).
    model_name: ClassVar[str]
    #: Named configurations, e.g. ``{"small": {...}, "full": {...}}``, for the CLI; an entry
    #: ``"per_target": {target: {...}}`` inside one overrides options for that target
    #: (:meth:`budget_config`).
    budgets: ClassVar[dict[str, dict[str, Any]]] = {}
    #: Points per chunk in :meth:`predict`.
    predict_chunk_size: ClassVar[int] = 65536
    #: What each option accepts (:mod:`surrogates.params`); a family extends it with its own.
    #: Families call ``self._check_arguments(locals())`` first thing in ``__init__``.
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "features": Options(tuple(FEATURE_MAPS)),
        "recalibration": Options(RECALIBRATIONS),
        "baseline": [str, None],
        "warm_start": bool,
    }

    def __init__(
        self,
        target: str | Target,
        *,
        space: ParameterSpace | None = None,
        features: str = "raw",
        recalibration: str = "none",
        baseline: str | None = None,
        warm_start: bool = False,
        seed: int = 0,
        device: str | None = None,
    ) -> None:
        self._check_arguments(locals())
        self.target = get_target(target)
        self.space = PMSSM19 if space is None else space
        check_feature_map(features, self.space)
        self.features = features
        self._check_recalibration(recalibration)
        self.recalibration = recalibration
        self.recalibration_: Recalibration | None = None
        if baseline is not None:
            names = feature_names(features, self.space)
            if baseline not in names:
                raise ValueError(
                    f"baseline must be a column of the feature map {features!r} "
                    f"({', '.join(names)}); got {baseline!r}"
                )
            if self.target.is_classifier:
                raise ValueError("baseline is for regression targets, not the classifier")
        self.baseline = baseline
        self.warm_start = bool(warm_start)
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.input_scaler_: InputScaler | None = None
        self.target_transform_: TargetTransform | None = None
        self.domain_: Domain | None = None
        self.fit_info_: dict[str, Any] = {}
        self.support_: Surrogate | None = None
        self.distance_: NearestNeighbourDistance | None = None

    # ------------------------------------------------------------------ hooks
    @property
    def n_inputs(self) -> int:
        """Number of model inputs: the columns of the feature map."""
        return len(feature_names(self.features, self.space))

    @property
    def learns_auxiliary(self) -> bool:
        """Whether :meth:`fit` needs auxiliary labels ``y_aux`` (False unless a family's
        options ask for them)."""
        return False

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the model-space tensors."""
        return torch.float32

    @abstractmethod
    def _fit(
        self,
        X: torch.Tensor,
        z: torch.Tensor,
        val: tuple[torch.Tensor, torch.Tensor] | None,
        progress: bool,
        aux: torch.Tensor | None = None,
    ) -> None:
        """Train on model-space inputs ``X`` (n, n_dim) and targets ``z`` (n,); ``aux``
        (n, n_aux): auxiliary labels, given exactly when :attr:`learns_auxiliary`."""

    @abstractmethod
    def _predict_model_space(self, X: torch.Tensor) -> MemberOutput | GaussianOutput:
        """Predict for model-space inputs ``X`` (n, n_dim); called under ``torch.no_grad``."""

    @abstractmethod
    def _state_tensors(self) -> dict[str, torch.Tensor]:
        """Learnt tensors to save."""

    @abstractmethod
    def _load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        """Restore from :meth:`_state_tensors` and :meth:`_state_json`."""

    def _keeps_transforms(self) -> bool:
        """Whether the next :meth:`fit` continues networks learnt in the current input scaling
        and target transform (a ``warm_start`` of a fitted network), which must then stay;
        False by default."""
        return False

    def _state_json(self) -> dict[str, Any]:
        """Learnt JSON-serialisable state beyond the configuration (none by default)."""
        return {}

    @classmethod
    def _saved_config(cls, meta: dict[str, Any], path: Path) -> dict[str, Any]:
        """Constructor options of the model saved in ``path`` (``metadata.json``: ``meta``).

        A family maps the options (and, in ``meta``, the saved recalibration) of its earlier
        versions here, or raises ``ValueError`` naming what it can no longer read.
        """
        return meta["config"]

    # ------------------------------------------------------------ public API
    @classmethod
    def budget_config(cls, budget: str, target: str | Target) -> dict[str, Any]:
        """Constructor options of the named budget for ``target``.

        Raises
        ------
        ValueError
            If the family has no such budget.
        """
        if budget not in cls.budgets:
            raise ValueError(
                f"model {cls.model_name!r} has no budget {budget!r}; choose one of "
                f"{', '.join(cls.budgets)}"
            )
        config = dict(cls.budgets[budget])
        overrides = config.pop("per_target", {})
        return {**config, **overrides.get(get_target(target).name, {})}

    @classmethod
    def pretrained(cls, target: str, model: str | None = None, *, device: str | None = None):
        """A surrogate shipped with the package, trained on the full reference data.

        Parameters
        ----------
        target : str
            ``"validity"``, ``"higgs_mass"`` or ``"xsec"``.
        model : str, optional
            Family name (``"bnn"``, ``"rbcm"``); default: this class's family, or ``"bnn"``
            when called on :class:`Surrogate`.
        device : str, optional

        Raises
        ------
        ValueError
            If no such surrogate is shipped (the message lists those that are).
        """
        from surrogates.shipped import shipped_path

        name = model or getattr(cls, "model_name", "bnn")
        return cls.load(shipped_path(get_target(target).name, name), device=device)

    @classmethod
    def option_names(cls) -> list[str]:
        """The constructor's keyword options: the family's own, then those it passes on to
        :class:`Surrogate` (``**common``)."""
        names: list[str] = []
        for klass in cls.__mro__:
            if issubclass(klass, Surrogate) and "__init__" in vars(klass):
                params = inspect.signature(vars(klass)["__init__"]).parameters.values()
                names += [p.name for p in params if p.kind is p.KEYWORD_ONLY
                          and p.name not in names]
        return names

    def get_config(self) -> dict[str, Any]:
        """Constructor options (except ``space`` and ``device``) as JSON values."""
        names = [n for n in self.option_names() if n not in ("space", "device")]
        return {n: _jsonable(getattr(self, n)) for n in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({self.target.name!r}, {args})"

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`load`) has run."""
        return self.domain_ is not None

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        X_val: Any = None,
        y_val: Any = None,
        y_aux: Any = None,
        progress: bool = True,
    ) -> Surrogate:
        """Train on inputs ``X`` and targets ``y`` (target units).

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_points, n_dim)
            Points of :attr:`space` (pMSSM-19: GeV, tan beta dimensionless).
        y : array-like of shape (n_points,)
            Target values in target units (labels 0/1 for the classifier).
        X_val, y_val : optional
            Validation data, used by families that select or stop on it.
        y_aux : array-like of shape (n_points, n_aux), optional
            Auxiliary 0/1 labels of the training points, learnt beside ``y`` by a model that
            :attr:`learns_auxiliary` (e.g. :func:`surrogates.data.problems.problem_flags` for
            the validity classifier with ``auxiliary_weight > 0``); required by it, refused
            by any other.
        progress : bool
            Show progress bars.

        Returns
        -------
        self
        """
        Xa = check_features(X, space=self.space)
        ya = check_target(y, self.target, Xa.shape[0])
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        if (y_aux is not None) != self.learns_auxiliary:
            raise ValueError(
                f"{type(self).__name__} with these options "
                + ("learns auxiliary labels: give y_aux" if self.learns_auxiliary
                   else "learns no auxiliary labels; y_aux was given")
            )
        aux = None if y_aux is None else torch.as_tensor(
            check_auxiliary(y_aux, Xa.shape[0]), device=self.device
        )
        Fa = self._features(Xa)
        if not self._keeps_transforms():
            self.input_scaler_ = InputScaler.fit(Fa)
            self.target_transform_ = TargetTransform(self.target.transform).fit(
                ya, None if self.baseline is None else self._baseline(Fa)
            )
        self.domain_ = Domain.from_data(Xa)
        val = None if X_val is None else self._validation(X_val, y_val)
        torch.manual_seed(self.seed)
        self.fit_info_ = {"n_train": int(Xa.shape[0]), "n_val": 0 if val is None else len(val[1])}
        start = time.perf_counter()
        self._fit(self._inputs(Fa), self._targets(ya, Fa), val, progress, aux)
        self.fit_info_["train_seconds"] = time.perf_counter() - start
        self.fit_info_["device"] = str(self.device)
        self._recalibrate(val)
        return self

    def recalibrate(self, X_val: Any, y_val: Any, *, recalibration: str | None = None) -> Surrogate:
        """Fit the error-bar recalibration again on validation data, without retraining.

        The model's own predictive on ``X_val`` (before any recalibration) against ``y_val``
        gives the new map (:mod:`surrogates.calibration`), which replaces the old one, is
        saved with the model and applied by :meth:`predict`.

        Parameters
        ----------
        X_val : DataFrame or ndarray of shape (n_val, n_dim)
            Points drawn like the training data but not trained on (the validation split).
        y_val : array-like of shape (n_val,)
            Their true values, target units.
        recalibration : str, optional
            A new kind (:data:`~surrogates.calibration.RECALIBRATIONS`); default the model's
            own (:attr:`recalibration`).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For an unknown kind, a kind of the other task (``"temperature"`` of a regression
            target, a spread recalibration of the classifier), or bad validation data.
        """
        if recalibration is not None:
            self.check_options({"recalibration": recalibration})
            self._check_recalibration(recalibration)
        self._check_fitted()
        validation = self._validation(X_val, y_val)
        if recalibration is not None:
            self.recalibration = recalibration
        self._recalibrate(validation)
        return self

    def _check_recalibration(self, recalibration: str) -> None:
        if recalibration == "none":
            return
        if not self.target.is_classifier and recalibration in CLASSIFIER_RECALIBRATIONS:
            raise ValueError(
                f"recalibration={recalibration!r} is for the classifier's probabilities, "
                f"not the regression target {self.target.name!r}"
            )
        if self.target.is_classifier and recalibration not in CLASSIFIER_RECALIBRATIONS:
            raise ValueError(
                f"recalibration={recalibration!r} is for regression targets, not the classifier "
                f"{self.target.name!r}"
            )

    def _recalibrate(self, val: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        """Fit the configured recalibration on validation inputs and targets (model space)."""
        self.recalibration_ = None
        if self.recalibration == "none" or (val is None and self.recalibration == "variance_scale"):
            return  # a variance scale without validation data: unscaled (the rBCM's default)
        if val is None:
            raise ValueError(
                f"recalibration={self.recalibration!r} needs validation data (X_val, y_val)"
            )
        out = self._predict_chunked(val[0])
        if self.recalibration == "temperature":
            if not isinstance(out, MemberOutput):
                raise ValueError(
                    f"recalibration='temperature' needs a predictive of members; the "
                    f"{type(self).__name__} classifier's is Gaussian (and already calibrated)"
                )
            weights = None if out.weights is None else _np(out.weights)
            self.recalibration_ = Temperature.fit(_np(val[1]), _np(out.values), weights)
            return
        mean, std = _model_space_summary(out)
        self.recalibration_ = fit_recalibration(
            self.recalibration, _np(val[1]), _np(mean), _np(std)
        )

    def _validation(self, X_val: Any, y_val: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked validation data as model-space (inputs, targets) of a fitted surrogate."""
        Xv = check_features(X_val, name="X_val", space=self.space)
        yv = check_target(y_val, self.target, Xv.shape[0], name="y_val")
        Fv = self._features(Xv)
        return self._inputs(Fv), self._targets(yv, Fv)

    def fit_support(
        self,
        X: Any,
        defined: Any,
        *,
        X_val: Any = None,
        defined_val: Any = None,
        model: str = "mlp",
        options: dict[str, Any] | None = None,
        progress: bool = True,
    ) -> Surrogate:
        """Train the support model: a classifier of "the target has a value here".

        A regression target often exists only in part of the parameter space (sigma(N2 C1)
        only for a wino- or higgsino-like pair, m_h only on valid spectra, and the training
        window cuts it further). The regression knows nothing of that and extrapolates with
        confidence; the support model (:meth:`~surrogates.targets.Target.support`) says
        where its prediction applies. It is saved in the model folder, and :meth:`predict`
        returns its probability as ``Prediction.p_defined``.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_points, n_dim)
            Points the support is learnt on: the valid points when the target requires a
            valid spectrum, else all (:meth:`Target.support`).
        defined : array-like of shape (n_points,)
            1 where the target has a value (the labels of :meth:`Target.support`), else 0.
        X_val, defined_val : optional
            Validation data for early stopping and selection.
        model : str
            Family of the classifier (:mod:`surrogates.registry`).
        options : dict, optional
            Its constructor options (default: the family's defaults).
        progress : bool

        Returns
        -------
        self
        """
        if self.target.is_classifier:
            raise ValueError(f"the classifier {self.target.name!r} has no support model")
        cls = get_model_class(model)
        support = cls(
            self.target.support(), space=self.space, seed=self.seed, device=str(self.device),
            **(options or {}),
        )
        self.support_ = support.fit(X, defined, X_val=X_val, y_val=defined_val, progress=progress)
        return self

    def fit_distance(
        self,
        X: Any,
        X_held_back: Any,
        *,
        k: int = 5,
        quantile: float = 0.999,
        max_reference: int = 8192,
    ) -> Surrogate:
        """Fit the distance-from-data flag (:class:`~surrogates.distance.NearestNeighbourDistance`).

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_points, n_dim)
            Training inputs (a random ``max_reference`` of them are kept).
        X_held_back : DataFrame or ndarray of shape (n_held, n_dim)
            Points drawn like the training data but not trained on (the validation split):
            the threshold is the ``quantile`` of their scores, so such points are flagged
            with probability ``1 - quantile``.
        k, quantile, max_reference
            See :meth:`NearestNeighbourDistance.fit`.

        Returns
        -------
        self
        """
        self._check_fitted()
        inputs = self._inputs(self._features(check_features(X, space=self.space)))
        held = self._inputs(
            self._features(check_features(X_held_back, name="X_held_back", space=self.space))
        )
        self.distance_ = NearestNeighbourDistance.fit(
            inputs, held, k=k, quantile=quantile, max_reference=max_reference, seed=self.seed
        )
        return self

    def predict(self, X: Any, *, strict: bool = False) -> Prediction:
        """Predictive mean, spread and members in target units.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_points, n_dim)
        strict : bool
            Raise :class:`~surrogates.validation.OutsideDomainError` for points outside the
            training box instead of flagging them in ``Prediction.outside_domain``.

        Returns
        -------
        Prediction
            With ``p_defined`` when the surrogate has a support model.
        """
        self._check_fitted()
        return self._predict_points(check_features(X, space=self.space), strict=strict)

    def _predict_points(
        self, Xa: np.ndarray, *, strict: bool, features: np.ndarray | None = None
    ) -> Prediction:
        """:meth:`predict` of checked points ``Xa``; ``features``: their feature map, when
        already computed (a support model on the parent's feature map reuses it)."""
        outside = self.domain_.outside(Xa)
        if strict and outside.any():
            raise OutsideDomainError(
                f"{int(outside.sum())} of {len(outside)} point(s) lie outside the training box:\n"
                + self.domain_.describe_outside(Xa, self.space)
            )
        Fa = self._features(Xa) if features is None else features
        inputs = self._inputs(Fa)
        far = None if self.distance_ is None else self.distance_.flag(inputs)
        out = self._predict_chunked(inputs)
        if self.recalibration_ is not None:
            out = _rescaled(out, self.recalibration_)
        tt = self._transform(Fa)
        support = None if self.support_ is None else self._support_prediction(Xa, Fa)
        if isinstance(out, GaussianOutput):
            mean, std = tt.inverse_gaussian(_np(out.mean), _np(out.std))
            samples = weights = None
        else:
            samples = tt.inverse(_np(out.values))
            weights = None if out.weights is None else _np(out.weights)
            mean, std = (t.numpy() for t in _mean_std(torch.from_numpy(samples), out.weights))
            if self.target.is_classifier:  # a mean of probabilities, up to rounding
                mean = np.clip(mean, 0.0, 1.0)
        return Prediction(
            mean=mean,
            std=std,
            samples=samples,
            weights=weights,
            outside_domain=outside if far is None else outside | far,
            target=self.target.name,
            unit=self.target.unit,
            p_defined=None if support is None else support.mean,
            far_from_data=far,
            support_outside=None if support is None else support.outside_domain,
        )

    def _support_prediction(self, Xa: np.ndarray, Fa: np.ndarray) -> Prediction:
        """The support model's prediction at ``Xa`` (features ``Fa`` of this surrogate's map):
        its ``mean`` is the probability that the target exists."""
        shared = self.support_.features == self.features
        return self.support_._predict_points(Xa, strict=False,
                                             features=Fa if shared else None)

    def recorded_split(self, df: pd.DataFrame) -> Split:
        """The split of ``df`` made as for this surrogate's training (``fit_info_``).

        Uses the recorded ``split_seed`` and ``split`` method; a model that records a seed
        but no method was trained before splits were keyed on ids (``"rows"``). Evaluating
        on ``recorded_split(df).test`` of the table it was trained on never sees a training
        point.
        """
        info = self.fit_info_
        by = info.get("split", "rows" if "split_seed" in info else "auto")
        return split_dataset(df, seed=int(info.get("split_seed", 0)), by=by)

    def standardized_features(self, X: Any) -> np.ndarray:
        """The model's inputs for points ``X``: its feature map, standardised as in training.

        Returns
        -------
        ndarray of shape (n_points, n_inputs)
        """
        self._check_fitted()
        return self.input_scaler_.transform(self._features(check_features(X, space=self.space)))

    def predict_proba(self, X: Any, *, strict: bool = False) -> np.ndarray:
        """Class probabilities of the validity classifier, shape (n_points, 2).

        Column 1 is the predictive mean probability that the point is valid (scikit-learn's
        convention); use :meth:`predict` for its spread.
        """
        if not self.target.is_classifier:
            raise ValueError(
                f"predict_proba is for the validity classifier; this surrogate's target is "
                f"{self.target.name!r}"
            )
        p = self.predict(X, strict=strict).mean
        return np.column_stack([1.0 - p, p])

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted surrogate to the folder ``path``, atomically.

        The folder is assembled under a temporary sibling name and renamed into place, so it
        is complete or absent. ``metadata.json`` records the SHA-256, size, and the tensors'
        shapes and dtypes of every other file, which :meth:`load` verifies.

        Parameters
        ----------
        path : path
            The folder; it must not exist yet (or be empty) unless ``overwrite``.
        overwrite : bool
            Replace an existing folder as a whole; nothing of it is left.

        Returns
        -------
        Path
            The folder.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        self._check_fitted()
        path = Path(path)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self._state_tensors().items()}
        if self.distance_ is not None:
            tensors[_DISTANCE_REFERENCE] = self.distance_.reference.detach().cpu().contiguous()
        meta = {
            "format": "bsm-surrogates",
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "model": self.model_name,
            "target": self.target.name,
            "target_definition": self.target.to_dict(),
            "config": self.get_config(),
            "input_scaler": self.input_scaler_.to_dict(),
            "target_transform": self.target_transform_.to_dict(),
            "domain": self.domain_.to_dict(),
            "space": self.space.name,
            "parameter_box": self.space.to_dict(),
            "fit_info": _jsonable(self.fit_info_),
            "state": self._state_json(),
            "recalibration": None if self.recalibration_ is None else self.recalibration_.to_dict(),
            "distance": None if self.distance_ is None else self.distance_.to_dict(),
            "support": None if self.support_ is None else {
                "folder": _SUPPORT, "model": self.support_.model_name,
                "target": self.support_.target.to_dict(),
            },
            "tensors": {
                k: {"dtype": str(v.dtype).removeprefix("torch."), "shape": list(v.shape)}
                for k, v in tensors.items()
            },
        }
        with atomic_folder(path, overwrite=overwrite) as tmp:
            save_file(tensors, str(tmp / _TENSORS))
            if self.support_ is not None:
                self.support_.save(tmp / _SUPPORT)
            meta["files"] = {
                f.relative_to(tmp).as_posix(): {"sha256": sha256_file(f), "bytes": f.stat().st_size}
                for f in sorted(tmp.rglob("*")) if f.is_file()
            }
            (tmp / _METADATA).write_text(json.dumps(meta, indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> Surrogate:
        """Read a surrogate written by :meth:`save`.

        ``Surrogate.load`` returns whichever family was saved; ``MLPEnsemble.load`` insists on
        that family. Before anything is built, the files are checked against the SHA-256
        digests and the tensor shapes and dtypes recorded in ``metadata.json`` (models saved
        before digests were recorded are read without that check).

        Raises
        ------
        ValueError
            If the folder holds no saved surrogate, a damaged or mismatched file (named), was
            written in another format version, or by another family than ``cls``.
        """
        path = Path(path)
        meta = _read_metadata(path)
        if meta["library_version"] != __version__:
            warnings.warn(
                f"{path} was saved by bsm-surrogates {meta['library_version']}; this is "
                f"{__version__} (same format version {FORMAT_VERSION})",
                stacklevel=2,
            )
        tensors = _read_tensors(path, meta)
        try:
            space = ParameterSpace.from_dict(meta["parameter_box"], meta.get("space", "custom"))
            if space == PMSSM19:
                space = PMSSM19
            definition = meta.get("target_definition")
            target = (TARGETS[meta["target"]] if definition is None
                      else Target.from_dict(definition))
            klass = get_model_class(meta["model"])
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(
                f"{path / _METADATA} is damaged: {type(err).__name__} {err}"
            ) from None
        if not issubclass(klass, cls):
            raise ValueError(f"{path} holds a {klass.__name__}, not a {cls.__name__}")
        obj = klass(target, space=space, device=device, **klass._saved_config(meta, path))
        obj.input_scaler_ = InputScaler.from_dict(meta["input_scaler"])
        obj.target_transform_ = TargetTransform.from_dict(meta["target_transform"])
        obj.domain_ = Domain.from_dict(meta["domain"])
        obj.fit_info_ = meta["fit_info"]
        recal = meta.get("recalibration")
        obj.recalibration_ = None if recal is None else recalibration_from_dict(recal)
        reference = tensors.pop(_DISTANCE_REFERENCE, None)
        if meta.get("distance"):
            if reference is None:
                raise ValueError(f"{path / _TENSORS} lacks the tensor {_DISTANCE_REFERENCE!r}")
            obj.distance_ = NearestNeighbourDistance.from_dict(
                meta["distance"], reference.to(obj.device)
            )
        obj._load_state({k: v.to(obj.device) for k, v in tensors.items()}, meta["state"])
        if meta.get("support"):
            obj.support_ = Surrogate.load(path / _SUPPORT, device=device)
        return obj

    # -------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit() or load()")

    def _features(self, X: np.ndarray) -> np.ndarray:
        return transform_features(self.features, self.space, X)

    def _baseline(self, F: np.ndarray) -> np.ndarray:
        return F[:, feature_names(self.features, self.space).index(self.baseline)]

    def _transform(self, F: np.ndarray) -> TargetTransform:
        """The target transform at points of features ``F``, with the baseline if any."""
        if self.baseline is None:
            return self.target_transform_
        return self.target_transform_.shifted(self._baseline(F))

    def _inputs(self, F: np.ndarray) -> torch.Tensor:
        """Model inputs from features ``F`` (:meth:`_features`)."""
        scaled = self.input_scaler_.transform(F)
        return torch.as_tensor(scaled, dtype=self.dtype, device=self.device)

    def _targets(self, y: np.ndarray, F: np.ndarray) -> torch.Tensor:
        z = self._transform(F).forward(y)
        return torch.as_tensor(z, dtype=self.dtype, device=self.device)

    def _predict_chunked(self, X: torch.Tensor) -> MemberOutput | GaussianOutput:
        with torch.no_grad():
            outs = [
                self._predict_model_space(X[i : i + self.predict_chunk_size])
                for i in range(0, X.shape[0], self.predict_chunk_size)
            ]
        if isinstance(outs[0], GaussianOutput):
            return GaussianOutput(
                mean=torch.cat([o.mean for o in outs]), std=torch.cat([o.std for o in outs])
            )
        return MemberOutput(
            values=torch.cat([o.values for o in outs], dim=1), weights=outs[0].weights
        )


def _read_metadata(path: Path) -> dict[str, Any]:
    """``metadata.json`` of the model folder ``path``, checked for format and version."""
    meta_file = path / _METADATA
    if not meta_file.is_file():
        raise ValueError(f"{path} is not a saved surrogate: it has no {_METADATA}")
    try:
        meta = json.loads(meta_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{meta_file} is damaged: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != "bsm-surrogates":
        raise ValueError(f"{meta_file} was not written by bsm-surrogates")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} was saved in format version {meta.get('format_version')} by "
            f"bsm-surrogates {meta.get('library_version')}; this is bsm-surrogates "
            f"{__version__}, which reads format version {FORMAT_VERSION}. Install "
            f"bsm-surrogates=={meta.get('library_version')} to read it, or re-train."
        )
    missing = [k for k in _METADATA_KEYS if k not in meta]
    if missing:
        raise ValueError(f"{meta_file} is damaged: it lacks the key(s) {', '.join(missing)}")
    return meta


def _read_tensors(path: Path, meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The tensors of the model folder ``path`` on the CPU, verified against ``meta``.

    Every file listed under ``files`` must have the recorded size and SHA-256, and the
    tensors the recorded names, shapes and dtypes. Folders saved before these were recorded
    (no ``files`` key) are read unverified.
    """
    for name, record in (meta.get("files") or {}).items():
        file = path / name
        if not file.is_file():
            raise ValueError(f"{file} is missing: {_METADATA} lists it; the model is incomplete")
        size = file.stat().st_size
        if size != record.get("bytes") or sha256_file(file) != record.get("sha256"):
            raise ValueError(
                f"{file} is damaged or comes from another save: its SHA-256 does not match "
                f"the one recorded in {_METADATA} ({size} bytes, expected {record.get('bytes')})"
            )
    file = path / _TENSORS
    try:
        tensors = load_file(str(file), device="cpu")
    except (OSError, SafetensorError) as err:
        raise ValueError(f"{file} is damaged: {err}") from None
    expected = meta.get("tensors")
    if expected is not None:
        found = {
            k: {"dtype": str(v.dtype).removeprefix("torch."), "shape": list(v.shape)}
            for k, v in tensors.items()
        }
        if found != expected:
            odd = sorted(k for k in {*found, *expected} if found.get(k) != expected.get(k))
            raise ValueError(
                f"{file} does not match {_METADATA}: tensor(s) {', '.join(odd)} differ in "
                f"name, shape or dtype (found {[found.get(k) for k in odd]}, expected "
                f"{[expected.get(k) for k in odd]})"
            )
    return tensors


def _model_space_summary(out: MemberOutput | GaussianOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """(Weighted) mean and spread of a model-space predictive, each of shape (n_points,)."""
    if isinstance(out, GaussianOutput):
        return out.mean, out.std
    return _mean_std(out.values.double(), out.weights)


def _mean_std(
    values: torch.Tensor, weights: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and spread over the members of ``values`` (n_members, n_points), equally weighted
    or by ``weights`` (n_members,) summing to one; in the dtype of ``values``."""
    if weights is None:
        var, mean = torch.var_mean(values, dim=0, correction=0)
        return mean, var.sqrt()
    w = weights.to(values)[:, None]
    mean = (w * values).sum(0)
    return mean, ((w * (values - mean) ** 2).sum(0)).clamp_min(0).sqrt()


def _rescaled(
    out: MemberOutput | GaussianOutput, recal: Recalibration
) -> MemberOutput | GaussianOutput:
    """The predictive with its model-space spread multiplied by ``recal.factor(spread)``
    (:func:`~surrogates.calibration.rescale_spread`, in float64)."""
    if isinstance(recal, Temperature):  # ``_recalibrate`` fits it on members only
        return MemberOutput(values=torch.as_tensor(recal.apply(_np(out.values))).to(out.values),
                            weights=out.weights)
    mean, std = _model_space_summary(out)
    members = isinstance(out, MemberOutput)
    if isinstance(recal, LocalQuantile):  # equally weighted members replace the predictive
        _, values = rescale_spread(recal, _np(mean), _np(std))
        like = out.values if members else out.mean
        return MemberOutput(values=torch.as_tensor(values).to(like), weights=None)
    std, values = rescale_spread(recal, _np(mean), _np(std), _np(out.values) if members else None)
    if not members:
        return GaussianOutput(mean=out.mean, std=torch.as_tensor(std).to(out.std))
    return MemberOutput(values=torch.as_tensor(values).to(out.values), weights=out.weights)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
