#!/usr/bin/env bash
# ExecStartPre of pmm-server.service: reads the admin password secret with the instance role
# into a file on tmpfs (/run), mode 0400 and owned by PMM's user, which run-pmm-server.sh
# mounts read-only into the container. Grafana then creates its admin user with that password
# on PMM's first start, so admin/admin is never reachable through the load balancer.
#
# When the secret cannot be read:
#   - first start (the PMM data directory is empty): exit non-zero, so PMM does not start with
#     admin/admin; pmm-server.service retries (Restart=always) until the secret is readable;
#   - PMM has data: start anyway. The admin password lives in Grafana's database on the data
#     volume, and pmm-admin-password.timer applies later changes of the secret.
#
# The password is never in a command line or environment: the AWS CLI writes it to this
# script's pipe and the shell's printf builtin writes it to the file.
#
# Environment (the defaults are the real paths; tests inject temporary ones):
#   PMM_ADMIN_SECRET_ARN      the secret (required; /etc/pmm/host.env)
#   PMM_AWS_CLI               the AWS CLI                        (default /snap/bin/aws)
#   PMM_DATA_DIR              PMM's data directory               (default /srv/pmm-data)
#   PMM_ADMIN_PASSWORD_FILE   where the password is written      (default /run/pmm/admin-password)
#   PMM_DATA_OWNER            owner of the file (PMM's uid:gid)  (default 1000:1000)
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
