"""``bsm-surrogates fit --config``: both samplers from a YAML file, resume, config errors."""

from __future__ import annotations

import argparse
import json
import logging

import numpy as np
import pytest
import yaml

from fits.config import load_config
from fits.results import FitResult
from surrogates.data.loaders import features, labels, load_dataset
from surrogates.mlp import MLPEnsemble
from workflows.fit_commands import add_fit_parser

logging.getLogger("ultranest").setLevel(logging.WARNING)

BENCH = {"M1": -29.1, "M2": -335.3, "M3": 1632.2, "mu": -432.1, "mA": 2180.1, "tanb": 35.203,
         "At": -3160.9, "Ab": -2859.3, "Atau": 665.1, "mqL1": 2845.9, "muR1": 3725.6,
         "mdR1": 306.8, "mlL1": 2469.8, "meR1": 3026.6, "mqL3": 2921.8, "mtR3": 2222.3,
         "mbR3": 257.7, "mlL3": 3328.5, "mtauR3": 1746.1}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    for target in ("higgs_mass", "xsec", "validity"):
        df = load_dataset(target).iloc[:1000]
        MLPEnsemble(target, **MLPEnsemble.budgets["tiny"]).fit(
            features(df), labels(df, target), progress=False).save(folder / target)
    return folder


def write_config(path, models, sampler):
    cfg = {
        "output": "out",
        "surrogates": {t: str(models / t) for t in ("higgs_mass", "xsec", "validity")},
        "benchmark": BENCH,
        "prior": {"free": {"M2": [-1000, -100], "mu": [-1000, -100]}},
        "terms": [
            {"type": "gaussian", "name": "mh", "observable": "higgs_mass", "value": 125.09,
             "exp_error": 0.24, "theory_error": 2.0},
            {"type": "signal_region", "name": "sr", "observable": "xsec", "n_observed": 69,
             "background": 20.0, "background_error": 4.0, "luminosity": 139.0,
             "efficiency": 0.002},
            {"type": "viability", "name": "valid", "classifier": "validity", "mode": "multiply"},
        ],
        "sampler": sampler,
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


def cli(*argv):
    parser = argparse.ArgumentParser()
    add_fit_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["fit", *argv])
    return args.func(args)


def test_cli_runs_emcee_and_resumes(models, tmp_path, capsys):
    sampler = {"name": "emcee", "n_walkers": 8, "n_steps": 30, "stop_when_converged": False}
    config = write_config(tmp_path / "fit.yaml", models, sampler)
    with pytest.warns(UserWarning, match="autocorrelation"):
        assert cli("--config", str(config)) == 0
    assert "emcee:" in capsys.readouterr().out
    first = FitResult.load(tmp_path / "out")
    assert (tmp_path / "out" / "corner.png").is_file()
    assert {"M2", "mu", "weight", "mh", "sr.q", "valid.p_valid"} <= set(first.samples.columns)
    # a longer run in the same folder continues the stored chain
    config.write_text(config.read_text().replace("n_steps: 30", "n_steps: 50"))
    with pytest.warns(UserWarning, match="autocorrelation"):
        cli("--config", str(config))
    second = json.loads((tmp_path / "out" / "result.json").read_text())
    assert second["info"]["iterations"] == 50
    assert second["n_calls"] > first.n_calls


def test_cli_runs_ultranest(models, tmp_path, capsys):
    sampler = {"name": "ultranest", "min_num_live_points": 25, "max_ncalls": 800}
    config = write_config(tmp_path / "fit.yaml", models, sampler)
    assert cli("--config", str(config), "--output", str(tmp_path / "elsewhere")) == 0
    assert "ln Z =" in capsys.readouterr().out
    res = FitResult.load(tmp_path / "elsewhere")
    assert np.isfinite(res.log_evidence) and res.weights.sum() == pytest.approx(1.0)


def test_config_errors_name_the_term(models, tmp_path):
    config = write_config(tmp_path / "fit.yaml", models, {"name": "ultranest"})
    cfg = yaml.safe_load(config.read_text())
    cfg["terms"][1]["observable"] = "nope"
    config.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"terms\[1\]\.observable: 'nope' is not one of"):
        load_config(config)
    cfg["terms"][1] = {"type": "signal_region", "name": "sr", "observable": "xsec", "bogus": 1}
    config.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"unknown key 'terms\[1\]\.bogus'"):
        load_config(config)
    cfg["sampler"] = {"name": "dynesty"}
    cfg["terms"].pop(1)
    config.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"'sampler.name' .* \{'emcee', 'ultranest'\}\. Got"):
        load_config(config)
