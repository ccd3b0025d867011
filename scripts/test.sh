#!/usr/bin/env bash
# The test suite: lint, then the fast tests (slow closure tests: add -m slow).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup_env.sh
ruff check .
python -m pytest -q -m "not slow" -n 2 "$@"
