#!/usr/bin/env bash
# Sets the PMM admin password from the Secrets Manager secret, with the instance role, once
# PMM answers /v1/readyz, and only when the secret's version differs from the last one
# applied (pmm-admin-password.timer runs this every few minutes, so a changed secret is
# applied within minutes and a failed attempt is retried).
#
# The password never appears in a command line, the journal or a file: the AWS CLI writes it
# to this script's pipe, and it reaches the container on stdin of `docker exec -i`.
set -euo pipefail
umask 077

log() { echo "pmm-admin-password: $*"; }
die() {
  echo "pmm-admin-password: ERROR: $*" >&2
  exit 1
}

secret_arn=${PMM_ADMIN_SECRET_ARN:?PMM_ADMIN_SECRET_ARN is not set (see /etc/pmm/host.env)}
aws=${PMM_AWS_CLI:-/snap/bin/aws}
docker=${DOCKER:-/usr/bin/docker}
readyz_url=${PMM_READYZ_URL:-http://127.0.0.1/v1/readyz}
ready_timeout_seconds=${PMM_READY_TIMEOUT_SECONDS:-900}
# Kept on the data volume (outside the container's directory): it describes that volume's
# Grafana database, so it survives instance replacement and follows a restored snapshot.
state_file=${PMM_ADMIN_PASSWORD_STATE:-/srv/.pmm-admin-password-version}
attempts=${PMM_ADMIN_PASSWORD_ATTEMPTS:-5}
retry_seconds=${PMM_ADMIN_PASSWORD_RETRY_SECONDS:-15}

waited=0
until curl -fsS -o /dev/null --max-time 5 "$readyz_url"; do
  if ((waited >= ready_timeout_seconds)); then
    die "PMM is not ready at $readyz_url after ${ready_timeout_seconds}s; the timer will retry"
  fi
  sleep 5
  waited=$((waited + 5))
done

version=$("$aws" secretsmanager get-secret-value --secret-id "$secret_arn" \
  --query VersionId --output text) || die "could not read the version of $secret_arn"
if [[ -f $state_file && $(<"$state_file") == "$version" ]]; then
  log "admin password already set from secret version $version"
  exit 0
fi

password=$("$aws" secretsmanager get-secret-value --secret-id "$secret_arn" \
  --version-id "$version" --query SecretString --output text) ||
  die "could not read $secret_arn"
[[ -n $password ]] || die "secret $secret_arn is empty"

for ((attempt = 1; attempt <= attempts; attempt++)); do
  # Output is discarded: it is not ours to log and could echo its input.
  # shellcheck disable=SC2016 # $p is expanded by the container's shell
  if printf '%s\n' "$password" |
    "$docker" exec -i pmm-server sh -c 'IFS= read -r p && exec change-admin-password "$p"' \
      >/dev/null 2>&1; then
    unset password
    printf '%s\n' "$version" >"$state_file.tmp"
    mv -f "$state_file.tmp" "$state_file"
    log "admin password set from secret version $version"
    exit 0
  fi
  log "change-admin-password failed (attempt $attempt of $attempts)"
  sleep "$retry_seconds"
done
unset password
die "could not set the admin password after $attempts attempts; the timer will retry"
