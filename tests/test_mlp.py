import numpy as np

from surrogates.mlp import MLPEnsemble
from surrogates.space import box_high, box_low, sample_uniform


def _smooth_higgs_like(X):
    u = (X - box_low()) / (box_high() - box_low())
    return 120.0 + 4.0 * np.sin(3 * u[:, 5]) + 3.0 * u[:, 6] ** 2 - 2.0 * u[:, 14]


def test_ensemble_learns_a_smooth_function_far_better_than_the_mean():
    X, Xt = sample_uniform(3000, rng=0), sample_uniform(500, rng=1)
    y, yt = _smooth_higgs_like(X), _smooth_higgs_like(Xt)
    s = MLPEnsemble("higgs_mass", hidden=(32, 32), n_members=3, epochs=30, seed=0, device="cpu")
    pred = s.fit(X, y, X_val=Xt, y_val=yt, progress=False).predict(Xt)
    mse, var = np.mean((pred.mean - yt) ** 2), yt.var()
    assert mse < 0.02 * var
    assert pred.samples.shape == (3, 500)
    np.testing.assert_allclose(pred.mean, pred.samples.mean(axis=0))
    np.testing.assert_allclose(pred.std, pred.samples.std(axis=0))


def test_members_differ_so_the_spread_is_positive():
    X = sample_uniform(400, rng=0)
    s = MLPEnsemble("higgs_mass", hidden=(8,), n_members=4, epochs=2, device="cpu")
    pred = s.fit(X, _smooth_higgs_like(X), progress=False).predict(X[:50])
    assert (pred.std > 0).all()


def test_invalid_configuration_is_rejected():
    for kwargs, msg in (({"n_members": 0}, "n_members"), ({"lr": -1.0}, "lr")):
        try:
            MLPEnsemble("xsec", **kwargs)
        except ValueError as err:
            assert msg in str(err)
        else:
            raise AssertionError(f"{kwargs} accepted")
