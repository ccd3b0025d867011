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


def test_warm_start_continues_from_the_previous_fit():
    from surrogates.space import ParameterSpace
    from surrogates.targets import Quantity, Selection, Target

    space = ParameterSpace.box([-1.0, -1.0], [1.0, 1.0])
    target = Target(Quantity("O", "regression", "", "standardize"),
                    Selection("O", "test", requires_valid=False))
    X = space.sample_uniform(400, 0)
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    kw = {"space": space, "hidden": [32, 32], "n_members": 2, "batch_size": 32, "seed": 0}
    warm = MLPEnsemble(target, warm_start=True, epochs=30, **kw).fit(X[:300], y[:300],
                                                                     progress=False)
    scaler = warm.input_scaler_
    before = np.abs(warm.predict(X).mean - y).mean()
    warm.epochs = 1
    warm.fit(X, y, progress=False)  # one more pass on all 400 points, from the trained nets
    cold = MLPEnsemble(target, epochs=1, **kw).fit(X, y, progress=False)
    err_warm = np.abs(warm.predict(X).mean - y).mean()
    err_cold = np.abs(cold.predict(X).mean - y).mean()
    assert warm.input_scaler_ is scaler  # the scaling the networks learnt in is kept
    assert err_warm < 0.5 * err_cold and err_warm < 1.5 * before
