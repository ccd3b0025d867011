"""The distance-from-data flag: calibrated false alarms, catches the unseen part of a full box."""

import json

import numpy as np
import pytest
import torch

from likelihoods import GaussianMeasurement
from surrogates import Surrogate
from surrogates.distance import NearestNeighbourDistance
from surrogates.mlp import MLPEnsemble
from surrogates.space import PMSSM19
from surrogates.targets import Quantity, Selection, Target

TARGET = Target(Quantity("O", "regression", "", "standardize"),
                Selection("O", "test", requires_valid=False))
QUANTILE = 0.95


def _half(n: int, seed: int) -> np.ndarray:
    """Uniform points of the pMSSM-19 box with M1 + M2 < 0: the box they span is full."""
    X = PMSSM19.sample_uniform(3 * n, seed)
    return X[X[:, 0] + X[:, 1] < 0][:n]


@pytest.fixture(scope="module")
def model() -> MLPEnsemble:
    X = _half(2500, 0)
    sur = MLPEnsemble(TARGET, hidden=[8], n_members=1, epochs=1).fit(X, X[:, 0] / 1e3,
                                                                      progress=False)
    return sur.fit_distance(X, _half(4000, 1), quantile=QUANTILE)


def test_points_like_the_training_data_are_flagged_at_the_calibrated_rate(model):
    fresh = model.predict(_half(20000, 2))
    assert fresh.far_from_data is not None
    rate = fresh.far_from_data.mean()
    # binomial error of the threshold (4000 held-back points) and of the rate (20000 points)
    p = 1 - QUANTILE
    band = 4 * np.sqrt(p * (1 - p) / 4000 + p * (1 - p) / 20000)
    assert abs(rate - p) < band
    assert not fresh.outside_domain.all() and (fresh.outside_domain >= fresh.far_from_data).all()


def test_the_unseen_half_of_the_box_is_flagged_though_it_is_inside_the_box(model):
    X = PMSSM19.sample_uniform(20000, 3)
    far = X[X[:, 0] + X[:, 1] > 4000]  # M1 + M2 > 4 TeV: no training point near
    far = far[~model.domain_.outside(far)]  # and still inside the box the data span
    assert len(far) > 1000
    pred = model.predict(far)
    assert pred.far_from_data.mean() > 0.5 and pred.outside_domain.mean() > 0.5
    term = GaussianMeasurement("o", model, 0.0, 1.0)  # outside="reject" acts on the flag
    assert np.isneginf(term.log_likelihood(far)[pred.far_from_data]).all()


def test_the_distance_model_survives_save_and_load(model, tmp_path):
    folder = model.save(tmp_path / "m")
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["distance"]["quantile"] == QUANTILE and meta["distance"]["n_reference"] == 2500
    X = PMSSM19.sample_uniform(500, 4)
    loaded = Surrogate.load(folder)
    np.testing.assert_array_equal(loaded.predict(X).far_from_data, model.predict(X).far_from_data)


def test_score_is_the_mean_distance_to_the_k_nearest_reference_points():
    reference = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    dist = NearestNeighbourDistance(reference=reference, k=2, quantile=0.9, threshold=1.0)
    score = dist.score(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    np.testing.assert_allclose(score, [0.5, (1.0 + np.sqrt(2.0)) / 2], rtol=1e-6)
    np.testing.assert_array_equal(dist.flag(torch.tensor([[0.0, 0.0], [1.0, 1.0]])),
                                  [False, True])


@pytest.mark.parametrize("order", ["random", "nearest_first"])
def test_blocked_top_k_finds_the_same_neighbours_as_a_full_search(order):
    # 1,000 reference points: 15 full blocks of 64 and a padded one; "nearest_first" puts
    # every point's nearest neighbours together in the first blocks
    gen = torch.Generator().manual_seed(0)
    reference = torch.randn(1000, 3, generator=gen)
    queries = torch.randn(300, 3, generator=gen) * 2
    if order == "nearest_first":
        reference = reference[reference.norm(dim=1).argsort()]
        queries = queries * 0.01
    dist = NearestNeighbourDistance(reference=reference, k=5, quantile=0.9, threshold=1.0,
                                    chunk_size=128)
    full = torch.cdist(queries, reference).topk(5, dim=1, largest=False).values.mean(dim=1)
    np.testing.assert_allclose(dist.score(queries), full.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, r"The 'k' parameter of NearestNeighbourDistance must be an int in the range "
               r"\[1, inf\). Got 0 instead"),
    ({"quantile": 1.0}, r"The 'quantile' parameter .* in the range \(0, 1\). Got 1.0"),
    ({"max_reference": 2, "k": 5}, "max_reference must be an integer >= k = 5; got 2"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NearestNeighbourDistance.fit(torch.zeros(10, 2), torch.zeros(3, 2), **kwargs)
