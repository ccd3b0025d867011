#!/usr/bin/env bash
# The main job: the comparison report of the surrogates shipped with the package, on the test
# split of the full reference data (a few minutes on 2 CPU cores), written to report/.
#   bash scripts/main.sh                   # shipped surrogates, no training
#   bash scripts/main.sh --retrain paper   # retrain from scratch with the named budget
#                                          # (paper: ~40 min on 2 cores; models in runs/models)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup_env.sh
targets=validity,higgs_mass,xsec
if [ "${1:-}" = "--retrain" ]; then
  budget=${2:?"--retrain needs a budget name, e.g. --retrain paper"}
  shift 2
  bsm-surrogates compare --targets "$targets" --models bnn --data full --budget "$budget" \
    --models-dir runs/models --out report "$@"
else
  bsm-surrogates compare --targets "$targets" --models bnn --data full --shipped --out report "$@"
fi
