"""Mutation testing of the core numerics with mutmut, one module at a time.

Usage (mutmut comes with the ``mutation`` extra: ``pip install -e ".[mutation]"``)::

    nice -n 10 python tools/mutation.py [MODULE ...] [--max-children 2] [--workdir DIR]
        [--rerun-survivors-of EARLIER_DIR]

Each module (keys of :data:`MODULES`; all of them, in that order, when none is given) is
mutated in a fresh copy of the packages under ``DIR/<module>`` (default
``build/mutation``) and only the test files that guard it are run against each mutant, so a
module takes minutes, not hours. mutmut runs each mutant only against the tests that execute
the mutated function.

The score is mutmut's: killed (a test failed, or the mutant timed out) over all mutants that
were not skipped; a mutant no selected test executes ("no tests") counts as surviving. The
surviving mutants' diffs go to ``DIR/<module>/survivors.diff``; equivalent ones are explained
in ``tools/mutation_equivalent.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("surrogates", "likelihoods", "fits", "workflows")

#: The likelihood terms are guarded by their own tests and by the support-model tests (the
#: mixture with the probability that the observable exists).
_LIKELIHOOD_TESTS = ("tests/test_likelihoods_terms.py", "tests/test_support.py")

#: module -> (file mutated, test files that guard it)
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "likelihoods.base": ("likelihoods/base.py", _LIKELIHOOD_TESTS),
    "likelihoods.combination": ("likelihoods/combination.py", _LIKELIHOOD_TESTS),
    "likelihoods.counting": ("likelihoods/counting.py", _LIKELIHOOD_TESTS),
    "likelihoods.gaussian": ("likelihoods/gaussian.py", _LIKELIHOOD_TESTS),
    "likelihoods.observable": ("likelihoods/observable.py", _LIKELIHOOD_TESTS),
    "likelihoods.viability": ("likelihoods/viability.py", _LIKELIHOOD_TESTS),
    "surrogates.gp.aggregation": (
        "surrogates/gp/aggregation.py",
        ("tests/test_gp_aggregation.py", "tests/test_gp_rbcm.py"),
    ),
    "surrogates.bnn.hmc": ("surrogates/bnn/hmc.py", ("tests/test_bnn_hmc.py",)),
    "surrogates.metrics": ("surrogates/metrics.py", ("tests/test_metrics.py",)),
    "surrogates.transforms": ("surrogates/transforms.py", ("tests/test_transforms.py",)),
    "surrogates.calibration": ("surrogates/calibration.py", ("tests/test_calibration.py",)),
    "workflows.report.recalibration": (
        "workflows/report/recalibration.py", ("tests/test_report.py",)
    ),
}

_RESULT = re.compile(r"^\s+(\S+): (.+)$")
_KILLED = ("killed", "timeout", "skipped")


def _prepare(module: str, workdir: Path) -> Path:
    """Fresh copy of the packages and tests with a mutmut configuration for ``module``."""
    source, tests = MODULES[module]
    target = workdir / module
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in (*PACKAGES, "tests"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    lines = "\n    ".join
    (target / "setup.cfg").write_text(
        "[mutmut]\n"
        f"source_paths =\n    {lines(p + '/' for p in PACKAGES)}\n"
        f"only_mutate = {source}\n"
        f"pytest_add_cli_args_test_selection =\n    {lines(tests)}\n"
        "pytest_add_cli_args =\n    -p\n    no:xdist\n    -p\n    no:cacheprovider\n"
    )
    return target


def _mutmut(target: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutants/ must win
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=target, env=env,
                          capture_output=True, text=True, check=False)


_SHOW = """
import sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
for name in sys.argv[1:]:
    print(f"# {name}", get_diff_for_mutant(name, path=find_mutant(name).path), sep="\\n")
"""


def _diffs(target: Path, names: list[str]) -> str:
    """``mutmut show`` of each mutant in ``names``, in one process (one start-up)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", _SHOW, *names], cwd=target, env=env,
                          capture_output=True, text=True, check=True).stdout


def _statuses(target: Path) -> dict[str, str]:
    """Status of every mutant of the run in ``target`` (merged, for a rerun of survivors)."""
    merged = target / "statuses.json"
    if merged.exists():
        return json.loads(merged.read_text())
    listing = _mutmut(target, "results", "--all", "true").stdout
    return dict(m.groups() for line in listing.splitlines() if (m := _RESULT.match(line)))


def _survivors(statuses: dict[str, str]) -> list[str]:
    return [name for name, status in statuses.items() if status not in _KILLED]


def measure(module: str, workdir: Path, max_children: int, previous: Path | None = None) -> Counter:
    """Run mutmut on ``module``; write the survivors' diffs; return the count per status.

    With ``previous`` (the folder of an earlier run of the same code), only its survivors are
    run again and the other mutants keep their earlier verdict: valid when tests were only
    added since.
    """
    target = _prepare(module, workdir)
    earlier = _statuses(previous) if previous is not None else {}
    names = _survivors(earlier) if earlier else []
    if earlier and not names:
        statuses = earlier
    else:
        run = _mutmut(target, "run", "--max-children", str(max_children), *names)
        if run.returncode != 0:
            raise RuntimeError(f"mutmut run failed for {module}:\n{run.stdout[-3000:]}\n"
                               f"{run.stderr[-3000:]}")
        statuses = {**earlier, **{k: v for k, v in _statuses(target).items()
                                  if not earlier or k in names}}
    (target / "statuses.json").write_text(json.dumps(statuses, indent=0))
    (target / "survivors.diff").write_text(_diffs(target, _survivors(statuses)))
    return Counter(statuses.values())


def score(counts: Counter) -> float:
    """Killed (failed test or timeout) over mutants not skipped, in percent."""
    tested = sum(counts.values()) - counts["skipped"]
    return 100.0 * (counts["killed"] + counts["timeout"]) / tested if tested else float("nan")


def main(argv: list[str] | None = None) -> int:
    """Measure each requested module in turn and print its score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"default: all, in order: {', '.join(MODULES)}")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "mutation")
    parser.add_argument("--rerun-survivors-of", type=Path, metavar="DIR",
                        help="an earlier --workdir: run only its survivors again (valid when "
                             "tests were only added since), keep its other verdicts")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {', '.join(MODULES)}")
    for module in args.modules or MODULES:
        previous = args.rerun_survivors_of and args.rerun_survivors_of / module
        counts = measure(module, args.workdir, args.max_children, previous)
        others = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())
                           if k not in ("killed", "survived"))
        print(f"{module:34s} {score(counts):5.1f} % killed ({counts['killed']} killed, "
              f"{counts['survived']} survived{', ' + others if others else ''}) of "
              f"{sum(counts.values())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
