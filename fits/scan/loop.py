"""The iterative scan: the Machine Learning Scan (MLS) with uncertainty-aware acquisitions.

Algorithm (Ren, Wu, Yang and Zhao, arXiv:1708.06615, Sec. 2), one iteration:

1. train one surrogate per simulator output that a likelihood term reads, on every point
   tested so far (finite values only; a classifier for the probability a
   :class:`~likelihoods.Viability` term reads), plus a classifier of "the simulator returned
   a value" once any point failed;
2. propose ``batch_size`` points: a share ``random_fraction`` uniformly in the box, the rest
   drawn with density proportional to an acquisition ``a(x)`` built from the terms and the
   surrogates (:mod:`fits.scan.acquisition`) by a proposal method
   (:mod:`fits.scan.proposals`);
3. run the simulator on them and append them.

The scan starts from ``n_initial`` uniform points and stops when ``budget`` points have been
tested. MLS itself is ``acquisition="likelihood"``: it samples the surrogate likelihood and
ignores the surrogate's uncertainty; the other acquisitions use it.

A scan is resumable: :meth:`ActiveScan.run` continues from the tested points of an earlier
run (``tested=``), and every iteration draws its random numbers from ``(seed, iteration)``.
A resumed scan tests the same points as an uninterrupted one unless its surrogate is
warm-started (the default GP is: after a resume its first fit starts from the default
hyper-parameters instead of the previous iteration's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fits.scan.acquisition import ACQUISITIONS, acquisition
from fits.scan.proposals import PROPOSAL_OPTIONS, PROPOSALS, propose
from fits.scan.simulators import Simulator
from fits.scan.steering import evaluate, steer
from fits.scan.store import ScanStore, read_log
from likelihoods import Term
from surrogates.base import Surrogate
from surrogates.io import atomic_write, write_text
from surrogates.params import Configurable, Interval, ListOf, MappingOf, Options, validate
from surrogates.registry import MODELS, get_model_class
from surrogates.targets import Quantity, Selection, Target

__all__ = ["ActiveScan", "ScanResult", "observable_target"]

#: Surrogate options used when a scan names a family without options: one exact GP expert
#: (``poe`` of one expert is the exact GP) up to 4,096 points, or a small deep ensemble; both
#: warm-started from the previous iteration.
DEFAULT_MODEL_OPTIONS: dict[str, dict[str, Any]] = {
    "rbcm": {"expert_size": 4096, "aggregation": "poe", "recalibration": "none",
             "include_noise": False, "min_noise": 1e-4, "n_iter": 150, "warm_start": True,
             "n_iter_warm": 25, "precision": "float64"},
    "mlp": {"hidden": [64, 64, 64], "n_members": 5, "epochs": 200, "batch_size": 64,
            "warm_start": True},
}
_VALID = "simulator_ok"


def observable_target(name: str, log: bool = False, classifier: bool = False) -> Target:
    """A :class:`~surrogates.targets.Target` for a scan observable ``name``.

    A regression target; with ``log``, the surrogate learns ``ln`` of the (positive)
    observable; with ``classifier``, a classification target of a 0/1 output.
    """
    if classifier:
        return Target(Quantity(name, "classification", "", "none", latex=name),
                      Selection(name, "scan classifier", requires_valid=False))
    return Target(Quantity(name, "regression", "", "log_standardize" if log else "standardize",
                           latex=name),
                  Selection(name, "scan observable", requires_valid=False))


_OK_TARGET = Target(Quantity(_VALID, "classification", "", "none"),
                    Selection(_VALID, "scan validity", requires_valid=False))


@dataclass
class ScanResult:
    """Tested points of a scan, in the order tested.

    Attributes
    ----------
    tested : DataFrame
        The parameters, the observables, ``iteration`` (0 = initial sample), ``origin``
        (``initial``, ``random`` or ``guided``), ``in_target`` and ``log_likelihood``.
    history : DataFrame
        One row per iteration: points tested, in-target count of the batch, seconds spent
        training, proposing and simulating, proposal diagnostics.
    settings : dict
        The scan's configuration.
    """

    tested: pd.DataFrame
    history: pd.DataFrame
    settings: dict[str, Any]

    @property
    def efficiency(self) -> float:
        """Fraction of the tested points inside the target region."""
        return float(self.tested["in_target"].mean())

    def save(self, folder: str | Path) -> Path:
        """Write ``tested.csv``, ``history.csv`` and ``settings.json`` to ``folder``, each
        atomically (a running scan appends to its folder through :class:`ScanStore`)."""
        import json

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "tested.csv", lambda p: self.tested.to_csv(p, index=False))
        atomic_write(folder / "history.csv", lambda p: self.history.to_csv(p, index=False))
        write_text(folder / "settings.json", json.dumps(self.settings, indent=1, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ScanResult:
        """Read a result written by :meth:`save`."""
        import json

        folder = Path(folder)
        history = folder / "history.csv"
        return cls(
            tested=read_log(folder / "tested.csv")[0],
            history=pd.read_csv(history) if history.stat().st_size > 1 else pd.DataFrame(),
            settings=json.loads((folder / "settings.json").read_text()),
        )


class ActiveScan(Configurable):
    """Surrogate-guided active-learning scan of a simulator (see the module docstring).

    Parameters
    ----------
    simulator : Simulator
    terms : list of Term
        Likelihood terms on outputs of ``simulator`` (``GaussianMeasurement("O",
        simulator.observable("O"), value, error)``, a ``SignalRegion`` of a cross-section
        output, a ``Viability`` of a 0/1 output): they define the likelihood, the target
        region and the acquisitions (:mod:`fits.scan.steering`).
    n_sigma : float or mapping of term name to float
        Half-width of each term's target region in standard deviations (2 for a term not
        named).
    model : {"rbcm", "mlp", "bnn"}
        Surrogate family (:mod:`surrogates.registry`).
    model_options : dict, optional
        Keyword arguments of the family; defaults in :data:`DEFAULT_MODEL_OPTIONS`.
    acquisition : {"likelihood", "expected_likelihood", "ucb", "target_probability"}
        ``likelihood`` is the original MLS.
    kappa : float
        Interval half-width of ``ucb``, in predictive standard deviations.
    proposal : {"rejection", "importance", "mcmc", "ultranest"}
    log_observables : sequence of str
        Observables whose surrogates learn their logarithm (positive observables spanning
        decades, such as cross sections or the eggbox).
    proposal_options : dict, optional
        Keyword arguments of the proposal (:mod:`fits.scan.proposals`).
    n_initial : int
        Uniform points before the first surrogate is trained.
    batch_size : int
        Points tested per iteration.
    random_fraction : float
        Share of each batch drawn uniformly (MLS: 10 %), the scan's insurance against a
        surrogate that is confidently wrong.
    seed : int
    progress : bool
        Show a progress bar.
    """

    parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_sigma": [Interval("real", 0, closed="neither"),
                    MappingOf(Interval("real", 0, closed="neither"))],
        "model": Options(tuple(MODELS)),
        "model_options": [dict, None],
        "acquisition": Options(tuple(ACQUISITIONS)),
        "kappa": Interval("real", 0),
        "log_observables": ListOf(str),
        "proposal": Options(tuple(PROPOSALS)),
        "proposal_options": [dict, None],
        "n_initial": Interval("int", 2),
        "batch_size": Interval("int", 1),
        "random_fraction": Interval("real", 0, 1),
        "seed": Interval("int", 0),
        "progress": bool,
    }

    def __init__(
        self,
        simulator: Simulator,
        terms: list[Term],
        *,
        n_sigma: float | dict[str, float] = 2.0,
        model: str = "rbcm",
        model_options: dict[str, Any] | None = None,
        acquisition: str = "target_probability",
        kappa: float = 2.0,
        log_observables: tuple[str, ...] | list[str] = (),
        proposal: str = "rejection",
        proposal_options: dict[str, Any] | None = None,
        n_initial: int = 100,
        batch_size: int = 100,
        random_fraction: float = 0.1,
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        self._check_arguments(locals())
        self.steering = steer(simulator, terms, n_sigma)
        validate(proposal_options or {}, PROPOSAL_OPTIONS[proposal], type(self).__name__,
                 path="proposal_options")
        self.simulator = simulator
        self.terms = list(terms)
        self.n_sigma = {s.term.name: s.n_sigma for s in self.steering}
        self.model = model
        self.model_options = get_model_class(model).check_options(
            DEFAULT_MODEL_OPTIONS.get(model, {}) if model_options is None else model_options,
            type(self).__name__, path="model_options",
        )
        get_model_class(model)(  # checks the options' values before the first simulator call
            observable_target(self.steering[0].column), space=simulator.space, seed=seed,
            **self.model_options,
        )
        self.acquisition = acquisition
        self.kappa = float(kappa)
        self.log_observables = tuple(log_observables)
        odd = [o for o in self.log_observables if o not in simulator.observables]
        if odd:
            raise ValueError(f"log_observables {odd} are not outputs of the simulator")
        self.proposal = proposal
        self.proposal_options = dict(proposal_options or {})
        self.n_initial = int(n_initial)
        self.batch_size = int(batch_size)
        self.random_fraction = float(random_fraction)
        self.seed = int(seed)
        self.progress = progress
        self.surrogates_: dict[str, Surrogate] = {}

    @property
    def settings(self) -> dict[str, Any]:
        """The configuration, as stored with a result."""
        return {
            "simulator": getattr(self.simulator, "name", type(self.simulator).__name__),
            "space": self.simulator.space.to_dict(),
            "terms": [s.to_dict() for s in self.steering],
            "model": self.model, "model_options": self.model_options,
            "acquisition": self.acquisition, "kappa": self.kappa,
            "log_observables": list(self.log_observables),
            "proposal": self.proposal, "proposal_options": self.proposal_options,
            "n_initial": self.n_initial, "batch_size": self.batch_size,
            "random_fraction": self.random_fraction, "seed": self.seed,
        }

    # ---------------------------------------------------------------- steps
    def _rng(self, iteration: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, iteration])

    def _evaluate(self, X: np.ndarray, iteration: int, origin: np.ndarray) -> pd.DataFrame:
        frame = evaluate(self.simulator, self.steering, X)
        frame.insert(len(frame.columns) - 2, "iteration", iteration)
        frame.insert(len(frame.columns) - 2, "origin", origin)
        return frame

    def _train(self, tested: pd.DataFrame, iteration: int) -> dict[str, float]:
        space = self.simulator.space
        X = tested.loc[:, list(space.names)].to_numpy()
        observables = sorted({s.column for s in self.steering if not s.classifier})
        classified = sorted({s.column for s in self.steering if s.classifier} - set(observables))
        ok = np.isfinite(tested[observables].to_numpy()).all(axis=1)
        klass = get_model_class(self.model)
        models: dict[str, Surrogate] = {}
        for name, target, rows, y in [
            *((o, observable_target(o, o in self.log_observables), ok, tested[o].to_numpy())
              for o in observables),
            *((o, observable_target(o, classifier=True), slice(None),
               np.nan_to_num(tested[o].to_numpy(float))) for o in classified),
            *([(_VALID, _OK_TARGET, slice(None), ok.astype(float))] if not ok.all() else []),
        ]:
            model = self.surrogates_.get(name)
            if model is None:  # a family with warm_start keeps learning from its last fit
                model = klass(target, space=space, seed=self.seed, **self.model_options)
            models[name] = model.fit(X[rows], y[rows], progress=False)
        self.surrogates_ = models
        return {"n_failed": int((~ok).sum())}

    def score(self, X: np.ndarray) -> np.ndarray:
        """Acquisition values in [0, 1] at ``X`` (n_points, n_dim) from the current surrogates."""
        means, stds = {}, {}
        for column in {s.column for s in self.steering}:
            pred = self.surrogates_[column].predict(X)
            means[column], stds[column] = pred.mean, pred.std
        value = acquisition(self.acquisition, means, stds, self.steering, self.kappa)
        if _VALID in self.surrogates_:
            value = value * self.surrogates_[_VALID].predict(X).mean
        return value

    def _propose(self, tested: pd.DataFrame, rng: np.random.Generator, n: int) -> tuple:
        space = self.simulator.space
        n_random = int(round(self.random_fraction * n))
        X_random = space.sample_uniform(n_random, rng)
        options = dict(self.proposal_options)
        if self.proposal == "importance":
            anchors = tested.loc[tested["in_target"].to_numpy(bool), list(space.names)]
            options.setdefault("anchors", anchors.to_numpy())
        proposal = propose(self.proposal, self.score, space, n - n_random, rng, **options)
        X = np.vstack([X_random, proposal.X])
        origin = np.array(["random"] * n_random + ["guided"] * len(proposal.X))
        return X, origin, proposal.info

    # ------------------------------------------------------------------ run
    def run(
        self,
        budget: int,
        tested: pd.DataFrame | None = None,
        callback: Callable[[ScanResult], None] | None = None,
        store: ScanStore | None = None,
    ) -> ScanResult:
        """Test points until ``budget`` simulator calls in all.

        Parameters
        ----------
        budget : int
            Total number of tested points, the initial sample included.
        tested : DataFrame, optional
            Tested points of an earlier run of this scan (``ScanResult.tested``), to resume.
        callback : callable, optional
            Called with the partial result after every iteration (e.g. to save it).
        store : ScanStore, optional
            Where each batch of simulator results and its history row are appended as they
            arrive, and the
            warm-start state of every iteration kept; a resume (``tested=``) restores the
            state from it, so that it proposes the points an uninterrupted run would.
        """
        validate({"budget": budget}, {"budget": Interval("int", self.n_initial)},
                 type(self).__name__)
        history: list[dict[str, Any]] = []
        if tested is None or len(tested) == 0:
            rng = self._rng(0)
            X = self.simulator.space.sample_uniform(self.n_initial, rng)
            start = time.perf_counter()
            tested = self._evaluate(X, 0, np.array(["initial"] * len(X)))
            if store is not None:
                store.append(tested)
            history.append({"iteration": 0, "n_tested": len(tested),
                            "n_in_target_batch": int(tested["in_target"].sum()),
                            "simulate_seconds": time.perf_counter() - start})
            if store is not None:
                store.append_history(history[-1])
        else:
            missing = [c for c in (*self.simulator.space.names, "iteration", "in_target")
                       if c not in tested.columns]
            if missing:
                raise ValueError(f"tested has no column(s) {', '.join(missing)} to resume from")
            tested = tested.reset_index(drop=True)
            if store is not None:
                self.surrogates_ = store.load_state(int(tested["iteration"].max()))
        bar = tqdm(total=budget, initial=min(len(tested), budget), disable=not self.progress,
                   desc=f"scan ({self.acquisition})", unit="pt")
        while len(tested) < budget:
            iteration = int(tested["iteration"].max()) + 1
            rng = self._rng(iteration)
            n = min(self.batch_size, budget - len(tested))
            t0 = time.perf_counter()
            train_info = self._train(tested, iteration)
            if store is not None:
                store.save_state(iteration, self.surrogates_)
            t1 = time.perf_counter()
            X, origin, info = self._propose(tested, rng, n)
            t2 = time.perf_counter()
            batch = self._evaluate(X, iteration, origin)
            if store is not None:
                store.append(batch)
            t3 = time.perf_counter()
            tested = pd.concat([tested, batch], ignore_index=True)
            history.append({"iteration": iteration, "n_tested": len(tested),
                            "n_in_target_batch": int(batch["in_target"].sum()),
                            "train_seconds": t1 - t0, "propose_seconds": t2 - t1,
                            "simulate_seconds": t3 - t2, **train_info, **info})
            if store is not None:
                store.append_history(history[-1])
            bar.update(len(batch))
            bar.set_postfix(efficiency=f"{tested['in_target'].mean():.3f}")
            if callback is not None:
                callback(ScanResult(tested, pd.DataFrame(history), self.settings))
        bar.close()
        return ScanResult(tested, pd.DataFrame(history), self.settings)
