#!/usr/bin/env bash
# pmm-config.timer (every minute): applies PMM's runtime configuration from SSM (<path>/config,
# <path>/custom-queries/<r>) in place; quiet when unchanged. The tag is resolved to a digest
# once per set of PMM settings (the config without volume/secret) and recorded in <path>/image
# ("config=<sha256> image=<ref> tag=<tag>"), reused by a replaced host or a restored volume.
# Any failure changes nothing; the timer retries. docs/operations.md, "Day-2 changes".
# Tuning (issue 16): retention, resolutions, ClickHouse profile and PMM_EXTRA_ENV_<NAME> lines
# go to the container's env file (checked again here: defence in depth); PMM_HOST_SWAP_MIB is
# the swap file size, kept by swap.sh on every run (a swap-only change restarts nothing).
# One run at a time (flock); a second one exits and the next tick retries.
# Tests override: PMM_AWS_CLI, DOCKER, PMM_ETC_DIR, PMM_SYSTEMCTL, PMM_PULL_TIMEOUT_SECONDS,
# PMM_SWAP_CMD.
set -euo pipefail
umask 022
export LC_ALL=C

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
swap_cmd=${PMM_SWAP_CMD:-/usr/local/lib/pmm/swap.sh}

runtime_env=$etc/runtime.env
server_env=$etc/pmm-server.env
queries_dir=$etc/custom-queries/postgresql
applied_file=$etc/applied-config.sha256
repository=percona/pmm-server

[[ -x $aws ]] || die "the AWS CLI ($aws) is not installed yet; the timer retries"
install -d -m 0755 "$etc"
exec 9>"$etc/apply-config.lock"
if ! flock -n 9; then
  log "another run is applying the configuration; the timer retries"
  exit 0
fi
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
  [[ -z ${cfg[${BASH_REMATCH[1]}]+set} ]] || die "$path/config: ${BASH_REMATCH[1]} appears twice"
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
# Tuning keys may be absent (a configuration older than the host): empty means "not set".
tuning=(PMM_DATA_RETENTION PMM_METRICS_RESOLUTION_HR PMM_METRICS_RESOLUTION_MR PMM_METRICS_RESOLUTION_LR PMM_CLICKHOUSE_CONFIG)
optional() { [[ -z ${cfg[$1]:-} ]] || check "$1" "$2"; }
duration='^[1-9][0-9]{0,8}(h|m|s)$'
for k in "${tuning[@]:1:3}"; do optional "$k" "$duration"; done
optional PMM_CLICKHOUSE_CONFIG '^(default|low-memory)$'
optional PMM_HOST_SWAP_MIB '^[0-9]{1,6}$'
optional PMM_DATA_RETENTION "$duration"
if [[ -n ${cfg[PMM_DATA_RETENTION]:-} ]]; then
  v=${cfg[PMM_DATA_RETENTION]}
  declare -A unit=([h]=3600 [m]=60 [s]=1)
  secs=$((10#${v%?} * ${unit[${v: -1}]}))
  ((secs % 86400 == 0 && secs >= 86400 && secs <= 3650 * 86400)) ||
    die "$path/config: PMM_DATA_RETENTION must be whole days from 1 to 3650 ('$v')"
fi
# Names the module sets itself; equal to MODULE_SET_ENV_NAMES/_PREFIXES in constructs/pmm-tuning.ts.
reserved_names=" PMM_ENABLE_TELEMETRY PMM_PUBLIC_ADDRESS PMM_DATA_RETENTION PMM_METRICS_RESOLUTION PMM_METRICS_RESOLUTION_HR PMM_METRICS_RESOLUTION_MR PMM_METRICS_RESOLUTION_LR PMM_CLICKHOUSE_CONFIG PMM_IMAGE PMM_IMAGE_TAG PMM_DATA_VOLUME_ID PMM_ADMIN_SECRET_ARN PMM_CONFIG_PATH PMM_HOST_SWAP_MIB GF_SECURITY_COOKIE_SECURE "
reserved_prefixes='^(PMM_CUSTOM_QUERIES_|PMM_EXTRA_ENV_|GF_SECURITY_ADMIN_)'
extra=()
for k in $(printf '%s\n' "${!cfg[@]}" | sort); do
  [[ $k == PMM_EXTRA_ENV_* ]] || continue
  name=${k#PMM_EXTRA_ENV_}
  [[ $name =~ ^(PMM|GF)_[A-Z0-9_]+$ ]] || die "$path/config: $k is not a PMM_* or GF_* name"
  [[ $reserved_names != *" $name "* && ! $name =~ $reserved_prefixes ]] ||
    die "$path/config: pmm_extra_env may not set $name (the module sets it)"
  [[ ${cfg[$k]} =~ ^[[:print:]]*$ ]] || die "$path/config: the value of $name is not printable ASCII"
  extra+=("$name=${cfg[$k]}")
done
tag=${cfg[PMM_IMAGE_TAG]#"$repository:"}

# The swap file follows the configuration on every run (also after a reboot or a failure).
if [[ -n ${cfg[PMM_HOST_SWAP_MIB]:-} ]]; then
  "$swap_cmd" "${cfg[PMM_HOST_SWAP_MIB]}" || log "WARNING: could not set up ${cfg[PMM_HOST_SWAP_MIB]} MiB of swap; the timer retries"
fi

# identity [EXCLUDED_KEY...]: SHA-256 of the parsed lines in a fixed order, without those keys
# and without tuning keys left empty (so a configuration from before them keeps its identity).
identity() {
  local k
  for k in $(printf '%s\n' "${!cfg[@]}" | sort); do
    [[ -z ${cfg[$k]} && " ${tuning[*]} " == *" $k "* ]] && continue
    [[ " $* " == *" $k "* ]] || printf '%s=%s\n' "$k" "${cfg[$k]}"
  done | sha256sum | cut -d ' ' -f 1
}
# The swap size is not PMM's: changing it alone restarts nothing.
hash=$(identity PMM_HOST_SWAP_MIB)
# What the image is resolved for: PMM's own settings. A restored data volume or a new secret
# changes the configuration but not this, so it never moves "3" to a newer image.
image_key=$(identity PMM_DATA_VOLUME_ID PMM_ADMIN_SECRET_ARN PMM_HOST_SWAP_MIB)
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
old_volume=""
[[ -f $runtime_env ]] && old_volume=$(sed -n 's/^PMM_DATA_VOLUME_ID=//p' "$runtime_env")
printf 'PMM_IMAGE=%s\nPMM_DATA_VOLUME_ID=%s\nPMM_ADMIN_SECRET_ARN=%s\n' "$image" \
  "${cfg[PMM_DATA_VOLUME_ID]}" "${cfg[PMM_ADMIN_SECRET_ARN]}" | write_file "$runtime_env"
# GF_SECURITY_COOKIE_SECURE: Grafana session cookies only over HTTPS (users reach PMM
# through the HTTPS listener).
{
  printf 'PMM_ENABLE_TELEMETRY=%s\nPMM_PUBLIC_ADDRESS=%s\nGF_SECURITY_COOKIE_SECURE=true\n' \
    "${cfg[PMM_ENABLE_TELEMETRY]}" "${cfg[PMM_PUBLIC_ADDRESS]}"
  for k in "${tuning[@]}"; do [[ -z ${cfg[$k]:-} ]] || printf '%s=%s\n' "$k" "${cfg[$k]}"; done
  ((${#extra[@]} == 0)) || printf '%s\n' "${extra[@]}"
} | write_file "$server_env"
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
