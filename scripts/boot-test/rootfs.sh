#!/usr/bin/env bash
# Builds (once) and prints the path of the boot test's root filesystem: a minimal Debian with
# systemd, udev and cloud-init, cached in $PMM_BOOT_CACHE_DIR (default /var/cache/pmm-cdktf)
# as boot-rootfs-<hash of this file>, so a changed package list or recipe builds a new one and
# later runs on the same machine reuse it. Concurrent builds wait for each other (flock).
#
# Ubuntu 24.04 (the AMI's release) would be the better guest, but Debian 12's debootstrap has
# no script for noble and Debian ships no Ubuntu archive keyring, so its packages could not be
# verified: the guest is Debian 12 (bookworm), whose archive CI reaches.
set -euo pipefail

GUEST_SUITE=bookworm
GUEST_NAME="Debian 12 (bookworm)"
# debootstrap's own resolver cannot install cloud-init (virtual dependencies), so apt does.
BASE_PACKAGES=systemd,systemd-sysv,dbus
GUEST_PACKAGES=(cloud-init udev e2fsprogs util-linux mount curl ca-certificates python3 procps)

cache_dir=${PMM_BOOT_CACHE_DIR:-/var/cache/pmm-cdktf}
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c 1-16)
rootfs="$cache_dir/boot-rootfs-$key"

log() { echo "boot-test: $*" >&2; }

build() {
  local tmp="$rootfs.building"
  rm -rf "$tmp"
  log "building the $GUEST_NAME root filesystem in $rootfs (first run on this machine: a few minutes)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$GUEST_SUITE" "$tmp" >"$cache_dir/debootstrap-$key.log" 2>&1 || {
    tail -n 20 "$cache_dir/debootstrap-$key.log" >&2
    log "ERROR: debootstrap $GUEST_SUITE failed (log: $cache_dir/debootstrap-$key.log)"
    return 1
  }
  systemd-nspawn --quiet --register=no --keep-unit --directory="$tmp" \
    --setenv=DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${GUEST_PACKAGES[@]}" </dev/null \
    >"$cache_dir/apt-$key.log" 2>&1 || {
    tail -n 20 "$cache_dir/apt-$key.log" >&2
    log "ERROR: installing ${GUEST_PACKAGES[*]} in the guest failed (log: $cache_dir/apt-$key.log)"
    return 1
  }
  # cloud-init reads only the NoCloud seed the test writes; it must not write network
  # configuration for the container's interfaces.
  cat >"$tmp/etc/cloud/cloud.cfg.d/90-pmm-boot-test.cfg" <<'CFG'
datasource_list: [NoCloud]
network: {config: disabled}
CFG
  # Like an AMI: no machine id (every instance gets its own), a persistent journal.
  : >"$tmp/etc/machine-id"
  mkdir -p "$tmp/var/log/journal"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*
  echo "$GUEST_NAME" >"$tmp/.pmm-boot-test-guest"
  mv "$tmp" "$rootfs"
}

mkdir -p "$cache_dir"
exec 9>"$cache_dir/boot-rootfs.lock"
flock 9
if [[ ! -f $rootfs/.pmm-boot-test-guest ]]; then
  start=$SECONDS
  build
  log "built the root filesystem in $((SECONDS - start))s ($(du -sh "$rootfs" | cut -f 1))"
else
  log "reusing the cached root filesystem $rootfs"
fi
echo "$rootfs"
