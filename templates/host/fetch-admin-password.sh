#!/usr/bin/env bash
# ExecStartPre of pmm-server.service: writes the admin password secret (read with the instance
# role) to a tmpfs file, mode 0400, owned by PMM's uid; run-pmm-server.sh mounts it read-only
# so Grafana creates its admin user with it on PMM's first start (never admin/admin).
# If the secret cannot be read: on a first start (empty data directory) exit non-zero, and
# systemd retries; with existing data start anyway (the password is in Grafana's database).
# The password is never in a command line or environment (AWS CLI pipe -> printf builtin).
# Tests override: PMM_AWS_CLI, PMM_DATA_DIR, PMM_ADMIN_PASSWORD_FILE, PMM_DATA_OWNER.
set -euo pipefail
umask 077

log() { echo "pmm-fetch-admin-password: $*"; }
die() {
  echo "pmm-fetch-admin-password: ERROR: $*" >&2
  exit 1
}

secret_arn=${PMM_ADMIN_SECRET_ARN:?PMM_ADMIN_SECRET_ARN is not set (see /etc/pmm/host.env)}
aws=${PMM_AWS_CLI:-/snap/bin/aws}
data_dir=${PMM_DATA_DIR:-/srv/pmm-data}
password_file=${PMM_ADMIN_PASSWORD_FILE:-/run/pmm/admin-password}
owner=${PMM_DATA_OWNER:-1000:1000}

install -d -m 0700 "$(dirname "$password_file")"

password=""
if [[ -x $aws ]]; then
  password=$("$aws" secretsmanager get-secret-value --secret-id "$secret_arn" \
    --query SecretString --output text 2>/dev/null) || password=""
fi

if [[ -n $password ]]; then
  tmp=$(mktemp "$password_file.XXXXXX")
  printf '%s' "$password" >"$tmp"
  unset password
  chown "$owner" "$tmp"
  chmod 0400 "$tmp"
  mv -f "$tmp" "$password_file"
  log "admin password from $secret_arn ready for PMM's first start"
  exit 0
fi

if [[ -z $(ls -A "$data_dir" 2>/dev/null) ]]; then
  die "could not read $secret_arn and $data_dir is empty (first start): refusing to start PMM with the default admin password; systemd retries"
fi
log "WARNING: could not read $secret_arn; PMM already has data (its admin password is in Grafana's database): starting anyway"
