import numpy as np
import pytest

from surrogates.data import features, load_points
from surrogates.space import (
    N_PARAMETERS,
    PARAMETER_NAMES,
    box_high,
    box_low,
    parameter_index,
    sample_uniform,
    unit_cube_transform,
)


def test_nineteen_parameters_in_data_order():
    assert N_PARAMETERS == 19
    assert list(load_points().columns[1:20]) == list(PARAMETER_NAMES)


def test_box_matches_the_reference_sampling():
    X = features(load_points())
    low, high = box_low(), box_high()
    assert (X >= low).all() and (X <= high).all()
    # 40,000 uniform draws: each edge is approached to within a few per mille of the range
    width = high - low
    assert (X.min(axis=0) - low < 1e-3 * width).all()
    assert (high - X.max(axis=0) < 1e-3 * width).all()


def test_unit_cube_transform_maps_corners_and_centre():
    corners = unit_cube_transform(np.array([np.zeros(19), np.ones(19), np.full(19, 0.5)]))
    np.testing.assert_array_equal(corners[0], box_low())
    np.testing.assert_array_equal(corners[1], box_high())
    np.testing.assert_allclose(corners[2], (box_low() + box_high()) / 2)
    with pytest.raises(ValueError, match=r"shape \(n_points, 19\)"):
        unit_cube_transform(np.zeros((3, 18)))


def test_sample_uniform_is_seeded_and_uniform():
    a, b = sample_uniform(20_000, rng=1), sample_uniform(20_000, rng=1)
    np.testing.assert_array_equal(a, b)
    u = (a - box_low()) / (box_high() - box_low())
    # mean of U(0,1) is 1/2 with standard error sqrt(1/12/n)
    assert np.all(np.abs(u.mean(axis=0) - 0.5) < 5 * np.sqrt(1 / 12 / len(u)))


def test_parameter_index():
    assert parameter_index("tanb") == 5
    with pytest.raises(ValueError, match="unknown parameter 'tan_beta'"):
        parameter_index("tan_beta")


# ---------------------------------------------------------------- ParameterSpace
from surrogates.space import PMSSM19, Parameter, ParameterSpace  # noqa: E402


def test_parameter_space_box_roundtrip_and_subspace():
    space = ParameterSpace.box([0.0, -1.0], [2.0, 1.0], name="square")
    assert space.names == ("x1", "x2") and space.n_dim == 2
    X = space.sample_uniform(500, rng=3)
    assert space.contains(X).all()
    np.testing.assert_allclose(space.unit_cube_transform(space.to_unit_cube(X)), X)
    assert ParameterSpace.from_dict(space.to_dict(), "square") == space
    sub = PMSSM19.subspace(["At", "tanb"])
    assert sub.names == ("At", "tanb")
    np.testing.assert_array_equal(sub.low, [-7000.0, 1.0])
    with pytest.raises(ValueError, match="unknown parameter 'A_t'"):
        PMSSM19.subspace(["A_t"])


def test_parameter_space_rejects_bad_boxes():
    with pytest.raises(ValueError, match="repeated: x"):
        ParameterSpace([Parameter("x", 0, 1), Parameter("x", 0, 2)])
    with pytest.raises(ValueError, match="finite low < high"):
        Parameter("x", 1.0, 1.0)
    with pytest.raises(ValueError, match="at least one parameter"):
        ParameterSpace([])
