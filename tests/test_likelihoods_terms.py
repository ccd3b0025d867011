"""Likelihood terms: values against closed forms / numerical integration, shapes, policies."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize
from scipy.special import xlogy
from scipy.stats import norm, poisson

from likelihoods import (
    Combination,
    FunctionObservable,
    GaussianMeasurement,
    SignalRegion,
    Viability,
)
from likelihoods.base import Term, TermOutput
from likelihoods.counting import (
    log_width,
    marginal_log_likelihood,
    prediction_log_width,
    profile_log_likelihood,
    saturated_log_likelihood,
)
from surrogates.prediction import Prediction
from surrogates.space import PARAMETER_NAMES, PMSSM19, sample_uniform


class Stub:
    """An observable with prescribed members (n_members, n) and an outside-domain mask."""

    space = PMSSM19

    def __init__(self, samples, outside=None, weights=None):
        self.samples = np.asarray(samples, float)
        self.outside = outside
        self.weights = weights

    def predict(self, X):
        n = X.shape[0]
        s = self.samples[:, :n]
        w = np.full(s.shape[0], 1 / s.shape[0]) if self.weights is None else self.weights
        mean = w @ s
        return Prediction(
            mean=mean,
            std=np.sqrt(w @ (s - mean) ** 2),
            samples=s,
            weights=self.weights,
            outside_domain=np.zeros(n, bool) if self.outside is None else self.outside[:n],
        )


@pytest.fixture
def X():
    return sample_uniform(5, rng=0)


@pytest.fixture
def stub():
    rng = np.random.default_rng(1)
    return Stub(125.0 + rng.normal(0, 1.5, size=(4, 5)))


def test_gaussian_quadrature_is_normal_logpdf(X, stub):
    term = GaussianMeasurement("mh", stub, 125.09, 0.24, 2.0)
    pred = stub.predict(X)
    expected = norm.logpdf(125.09, pred.mean, np.sqrt(0.24**2 + 2.0**2 + pred.std**2))
    np.testing.assert_allclose(term.log_likelihood(X), expected, rtol=1e-12)


def test_gaussian_none_ignores_the_surrogate_std(X, stub):
    term = GaussianMeasurement("mh", stub, 125.09, 0.24, 2.0, uncertainty="none")
    expected = norm.logpdf(125.09, stub.predict(X).mean, np.hypot(0.24, 2.0))
    np.testing.assert_allclose(term.log_likelihood(X), expected, rtol=1e-12)


def test_gaussian_mixture_averages_member_likelihoods(X, stub):
    stub.weights = np.array([0.1, 0.2, 0.3, 0.4])
    term = GaussianMeasurement("mh", stub, 125.09, 0.24, 2.0, uncertainty="mixture")
    dens = norm.pdf(125.09, stub.samples, np.hypot(0.24, 2.0))
    np.testing.assert_allclose(term.log_likelihood(X), np.log(stub.weights @ dens), rtol=1e-12)


def test_mixture_without_members_names_the_fix(X):
    obs = FunctionObservable(lambda X: X[:, 0], space=PMSSM19)
    term = GaussianMeasurement("m", obs, 1.0, 1.0, uncertainty="mixture")
    with pytest.raises(ValueError, match="needs ensemble members.*quadrature"):
        term.log_likelihood(X)


def test_higgs_defaults_are_those_of_1611_02704(stub):
    term = GaussianMeasurement.higgs_mass(stub)
    assert (term.value, term.exp_error, term.theory_error) == (125.09, 0.24, 2.0)


def test_shapes_dataframe_input_and_boundary_errors(stub):
    term = GaussianMeasurement("mh", stub, 125.0, 1.0)
    df = pd.DataFrame(sample_uniform(3, rng=2), columns=PARAMETER_NAMES)
    assert term.log_likelihood(df).shape == (3,)
    assert term.log_likelihood(sample_uniform(1, rng=2)).shape == (1,)
    with pytest.raises(ValueError, match=r"shape \(3, 18\)"):
        term.log_likelihood(np.zeros((3, 18)))
    with pytest.raises(ValueError, match=r"'exp_error' .* range \(0, inf\)\. Got -1"):
        GaussianMeasurement("mh", stub, 125.0, -1)
    with pytest.raises(ValueError, match="'uncertainty' .* must be one of"):
        GaussianMeasurement("mh", stub, 125.0, 1.0, uncertainty="bogus")


def test_observable_returning_a_wrong_shape_is_named(X):
    bad = FunctionObservable(lambda X: np.zeros(2), space=PMSSM19)
    term = GaussianMeasurement("bad", bad, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"term 'bad'.*mean of shape \(2,\).*expected \(5,\)"):
        term.log_likelihood(X)


def test_outside_domain_policies(X, stub):
    stub.outside = np.array([False, True, False, False, True])
    rejected = GaussianMeasurement("mh", stub, 125.0, 1.0).evaluate(X)
    flagged = GaussianMeasurement("mh", stub, 125.0, 1.0, outside="flag").evaluate(X)
    assert np.isneginf(rejected["logl"][stub.outside]).all()
    assert np.isfinite(rejected["logl"][~stub.outside]).all()
    assert np.isfinite(flagged["logl"]).all()
    np.testing.assert_array_equal(flagged["outside"], stub.outside)


# ------------------------------------------------------------------ counting


@pytest.mark.parametrize(
    "n,b,k_b", [(15, 10.0, 0.2), (3, 10.0, 0.3), (0, 5.0, 0.5), (40, 10.0, 0.1)]
)
def test_profile_matches_a_generic_optimiser(n, b, k_b):
    rng = np.random.default_rng(n)
    s, k_s = rng.uniform(0, 30, 4), rng.uniform(0, 0.8, 4)
    best, ts, tb = profile_log_likelihood(n, s, b, k_s, k_b)

    for i in range(4):
        def neg(t, i=i):
            nu = s[i] * np.exp(k_s[i] * t[0]) + b * np.exp(k_b * t[1])
            return -(xlogy(n, nu) - nu - 0.5 * (t[0] ** 2 + t[1] ** 2))

        ref = optimize.minimize(neg, [0.3, -0.3], method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
        assert best[i] == pytest.approx(-ref.fun, abs=1e-7)  # both are iterative optimisers
    sat = saturated_log_likelihood(n, b, k_b)
    assert np.all(best <= sat + 1e-9)


@pytest.mark.parametrize(
    "n,b,k_b", [(3, 10.0, 0.3), (0, 5.0, 0.5), (8, 10.0, 0.0), (15, 10.0, 0.2)]
)
def test_saturated_likelihood_matches_a_generic_optimiser(n, b, k_b):
    """The denominator of q_1: the objective maximised over a free signal S = a^2 >= 0 and
    the background nuisance (at n < b the best S is 0 and the nuisance pulls b towards n)."""

    def neg(t):
        nu = t[0] ** 2 + b * np.exp(k_b * t[1])
        return -(xlogy(n, nu) - nu - 0.5 * t[1] ** 2)

    ref = optimize.minimize(neg, [1.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    assert saturated_log_likelihood(n, b, k_b) == pytest.approx(-ref.fun, abs=1e-7)


def test_marginal_matches_2d_quadrature():
    n, b, k_b = 7, 4.0, 0.25
    s, k_s = np.array([2.0, 9.0]), np.array([0.1, 0.6])
    got = marginal_log_likelihood(n, s, b, k_s, k_b)
    for i in range(2):
        def f(y, x, i=i):
            nu = s[i] * np.exp(k_s[i] * x) + b * np.exp(k_b * y)
            return np.exp(xlogy(n, nu) - nu - 0.5 * (x * x + y * y)) / (2 * np.pi)

        ref, _ = integrate.dblquad(f, -9, 9, -9, 9, epsabs=1e-12)
        assert got[i] == pytest.approx(np.log(ref), abs=1e-5)  # 24-node Gauss-Hermite error


def test_marginal_without_nuisances_is_poisson():
    n, b = 12, 6.0
    s = np.array([0.5, 6.0, 20.0])
    sr = SignalRegion("sr", FunctionObservable(lambda X: s[: X.shape[0]], space=PMSSM19), n, b, 0.0,
                      luminosity=1.0, efficiency=1.0, nuisance="marginalise")
    expected = poisson.logpmf(n, s + b) - poisson.logpmf(n, n)
    np.testing.assert_allclose(sr.log_likelihood(sample_uniform(3, rng=0)), expected, rtol=1e-10)


def _sr(values, **kw):
    kw = {"luminosity": 10.0, "efficiency": 0.5, **kw}
    obs = FunctionObservable(lambda X: values[: X.shape[0]], space=PMSSM19)
    return SignalRegion("sr", obs, 25, 10.0, 2.0, **kw)


def test_two_sided_q_vanishes_at_the_observed_excess_only():
    # s = L * sigma * eff = 15 = n - b exactly at sigma = 3 fb; no signal systematics
    sigma = np.array([0.5, 3.0, 8.0])
    out = _sr(sigma).evaluate(sample_uniform(3, rng=0))
    np.testing.assert_allclose(out["signal"], [2.5, 15.0, 40.0])
    assert out["q"][1] == pytest.approx(0.0, abs=1e-9)
    assert out["q"][0] > 1 and out["q"][2] > 1


def test_upper_limit_q_ignores_signals_below_the_excess():
    sigma = np.array([0.5, 3.0, 8.0])
    two = _sr(sigma).evaluate(sample_uniform(3, rng=0))["q"]
    upper = _sr(sigma, test_statistic="upper_limit").evaluate(sample_uniform(3, rng=0))["q"]
    assert upper[0] == 0.0
    np.testing.assert_allclose(upper[1:], two[1:])


def test_surrogate_spread_widens_the_signal_nuisance():
    narrow = Stub([[7.9], [8.0], [8.1]])
    wide = Stub([[2.0], [8.0], [14.0]])  # same mean, 8 fb: 40 signal events
    X = sample_uniform(1, rng=0)
    for stub in (narrow, wide):
        pred = stub.predict(X)
        np.testing.assert_allclose(prediction_log_width(pred), np.log(stub.samples[:, 0]).std())
    terms = [SignalRegion("sr", s, 25, 10.0, 2.0, luminosity=10.0, efficiency=0.5,
                          signal_rel_error=0.1) for s in (narrow, wide)]
    q = [t.evaluate(X)["q"][0] for t in terms]
    # 40 signal events vs an excess of 15: the unsure surrogate is penalised less
    assert q[1] < q[0]
    ignore = SignalRegion("sr", wide, 25, 10.0, 2.0, luminosity=10.0, efficiency=0.5,
                          signal_rel_error=0.1, uncertainty="none").evaluate(X)
    assert ignore["k_signal"][0] == pytest.approx(log_width(0.1))


def test_gaussian_predictive_log_width():
    pred = Prediction(np.array([10.0]), np.array([3.0]), None, None, np.zeros(1, bool))
    assert prediction_log_width(pred)[0] == pytest.approx(np.sqrt(np.log1p(0.09)))


def test_signal_region_argument_errors():
    obs = FunctionObservable(lambda X: X[:, 0], space=PMSSM19)
    with pytest.raises(ValueError, match=r"'n_observed' .* range \[0, inf\)\. Got 2.5"):
        SignalRegion("sr", obs, 2.5, 1.0, 0.1, luminosity=1.0, efficiency=0.5)
    with pytest.raises(ValueError, match=r"'efficiency' .* range \(0, 1\]\. Got 1.5"):
        SignalRegion("sr", obs, 2, 1.0, 0.1, luminosity=1.0, efficiency=1.5)
    with pytest.raises(ValueError, match="upper_limit.*profile"):
        SignalRegion("sr", obs, 2, 1.0, 0.1, luminosity=1.0, efficiency=0.5,
                     nuisance="marginalise", test_statistic="upper_limit")


# ----------------------------------------------------------------- viability


def test_viability_modes(X):
    p = Stub([[0.9, 0.2, 0.45, 0.0, 0.6], [0.9, 0.4, 0.45, 0.0, 0.2]])
    mean, std = p.predict(X).mean, p.predict(X).std
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(Viability("v", p).log_likelihood(X), np.log(mean))
    cut = Viability("v", p, mode="cut").log_likelihood(X)
    np.testing.assert_array_equal(np.isfinite(cut), mean >= 0.5)
    loose = Viability("v", p, mode="cut", n_std=3).log_likelihood(X)
    np.testing.assert_array_equal(np.isfinite(loose), mean + 3 * std >= 0.5)
    assert np.isfinite(loose).sum() > np.isfinite(cut).sum()


# --------------------------------------------------------------- combination


def test_combination_sums_terms_and_exposes_each(X, stub):
    t1 = GaussianMeasurement("mh", stub, 125.0, 1.0)
    t2 = Viability("valid", Stub(np.full((2, 5), 0.8)))
    comb = Combination([t1, t2])
    df = comb.evaluate(X)
    np.testing.assert_allclose(df["logl"], t1.log_likelihood(X) + t2.log_likelihood(X))
    np.testing.assert_allclose(comb.log_likelihood(X), df["logl"])
    assert {"mh", "mh.pred_std", "mh.outside", "valid", "valid.p_valid"} <= set(df.columns)
    with pytest.raises(ValueError, match="unique"):
        Combination([t1, GaussianMeasurement("mh", stub, 1.0, 1.0)])


def test_works_with_a_trained_surrogate():
    from surrogates.data.loaders import features, labels, load_dataset
    from surrogates.mlp import MLPEnsemble

    df = load_dataset("higgs_mass").iloc[:1500]
    sur = MLPEnsemble("higgs_mass", **MLPEnsemble.budgets["tiny"]).fit(
        features(df), labels(df, "higgs_mass"), progress=False)
    X = features(df.iloc[:7])
    for mode in ("quadrature", "mixture"):
        logl = GaussianMeasurement.higgs_mass(sur, uncertainty=mode).log_likelihood(X)
        assert logl.shape == (7,) and np.isfinite(logl).all()


# ------------------------------------------------------------ boundary messages, one by one
def _raises_exactly(message):
    """pytest.raises(ValueError) whose message is exactly ``message``."""
    return pytest.raises(ValueError, match=f"^{re.escape(message)}$")


def test_term_boundary_errors_name_the_key_the_allowed_values_and_the_value(stub):
    with _raises_exactly("The 'outside' parameter of GaussianMeasurement must be one of "
                         "{'reject', 'flag'}. Got 'drop' instead."):
        GaussianMeasurement("mh", stub, 125.0, 1.0, outside="drop")
    for bad in ("", "a.b"):
        with _raises_exactly(f"a term name must be a non-empty string without '.'; got {bad!r}"):
            GaussianMeasurement(bad, stub, 125.0, 1.0)
    with _raises_exactly("The 'name' parameter of GaussianMeasurement must be a str. Got 3 "
                         "instead."):
        GaussianMeasurement(3, stub, 125.0, 1.0)
    with _raises_exactly("term 'mh': the observable must have a predict(X) method"):
        GaussianMeasurement("mh", object(), 125.0, 1.0)
    with _raises_exactly("The 'exp_error' parameter of GaussianMeasurement must be a float in "
                         "the range (0, inf). Got 0 instead."):
        GaussianMeasurement("mh", stub, 125.0, 0)
    with _raises_exactly("The 'theory_error' parameter of GaussianMeasurement must be a float "
                         "in the range [0, inf). Got -1.0 instead."):
        GaussianMeasurement("mh", stub, 125.0, 1.0, -1.0)
    term = GaussianMeasurement("mh", stub, 125.0, 1.0, 0.0)  # zero theory error is allowed
    assert term.outside == "reject" and repr(term) == "GaussianMeasurement('mh')"


def test_combination_boundary_errors_and_per_term_columns(X, stub):
    t1 = GaussianMeasurement("mh", stub, 125.0, 1.0)
    with _raises_exactly("a Combination needs at least one term"):
        Combination([])
    with _raises_exactly("Combination takes likelihood Terms; got Stub"):
        Combination([t1, stub])
    with _raises_exactly("term names must be unique and not 'logl'; repeated: []"):
        Combination([t1, GaussianMeasurement("logl", stub, 1.0, 1.0)])
    stub.outside = np.array([False, True, False, False, True])
    flagged = GaussianMeasurement("mh", stub, 125.0, 1.0, outside="flag")
    df = Combination([flagged]).evaluate(X)
    np.testing.assert_array_equal(df["mh"], flagged.log_likelihood(X))
    np.testing.assert_array_equal(df["mh.outside"], stub.outside)
    assert repr(Combination([flagged])) == "Combination([GaussianMeasurement('mh')])"


def _signal_region(**kw):
    obs = FunctionObservable(lambda X: X[:, 0], space=PMSSM19)
    args = {"n_observed": 2, "background": 1.0, "background_error": 0.1,
            "luminosity": 1.0, "efficiency": 0.5, **kw}
    n, b, db = args.pop("n_observed"), args.pop("background"), args.pop("background_error")
    return SignalRegion("sr", obs, n, b, db, **args)


def _bad(name: str, owner: str, rule: str, got: str) -> str:
    """The one validator's message (:mod:`surrogates.params`), written out."""
    return f"The '{name}' parameter of {owner} must be {rule}. Got {got} instead."


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: _signal_region(n_observed=-1),
         _bad("n_observed", "SignalRegion", "an int in the range [0, inf)", "-1")),
        (lambda: _signal_region(background=0),
         _bad("background", "SignalRegion", "a float in the range (0, inf)", "0")),
        (lambda: _signal_region(background_error=-0.5),
         _bad("background_error", "SignalRegion", "a float in the range [0, inf)", "-0.5")),
        (lambda: _signal_region(luminosity=np.inf),
         _bad("luminosity", "SignalRegion", "a float in the range (0, inf)", "inf")),
        (lambda: _signal_region(efficiency=0),
         _bad("efficiency", "SignalRegion", "a float in the range (0, 1]", "0")),
        (lambda: _signal_region(signal_rel_error=-1),
         _bad("signal_rel_error", "SignalRegion", "a float in the range [0, inf)", "-1")),
        (lambda: _signal_region(nuisance="fix"),
         _bad("nuisance", "SignalRegion", "one of {'profile', 'marginalise'}", "'fix'")),
        (lambda: _signal_region(test_statistic="one_sided"),
         _bad("test_statistic", "SignalRegion", "one of {'two_sided', 'upper_limit'}",
              "'one_sided'")),
        (lambda: _signal_region(nuisance="marginalise", test_statistic="upper_limit"),
         "test_statistic='upper_limit' needs nuisance='profile'"),
        (lambda: _signal_region(uncertainty="quadrature"),
         _bad("uncertainty", "SignalRegion", "one of {'nuisance', 'none'}", "'quadrature'")),
        (lambda: _signal_region(n_nodes=1),
         _bad("n_nodes", "SignalRegion", "an int in the range [2, inf)", "1")),
        (lambda: SignalRegion("sr", None, 2, 1.0, 0.1, luminosity=1.0, efficiency=0.5),
         "term 'sr': the observable must have a predict(X) method"),
        (lambda: GaussianMeasurement("mh", FunctionObservable(np.sum, space=PMSSM19), np.nan, 1.0),
         _bad("value", "GaussianMeasurement", "a float in the range (-inf, inf)", "nan")),
        (lambda: GaussianMeasurement("mh", FunctionObservable(np.sum, space=PMSSM19), 1.0, 1.0,
                                     uncertainty="both"),
         _bad("uncertainty", "GaussianMeasurement", "one of {'quadrature', 'mixture', 'none'}",
              "'both'")),
        (lambda: Viability("v", None), "term 'v': the classifier must have a predict(X) method"),
        (lambda: Viability("v", Stub([[0.5]]), mode="veto"),
         _bad("mode", "Viability", "one of {'multiply', 'cut'}", "'veto'")),
        (lambda: Viability("v", Stub([[0.5]]), threshold=1.0),
         _bad("threshold", "Viability", "a float in the range (0, 1)", "1.0")),
        (lambda: Viability("v", Stub([[0.5]]), threshold=0),
         _bad("threshold", "Viability", "a float in the range (0, 1)", "0")),
        (lambda: Viability("v", Stub([[0.5]]), n_std=-1),
         _bad("n_std", "Viability", "a float in the range [0, inf)", "-1")),
        (lambda: FunctionObservable(3, space=PMSSM19),
         "FunctionObservable needs a callable; got int"),
    ],
)
def test_constructor_errors_are_exact(make, message):
    with _raises_exactly(message):
        make()


def test_defaults_of_the_terms():
    sr = _signal_region()
    assert (sr.signal_rel_error, sr.nuisance, sr.test_statistic, sr.uncertainty, sr.outside,
            sr.n_nodes) == (0.0, "profile", "two_sided", "nuisance", "reject", 24)
    v = Viability("v", Stub([[0.5]]))
    assert (v.mode, v.threshold, v.n_std, v.outside) == ("multiply", 0.5, 0.0, "reject")
    g = GaussianMeasurement("mh", Stub([[0.5]]), 1.0, 1.0)
    assert (g.theory_error, g.uncertainty, g.outside) == (0.0, "quadrature", "reject")


def test_a_user_defined_term_rejects_points_outside_by_default(X):
    """The Term base class on its own: a subclass that only writes score."""
    from likelihoods import Term, TermOutput

    class Flat(Term):
        observable = Stub(np.zeros((1, 5)))

        def score(self, pred):
            return TermOutput(np.zeros(len(pred.mean)), np.arange(len(pred.mean)) % 2 == 1)

    term = Flat("flat")
    assert term.outside == "reject"
    np.testing.assert_array_equal(term.log_likelihood(X), [0, -np.inf, 0, -np.inf, 0])


def _q_by_nelder_mead(n, s, b, k_s, k_b):
    """2 (saturated - profiled) of n ln nu - nu - |theta|^2 / 2, nu = s e^{k_s t_s} + b e^{k_b t_b},
    by a generic optimiser; the saturated maximum frees the signal S >= 0."""
    def objective(t, s_, k_s_):
        nu = s_ * np.exp(k_s_ * t[0]) + b * np.exp(k_b * t[1])
        return -(xlogy(n, nu) - nu - 0.5 * (t[0] ** 2 + t[1] ** 2))

    opts = {"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000}
    saturated = -optimize.minimize(objective, [0.0, 0.0], args=(0.0, 0.0),
                                   method="Nelder-Mead", options=opts).fun
    if n >= b:
        saturated = xlogy(n, n) - n
    return np.array([
        2 * (saturated + optimize.minimize(objective, [0.0, 0.0], args=(si, ki),
                                           method="Nelder-Mead", options=opts).fun)
        for si, ki in zip(s, k_s, strict=True)
    ])


@pytest.mark.parametrize("n", [7, 2])
def test_signal_region_evaluate_wires_the_members_spread_into_the_signal_nuisance(X, n):
    members = np.array([[2.0, 5.0, 0.5, 8.0, 3.0], [3.0, 4.0, 1.5, 6.0, 0.0]])  # fb
    stub = Stub(members)
    kw = {"luminosity": 2.0, "efficiency": 0.5, "signal_rel_error": 0.2}
    k_b = np.sqrt(np.log1p(0.25**2))
    s = 2.0 * 0.5 * members.mean(0)
    kappa = np.std(np.log(np.maximum(members, 1e-300)), axis=0)  # equal-weight members
    for uncertainty, k_s in [("nuisance", np.sqrt(np.log1p(0.04) + kappa**2)),
                             ("none", np.full(5, np.sqrt(np.log1p(0.04))))]:
        df = SignalRegion("sr", stub, n, 4.0, 1.0, uncertainty=uncertainty, **kw).evaluate(X)
        np.testing.assert_allclose(df["pred_mean"], members.mean(0), rtol=1e-15)
        np.testing.assert_allclose(df["pred_std"], members.std(0), rtol=1e-15)
        np.testing.assert_allclose(df["signal"], s, rtol=1e-15)
        np.testing.assert_allclose(df["k_signal"], k_s, rtol=1e-12)
        q = _q_by_nelder_mead(n, s, 4.0, k_s, k_b)
        np.testing.assert_allclose(df["logl"], -0.5 * q, rtol=1e-6, atol=1e-8)
    limit = SignalRegion("sr", stub, n, 4.0, 1.0, test_statistic="upper_limit",
                         uncertainty="none", **kw)  # q of the last loop
    expected = np.where(n - 4.0 > s, 0.0, -0.5 * q)
    np.testing.assert_allclose(limit.log_likelihood(X), expected, rtol=1e-6, atol=1e-8)


def test_every_term_names_itself_when_its_observable_misbehaves(X):
    bad = FunctionObservable(lambda X: np.zeros(2), space=PMSSM19)
    for term in (SignalRegion("sr", bad, 2, 1.0, 0.1, luminosity=1.0, efficiency=0.5),
                 Viability("v", bad), GaussianMeasurement("mh", bad, 1.0, 1.0)):
        with pytest.raises(ValueError, match=f"^term '{term.name}': predict"):
            term.log_likelihood(X)


def test_signal_region_accepts_the_edges_of_its_ranges(X):
    sr = _signal_region(n_observed=0, background_error=0, efficiency=1.0, signal_rel_error=0,
                        n_nodes=2, nuisance="marginalise", outside="flag")
    assert (sr.n_observed, sr.efficiency, sr.n_nodes, sr.outside) == (0, 1.0, 2, "flag")
    assert np.isfinite(sr.log_likelihood(X)).all()


@pytest.mark.parametrize("uncertainty", ["quadrature", "none", "mixture"])
def test_gaussian_diagnostics_are_the_prediction_and_its_pull(X, stub, uncertainty):
    """The pull divides by the total error: experiment, theory (1.5, not 2, where 2 * 2 = 2^2)
    and the surrogate's std."""
    term = GaussianMeasurement("mh", stub, 125.09, 0.24, 1.5, uncertainty=uncertainty)
    df = term.evaluate(X)
    pred = stub.predict(X)
    np.testing.assert_array_equal(df["pred_mean"], pred.mean)
    np.testing.assert_array_equal(df["pred_std"], pred.std)
    pull = (pred.mean - 125.09) / np.sqrt(0.24**2 + 1.5**2 + pred.std**2)
    np.testing.assert_allclose(df["pull"], pull, rtol=1e-12)
    if uncertainty != "mixture":
        total = np.sqrt(0.24**2 + 1.5**2 + (pred.std**2 if uncertainty == "quadrature" else 0))
        np.testing.assert_allclose(df["logl"], norm.logpdf(125.09, pred.mean, total), rtol=1e-12)
    assert GaussianMeasurement.higgs_mass(stub).name == "higgs_mass"


def test_predictions_are_normalised_to_float64_arrays_and_bool_masks():
    """predict_observable takes any object with .mean and .std (the other fields optional) and
    returns float64 arrays, a bool mask and the members as given."""
    from types import SimpleNamespace

    from likelihoods.observable import predict_observable

    X = sample_uniform(3, rng=0)
    f32 = np.float32
    bare = SimpleNamespace(mean=np.array([1, 2, 3], f32), std=[0, 1, 2])
    pred = predict_observable(SimpleNamespace(predict=lambda X: bare), X, "t")
    assert pred.mean.dtype == pred.std.dtype == np.float64 and pred.outside_domain.dtype == bool
    assert pred.samples is None and pred.weights is None and not pred.outside_domain.any()
    assert pred.outside_domain.shape == (3,)
    full = SimpleNamespace(mean=[1, 2, 3], std=[0, 0, 0], samples=np.ones((2, 3), f32),
                           weights=np.array([0.25, 0.75], f32), outside_domain=[0, 1, 0])
    pred = predict_observable(SimpleNamespace(predict=lambda X: full), X, "t")
    assert pred.samples.dtype == pred.weights.dtype == np.float64
    np.testing.assert_array_equal(pred.outside_domain, [False, True, False])
    assert pred.outside_domain.dtype == bool
    for fn, std in [(lambda X: X[:, 0].astype(f32), np.zeros(3)),
                    (lambda X: (X[:, 0], np.full(3, 2, f32)), np.full(3, 2.0))]:
        obs = FunctionObservable(fn, name="m", space=PMSSM19)
        pred = obs.predict(X)
        assert obs.name == "m" and pred.mean.dtype == pred.std.dtype == np.float64
        np.testing.assert_array_equal(pred.std, std)
        np.testing.assert_array_equal(pred.outside_domain, np.zeros(3, bool))
        assert pred.outside_domain.dtype == bool and pred.samples is None
    assert FunctionObservable(np.sum, space=PMSSM19).name == "function"


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (3.0, "term 't': the observable's predict() must return an object with .mean and .std; "
              "got float"),
        (Prediction(np.zeros(3), np.array([0.0, -0.5, 1.0]), None, None,
                              np.zeros(3, bool)),
         "term 't': predict() returned a negative std, min -0.5"),
        (Prediction(np.zeros(3), np.zeros(3), np.zeros(3), None, np.zeros(3, bool)),
         "term 't': predict() returned samples of shape (3,); expected (n_members, 3)"),
        (Prediction(np.zeros(3), np.zeros(3), np.zeros((2, 4)), None,
                              np.zeros(3, bool)),
         "term 't': predict() returned samples of shape (2, 4); expected (n_members, 3)"),
    ],
    ids=["no-mean", "negative-std", "1-d-samples", "samples-of-other-points"],
)
def test_bad_predictions_are_named_exactly(returned, message):
    from types import SimpleNamespace

    from likelihoods.observable import predict_observable

    with _raises_exactly(message):
        predict_observable(SimpleNamespace(predict=lambda X: returned), sample_uniform(3, rng=0),
                           "t")


def test_viability_clips_probabilities_cuts_at_the_threshold_inclusive_and_stays_quiet(X):
    """Classifier means outside [0, 1] are clipped; a point exactly at the threshold passes the
    cut; log(0) gives -inf without a RuntimeWarning; the outside mask and the columns pass."""
    import warnings

    means = np.array([1.2, -0.1, 0.5, 0.7, 0.2])
    stub = Stub(np.stack([means, means]), outside=np.array([0, 0, 0, 1, 0], bool))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = Viability("v", stub, outside="flag").evaluate(X)
        cut = Viability("v", stub, mode="cut", outside="flag").evaluate(X)
    np.testing.assert_array_equal(df["p_valid"], [1.0, 0.0, 0.5, 0.7, 0.2])
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(df["logl"], np.log([1.0, 0.0, 0.5, 0.7, 0.2]))
    np.testing.assert_array_equal(df["p_valid_std"], np.zeros(5))
    np.testing.assert_array_equal(cut["logl"], [0.0, -np.inf, 0.0, 0.0, -np.inf])
    np.testing.assert_array_equal(cut["outside"], stub.outside)


def test_signal_region_columns_follow_the_nuisance_treatment(X):
    members = np.array([[2.0, 5.0, 0.5, 8.0, 3.0], [3.0, 4.0, 1.5, 6.0, 1.0]])
    stub = Stub(members, outside=np.array([0, 1, 0, 0, 0], bool))
    kw = {"luminosity": 2.0, "efficiency": 0.5, "outside": "flag"}
    s, k_b = members.mean(0), np.sqrt(np.log1p(0.25**2))
    k_s = np.std(np.log(members), axis=0)
    marg = SignalRegion("sr", stub, 3, 4.0, 1.0, nuisance="marginalise", n_nodes=30, **kw)
    df = marg.evaluate(X)
    expected = marginal_log_likelihood(3, s, 4.0, k_s, k_b, 30) - (xlogy(3, 3) - 3)
    np.testing.assert_allclose(df["logl"], expected, rtol=1e-12)
    np.testing.assert_array_equal(df["outside"], stub.outside)
    prof = SignalRegion("sr", stub, 3, 4.0, 1.0, uncertainty="none", **kw).evaluate(X)
    _, theta_s, theta_b = profile_log_likelihood(3, s, 4.0, np.zeros(5), k_b)
    np.testing.assert_allclose(prof["theta_s"], theta_s, rtol=1e-12)
    np.testing.assert_allclose(prof["theta_b"], theta_b, rtol=1e-12)
    assert prof["k_signal"].to_numpy().shape == (5,) and (prof["k_signal"] == 0).all()


# -------------------------- the observable contract's p_defined (mutation-testing survivors)


def test_function_observable_passes_p_defined_through_predict_observable():
    from likelihoods.observable import predict_observable

    X = np.zeros((4, len(PMSSM19.names)))
    p = np.array([0, 1, 0.25, 1])  # the closed ends are fine
    obs = FunctionObservable(lambda X: (np.ones(4), np.zeros(4), p), space=PMSSM19, name="f")
    pred = predict_observable(obs, X, "t")
    assert pred.p_defined.dtype == np.float64
    np.testing.assert_array_equal(pred.p_defined, p)
    assert predict_observable(FunctionObservable(lambda X: np.ones(4), space=PMSSM19), X,
                              "t").p_defined is None
    for bad in (np.array([0.5, 0.5, 0.5]), np.array([0.5, 1.5, 0.5, 0.5]),
                np.array([0.5, -0.5, 0.5, 0.5])):
        obs = FunctionObservable(lambda X, bad=bad: (np.ones(4), np.zeros(4), bad),
                                 space=PMSSM19, name="f")
        with pytest.raises(ValueError, match=re.escape(
                f"term 't': predict() returned p_defined of shape {bad.shape} or outside "
                "[0, 1]; expected probabilities of shape (4,)")):
            predict_observable(obs, X, "t")


def test_function_observable_return_and_space_errors():
    X = np.zeros((2, len(PMSSM19.names)))
    four = FunctionObservable(lambda X: (np.ones(2),) * 4, space=PMSSM19, name="f")
    with pytest.raises(ValueError, match=re.escape(
            "observable 'f': fn must return mean, (mean, std) or (mean, std, p_defined); got a "
            "tuple of 4")):
        four.predict(X)
    three = FunctionObservable(lambda X: (np.ones(2), np.zeros(2), np.ones(2)), space=PMSSM19)
    np.testing.assert_array_equal(three.predict(X).p_defined, [1.0, 1.0])
    with pytest.raises(ValueError, match=re.escape(
            "FunctionObservable 'g': space must be a surrogates.space.ParameterSpace; got int")):
        FunctionObservable(np.sum, space=3, name="g")


def test_a_combination_refuses_terms_on_different_spaces():
    from surrogates.space import ParameterSpace

    a, b, c = (ParameterSpace.box([0.0] * k, [1.0] * k) for k in (2, 2, 3))
    obs = {s: FunctionObservable(lambda X: X[:, 0], space=s) for s in (a, c)}
    one = GaussianMeasurement("one", obs[a], 0.5, 0.1)
    two = GaussianMeasurement("two", FunctionObservable(lambda X: X[:, 1], space=b), 0.5, 0.1)
    assert Combination([one, two]).space == a  # equal spaces are one space
    three = GaussianMeasurement("three", obs[c], 0.5, 0.1)
    with pytest.raises(ValueError, match="^" + re.escape(
            f"the terms of a Combination must share one parameter space; got 'one' on {a!r}; "
            f"'three' on {c!r}") + "$"):
        Combination([one, three])


def test_each_term_says_where_its_likelihood_peaks():
    obs = FunctionObservable(lambda X: X[:, 0], space=PMSSM19)
    sr = {"background_error": 1.0, "luminosity": 10.0, "efficiency": 0.5}
    # the excess n - b over L * eff (events per fb): 5 / 5 = 1 fb, and none below b
    assert SignalRegion("sr", obs, 9, 4.0, **sr).best_observable() == pytest.approx(1.0)
    assert SignalRegion("sr", obs, 2, 4.0, **sr).best_observable() == 0.0
    assert GaussianMeasurement("mh", obs, 125.09, 0.2).best_observable() == 125.09
    assert Viability("v", obs).best_observable() == 1.0  # surely viable

    class Unsteerable(Term):
        def score(self, pred):
            return TermOutput(pred.mean, pred.outside_domain)

    with pytest.raises(ValueError, match=re.escape(
            "term 'odd' (Unsteerable) defines no best_observable(), so it cannot steer")):
        Unsteerable("odd").best_observable()


def test_an_observable_without_a_space_is_named_by_its_type():
    class NoSpace:
        def predict(self, X):
            return X[:, 0]

    with pytest.raises(ValueError, match=re.escape(
            "term 'mh': the observable must have a parameter space (.space, a "
            "surrogates.space.ParameterSpace); got NoSpace without one")):
        GaussianMeasurement("mh", NoSpace(), 125.0, 1.0)


def test_integer_probabilities_of_existing_come_back_as_float64():
    from types import SimpleNamespace

    from likelihoods.observable import predict_observable

    X = np.zeros((4, len(PMSSM19.names)))
    p = np.array([0, 1, 1, 0])  # int64: "exists" as a 0/1 label
    obs = FunctionObservable(lambda X: (np.ones(4), np.zeros(4), p), space=PMSSM19)
    assert obs.predict(X).p_defined.dtype == np.float64

    class Labelled:  # any object with the contract, not a FunctionObservable
        space = PMSSM19

        def predict(self, X):
            return SimpleNamespace(mean=np.ones(4), std=np.zeros(4), p_defined=p)

    pred = predict_observable(Labelled(), X, "t")
    assert pred.p_defined.dtype == np.float64
    np.testing.assert_array_equal(pred.p_defined, p)
