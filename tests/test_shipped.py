"""The surrogates shipped with the package load by name and keep their stated accuracy.

Stated figures: README, "Shipped surrogates" (``python benchmarks/accuracy.py`` on the whole
test split of the full data). Here a random 1,000 of those test points, so each bound adds
four standard errors of the sample mean (or a binomial band) to the stated figure.
"""

import numpy as np
import pytest

from surrogates import Surrogate
from surrogates.data import features, labels, load_dataset
from surrogates.metrics import classification_metrics
from surrogates.metrics import coverage as coverage_dict
from surrogates.shipped import available

#: (target, model) -> stated test-split figure: MAPE % (regression) or F1 (validity).
STATED = {
    ("xsec", "bnn"): {"mape_percent": 0.72},
    ("higgs_mass", "bnn"): {"mape_percent": 0.147},
    ("validity", "bnn"): {"f1": 0.957},
}
N = 1000


def _test_points(sur):
    split = sur.recorded_split(load_dataset(sur.target, "full"))
    rows = np.random.default_rng(0).choice(len(split.test), N, replace=False)
    part = split.test.iloc[rows]
    return features(part), labels(part, sur.target)


@pytest.mark.parametrize("target,model", available())
def test_shipped_surrogate_keeps_its_stated_accuracy(target, model):
    sur = Surrogate.pretrained(target, model)
    assert sur.fit_info_["n_train"] == len(sur.recorded_split(load_dataset(target, "full")).train)
    X, y = _test_points(sur)
    pred = sur.predict(X)
    stated = STATED[(target, model)]
    if sur.target.is_classifier:
        f1 = classification_metrics(y, pred.mean, pred.std)["f1"]
        band = 4 * np.sqrt(stated["f1"] * (1 - stated["f1"]) / N)
        assert f1 > stated["f1"] - band
        return
    ape = 100 * np.abs(pred.mean - y) / y
    assert ape.mean() < stated["mape_percent"] + 4 * ape.std() / np.sqrt(N)
    cov = np.array(list(coverage_dict(y, pred.mean, pred.std, (1.0, 2.0)).values()))
    nominal = np.array([0.6827, 0.9545])
    # binomial band at N points plus the 2 points the calibration goal allows
    assert (np.abs(cov - nominal) < 4 * np.sqrt(nominal * (1 - nominal) / N) + 0.02).all(), cov


def test_unknown_shipped_surrogate_lists_what_is_shipped():
    with pytest.raises(ValueError, match="no shipped surrogate xsec/mlp; shipped: "):
        Surrogate.pretrained("xsec", "mlp")


def test_configs_name_shipped_surrogates(tmp_path):
    from fits.config import load_surrogate

    if ("xsec", "bnn") not in available():
        pytest.skip("no shipped xsec/bnn")
    sur = load_surrogate(tmp_path, "pretrained:xsec/bnn")
    assert sur.target.name == "xsec" and sur.model_name == "bnn"
    with pytest.raises(ValueError, match="no shipped surrogate xsec/rbcmx"):
        load_surrogate(tmp_path, "pretrained:xsec/rbcmx")
