#!/usr/bin/env bash
# The main job: train the surrogates on the embedded data and write the comparison report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup_env.sh
bsm-surrogates compare --targets validity,higgs_mass,xsec --out report "$@"
