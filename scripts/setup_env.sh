#!/usr/bin/env bash
# Create (once) the virtual environment .venv with the library, its dev tools and MPI (the
# MPICH wheel puts mpiexec in .venv/bin; mpi4py, schwimmbad).
# Sourced by scripts/main.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# (an environment made before the CLI moved to workflows/ has a stale bsm-surrogates script)
if ! python -c "import surrogates, pytest, ruff, distributed, mpi4py, schwimmbad" 2>/dev/null \
    || [ ! -x .venv/bin/mpiexec ] || ! grep -q "from workflows.cli import" .venv/bin/bsm-surrogates; then
  python -m pip install -q --upgrade pip
  # The CPU wheel of torch (an unpinned torch pulls a multi-GB CUDA build).
  python -m pip install -q torch==2.13.0
  python -m pip install -q -e ".[dev,mpi]"
fi
