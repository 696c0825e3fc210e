#!/usr/bin/env bash
# Prepare what some tests need from outside the project's environment. The tests never install anything or use the
# network: without these folders they skip, naming this script (under CI they fail instead; see tests/prepared.py).
#   * build/ipywidgets7: ipywidgets 7.7.1, Colab's version, without its dependencies (tests/ipywidgets7.txt), which
#     tests/test_ipywidgets7.py puts first on the path of a child Python;
#   * build/repo2docker: a separate virtual environment with jupyter-repo2docker, which tests/test_binder.py runs
#     with --no-build on binder/ (kept out of the project's environment: it is not a dependency of the course).
# Each step is skipped when its folder is already complete, so running this again costs nothing.
#
# Usage: bash .ci/prepare_tests.sh [PYTHON]    (PYTHON: the one that runs the tests; default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-.venv/bin/python}"

widgets=build/ipywidgets7
if ! cmp -s tests/ipywidgets7.txt "$widgets/requirements.txt"; then
    echo "prepare_tests: $widgets ($(tr '\n' ' ' < tests/ipywidgets7.txt))"
    rm -rf "$widgets"
    "$PYTHON" -m pip install --quiet --no-deps --target "$widgets" -r tests/ipywidgets7.txt
    cp tests/ipywidgets7.txt "$widgets/requirements.txt"    # the stamp the test compares
fi

r2d=build/repo2docker
if ! "$r2d/bin/jupyter-repo2docker" --version >/dev/null 2>&1; then
    echo "prepare_tests: $r2d (jupyter-repo2docker)"
    rm -rf "$r2d"
    "$PYTHON" -m venv "$r2d"
    "$r2d/bin/python" -m pip install --quiet jupyter-repo2docker
fi
echo "prepare_tests: ipywidgets $(sed -n 's/^Version: //p' "$widgets"/ipywidgets-*.dist-info/METADATA)," \
     "jupyter-repo2docker $("$r2d/bin/jupyter-repo2docker" --version)"
