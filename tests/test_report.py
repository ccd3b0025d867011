"""The comparison report: a tiny run of every registered model renders, its tables hold exactly
what the metric functions return on the saved predictions, and the variance recalibration
recovers known scales."""

from __future__ import annotations

import html
import json

import numpy as np
import pytest

from surrogates import metrics
from surrogates.base import Prediction, Surrogate
from surrogates.data import load_points
from surrogates.registry import MODELS
from surrogates.transforms import TargetTransform
from workflows.report.compare import run_compare
from workflows.report.recalibration import fit_variance_scale, recalibrated, to_model_space
from workflows.report.render import CLASSIFIER_COLUMNS, REGRESSION_COLUMNS, format_cell

# The classifier and the log-transformed regression; higgs_mass (an affine transform) runs the
# same code as xsec and is left out to keep the file fast.
TARGETS = ("validity", "xsec")
N_ROWS = 2000  # points of the embedded table used by the tiny run


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One tiny-budget run over all targets and all registered models."""
    root = tmp_path_factory.mktemp("report")
    data = root / "points.csv"
    load_points().iloc[:N_ROWS].to_csv(data, index=False)
    html_path = run_compare(
        TARGETS, list(MODELS), root / "out", budget="tiny", data=data,
        models_dir=root / "models", progress=False,
    )
    report = json.loads((root / "out" / "report.json").read_text())
    return root, data, html_path, report


def _rows(report, target, variant):
    return {r["model"]: r for r in report["targets"][target]["rows"] if r["variant"] == variant}


def _expected(target, model_dir, arrays, prefix):
    """The metric functions' output on the saved predictions, as the report should hold it."""
    y, mean, std = arrays["y_true"], arrays[prefix + "mean"], arrays[prefix + "std"]
    if target == "validity":
        return metrics.classification_metrics(y, mean, std)
    expected = metrics.regression_metrics(y, mean, std)
    tt = Surrogate.load(model_dir).target_transform_
    pred = Prediction(mean, std, arrays.get(prefix + "samples"), arrays.get("weights"),
                      np.zeros(len(y), bool), target, "")
    z_mean, z_std, _ = to_model_space(pred, tt)
    expected["chi2_per_dof_model_space"] = metrics.pull_chi2(tt.forward(y), z_mean, z_std)[
        "chi2_per_dof"]
    return expected


def test_report_files_render(tiny):
    root, _, html_path, report = tiny
    text = html_path.read_text()
    n_figures = sum(len(t["figures"]) for t in report["targets"].values())
    assert n_figures >= 2 * len(TARGETS)
    assert text.count("src='data:image/png;base64,") == n_figures
    assert "<script" not in text and "http://" not in text and "https://" not in text
    for t in report["targets"].values():
        for fig in t["figures"]:
            assert (root / "out" / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (root / "out" / "report.md").read_text()
    assert all(f"## {t}" in md for t in TARGETS)
    assert set(report["targets"]) == set(TARGETS)
    assert report["meta"]["call"]["models"] == list(MODELS)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("variant", ["raw", "recalibrated"])
def test_table_numbers_are_the_metric_functions_outputs(tiny, target, variant):
    root, _, html_path, report = tiny
    text = html_path.read_text()
    md = (root / "out" / "report.md").read_text()
    rows = _rows(report, target, variant)
    if target == "validity" and variant == "recalibrated":
        assert rows == {}  # a variance scale does not apply to the classifier
        return
    assert set(rows) == set(MODELS)
    columns = CLASSIFIER_COLUMNS if target == "validity" else REGRESSION_COLUMNS
    for name, row in rows.items():
        arrays = dict(np.load(root / "out" / "predictions" / f"{target}_{name}.npz"))
        expected = _expected(target, root / "models" / f"{target}_{name}", arrays,
                             "recal_" if variant == "recalibrated" else "")
        for key, value in expected.items():
            if isinstance(value, float) and np.isnan(value):
                assert row[key] is None, key
            else:
                assert row[key] == value, key
        cells = "".join(f"<td>{html.escape(format_cell(k, expected.get(k, row.get(k))))}</td>"
                        for k, _ in columns)
        assert cells in text
        assert " | ".join(format_cell(k, expected.get(k, row.get(k))) for k, _ in columns) in md


def test_published_anchor_rows(tiny):
    _, _, html_path, report = tiny
    anchors = _rows(report, "xsec", "published")
    assert anchors["XSEC BNN, arXiv:2007.04506"]["mape_percent"] == 3.34
    assert anchors["GP, arXiv:1611.02704"]["chi2_per_dof"] == pytest.approx(0.65)
    assert ">3.340<" in html_path.read_text()


def test_saved_models_are_loaded_not_retrained(tiny):
    root, data, _, report = tiny
    out = root / "again"
    run_compare(["xsec"], list(MODELS), out, budget="tiny", data=data,
                models_dir=root / "models", progress=False)
    again = json.loads((out / "report.json").read_text())
    for name, row in _rows(again, "xsec", "raw").items():
        first = _rows(report, "xsec", "raw")[name]
        assert row["loaded"] is True and first["loaded"] is False
        for key in ("mape_percent", "coverage_1std", "chi2", "n_parameters", "bytes_on_disk",
                    "train_seconds"):
            assert row[key] == first[key], key


def test_saved_model_from_other_data_is_refused(tiny, tmp_path):
    root, _, _, _ = tiny
    other = tmp_path / "other.csv"
    load_points().iloc[: N_ROWS // 2].to_csv(other, index=False)
    with pytest.raises(ValueError, match="may have seen these test points"):
        run_compare(["xsec"], [next(iter(MODELS))], tmp_path / "out", budget="tiny", data=other,
                    models_dir=root / "models", progress=False)


def test_unknown_model_or_budget_raises_before_training(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        run_compare(["xsec"], ["nope"], tmp_path, budget="tiny", progress=False)
    with pytest.raises(ValueError, match="has no budget 'huge'"):
        run_compare(["xsec"], list(MODELS), tmp_path, budget="huge", progress=False)
    with pytest.raises(ValueError, match="unknown target"):
        run_compare(["mass"], list(MODELS), tmp_path, budget="tiny", progress=False)
    assert not (tmp_path / "report.html").exists()


# --------------------------------------------------------------------------- recalibration

N_POINTS = 20000


def _prediction(mean, std, samples=None, target="xsec"):
    return Prediction(mean, std, samples, None, np.zeros(len(mean), bool), target, "")


def test_variance_scale_recovers_known_gaussian_scale():
    rng = np.random.default_rng(1)
    mu, sigma = rng.normal(125, 3, N_POINTS), rng.uniform(0.1, 1.0, N_POINTS)
    y = mu + 2.0 * sigma * rng.standard_normal(N_POINTS)
    tt = TargetTransform("standardize").fit(y)
    scale = fit_variance_scale(y, _prediction(mu, sigma, target="higgs_mass"), tt)
    # mean of N pulls^2 with pulls ~ N(0, 4): 4 +- 4 sqrt(2 / N); allow 5 standard errors
    assert scale.s2 == pytest.approx(4.0, abs=5 * 4.0 * np.sqrt(2 / N_POINTS))
    fixed = recalibrated(_prediction(mu, sigma, target="higgs_mass"), tt, scale)
    np.testing.assert_allclose(fixed.std, scale.s * sigma, rtol=1e-12)
    np.testing.assert_allclose(fixed.mean, mu, rtol=1e-12)


def test_variance_scale_in_log_space_for_members():
    rng = np.random.default_rng(2)
    ln_mu, ln_sigma = rng.normal(0, 3, N_POINTS), rng.uniform(0.05, 0.3, N_POINTS)
    y = np.exp(ln_mu + 3.0 * ln_sigma * rng.standard_normal(N_POINTS))
    members = np.exp(ln_mu + np.array([[-1.0], [1.0]]) * ln_sigma)  # ln-spread exactly sigma
    tt = TargetTransform("log_standardize").fit(y)
    pred = _prediction(members.mean(0), members.std(0), members)
    scale = fit_variance_scale(y, pred, tt)
    assert scale.s2 == pytest.approx(9.0, abs=5 * 9.0 * np.sqrt(2 / N_POINTS))
    before, after = to_model_space(pred, tt), to_model_space(recalibrated(pred, tt, scale), tt)
    np.testing.assert_allclose(after[0], before[0], atol=1e-10)
    np.testing.assert_allclose(after[1], scale.s * before[1], rtol=1e-10)
    assert np.all(recalibrated(pred, tt, scale).samples > 0)


def test_model_space_inverts_the_log_normal_moments():
    rng = np.random.default_rng(3)
    tt = TargetTransform("log_standardize").fit(np.exp(rng.normal(0, 2, 100)))
    z_mean, z_std = rng.normal(0, 1, 500), rng.uniform(0.01, 0.5, 500)
    mean, std, samples = to_model_space(_prediction(*tt.inverse_gaussian(z_mean, z_std)), tt)
    np.testing.assert_allclose(mean, z_mean, atol=1e-10)
    np.testing.assert_allclose(std, z_std, rtol=1e-8)
    assert samples is None


def test_classifier_is_not_variance_scaled():
    tt = TargetTransform("none")
    p = np.full(10, 0.5)
    with pytest.raises(ValueError, match="regression targets only"):
        fit_variance_scale(np.ones(10), _prediction(p, p, target="validity"), tt)


def test_recalibrated_members_and_gaussians_carry_their_new_mean_and_std():
    """The returned mean and std are those of the rescaled, weighted members (a log target's
    mean moves with the spread), and the log-normal moments of the scaled Gaussian."""
    from surrogates.calibration import VarianceScale

    rng = np.random.default_rng(4)
    ln_mu = rng.normal(0, 1, 50)
    members = np.exp(ln_mu + np.array([[-0.3], [0.1]]))
    weights = np.array([0.25, 0.75])
    tt = TargetTransform("log_standardize").fit(np.exp(rng.normal(0, 1, 200)))
    w_mean = weights @ members
    pred = Prediction(w_mean, np.sqrt(weights @ (members - w_mean) ** 2), members, weights,
                      np.zeros(50, bool), "xsec", "fb")
    scale = VarianceScale(s2=4.0, n_val=1)
    out = recalibrated(pred, tt, scale)
    expected_mean = weights @ out.samples
    np.testing.assert_allclose(out.mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(out.std, np.sqrt(weights @ (out.samples - expected_mean) ** 2),
                               rtol=1e-12)
    assert np.all(np.abs(out.mean / pred.mean - 1) > 1e-3)  # the mean moved
    z_mean, z_std = rng.normal(0, 1, 50), rng.uniform(0.1, 0.5, 50)
    gauss = recalibrated(_prediction(*tt.inverse_gaussian(z_mean, z_std)), tt, scale)
    mean, std = tt.inverse_gaussian(z_mean, 2.0 * z_std)
    np.testing.assert_allclose(gauss.mean, mean, rtol=1e-10)
    np.testing.assert_allclose(gauss.std, std, rtol=1e-10)
