#!/usr/bin/env bash
# npm run verify: checks the tools, installs the pinned Python tools into .cache/verify
# (first run only), then runs the pipeline (scripts/verify/main.ts). See docs/verify.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

# moto[server] 5.2.5 and checkov 3.3.30 with every dependency pinned (pip freeze output).
REQ_MOTO=scripts/verify/requirements-moto.txt
REQ_CHECKOV=scripts/verify/requirements-checkov.txt
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

# $1 venv dir, $2 requirements file; reinstalls when the requirements file changes.
ensure_venv() {
  local dir=$1 req=$2 stamp
  stamp="$1/.installed-$(sha256sum "$req" | cut -c1-16)"
  if [[ -f "$stamp" ]]; then return 0; fi
  echo "[verify] installing $req into $dir (first run, or the file changed)"
  rm -rf "$dir"
  python3 -m venv "$dir"
  if ! "$dir/bin/pip" install --disable-pip-version-check -r "$req" >"$dir.pip.log" 2>&1; then
    tail -n 30 "$dir.pip.log" >&2
    return 1
  fi
  touch "$stamp"
}
mkdir -p "$CACHE"
ensure_venv "$CACHE/moto" "$REQ_MOTO" &
moto_pid=$!
ensure_venv "$CACHE/checkov" "$REQ_CHECKOV" &
checkov_pid=$!
wait "$moto_pid" || { echo "verify: FAILED to install $REQ_MOTO from PyPI (log: $CACHE/moto.pip.log)" >&2; exit 1; }
wait "$checkov_pid" || { echo "verify: FAILED to install $REQ_CHECKOV from PyPI (log: $CACHE/checkov.pip.log)" >&2; exit 1; }

# The pipeline stops moto itself; this trap covers a pipeline that was killed.
cleanup() {
  local pidfile="$CACHE/work/moto.pid"
  if [[ -f "$pidfile" ]]; then
    local pid
    pid=$(cat "$pidfile")
    # Only our moto server (a pid can be reused once moto has exited).
    if grep -qs moto_server.py "/proc/$pid/cmdline"; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
  fi
}
trap cleanup EXIT
export CHECKPOINT_DISABLE=1
node --import tsx scripts/verify/main.ts
