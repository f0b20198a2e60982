#!/usr/bin/env bash
# Finds the PMM data volume by its EBS volume id, creates an ext4 filesystem on it ONLY when
# the device is PROVEN blank, mounts it read-write and grows the filesystem when the volume
# was resized. Safe to run any number of times, and concurrently: one run at a time holds a
# lock for the whole run; the others wait for it.
#
# "Proven blank": blkid -p finds no signature, wipefs -n finds none, AND the first and the last
# MiB of the device read back (direct I/O) without error and are all zeros. Any read error,
# timeout or probe failure: the run refuses, touches nothing and exits non-zero.
#
# Environment (the defaults are the real paths; tests inject temporary ones):
#   PMM_DATA_VOLUME_ID           EBS volume id, e.g. vol-0123456789abcdef0 (required)
#   PMM_MOUNT_POINT              where the volume is mounted           (default /srv)
#   PMM_FSTAB                    fstab to record the mount in          (default /etc/fstab)
#   PMM_BY_ID_DIR                where udev links NVMe devices by id   (default /dev/disk/by-id)
#   PMM_FALLBACK_DEVICE          device name on non-Nitro (Xen) types  (default /dev/xvdf)
#   PMM_NITRO                    auto | true | false: NVMe (Nitro) host (default auto)
#   PMM_DEVICE_TIMEOUT_SECONDS   how long to wait for the device       (default 600)
#   PMM_PROBE_TIMEOUT_SECONDS    limit for each probe and read of the device (default 60)
#   PMM_LOCK_FILE                the lock held for the whole run (default /run/lock/pmm-data-volume.lock)
#   PMM_LOCK_TIMEOUT_SECONDS     how long to wait for another run      (default 900)
#   PMM_DATA_OWNER               owner of the PMM data directory       (default 1000:1000)
#   PMM_SYSTEMCTL                starts pmm-server after this run mounted the volume
#                                (default systemctl; empty: start nothing)
#
# When this run mounts the volume (it was attached late, so srv.mount failed at boot and
# pmm-server.service failed its dependency, which Restart= does not retry), it starts
# pmm-server.service. During maintenance with /srv unmounted, stop pmm-data-volume.timer first.
set -euo pipefail

log() { echo "pmm-data-volume: $*"; }
die() {
  echo "pmm-data-volume: ERROR: $*" >&2
  exit 1
}

volume_id=${PMM_DATA_VOLUME_ID:-}
mount_point=${PMM_MOUNT_POINT:-/srv}
fstab=${PMM_FSTAB:-/etc/fstab}
by_id_dir=${PMM_BY_ID_DIR:-/dev/disk/by-id}
fallback_device=${PMM_FALLBACK_DEVICE:-/dev/xvdf}
nitro=${PMM_NITRO:-auto}
timeout_seconds=${PMM_DEVICE_TIMEOUT_SECONDS:-600}
probe_timeout=${PMM_PROBE_TIMEOUT_SECONDS:-60}
lock_file=${PMM_LOCK_FILE:-/run/lock/pmm-data-volume.lock}
lock_timeout=${PMM_LOCK_TIMEOUT_SECONDS:-900}
data_owner=${PMM_DATA_OWNER:-1000:1000}
systemctl_cmd=${PMM_SYSTEMCTL-systemctl}
readonly MIB=1048576

[[ $volume_id =~ ^vol-[0-9a-f]+$ ]] || die "PMM_DATA_VOLUME_ID must be an EBS volume id (vol-...), got '$volume_id'"
for setting in PMM_DEVICE_TIMEOUT_SECONDS:$timeout_seconds PMM_PROBE_TIMEOUT_SECONDS:$probe_timeout \
  PMM_LOCK_TIMEOUT_SECONDS:$lock_timeout; do
  [[ ${setting#*:} =~ ^[0-9]+$ ]] || die "${setting%%:*} must be a whole number, got '${setting#*:}'"
done
[[ $mount_point == /* ]] || die "PMM_MOUNT_POINT must be an absolute path, got '$mount_point'"
# /srv/ and /srv are the same mount point.
while [[ $mount_point == */ && $mount_point != / ]]; do mount_point=${mount_point%/}; done
data_dir="$mount_point/pmm-data"

# One run at a time (the service, its timer, an operator): the lock is held until this
# process exits, so two runs never both format or both mount.
mkdir -p "$(dirname "$lock_file")"
exec 9>>"$lock_file"
if ! flock -n 9; then
  log "another run holds $lock_file: waiting up to ${lock_timeout}s for it to finish"
  flock -w "$lock_timeout" 9 || die "another run of this script still holds $lock_file after ${lock_timeout}s; not touching the volume"
fi

if [[ $nitro == auto ]]; then
  # Nitro instances expose every EBS volume (the root one too) as an NVMe controller.
  if compgen -G '/sys/class/nvme/nvme*' >/dev/null; then nitro=true; else nitro=false; fi
fi

# The NVMe serial number of an EBS volume is its id without the hyphen; udev links it as
# nvme-Amazon_Elastic_Block_Store_<serial>. NVMe names (nvme1n1, ...) can change between boots.
by_id_link="$by_id_dir/nvme-Amazon_Elastic_Block_Store_${volume_id/-/}"

find_device() {
  if [[ -e $by_id_link ]]; then
    readlink -f "$by_id_link"
  elif [[ $nitro == false && -b $fallback_device ]]; then
    readlink -f "$fallback_device"
  else
    return 1
  fi
}

device=""
waited=0
until device=$(find_device); do
  if ((waited >= timeout_seconds)); then
    where="$by_id_link"
    [[ $nitro == false ]] && where="$where or $fallback_device"
    die "data volume $volume_id did not appear at $where within ${timeout_seconds}s; is it attached to this instance?"
  fi
  ((waited == 0)) && log "waiting up to ${timeout_seconds}s for $volume_id ($by_id_link)"
  sleep 2
  waited=$((waited + 2))
done
[[ -b $device ]] || die "$device (volume $volume_id) is not a block device"
log "volume $volume_id is $device"
# The name fstab records: the volume's own link (never a UUID, which a restored copy shares).
if [[ -e $by_id_link ]]; then fstab_source=$by_id_link; else fstab_source=$fallback_device; fi
device_majmin=$(printf '%d:%d' "0x$(stat -L -c %t "$device")" "0x$(stat -L -c %T "$device")")

scratch=$(mktemp -d)
trap 'rm -rf --one-file-system "$scratch"' EXIT

# probe NAME COMMAND...: runs a probe of the device under the probe timeout; its output is in
# $probe_out, its exit status in $probe_rc (124: timed out).
probe() {
  local name=$1
  shift
  probe_rc=0
  probe_out=$(timeout "$probe_timeout" "$@" 2>"$scratch/stderr") || probe_rc=$?
  probe_err=$(head -c 300 "$scratch/stderr" | tr '\n' ' ')
  if ((probe_rc == 124)); then
    die "$name timed out after ${probe_timeout}s on $device; refusing to touch it"
  fi
}

# Reads one MiB at OFFSET with direct I/O (never the page cache) and fails unless it read
# back completely, without error, as zeros.
require_zero_mib() {
  local offset=$1 what=$2
  probe "reading the $what MiB" dd if="$device" of="$scratch/sample" bs=$MIB count=$MIB skip="$offset" \
    iflag=direct,skip_bytes,count_bytes status=none
  ((probe_rc == 0)) || die "could not read the $what MiB of $device (dd exit $probe_rc: $probe_err); refusing to format a device that cannot be read"
  [[ $(stat -c %s "$scratch/sample") == "$MIB" ]] || die "short read of the $what MiB of $device; refusing to format it"
  cmp -s -n $MIB "$scratch/sample" /dev/zero || die "$device is not blank: its $what MiB holds data although blkid found no signature; refusing to format it"
}

# Succeeds only when the device is proven blank (see the header); dies with the reason otherwise.
prove_blank() {
  local size
  probe "blockdev --getsize64" blockdev --getsize64 "$device"
  if ((probe_rc != 0)) || [[ ! $probe_out =~ ^[0-9]+$ ]]; then
    die "could not read the size of $device (exit $probe_rc: $probe_err)"
  fi
  size=$probe_out
  ((size >= 2 * MIB)) || die "$device is only $size bytes; refusing to format it"
  require_zero_mib 0 first
  require_zero_mib $(((size - MIB) / 4096 * 4096)) last
  probe "wipefs -n" wipefs --no-act --noheadings --output TYPE,OFFSET "$device"
  ((probe_rc == 0)) || die "wipefs could not probe $device (exit $probe_rc: $probe_err); refusing to format it"
  [[ -z $probe_out ]] || die "wipefs found signatures on $device that blkid did not ($(tr '\n' ' ' <<<"$probe_out")); refusing to format it"
}

# Low-level probe (-p: no cache). Exit 2 means "no signature found", which blkid also says
# when it could not read the device: so it only starts the proof that the device is blank.
probe "blkid -p" blkid -p -o export "$device"
if ((probe_rc == 2)); then
  prove_blank
  log "$device is blank (read back as zeros, no signature): creating an ext4 filesystem"
  mkfs.ext4 -q -L pmm-data -m 1 "$device" || die "mkfs.ext4 failed on $device (exit $?)"
  probe "blkid -p" blkid -p -o export "$device"
fi
((probe_rc == 0)) || die "blkid could not probe $device (exit $probe_rc: $probe_err); refusing to touch it"
fs_type=$(sed -n 's/^TYPE=//p' <<<"$probe_out")
uuid=$(sed -n 's/^UUID=//p' <<<"$probe_out")
if [[ $fs_type != ext4 ]]; then
  die "$device holds '${fs_type:-a partition table or unknown data}', not ext4; refusing to format or mount it"
fi
[[ -n $uuid ]] || die "$device has an ext4 filesystem without a UUID"

# Record the mount by the volume's own device link with nofail (a missing volume must not stop
# the boot), replacing every earlier entry for the mount point in any spelling (/srv, /srv/);
# the file is replaced atomically, and only when it changes.
entry="$fstab_source $mount_point ext4 defaults,nofail,x-systemd.device-timeout=5min 0 2"
touch "$fstab"
awk -v mp="$mount_point" -v removed="$scratch/removed" '
  { t = $2; while (length(t) > 1 && substr(t, length(t)) == "/") t = substr(t, 1, length(t) - 1) }
  $1 !~ /^#/ && t == mp { print > removed; next }
  { print }' "$fstab" >"$scratch/fstab"
echo "$entry" >>"$scratch/fstab"
if ! cmp -s "$scratch/fstab" "$fstab"; then
  tmp=$(mktemp "$fstab.pmm.XXXXXX")
  cat "$scratch/fstab" >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$fstab"
  log "recorded $mount_point in $fstab"
  if [[ -s $scratch/removed ]] && grep -qvxF "$entry" "$scratch/removed"; then
    log "replaced earlier $fstab entries for $mount_point: $(grep -vxF "$entry" "$scratch/removed" | tr '\n' ';')"
  fi
  if [[ $fstab == /etc/fstab && -d /run/systemd/system ]]; then systemctl daemon-reload; fi
fi

# Bytes the volume has beyond its filesystem (a resized volume); 0 when they match.
growth_bytes() {
  local device_bytes block_count block_size header
  device_bytes=$(blockdev --getsize64 "$device")
  header=$(dumpe2fs -h "$device" 2>/dev/null)
  block_count=$(sed -n 's/^Block count: *//p' <<<"$header")
  block_size=$(sed -n 's/^Block size: *//p' <<<"$header")
  # Ignore less than 256 blocks: ext4 cannot always use the last partial block group.
  if ((device_bytes - block_count * block_size >= 256 * block_size)); then
    echo $((device_bytes - block_count * block_size))
  else
    echo 0
  fi
}

# Files on the root disk under the mount point are hidden while the volume is mounted there
# (something wrote them while it was not mounted). Warn; never move or delete them.
# Reads entry names on stdin.
warn_hidden() {
  local names count
  names=$(head -c 100000)
  [[ -n $names ]] || return 0
  count=$(wc -l <<<"$names")
  log "WARNING: $count entries on the root disk under $mount_point ($(head -n 5 <<<"$names" | tr '\n' ' ')) are hidden by the data volume mounted over them; unmount it to look at them"
}

list_dir() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null || true; }

# With the volume mounted: looks under it in a private mount namespace where it is unmounted
# (the host's mounts stay as they are). Best effort: no warning when that is not possible.
list_under_mount() {
  # shellcheck disable=SC2016 # $1 is expanded by the inner shell
  unshare --mount --propagation private -- bash -c \
    'umount -l -- "$1" && find "$1" -mindepth 1 -maxdepth 1 -printf "%f\n"' _ "$mount_point" 2>/dev/null || true
}

require_rw() {
  local options
  options=$(findmnt -n -o OPTIONS --mountpoint "$mount_point" | tail -n 1)
  [[ ,$options, == *,rw,* ]] || die "$mount_point is mounted read-only ($options): ext4 errors? (journalctl -k). Not starting PMM on it; unmount it and run e2fsck -f $device"
}

mkdir -p "$mount_point"
if mountpoint -q "$mount_point"; then
  read -r mounted_majmin mounted_root mounted_source < <(findmnt -n -r -o MAJ:MIN,FSROOT,SOURCE --mountpoint "$mount_point" | tail -n 1)
  if [[ $mounted_majmin != "$device_majmin" ]]; then
    die "$mount_point is already mounted from $mounted_source ($mounted_majmin), not from the data volume $device ($device_majmin)"
  fi
  [[ $mounted_root == / ]] || die "$mount_point is a bind of $mounted_root on the data volume, not its root"
  log "$mount_point is already mounted"
  require_rw
  list_under_mount | warn_hidden
  grown=$(growth_bytes)
  if ((grown > 0)); then
    log "the volume grew by $grown bytes: growing the mounted filesystem online"
    resize2fs "$device" || die "could not grow the filesystem on $device online (the data is intact)"
  fi
else
  list_dir "$mount_point" | warn_hidden
  grown=$(growth_bytes)
  fsck_rc=0
  if ((grown > 0)); then
    # Not mounted yet (a resize while srv.mount could not mount it, e.g. late attachment):
    # check the filesystem fully, then grow it offline before mounting.
    log "the volume grew by $grown bytes: checking and growing the filesystem"
    e2fsck -f -p "$device" || fsck_rc=$?
  else
    e2fsck -p "$device" || fsck_rc=$?
  fi
  if ((fsck_rc >= 4)); then
    die "e2fsck could not repair the filesystem on $device (exit $fsck_rc); not mounting it, PMM stays stopped. Repair it by hand (e2fsck -f $device; see docs/recovery.md)"
  fi
  ((fsck_rc == 0)) || log "e2fsck repaired the filesystem on $device (exit $fsck_rc)"
  if ((grown > 0)); then resize2fs "$device"; fi
  # -w: never fall back to a read-only mount.
  mount -w -t ext4 -o defaults "$device" "$mount_point"
  log "mounted $device at $mount_point"
  mounted_now=true
  require_rw
fi

mkdir -p "$data_dir"
chown "$data_owner" "$data_dir"
log "ready: $data_dir on $device (ext4, UUID $uuid), read-write"

if [[ ${mounted_now:-false} == true && -n $systemctl_cmd ]]; then
  # --no-block: this unit is ordered before pmm-server.service; a no-op if PMM already runs.
  log "mounted by this run: starting pmm-server.service"
  "$systemctl_cmd" start --no-block pmm-server.service 9>&- || log "WARNING: could not start pmm-server.service"
fi
