#!/usr/bin/env bash
# npm run verify: checks the tools, installs the pinned Python tools into .cache/verify
# (first run only), then runs the pipeline (scripts/verify/main.ts). See docs/verify.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

MOTO_VERSION=5.2.5
CHECKOV_VERSION=3.3.30
CACHE=.cache/verify
MIRROR=/opt/tf-plugins

missing=()
command -v terraform >/dev/null || missing+=("terraform (1.11.x on PATH)")
compgen -G "$MIRROR/registry.terraform.io/hashicorp/aws/*/linux_amd64" >/dev/null \
  || missing+=("the hashicorp/aws provider in the filesystem mirror $MIRROR/registry.terraform.io/hashicorp/aws/<version>/linux_amd64")
command -v python3 >/dev/null || missing+=("python3 (with the venv module)")
command -v node >/dev/null || missing+=("node")
if ((${#missing[@]})); then
  printf 'verify: FAILED before starting, missing:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

# $1 venv dir, $2 requirement, $3 import name
ensure_venv() {
  local dir=$1 req=$2 marker="$1/.installed-$2"
  if [[ -f "$marker" ]]; then return 0; fi
  echo "[verify] installing $req into $dir (first run only)"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$req"
  touch "$marker"
}
mkdir -p "$CACHE"
ensure_venv "$CACHE/moto" "moto[server]==$MOTO_VERSION" &
moto_pid=$!
ensure_venv "$CACHE/checkov" "checkov==$CHECKOV_VERSION" &
checkov_pid=$!
wait "$moto_pid" || { echo "verify: FAILED to install moto[server]==$MOTO_VERSION from PyPI" >&2; exit 1; }
wait "$checkov_pid" || { echo "verify: FAILED to install checkov==$CHECKOV_VERSION from PyPI" >&2; exit 1; }

# The pipeline stops moto itself; this trap covers a pipeline that was killed.
cleanup() {
  local pidfile="$CACHE/work/moto.pid"
  if [[ -f "$pidfile" ]]; then
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
  fi
}
trap cleanup EXIT
export CHECKPOINT_DISABLE=1
node --import tsx scripts/verify/main.ts
