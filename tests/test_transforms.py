import numpy as np
import pytest
from scipy import stats

from surrogates.transforms import InputScaler, TargetTransform


@pytest.mark.parametrize("kind", ["none", "standardize", "log_standardize"])
def test_inverse_is_exact(kind):
    y = np.random.default_rng(0).lognormal(1.0, 2.0, size=1000)
    t = TargetTransform(kind).fit(y)
    np.testing.assert_allclose(t.inverse(t.forward(y)), y, rtol=1e-12)
    if kind != "none":
        z = t.forward(y)
        assert abs(z.mean()) < 1e-12 and abs(z.std() - 1) < 1e-12


def test_log_gaussian_moments_are_lognormal():
    y = np.random.default_rng(1).lognormal(0.0, 3.0, size=500)
    t = TargetTransform("log_standardize").fit(y)
    mean_z, std_z = np.array([-1.0, 0.3]), np.array([0.2, 0.05])
    mean, std = t.inverse_gaussian(mean_z, std_z)
    dist = stats.lognorm(s=std_z * t.scale, scale=np.exp(mean_z * t.scale + t.shift))
    np.testing.assert_allclose(mean, dist.mean(), rtol=1e-12)
    np.testing.assert_allclose(std, dist.std(), rtol=1e-10)


def test_linear_gaussian_moments():
    t = TargetTransform("standardize").fit(np.array([120.0, 124.0, 128.0]))
    mean, std = t.inverse_gaussian(np.array([0.5]), np.array([0.1]))
    np.testing.assert_allclose(mean, 124.0 + 0.5 * t.scale)
    np.testing.assert_allclose(std, 0.1 * t.scale)


def test_round_trip_through_dict():
    t = TargetTransform("log_standardize").fit(np.array([0.1, 10.0, 1e3]))
    assert TargetTransform.from_dict(t.to_dict()) == t
    X = np.random.default_rng(2).normal(size=(50, 19))
    s = InputScaler.fit(X)
    np.testing.assert_array_equal(InputScaler.from_dict(s.to_dict()).transform(X), s.transform(X))


def test_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        TargetTransform("sqrt")


def test_baseline_shift_standardises_the_residual_and_inverts_exactly():
    from surrogates.transforms import TargetTransform

    rng = np.random.default_rng(0)
    baseline = rng.normal(0, 5, 1000)
    y = np.exp(baseline + 0.1 * rng.normal(size=1000))  # sigma = tree level x small factor
    tt = TargetTransform("log_standardize").fit(y, baseline)
    z = tt.shifted(baseline).forward(y)
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1) < 1e-12
    assert tt.scale < 0.2  # the residual's width, not that of ln y (~5)
    np.testing.assert_allclose(tt.shifted(baseline).inverse(z), y, rtol=1e-12)
    members = np.stack([z, z + 0.1])  # (members, points): the offset follows the points axis
    np.testing.assert_allclose(tt.shifted(baseline).inverse(members)[0], y, rtol=1e-12)


def test_input_scaler_standardises_each_column_and_leaves_constant_ones_at_scale_one():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(100.0, 20.0, 400), rng.normal(-3.0, 0.4, 400),
                         np.full(400, 7.0)])
    s = InputScaler.fit(X)
    np.testing.assert_allclose(s.mean, X.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(s.scale, [X[:, 0].std(), X[:, 1].std(), 1.0], rtol=1e-15)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), [1.0, 1.0, 0.0], atol=1e-12)
    state = {"mean": [1, 2], "scale": [2, 4]}  # integers, as JSON may hold them
    loaded = InputScaler.from_dict(state)
    assert loaded.mean.dtype == loaded.scale.dtype == np.float64


def test_no_transform_is_not_fitted_and_a_constant_target_gets_scale_one():
    labels = np.array([0.0, 1.0, 1.0, 1.0])
    t = TargetTransform("none").fit(labels)
    assert (t.shift, t.scale) == (0.0, 1.0)
    np.testing.assert_array_equal(t.forward(labels), labels)
    constant = TargetTransform("standardize").fit(np.full(5, 125.0))
    assert (constant.shift, constant.scale) == (125.0, 1.0)


@pytest.mark.parametrize("kind", ["standardize", "log_standardize"])
def test_single_precision_inputs_are_computed_in_double(kind):
    """Network members arrive as float32: every map works in float64 on their exact values."""
    y = np.random.default_rng(4).lognormal(1.0, 1.0, size=200)
    t = TargetTransform(kind).fit(y.astype(np.float32), np.zeros(200, np.float32))
    reference = TargetTransform(kind).fit(y.astype(np.float32).astype(float))
    assert (t.shift, t.scale) == (reference.shift, reference.scale)
    z32 = np.linspace(-2, 2, 200, dtype=np.float32)
    z64 = z32.astype(float)
    offset = np.float32(0.1) * z32
    for out, expected in [
        (t.forward(y.astype(np.float32)), t.forward(y.astype(np.float32).astype(float))),
        (t.inverse(z32), t.inverse(z64)),
        (t.shifted(offset).inverse(z64), t.shifted(offset.astype(float)).inverse(z64)),
        *zip(t.inverse_gaussian(z32, np.abs(z32)), t.inverse_gaussian(z64, np.abs(z64)),
             strict=True),
    ]:
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, expected, rtol=1e-15)
