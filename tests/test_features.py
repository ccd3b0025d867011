import numpy as np
import pytest

from surrogates.features import M_TOP, feature_names, transform_features
from surrogates.mlp import MLPEnsemble
from surrogates.space import PMSSM19, ParameterSpace


def _point(**values):
    x = np.array([[values.get(n, 1000.0) for n in PMSSM19.names]])
    return x, dict(zip(feature_names("pmssm19_physics", PMSSM19),
                       transform_features("pmssm19_physics", PMSSM19, x)[0], strict=True))


def test_physics_features_follow_their_formulas_at_a_hand_point():
    x, f = _point(M1=-300.0, M2=500.0, mu=-200.0, tanb=10.0, At=2000.0, mqL3=1500.0,
                  mtR3=1000.0, mA=50.0)
    assert f["M1"] == -300.0 and f["absM1"] == 300.0 and f["absM2_minus_absmu"] == 300.0
    assert f["m_chargino_tree"] == 200.0 and f["m_lightest_ewino"] == 200.0
    assert f["m_middle_ewino"] == 300.0
    assert f["sign_M1_mu"] == 1.0 and f["sign_M2_mu"] == -1.0
    assert f["abs_cos2beta"] == pytest.approx(99 / 101)
    ms = ((1500.0**2 + M_TOP**2) * (1000.0**2 + M_TOP**2)) ** 0.25
    xt = (2000.0 + 200.0 / 10.0) / ms
    assert f["ln_MS"] == pytest.approx(np.log(ms)) and f["xt"] == pytest.approx(xt)
    assert f["stop_loop"] == pytest.approx(np.log(ms**2 / M_TOP**2) + xt**2 * (1 - xt**2 / 12))
    assert f["ln_mA"] == pytest.approx(np.log(50.0))
    assert f["ln1p_At2_over_m2"] == pytest.approx(
        np.log1p(2000.0**2 / (1500.0**2 + 1000.0**2 + 91.1876**2)))


def test_physics_features_are_finite_and_bounded_on_the_whole_box():
    rng = np.random.default_rng(0)
    X = PMSSM19.sample_uniform(20000, rng)
    corners = np.array([PMSSM19.low, PMSSM19.high])
    F = transform_features("pmssm19_physics", PMSSM19, np.vstack([X, corners]))
    assert np.isfinite(F).all()
    z = (F - F[:-2].mean(0)) / F[:-2].std(0)
    # bounded features: nothing far beyond what 20,000 uniform draws already show
    assert np.abs(z).max() < 30


def test_stop_loop_clips_beyond_twice_maximal_mixing():
    _, big = _point(At=7000.0, mqL3=0.0, mtR3=0.0, mu=0.0)
    _, bigger = _point(At=-7000.0, mqL3=0.0, mtR3=0.0, mu=0.0)
    ms = M_TOP
    assert big["stop_loop"] == pytest.approx(np.log(ms**2 / M_TOP**2) + 24 * (1 - 24 / 12))
    assert bigger["stop_loop"] == pytest.approx(big["stop_loop"])


def test_feature_map_needs_its_parameters():
    box = ParameterSpace.box([0, 0], [1, 1])
    with pytest.raises(ValueError, match="needs the parameter"):
        MLPEnsemble("higgs_mass", space=box, features="pmssm19_physics")
    with pytest.raises(ValueError, match="'features' parameter of MLPEnsemble must be one of"):
        MLPEnsemble("higgs_mass", features="physics")


def test_models_learn_on_the_features_and_save_them(tmp_path, small_splits):
    from surrogates.base import Surrogate
    from surrogates.data import features, labels

    split = small_splits["higgs_mass"]
    model = MLPEnsemble("higgs_mass", features="pmssm19_physics", **MLPEnsemble.budgets["tiny"])
    model.fit(features(split.train), labels(split.train, "higgs_mass"), progress=False)
    assert model.net_.weights[0].shape[1] == len(feature_names("pmssm19_physics", PMSSM19)) == 52
    same = Surrogate.load(model.save(tmp_path / "m"))
    assert same.features == "pmssm19_physics"
    np.testing.assert_array_equal(same.predict(split.test).mean, model.predict(split.test).mean)


def test_loop_features_extend_the_physics_features_and_stay_bounded_on_the_box():
    rng = np.random.default_rng(0)
    X = PMSSM19.sample_uniform(20000, rng)
    corners = np.array([PMSSM19.low, PMSSM19.high])
    physics = transform_features("pmssm19_physics", PMSSM19, X)
    F = transform_features("pmssm19_loops", PMSSM19, np.vstack([X, corners]))
    names = feature_names("pmssm19_loops", PMSSM19)
    assert F.shape[1] == len(names) == physics.shape[1] + 19
    np.testing.assert_array_equal(F[:-2, : physics.shape[1]], physics)
    assert np.isfinite(F).all()
    z = (F - F[:-2].mean(0)) / F[:-2].std(0)
    assert np.abs(z).max() < 30
    f = dict(zip(names, F[0], strict=True))
    assert abs(f["delta_b"]) <= 3.0
    assert f["m_sfermion12_min"] == min(f[n] for n in names if n.endswith("_tree")
                                        and n[2:4] in ("uL", "uR", "dL", "dR", "eL", "eR", "nu"))
