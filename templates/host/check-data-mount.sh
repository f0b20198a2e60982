#!/usr/bin/env bash
# Run by pmm-server.service before the PMM container starts (ExecStartPre). Succeeds only when
# the mount point is the PMM data volume itself: the device udev links by the volume's EBS id
# (not merely a device with the same UUID, such as a restored copy attached for inspection),
# mounted at its root, ext4, read-write, with the pmm-data directory. Otherwise it says why
# (in the journal) and exits 1: the container does not start, and Restart= tries again later.
#
# Environment (the defaults are the real paths; tests inject temporary ones):
#   PMM_DATA_VOLUME_ID    EBS volume id, e.g. vol-0123456789abcdef0 (required)
#   PMM_MOUNT_POINT       where the volume must be mounted          (default /srv)
#   PMM_BY_ID_DIR         where udev links NVMe devices by id       (default /dev/disk/by-id)
#   PMM_FALLBACK_DEVICE   device name on non-Nitro (Xen) types      (default /dev/xvdf)
#   PMM_NITRO             auto | true | false: NVMe (Nitro) host     (default auto)
set -euo pipefail

refuse() {
  echo "pmm-server: NOT starting PMM: $*" >&2
  exit 1
}

volume_id=${PMM_DATA_VOLUME_ID:-}
mount_point=${PMM_MOUNT_POINT:-/srv}
by_id_dir=${PMM_BY_ID_DIR:-/dev/disk/by-id}
fallback_device=${PMM_FALLBACK_DEVICE:-/dev/xvdf}
nitro=${PMM_NITRO:-auto}
while [[ $mount_point == */ && $mount_point != / ]]; do mount_point=${mount_point%/}; done

[[ $volume_id =~ ^vol-[0-9a-f]+$ ]] || refuse "PMM_DATA_VOLUME_ID must be an EBS volume id (vol-...), got '$volume_id'"
if [[ $nitro == auto ]]; then
  if compgen -G '/sys/class/nvme/nvme*' >/dev/null; then nitro=true; else nitro=false; fi
fi

by_id_link="$by_id_dir/nvme-Amazon_Elastic_Block_Store_${volume_id/-/}"
if [[ -e $by_id_link ]]; then
  device=$(readlink -f "$by_id_link")
elif [[ $nitro == false && -b $fallback_device ]]; then
  device=$(readlink -f "$fallback_device")
else
  refuse "the data volume $volume_id is not attached ($by_id_link does not exist)"
fi
[[ -b $device ]] || refuse "$device (the data volume $volume_id) is not a block device"
device_majmin=$(printf '%d:%d' "0x$(stat -L -c %t "$device")" "0x$(stat -L -c %T "$device")")

mountpoint -q "$mount_point" ||
  refuse "$mount_point is not mounted: PMM runs only on the data volume $volume_id, never on the root disk (pmm-data-volume.service mounts it)"
# The last line is the mount on top (the one PMM would see). -r: spaces escaped as \x20.
read -r majmin fsroot fstype options source < <(findmnt -n -r -o MAJ:MIN,FSROOT,FSTYPE,OPTIONS,SOURCE --mountpoint "$mount_point" | tail -n 1)
[[ $majmin == "$device_majmin" ]] ||
  refuse "$mount_point is mounted from $source ($majmin), not from the data volume $volume_id ($device, $device_majmin); a copy with the same UUID or another disk? Unmount it and start pmm-data-volume.service"
[[ $fsroot == / ]] || refuse "$mount_point is a bind of $fsroot on the data volume, not the volume's root"
[[ $fstype == ext4 ]] || refuse "$mount_point is $fstype, not ext4"
[[ ,$options, == *,rw,* ]] ||
  refuse "$mount_point (the data volume $volume_id) is mounted read-only ($options): ext4 errors? See journalctl -k; unmount it and run e2fsck -f $device"
[[ -d $mount_point/pmm-data ]] || refuse "$mount_point/pmm-data does not exist (pmm-data-volume.service creates it)"
echo "pmm-server: $mount_point is the data volume $volume_id ($device), ext4, read-write"
