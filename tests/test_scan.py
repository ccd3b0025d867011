"""The active-learning scan: acquisitions, the exact rejection proposal, metrics, loop, CLI."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fits.scan import ActiveScan, FunctionSimulator, Steering, eggbox, hypersphere
from fits.scan.acquisition import ACQUISITIONS, acquisition
from fits.scan.baselines import run_baseline
from fits.scan.metrics import (
    eggbox_peaks,
    eggbox_rings_found,
    shell_fraction,
    shell_uniformity,
)
from fits.scan.proposals import propose
from likelihoods import FunctionObservable, GaussianMeasurement
from surrogates.space import ParameterSpace


def _circle(sim):
    """The measurement O = 2 +- 0.1 of the output O of ``sim``: the shell |x|^2 in [1.8, 2.2]."""
    return GaussianMeasurement("O", sim.observable("O"), 2.0, 0.1)


C = Steering(_circle(hypersphere(2)))
#: A quick exact GP for the tests: few Adam steps, no warm start (so runs are reproducible
#: from any iteration).
FAST_GP = {"expert_size": 4096, "aggregation": "poe", "recalibration": "none",
           "include_noise": False, "n_iter": 30, "precision": "float64"}


# ----------------------------------------------------------------- acquisitions
def test_a_gaussian_term_steers_within_n_sigma_of_its_value():
    assert (C.column, C.best, C.n_sigma) == ("O", 2.0, 2.0)
    assert C.low == pytest.approx(1.8, abs=1e-12) and C.high == pytest.approx(2.2, abs=1e-12)
    np.testing.assert_allclose(C.exact(np.array([2.0, 2.3, np.nan])),
                               [stats.norm(2.0, 0.1).logpdf(v) for v in (2.0, 2.3)] + [-np.inf])
    np.testing.assert_array_equal(C.in_region(np.array([1.79, 1.81, 2.19, 2.21, np.nan])),
                                  [False, True, True, False, False])


def test_acquisitions_are_bounded_by_one_and_reach_it():
    mu = np.linspace(1.0, 3.0, 2001)
    for kind in ACQUISITIONS:
        for s in (0.0, 0.05, 1.0):
            a = acquisition(kind, {"O": mu}, {"O": np.full_like(mu, s)}, [C])
            assert (a >= 0).all() and (a <= 1 + 1e-12).all(), kind
    for kind in ("likelihood", "ucb", "expected_likelihood"):
        a = acquisition(kind, {"O": np.array([2.0])}, {"O": np.array([0.0])}, [C])
        assert a[0] == pytest.approx(1.0), kind


def test_acquisitions_match_their_definitions_by_monte_carlo():
    rng = np.random.default_rng(0)
    mu, s = np.array([1.9, 2.25, 2.6]), np.array([0.05, 0.2, 0.3])
    draws = mu + s * rng.normal(size=(400_000, 3))
    like = np.exp(-0.5 * ((draws - 2.0) / 0.1) ** 2)
    inside = (draws >= C.low) & (draws <= C.high)
    se = 5 / np.sqrt(400_000)  # five binomial / bounded-variable standard errors at most
    ev = acquisition("expected_likelihood", {"O": mu}, {"O": s}, [C])
    np.testing.assert_allclose(ev, like.mean(0), atol=se)
    pt = acquisition("target_probability", {"O": mu}, {"O": s}, [C])
    np.testing.assert_allclose(pt, inside.mean(0), atol=se)
    # ucb: the best likelihood inside mu +- kappa s; the likelihood ignores s
    ucb = acquisition("ucb", {"O": mu}, {"O": s}, [C], kappa=2.0)
    grid = mu + s * np.linspace(-2, 2, 4001)[:, None]
    np.testing.assert_allclose(ucb, np.exp(-0.5 * ((grid - 2) / 0.1) ** 2).max(0), rtol=1e-5)
    lik = acquisition("likelihood", {"O": mu}, {"O": s}, [C])
    np.testing.assert_allclose(lik, np.exp(-0.5 * ((mu - 2) / 0.1) ** 2))


def test_target_probability_is_the_indicator_without_uncertainty():
    mu = np.array([1.79, 1.81, 2.19, 2.21])
    pt = acquisition("target_probability", {"O": mu}, {"O": np.zeros(4)}, [C])
    np.testing.assert_array_equal(pt, [0, 1, 1, 0])


# ----------------------------------------------------------------- proposals
LINE = ParameterSpace.box([0.0], [1.0])


def _bump(X):
    return np.exp(-0.5 * ((X[:, 0] - 0.3) / 0.05) ** 2)


BUMP = stats.truncnorm((0 - 0.3) / 0.05, (1 - 0.3) / 0.05, loc=0.3, scale=0.05)


def test_rejection_sampling_is_exact():
    # a(x) = N(0.3, 0.05) bump on [0, 1]: the samples must follow that (truncated) normal
    prop = propose("rejection", _bump, LINE, 2000, np.random.default_rng(1), batch=4096)
    assert prop.info["n_filled"] == 0 and prop.X.shape == (2000, 1)
    assert stats.kstest(prop.X[:, 0], BUMP.cdf).pvalue > 0.01


@pytest.mark.parametrize("anchors", [None, np.array([[0.8], [0.9]]), np.array([[0.3]])])
def test_importance_resampling_follows_the_acquisition_whatever_the_anchors(anchors):
    # with kernels at the wrong place (0.8, 0.9), the right one, or none; 500 points drawn
    # from an effective sample of >= 40 x 500 candidates
    prop = propose("importance", _bump, LINE, 500, np.random.default_rng(2), anchors=anchors,
                   min_ess=40.0, bandwidth=0.1)
    assert prop.info["ess"] >= 20_000
    assert stats.kstest(prop.X[:, 0], BUMP.cdf).pvalue > 0.01


def test_rejection_fills_from_the_best_candidates_when_too_few_are_accepted():
    tiny = propose("rejection", lambda X: 1e-6 * _bump(X), LINE, 50,
                   np.random.default_rng(0), batch=1000, max_candidates=2000)
    assert tiny.info["n_filled"] >= 49 and tiny.X.shape == (50, 1)
    assert np.abs(tiny.X[:, 0] - 0.3).max() < 0.05  # the best candidates, near the peak


@pytest.mark.parametrize(
    ("method", "options", "n_eff"),
    [
        # emcee: 64 walkers x 200 kept steps, integrated autocorrelation time <= 25 steps on
        # this target (measured with emcee.autocorr: 20-25), then 500 of them resampled
        ("mcmc", {"n_steps": 400}, 1 / (25 / (64 * 200) + 1 / 500)),
        # UltraNest at 100 live points: the spread of the std over 8 seeds gave ESS ~ 200
        ("ultranest", {"min_num_live_points": 100}, 200),
    ],
    ids=["mcmc", "ultranest"],
)
def test_sampler_proposals_follow_the_bump(method, options, n_eff):
    prop = propose(method, _bump, LINE, 500, np.random.default_rng(0), **options)
    x = prop.X[:, 0]
    # 4 standard errors of the mean and of the std of n_eff draws of N(0.3, 0.05): sampling
    # a^2 instead (std 0.05 / sqrt(2) = 0.035) lies 6 standard errors away
    assert abs(x.mean() - 0.3) < 4 * 0.05 / np.sqrt(n_eff)
    assert abs(x.std() - 0.05) < 4 * 0.05 / np.sqrt(2 * n_eff)


# ----------------------------------------------------------------- metrics
def test_eggbox_peaks_and_rings():
    peaks = eggbox_peaks()
    assert peaks.shape == (18, 2)
    np.testing.assert_allclose(eggbox()(peaks)["O"], 243.0)
    # points on the O = 100 contour around three of the peaks
    c = (100 ** 0.2 - 2)  # cos(x1/2) cos(x2/2) on the contour; along x2 = peak: cos(dx/2) = c
    dx = 2 * np.arccos(c)
    pts = peaks[[0, 5, 17]] + np.array([dx, 0.0])
    pts = np.clip(pts, 0, 10 * np.pi)
    assert eggbox_rings_found(pts) == 3
    np.testing.assert_allclose(eggbox()(pts[1:2])["O"], 100.0, rtol=1e-9)


def test_shell_fraction_and_uniformity():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(400_000, 2))
    r2 = (X**2).sum(1)
    frac = ((r2 >= 1.8) & (r2 <= 2.2)).mean()
    assert frac == pytest.approx(shell_fraction(2, 1.8**0.5, 2.2**0.5, 3.0), abs=4e-4)
    uniform = shell_uniformity(rng.normal(size=(300, 7)))
    one_sided = shell_uniformity(np.abs(rng.normal(size=(300, 7))))
    assert uniform["rayleigh_p"] > 0.01 and one_sided["rayleigh_p"] < 1e-10
    assert one_sided["orthants"] == 1 / 128


# ----------------------------------------------------------------- the loop
def _scan(**kw):
    kw = {"model_options": FAST_GP, "n_initial": 40, "batch_size": 40, "progress": False, **kw}
    sim = hypersphere(2)
    return ActiveScan(sim, [_circle(sim)], **kw)


def test_scan_beats_uniform_sampling_on_the_circle():
    result = _scan(seed=0).run(200)
    assert len(result.tested) == 200 and list(result.history["n_tested"]) == [40, 80, 120, 160,
                                                                            200]
    uniform = shell_fraction(2, 1.8**0.5, 2.2**0.5, 3.0)  # 3.5 %
    guided = result.tested[result.tested["origin"] == "guided"]
    # 144 guided points: a surrogate-guided batch is mostly inside the shell; uniform gets 3.5 %
    assert guided["in_target"].mean() > 0.8
    assert result.efficiency > 10 * uniform
    r2 = (guided[["x1", "x2"]] ** 2).sum(axis=1)
    assert np.isclose(r2.median(), 2.0, atol=0.1)
    assert (result.tested["origin"] == "random").sum() == 16  # 10 % of four batches of 40


def test_scan_with_a_warm_started_deep_ensemble():
    mlp = {"hidden": [32, 32], "n_members": 3, "epochs": 40, "batch_size": 32,
           "warm_start": True}
    scan = _scan(model="mlp", model_options=mlp, seed=0)
    result = scan.run(160)
    assert scan.surrogates_["O"].trained_ and len(result.tested) == 160
    guided = result.tested[result.tested["origin"] == "guided"]
    assert guided["in_target"].mean() > 0.2  # uniform: 3.5 %


def test_resumed_scan_equals_an_uninterrupted_one():
    full = _scan(seed=3).run(160)
    part = _scan(seed=3).run(120)
    resumed = _scan(seed=3).run(160, tested=part.tested)
    pd.testing.assert_frame_equal(resumed.tested, full.tested)


def test_scan_learns_where_the_simulator_fails():
    # The simulator returns nothing for x1 < 0 (like an unphysical spectrum): the scan trains a
    # classifier of success and stops proposing there.
    space = ParameterSpace.box([-3.0, -3.0], [3.0, 3.0])

    def fn(X):
        return {"O": np.where(X[:, 0] < 0, np.nan, (X**2).sum(axis=1))}

    sim = FunctionSimulator(space, fn, ["O"])
    result = ActiveScan(sim, [_circle(sim)], model_options=FAST_GP, n_initial=60, batch_size=60,
                        random_fraction=0.0, progress=False).run(180)
    assert result.tested["O"].isna().sum() >= 20  # failures are kept, not dropped
    last = result.tested[result.tested["iteration"] == 2]
    assert (last["x1"] >= 0).mean() > 0.8


def test_scan_checks_its_inputs():
    sim = hypersphere(2)
    term = _circle(sim)
    with pytest.raises(ValueError, match="'m_h' is not an output of the simulator"):
        sim.observable("m_h")
    with pytest.raises(ValueError, match="not outputs of the simulator"):
        ActiveScan(sim, [_circle(eggbox())])
    with pytest.raises(ValueError, match="a scan steers by terms on the simulator's outputs"):
        ActiveScan(sim, [GaussianMeasurement("O", FunctionObservable(np.sum, space=sim.space),
                                             2.0, 0.1)])
    with pytest.raises(ValueError, match="n_sigma names no term of the scan: P"):
        ActiveScan(sim, [term], n_sigma={"P": 1.0})
    with pytest.raises(ValueError, match="'n_sigma' parameter of ActiveScan"):
        ActiveScan(sim, [term], n_sigma=0.0)
    with pytest.raises(ValueError, match="'acquisition' .* must be one of"):
        ActiveScan(sim, [term], acquisition="ei")
    with pytest.raises(ValueError, match=r"'random_fraction' .* \[0, 1\]\. Got 1.5"):
        ActiveScan(sim, [term], random_fraction=1.5)
    with pytest.raises(ValueError, match=r"'budget' .* an int in the range \[100, inf\)\. Got 50"):
        ActiveScan(sim, [term]).run(50)


# ----------------------------------------------------------------- baselines
@pytest.mark.parametrize("method", ["uniform", "emcee", "ultranest"])
def test_baselines_stop_at_the_budget(method):
    sim = hypersphere(2)
    tested = run_baseline(method, sim, [_circle(sim)], budget=150, seed=0)
    assert len(tested) == 150 and (tested["origin"] == method).all()
    r2 = (tested[["x1", "x2"]] ** 2).sum(axis=1)
    np.testing.assert_array_equal(tested["in_target"], (r2 >= 1.8) & (r2 <= 2.2))


# ----------------------------------------------------------------- pMSSM stand-in simulator
def test_surrogate_simulator_embeds_the_subspace_and_masks_invalid_points(small_splits):
    from fits.scan import PMSSMSurrogateSimulator
    from surrogates.data.loaders import features, labels
    from surrogates.mlp import MLPEnsemble
    from surrogates.space import PARAMETER_NAMES

    models = {}
    for target in ("higgs_mass", "validity"):
        train = small_splits[target].train
        models[target] = MLPEnsemble(target, **MLPEnsemble.budgets["tiny"]).fit(
            features(train), labels(train, target), progress=False)
    bench = small_splits["higgs_mass"].train.iloc[0]
    fixed = {p: float(bench[p]) for p in PARAMETER_NAMES}
    sim = PMSSMSurrogateSimulator({"h0": models["higgs_mass"]}, ["At", "tanb"], fixed)
    assert sim.space.names == ("At", "tanb")
    X = sim.space.sample_uniform(64, 0)
    full = sim.full_points(X)
    np.testing.assert_array_equal(full[:, [6, 5]], X)
    np.testing.assert_array_equal(full[:, 0], fixed["M1"])
    p_valid = models["validity"].predict(full).mean
    cut = float(np.median(p_valid))  # a threshold that both passes and fails points
    sim = PMSSMSurrogateSimulator({"h0": models["higgs_mass"]}, ["At", "tanb"], fixed,
                             validity=models["validity"], min_valid_probability=cut)
    out = sim(X)
    ok = p_valid >= cut
    np.testing.assert_array_equal(out["h0"].isna(), ~ok)
    assert 0 < ok.sum() < len(ok)
    np.testing.assert_allclose(out["h0"][ok], models["higgs_mass"].predict(full).mean[ok])
    with pytest.raises(ValueError, match="fixed needs a value"):
        PMSSMSurrogateSimulator({"h0": models["higgs_mass"]}, ["At"], {"M1": 0.0})


# ----------------------------------------------------------------- configuration and CLI
def test_scan_cli_runs_and_resumes(tmp_path, capsys):
    import yaml

    from workflows.cli import main

    cfg = {"output": "out", "simulator": {"name": "hypersphere", "n_dim": 2},
           "constraints": [{"observable": "O", "value": 2.0, "sigma": 0.1}], "budget": 120,
           "scan": {"n_initial": 40, "batch_size": 40, "model_options": FAST_GP, "seed": 5}}
    path = tmp_path / "scan.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    assert "120 points tested" in capsys.readouterr().out
    first = pd.read_csv(tmp_path / "out" / "tested.csv")
    assert (tmp_path / "out" / "tested_points.png").is_file()
    cfg["budget"] = 160
    path.write_text(yaml.safe_dump(cfg))
    assert main(["scan", "--config", str(path), "--quiet"]) == 0
    resumed = pd.read_csv(tmp_path / "out" / "tested.csv")
    assert len(resumed) == 160 and resumed["iteration"].max() == 3
    pd.testing.assert_frame_equal(resumed.iloc[:120], first)
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert list(history["iteration"]) == [0, 1, 2, 3]  # the first run's history is kept
    cfg["scan"]["acquisition"] = "nope"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["scan", "--config", str(path)]) == 2
    assert "The 'scan.acquisition' parameter of" in capsys.readouterr().err


def test_shipped_scan_example_parses(tmp_path):
    from pathlib import Path

    from fits.scan.config import load_scan_config

    path = Path(__file__).resolve().parents[1] / "examples" / "scan_eggbox.yaml"
    config = load_scan_config(path, output=tmp_path)
    assert config.budget == 1000 and config.scan.simulator.name == "eggbox"
    assert config.scan.acquisition == "target_probability" and config.output == tmp_path


def test_a_scan_config_takes_likelihood_terms_beside_constraints(tmp_path):
    import yaml

    from fits.scan.config import load_scan_config

    cfg = {"simulator": {"name": "hypersphere", "n_dim": 2}, "budget": 120,
           "constraints": [{"observable": "O", "value": 2.0, "sigma": 0.1, "n_sigma": 1.0}],
           "terms": [{"type": "signal_region", "name": "sr", "observable": "O",
                      "n_observed": 30, "background": 10.0, "background_error": 1.0,
                      "luminosity": 10.0, "efficiency": 1.0, "n_sigma": 3.0}]}
    path = tmp_path / "scan.yaml"
    path.write_text(yaml.safe_dump(cfg))
    gauss, sr = load_scan_config(path).scan.steering
    assert (gauss.term.name, gauss.n_sigma, sr.term.name, sr.n_sigma) == ("O", 1.0, "sr", 3.0)
    assert gauss.low == pytest.approx(1.9) and gauss.high == pytest.approx(2.1)
    assert sr.best == pytest.approx(2.0) and sr.low < 2.0 < sr.high
