#!/usr/bin/env bash
# pmm-config.timer (every minute): applies PMM's runtime configuration from SSM (<path>/config,
# <path>/custom-queries/<r>) in place; quiet when unchanged. The tag is resolved to a digest
# once per set of PMM settings (the config without volume/secret) and recorded in <path>/image
# ("config=<sha256> image=<ref> tag=<tag>"), reused by a replaced host or a restored volume.
# Any failure changes nothing; the timer retries. docs/operations.md, "Day-2 changes".
# Tests override: PMM_AWS_CLI, DOCKER, PMM_ETC_DIR, PMM_SYSTEMCTL, PMM_PULL_TIMEOUT_SECONDS.
set -euo pipefail
umask 022

log() { echo "pmm-config: $*"; }
die() {
  echo "pmm-config: ERROR: $*" >&2
  exit 1
}

path=${PMM_CONFIG_PATH:?PMM_CONFIG_PATH is not set (see /etc/pmm/host.env)}
aws=${PMM_AWS_CLI:-/snap/bin/aws}
docker=${DOCKER:-/usr/bin/docker}
etc=${PMM_ETC_DIR:-/etc/pmm}
systemctl_cmd=${PMM_SYSTEMCTL-systemctl}
pull_timeout=${PMM_PULL_TIMEOUT_SECONDS:-900}

runtime_env=$etc/runtime.env
server_env=$etc/pmm-server.env
queries_dir=$etc/custom-queries/postgresql
applied_file=$etc/applied-config.sha256
repository=percona/pmm-server

[[ -x $aws ]] || die "the AWS CLI ($aws) is not installed yet; the timer retries"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

get_parameter() { "$aws" ssm get-parameter --name "$1" --query Parameter.Value --output text; }

get_parameter "$path/config" >"$work/config" ||
  die "could not read $path/config; PMM keeps its current configuration and the timer retries"

# Parse, never source: every line is PMM_NAME=value.
declare -A cfg=()
while IFS= read -r line || [[ -n $line ]]; do
  [[ -z $line ]] && continue
  [[ $line =~ ^(PMM_[A-Z0-9_]+)=(.*)$ ]] || die "malformed line in $path/config: '${line:0:60}'"
  cfg[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done <"$work/config"

# check NAME REGEX: the value must be present and match.
check() {
  [[ ${cfg[$1]+set} == set && ${cfg[$1]} =~ $2 ]] ||
    die "$path/config: $1 is missing or malformed ('${cfg[$1]:-}')"
}
check PMM_IMAGE_TAG "^$repository:[A-Za-z0-9._-]+\$"
check PMM_DATA_VOLUME_ID '^vol-[0-9a-f]+$'
check PMM_ADMIN_SECRET_ARN '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$'
check PMM_ENABLE_TELEMETRY '^(true|false)$'
check PMM_PUBLIC_ADDRESS '^[A-Za-z0-9.-]+$'
for r in HIGH MEDIUM LOW; do check "PMM_CUSTOM_QUERIES_${r}_SHA256" '^([0-9a-f]{64})?$'; done
tag=${cfg[PMM_IMAGE_TAG]#"$repository:"}

# identity [EXCLUDED_KEY...]: SHA-256 of the parsed lines in a fixed order, without those keys.
identity() {
  local k
  for k in $(printf '%s\n' "${!cfg[@]}" | LC_ALL=C sort); do
    [[ " $* " == *" $k "* ]] || printf '%s=%s\n' "$k" "${cfg[$k]}"
  done | sha256sum | cut -d ' ' -f 1
}
hash=$(identity)
# What the image is resolved for: PMM's own settings. A restored data volume or a new secret
# changes the configuration but not this, so it never moves "3" to a newer image.
image_key=$(identity PMM_DATA_VOLUME_ID PMM_ADMIN_SECRET_ARN)
if [[ -f $applied_file && $(<"$applied_file") == "$hash" && -f $runtime_env && -f $server_env ]]; then
  exit 0
fi
log "new configuration $hash (image tag $tag)"

for r in high medium low; do
  want=${cfg[PMM_CUSTOM_QUERIES_${r^^}_SHA256]}
  [[ -n $want ]] || continue
  get_parameter "$path/custom-queries/$r" | base64 -d | gzip -dc >"$work/$r.yml" ||
    die "could not read $path/custom-queries/$r; the timer retries"
  got=$(sha256sum "$work/$r.yml" | cut -d ' ' -f 1)
  [[ $got == "$want" ]] ||
    die "$path/custom-queries/$r does not match the configuration yet (an apply in progress?); the timer retries"
done

pull() { timeout "$pull_timeout" "$docker" pull --quiet "$1" >/dev/null; }

record=$(get_parameter "$path/image" 2>/dev/null) || record=""
record_re="^config=([0-9a-f]{64}) image=($repository@sha256:[0-9a-f]{64}) tag=([A-Za-z0-9._-]+)\$"
if [[ $record =~ $record_re && ${BASH_REMATCH[1]} == "$image_key" ]]; then
  image=${BASH_REMATCH[2]}
  log "reusing $image, resolved for these PMM settings before (no upgrade without an apply)"
  pull "$image" || die "could not pull $image; the timer retries"
else
  pull "$repository:$tag" || die "could not pull $repository:$tag; PMM keeps running its current image and the timer retries"
  digests=$("$docker" image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$repository:$tag") ||
    die "could not inspect $repository:$tag"
  image=$(grep -m 1 -E "^(docker\.io/)?$repository@sha256:[0-9a-f]{64}\$" <<<"$digests") ||
    die "$repository:$tag has no registry digest"
  image=${image#docker.io/}
  # Recorded before it runs: a replaced host then reuses this digest for this configuration.
  "$aws" ssm put-parameter --name "$path/image" --type String --overwrite \
    --value "config=$image_key image=$image tag=$tag" >/dev/null ||
    die "could not record the image in $path/image; not applying (a replaced host could resolve another image)"
  log "resolved $repository:$tag to $image"
fi

# write_file DEST: stdin to DEST atomically (0644).
write_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}
install -d -m 0755 "$etc"
old_volume=""
[[ -f $runtime_env ]] && old_volume=$(sed -n 's/^PMM_DATA_VOLUME_ID=//p' "$runtime_env")
printf 'PMM_IMAGE=%s\nPMM_DATA_VOLUME_ID=%s\nPMM_ADMIN_SECRET_ARN=%s\n' "$image" \
  "${cfg[PMM_DATA_VOLUME_ID]}" "${cfg[PMM_ADMIN_SECRET_ARN]}" | write_file "$runtime_env"
# GF_SECURITY_COOKIE_SECURE: Grafana session cookies only over HTTPS (users reach PMM
# through the HTTPS listener).
printf 'PMM_ENABLE_TELEMETRY=%s\nPMM_PUBLIC_ADDRESS=%s\nGF_SECURITY_COOKIE_SECURE=true\n' \
  "${cfg[PMM_ENABLE_TELEMETRY]}" "${cfg[PMM_PUBLIC_ADDRESS]}" | write_file "$server_env"
for r in high medium low; do
  file=$queries_dir/$r-resolution/queries-custom.yml
  if [[ -f $work/$r.yml ]]; then
    install -d -m 0755 "$(dirname "$file")"
    write_file "$file" <"$work/$r.yml"
  else
    rm -f "$file"
  fi
done
printf '%s\n' "$hash" | write_file "$applied_file"
log "applied: $image, telemetry ${cfg[PMM_ENABLE_TELEMETRY]}, public address ${cfg[PMM_PUBLIC_ADDRESS]}"

if [[ -n $systemctl_cmd ]]; then
  if [[ $old_volume != "${cfg[PMM_DATA_VOLUME_ID]}" ]]; then
    "$systemctl_cmd" start --no-block pmm-data-volume.service || log "WARNING: could not start pmm-data-volume.service"
  fi
  # Only a running PMM is restarted; a stopped one picks the files up when it starts.
  "$systemctl_cmd" try-restart --no-block pmm-server.service || log "WARNING: could not restart pmm-server.service"
fi
