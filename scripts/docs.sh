#!/usr/bin/env bash
# The documentation: the API reference and the four tutorials, executed, warnings as errors.
# Output: docs/_build/html/index.html. Takes a few minutes on 2 CPU cores (the tutorials run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  . scripts/setup_env.sh
fi
if ! python -c "import sphinx, myst_nb, numpydoc, pydata_sphinx_theme, ipykernel" 2>/dev/null; then
  python -m pip install -q -e ".[docs]"
fi
# No debugger file-validation warnings from the notebook kernel.
export PYDEVD_DISABLE_FILE_VALIDATION=1
rm -rf docs/_build/html docs/api/generated
sphinx-build -W --keep-going -b html docs docs/_build/html "$@"
echo "open docs/_build/html/index.html"
