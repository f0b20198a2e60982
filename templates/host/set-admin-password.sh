#!/usr/bin/env bash
# Sets the PMM admin password from the Secrets Manager secret (instance role) once PMM answers
# /v1/readyz, when the secret's current version (DescribeSecret: metadata only) differs from
# the last one applied; pmm-admin-password.timer runs it every few minutes.
# The password is never in a command line (host or container), the journal or a file: it
# reaches Grafana's CLI on stdin (reset-admin-password --password-from-stdin, Grafana >= 9.1).
# PMM's change-admin-password helper is not used: it passes the password as an argument.
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
ready_poll_seconds=${PMM_READY_POLL_SECONDS:-5}
# Kept on the data volume (outside the container's directory): it describes that volume's
# Grafana database, so it survives instance replacement and follows a restored snapshot.
state_file=${PMM_ADMIN_PASSWORD_STATE:-/srv/.pmm-admin-password-version}
attempts=${PMM_ADMIN_PASSWORD_ATTEMPTS:-5}
retry_seconds=${PMM_ADMIN_PASSWORD_RETRY_SECONDS:-15}

# What PMM 3's change-admin-password runs, with the password on stdin instead of in argv.
grafana_reset=(grafana cli --homepath /usr/share/grafana --config=/etc/grafana/grafana.ini
  admin reset-admin-password --password-from-stdin)

# Quiet readiness probe: while PMM starts, "connection refused" every few seconds is noise.
waited=0
until curl -fs -o /dev/null --max-time 5 "$readyz_url" 2>/dev/null; do
  if ((waited >= ready_timeout_seconds)); then
    die "PMM is not ready at $readyz_url after ${ready_timeout_seconds}s; the timer will retry"
  fi
  ((waited == 0)) && log "waiting up to ${ready_timeout_seconds}s for PMM at $readyz_url"
  sleep "$ready_poll_seconds"
  waited=$((waited + ready_poll_seconds))
  ((ready_poll_seconds > 0)) || waited=$((waited + 1))
done

# The version carrying the AWSCURRENT stage, from VersionIdsToStages
# ({"<version id>": ["AWSCURRENT", ...], ...}); version ids and stage names hold no quotes.
stages=$("$aws" secretsmanager describe-secret --secret-id "$secret_arn" \
  --query VersionIdsToStages --output json) || die "could not describe $secret_arn"
version=$(tr -d ' \t\r\n' <<<"$stages" |
  grep -o '"[^"]*":\[[^]]*"AWSCURRENT"' | head -n 1 | cut -d '"' -f 2) || true
[[ -n $version ]] || die "secret $secret_arn has no AWSCURRENT version"
if [[ -f $state_file && $(<"$state_file") == "$version" ]]; then
  log "admin password already set from secret version $version"
  exit 0
fi

password=$("$aws" secretsmanager get-secret-value --secret-id "$secret_arn" \
  --version-id "$version" --query SecretString --output text) ||
  die "could not read $secret_arn"
[[ -n $password ]] || die "secret $secret_arn is empty"

for ((attempt = 1; attempt <= attempts; attempt++)); do
  # printf is a shell builtin (no process, no argv). Output is discarded: it is not ours
  # to log and could echo its input.
  if printf '%s\n' "$password" | "$docker" exec -i pmm-server "${grafana_reset[@]}" >/dev/null 2>&1; then
    unset password
    printf '%s\n' "$version" >"$state_file.tmp"
    mv -f "$state_file.tmp" "$state_file"
    log "admin password set from secret version $version"
    exit 0
  fi
  log "grafana reset-admin-password failed (attempt $attempt of $attempts)"
  sleep "$retry_seconds"
done
unset password
die "could not set the admin password after $attempts attempts; the timer will retry"
