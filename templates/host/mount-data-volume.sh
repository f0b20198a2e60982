#!/usr/bin/env bash
# Finds the PMM data volume by its EBS volume id, creates an ext4 filesystem on it ONLY when
# the device holds no filesystem or partition table at all, mounts it (by UUID, nofail) and
# grows the filesystem when the volume was resized. Safe to run any number of times.
#
# Environment (the defaults are the real paths; tests inject temporary ones):
#   PMM_DATA_VOLUME_ID           EBS volume id, e.g. vol-0123456789abcdef0 (required)
#   PMM_MOUNT_POINT              where the volume is mounted           (default /srv)
#   PMM_FSTAB                    fstab to record the mount in          (default /etc/fstab)
#   PMM_BY_ID_DIR                where udev links NVMe devices by id   (default /dev/disk/by-id)
#   PMM_FALLBACK_DEVICE          device name on non-Nitro (Xen) types  (default /dev/xvdf)
#   PMM_NITRO                    auto | true | false: NVMe (Nitro) host (default auto)
#   PMM_DEVICE_TIMEOUT_SECONDS   how long to wait for the device       (default 600)
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
data_owner=${PMM_DATA_OWNER:-1000:1000}
systemctl_cmd=${PMM_SYSTEMCTL-systemctl}
data_dir="$mount_point/pmm-data"

[[ $volume_id =~ ^vol-[0-9a-f]+$ ]] || die "PMM_DATA_VOLUME_ID must be an EBS volume id (vol-...), got '$volume_id'"
[[ $timeout_seconds =~ ^[0-9]+$ ]] || die "PMM_DEVICE_TIMEOUT_SECONDS must be a whole number, got '$timeout_seconds'"

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

# Low-level probe (-p: no cache). Exit 2 means no filesystem, RAID member or partition table
# signature at all; that is the ONLY case in which we create a filesystem.
probe_rc=0
probe=$(blkid -p -o export "$device") || probe_rc=$?
if ((probe_rc == 2)); then
  log "$device is blank: creating an ext4 filesystem"
  mkfs.ext4 -q -L pmm-data -m 1 "$device"
  probe=$(blkid -p -o export "$device")
elif ((probe_rc != 0)); then
  die "blkid could not probe $device (exit $probe_rc); refusing to touch it"
fi
fs_type=$(sed -n 's/^TYPE=//p' <<<"$probe")
uuid=$(sed -n 's/^UUID=//p' <<<"$probe")
if [[ $fs_type != ext4 ]]; then
  die "$device holds '${fs_type:-a partition table or unknown data}', not ext4; refusing to format or mount it"
fi
[[ -n $uuid ]] || die "$device has an ext4 filesystem without a UUID"

# Record the mount by UUID with nofail (a missing volume must not stop the boot), replacing
# any earlier entry for the mount point; the file is replaced atomically.
entry="UUID=$uuid $mount_point ext4 defaults,nofail,x-systemd.device-timeout=5min 0 2"
touch "$fstab"
if ! grep -qxF "$entry" "$fstab"; then
  tmp=$(mktemp "$fstab.pmm.XXXXXX")
  awk -v mp="$mount_point" '!($1 !~ /^#/ && $2 == mp)' "$fstab" >"$tmp"
  echo "$entry" >>"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$fstab"
  log "recorded $mount_point in $fstab"
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

mkdir -p "$mount_point"
if mountpoint -q "$mount_point"; then
  mounted=$(findmnt -n -o SOURCE --mountpoint "$mount_point")
  if [[ $(readlink -f "$mounted") != "$device" ]]; then
    die "$mount_point is already mounted from $mounted, not from the data volume $device"
  fi
  log "$mount_point is already mounted"
  grown=$(growth_bytes)
  if ((grown > 0)); then
    log "the volume grew by $grown bytes: growing the mounted filesystem online"
    resize2fs "$device" || die "could not grow the filesystem on $device online (the data is intact)"
  fi
else
  grown=$(growth_bytes)
  if ((grown > 0)); then
    # Not mounted yet (boot after a resize, or a snapshot restored to a larger volume):
    # check the filesystem, then grow it offline before mounting.
    log "the volume grew by $grown bytes: checking and growing the filesystem"
    fsck_rc=0
    e2fsck -f -p "$device" || fsck_rc=$?
    if ((fsck_rc < 4)); then
      resize2fs "$device"
    else
      log "WARNING: e2fsck found errors it could not fix (exit $fsck_rc); not growing $device"
    fi
  fi
  mount -t ext4 -o defaults "$device" "$mount_point"
  log "mounted $device at $mount_point"
  mounted_now=true
fi

mkdir -p "$data_dir"
chown "$data_owner" "$data_dir"
log "ready: $data_dir on $device (ext4, UUID $uuid)"

if [[ ${mounted_now:-false} == true && -n $systemctl_cmd ]]; then
  # --no-block: this unit is ordered before pmm-server.service; a no-op if PMM already runs.
  log "mounted by this run: starting pmm-server.service"
  "$systemctl_cmd" start --no-block pmm-server.service || log "WARNING: could not start pmm-server.service"
fi
