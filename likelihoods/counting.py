r"""Single signal-region counting likelihood with log-normal nuisance parameters.

The expected signal in a signal region is :math:`s(x) = L\,\sigma(x)\,\epsilon` (integrated
luminosity :math:`L` in fb^-1, cross section :math:`\sigma` in fb from a surrogate, signal
efficiency :math:`\epsilon`). With :math:`b` expected background events and :math:`n`
observed, the likelihood of a signal strength :math:`\mu` is, as in SCYNet (Bechtle et al.,
Eur. Phys. J. C 77 (2017) 707, arXiv:1703.01309, Appendix A) and in the asymptotic
formulae of Cowan, Cranmer, Gross, Vitells (arXiv:1007.1727),

.. math:: L(\mu, \theta_s, \theta_b) = \mathrm{Pois}\big(n \mid \mu\, s\, e^{k_s\theta_s}
          + b\, e^{k_b\theta_b}\big)\; \phi(\theta_s)\, \phi(\theta_b),

with standard-normal constraints :math:`\phi`, i.e. log-normal signal and background
factors of log-widths :math:`k = \sqrt{\ln(1 + \delta^2)}` (a log-normal of median 1 and
relative standard deviation :math:`\delta`). The surrogate's uncertainty enters the signal
nuisance: its spread in :math:`\ln\sigma` (:math:`\kappa(x)`, from the ensemble members, or
:math:`\sqrt{\ln(1 + \mathrm{std}^2/\mathrm{mean}^2)}` from a Gaussian predictive) is added
in quadrature, :math:`k_s^2 = \ln(1 + \delta_s^2) + \kappa^2(x)`.

``nuisance="profile"`` gives the profile likelihood ratio of the hypothesis :math:`\mu = 1`,

.. math:: q_1 = -2 \ln \frac{L(1, \hat{\hat\theta}_s, \hat{\hat\theta}_b)}
          {L(\hat\mu, \hat\theta_s, \hat\theta_b)}, \qquad \hat\mu \ge 0,

and the term's log-likelihood is :math:`-q_1/2`. The denominator is free in the total signal
:math:`\hat\mu s \ge 0`, so it does not depend on :math:`x` (it is the saturated Poisson model
when :math:`n \ge b`). ``test_statistic="upper_limit"`` is the one-sided :math:`\tilde q_\mu`
of Cowan et al. (eq. 16) used for exclusions: :math:`q_1 = 0` when :math:`\hat\mu > 1`, i.e.
when the observed excess :math:`n - b` exceeds :math:`s`. The numerator is maximised by
Fisher scoring on :math:`(\theta_s, \theta_b)` with a backtracking line search, all points
at once.

``nuisance="marginalise"`` integrates the nuisances out by Gauss–Hermite quadrature and
returns :math:`\ln P(n \mid s) - \ln \mathrm{Pois}(n \mid n)`, on the same scale as
:math:`-q_1/2`.

Where the cross section may not exist (a surrogate with a support model predicts the
probability :math:`p_d(x)` that it does: sigma(N2 C1) of the reference data has no value for a
bino-like N2), ``support="mixture"`` counts no signal from this channel there: the likelihood
is the mixture :math:`p_d\, L(s(x)) + (1 - p_d)\, L(0)` (:mod:`likelihoods.base`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp, xlogy

from likelihoods.base import (
    SUPPORT_POLICIES,
    Term,
    TermOutput,
    check_observable,
    value_outside,
)
from surrogates.params import Interval, Options
from surrogates.prediction import Prediction

__all__ = [
    "SignalRegion",
    "log_width",
    "marginal_log_likelihood",
    "profile_log_likelihood",
    "saturated_log_likelihood",
]

_TINY = 1e-300


def log_width(rel_error: np.ndarray | float) -> np.ndarray:
    r"""Log-width :math:`\sqrt{\ln(1+\delta^2)}` of a log-normal of relative std ``rel_error``."""
    return np.sqrt(np.log1p(np.square(rel_error)))


def prediction_log_width(pred: Prediction) -> np.ndarray:
    """Spread of the predicted log cross section, shape (n,): from the members if any."""
    if pred.samples is not None:
        w = pred.member_weights()[:, None]
        logs = np.log(np.maximum(pred.samples, _TINY))
        centre = (w * logs).sum(axis=0)
        return np.sqrt((w * (logs - centre) ** 2).sum(axis=0))
    return log_width(pred.std / np.maximum(pred.mean, _TINY))


def _poisson_kernel(n: float, nu: np.ndarray) -> np.ndarray:
    """``n ln nu - nu``: the log Poisson probability without its ``-ln n!``."""
    return xlogy(n, nu) - nu


def profile_log_likelihood(
    n: float, s: np.ndarray, b: float, k_s: np.ndarray, k_b: float, *, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Maximise :math:`n\ln\nu - \nu - (\theta_s^2 + \theta_b^2)/2` over the nuisances.

    Parameters
    ----------
    n : float
        Observed count.
    s : ndarray of shape (n_points,)
        Expected signal (events, >= 0).
    b : float
        Expected background (events, > 0).
    k_s : ndarray of shape (n_points,)
        Log-width of the signal factor.
    k_b : float
        Log-width of the background factor.

    Returns
    -------
    value, theta_s, theta_b : ndarrays of shape (n_points,)
        The maximum (without ``-ln n!``) and where it is reached.
    """
    ts = np.zeros_like(s)
    tb = np.zeros_like(s)

    def objective(ts, tb):
        nu = s * np.exp(k_s * ts) + b * np.exp(k_b * tb)
        return _poisson_kernel(n, nu) - 0.5 * (ts**2 + tb**2)

    f = objective(ts, tb)
    for _ in range(max_iter):
        u, v = s * np.exp(k_s * ts), b * np.exp(k_b * tb)
        nu = u + v
        r = n / nu - 1.0
        g_s, g_b = k_s * u * r - ts, k_b * v * r - tb
        if np.max(np.abs(g_s) + np.abs(g_b)) < 1e-9:
            break
        # Fisher information (expected negative Hessian): positive definite everywhere.
        i_ss, i_bb = k_s**2 * u**2 / nu + 1.0, k_b**2 * v**2 / nu + 1.0
        i_sb = k_s * k_b * u * v / nu
        det = i_ss * i_bb - i_sb**2
        d_s, d_b = (i_bb * g_s - i_sb * g_b) / det, (i_ss * g_b - i_sb * g_s) / det
        step = np.ones_like(s)
        for _ in range(40):
            f_new = objective(ts + step * d_s, tb + step * d_b)
            worse = f_new < f
            if not worse.any():
                break
            step = np.where(worse, 0.5 * step, step)
        ok = f_new >= f
        ts, tb = np.where(ok, ts + step * d_s, ts), np.where(ok, tb + step * d_b, tb)
        f = np.maximum(f, f_new)
    return f, ts, tb


def saturated_log_likelihood(n: float, b: float, k_b: float) -> float:
    r"""Maximum of the same objective over a free total signal :math:`S \ge 0` and the nuisances.

    For :math:`n \ge b` this is :math:`n \ln n - n`; below, :math:`S = 0` and the background
    nuisance alone is fitted (a concave 1-D problem, solved by Newton's method).
    """
    if n >= b:
        return float(xlogy(n, n) - n)
    t = 0.0
    for _ in range(100):
        v = b * np.exp(k_b * t)
        grad, hess = k_b * (n - v) - t, -(k_b**2) * v - 1.0
        t -= grad / hess
        if abs(grad) < 1e-12:
            break
    return float(xlogy(n, b * np.exp(k_b * t)) - b * np.exp(k_b * t) - 0.5 * t**2)


def marginal_log_likelihood(
    n: float, s: np.ndarray, b: float, k_s: np.ndarray, k_b: float, n_nodes: int = 24
) -> np.ndarray:
    r""":math:`\ln \int\!\!\int e^{n\ln\nu - \nu}\,\phi(\theta_s)\phi(\theta_b)` by Gauss–Hermite.

    Returns an array of shape (n_points,), without ``-ln n!``.
    """
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    log_w = np.log(w / np.sqrt(2.0 * np.pi))
    u = s[:, None, None] * np.exp(k_s[:, None, None] * x[None, :, None])
    v = b * np.exp(k_b * x)[None, None, :]
    terms = _poisson_kernel(n, u + v) + log_w[None, :, None] + log_w[None, None, :]
    return logsumexp(terms.reshape(len(s), -1), axis=1)


class SignalRegion(Term):
    """Counting likelihood of one signal region; see the module docstring for the math.

    Parameters
    ----------
    name : str
    observable : object with ``predict``
        Cross-section surrogate (fb), or any object with the same contract.
    n_observed : int
        Observed event count, >= 0.
    background : float
        Expected background events, > 0.
    background_error : float
        Absolute background uncertainty (events), >= 0.
    luminosity : float
        Integrated luminosity, fb^-1.
    efficiency : float
        Signal efficiency times acceptance, in (0, 1].
    signal_rel_error : float
        Relative systematic uncertainty of the signal, >= 0.
    nuisance : {"profile", "marginalise"}
    test_statistic : {"two_sided", "upper_limit"}
        For ``nuisance="profile"``: two-sided :math:`q_1` (fits to an excess) or the one-sided
        :math:`\\tilde q_1` of exclusions.
    uncertainty : {"nuisance", "none"}
        Whether the surrogate's spread widens the signal nuisance.
    outside : {"reject", "flag"}
    support : {"mixture", "ignore"}
        Whether the cross section's probability of existing (``p_defined`` of the
        prediction, when it has one) mixes in the no-signal likelihood.
    n_nodes : int
        Gauss–Hermite nodes per nuisance for ``nuisance="marginalise"``.
    """

    parameter_constraints: ClassVar[dict[str, Any]] = {
        **Term.parameter_constraints,
        "n_observed": Interval("int", 0),
        "background": Interval("real", 0, closed="neither"),
        "background_error": Interval("real", 0),
        "luminosity": Interval("real", 0, closed="neither"),
        "efficiency": Interval("real", 0, 1, closed="right"),
        "signal_rel_error": Interval("real", 0),
        "nuisance": Options(("profile", "marginalise")),
        "test_statistic": Options(("two_sided", "upper_limit")),
        "uncertainty": Options(("nuisance", "none")),
        "support": Options(SUPPORT_POLICIES),
        "n_nodes": Interval("int", 2),
    }

    def __init__(
        self,
        name: str,
        observable: Any,
        n_observed: int,
        background: float,
        background_error: float,
        *,
        luminosity: float,
        efficiency: float,
        signal_rel_error: float = 0.0,
        nuisance: str = "profile",
        test_statistic: str = "two_sided",
        uncertainty: str = "nuisance",
        outside: str = "reject",
        support: str = "mixture",
        n_nodes: int = 24,
    ) -> None:
        self._check_arguments(locals())
        super().__init__(name, outside=outside)
        self.observable = check_observable(name, "observable", observable)
        self.n_observed = int(n_observed)
        self.background = float(background)
        self.background_error = float(background_error)
        self.luminosity = float(luminosity)
        self.efficiency = float(efficiency)
        self.signal_rel_error = float(signal_rel_error)
        self.nuisance = nuisance
        self.test_statistic = test_statistic
        if self.nuisance == "marginalise" and self.test_statistic != "two_sided":
            raise ValueError("test_statistic='upper_limit' needs nuisance='profile'")
        self.uncertainty = uncertainty
        self.support = support
        self.n_nodes = int(n_nodes)
        self._k_b = float(log_width(self.background_error / self.background))
        self._saturated = saturated_log_likelihood(self.n_observed, self.background, self._k_b)

    def expected_signal(self, cross_section_fb: np.ndarray) -> np.ndarray:
        """Signal events ``luminosity * cross_section * efficiency``, same shape as the input."""
        return self.luminosity * np.asarray(cross_section_fb, float) * self.efficiency

    def signal_log_likelihood(
        self, s: np.ndarray, k_s: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Log-likelihood of expected signals ``s`` with signal log-widths ``k_s``.

        Parameters
        ----------
        s, k_s : ndarray of shape (n_points,)
            Expected signal events and the log-width of their nuisance.

        Returns
        -------
        logl : ndarray of shape (n_points,)
        columns : dict
            Diagnostics (``q``, ``theta_s``, ``theta_b`` for the profile likelihood).
        """
        n, b = self.n_observed, self.background
        if self.nuisance == "marginalise":
            logl = marginal_log_likelihood(n, s, b, k_s, self._k_b, self.n_nodes)
            return logl - (xlogy(n, n) - n), {}
        best, ts, tb = profile_log_likelihood(n, s, b, k_s, self._k_b)
        q = np.maximum(2.0 * (self._saturated - best), 0.0)
        if self.test_statistic == "upper_limit":
            q = np.where(n - b > s, 0.0, q)
        return -0.5 * q, {"q": q, "theta_s": ts, "theta_b": tb}

    def best_observable(self) -> float:
        """The cross section (fb) whose signal ``max(n - b, 0)`` best fits the count."""
        excess = max(self.n_observed - self.background, 0.0)
        return excess / (self.luminosity * self.efficiency)

    def score(self, pred: Prediction) -> TermOutput:
        """The counting log-likelihood of a predicted cross section ``pred`` (fb)."""
        s = self.expected_signal(np.maximum(pred.mean, 0.0))
        kappa = prediction_log_width(pred) if self.uncertainty == "nuisance" else np.zeros_like(s)
        k_s = np.sqrt(log_width(self.signal_rel_error) ** 2 + kappa**2)
        columns = {"pred_mean": pred.mean, "pred_std": pred.std, "signal": s, "k_signal": k_s}
        logl, extra = self.signal_log_likelihood(s, k_s)
        columns.update(extra)
        if pred.p_defined is not None and self.support == "mixture":
            logl_none, _ = self.signal_log_likelihood(np.zeros_like(s), k_s)
            with np.errstate(divide="ignore"):
                logl = np.logaddexp(
                    np.log(pred.p_defined) + logl, np.log1p(-pred.p_defined) + logl_none
                )
            columns["p_defined"] = pred.p_defined
        return TermOutput(log_likelihood=logl, outside=value_outside(pred, self.support),
                          columns=columns)
