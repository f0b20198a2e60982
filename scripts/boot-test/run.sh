#!/usr/bin/env bash
# Boot proof (`npm run test:boot`, part of `npm run gate`): boots the REAL rendered user data
# on systemd and cloud-init in systemd-nspawn containers, with a loop device as the EBS data
# volume, and asserts each scenario from the container's journal and files. Only Docker, the
# AWS CLI (snap) and the CloudWatch agent are recording stubs (scripts/boot-test/guest/).
# What is emulated and why: docs/boot-test.md. Needs root and a Linux kernel with loop
# devices, overlayfs and FUSE; installs its Debian tools itself when they are missing.
#
# Environment: PMM_BOOT_CACHE_DIR (rootfs cache, default /var/cache/pmm-cdktf),
# PMM_BOOT_TIMEOUT_SECONDS (how long a boot may take to start PMM, default 240),
# PMM_BOOT_SETTLE_SECONDS (how long a refusing scenario watches PMM stay down, default 35),
# PMM_BOOT_SCENARIOS (space-separated subset, for debugging; default all).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
boot_timeout=${PMM_BOOT_TIMEOUT_SECONDS:-240}
settle_seconds=${PMM_BOOT_SETTLE_SECONDS:-35}
all_scenarios="first-boot reboot replacement late-attach foreign-filesystem unreadable"
scenarios=${PMM_BOOT_SCENARIOS:-$all_scenarios}

log() { echo "boot-test: $*"; }
die() {
  echo "boot-test: ERROR: $*" >&2
  exit 1
}

# --- state cleaned up on every exit path -------------------------------------------------
work=""
nspawn_pids=()
overlay_mounts=()
loop_devices=()
fuse_mount=""
fuse_pid=""
failures=0

stop_container() {
  local pid=$1 waited=0
  kill -0 "$pid" 2>/dev/null || return 0
  # SIGTERM makes systemd-nspawn ask the container's systemd for an orderly poweroff.
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < 120)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "container (systemd-nspawn pid $pid) did not power off within 60s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid mp loop
  trap - EXIT INT TERM
  if [[ -n ${leader:-} ]] && kill -0 "$leader" 2>/dev/null; then
    in_guest journalctl -b 0 --no-pager -o short-monotonic >"$work/logs/running-at-exit.journal.log" 2>&1 || true
  fi
  for pid in ${nspawn_pids[@]+"${nspawn_pids[@]}"}; do stop_container "$pid"; done
  for mp in ${overlay_mounts[@]+"${overlay_mounts[@]}"}; do
    mountpoint -q "$mp" && { umount "$mp" 2>/dev/null || umount -l "$mp" || true; }
  done
  for loop in ${loop_devices[@]+"${loop_devices[@]}"}; do losetup -d "$loop" 2>/dev/null || true; done
  if [[ -n $fuse_mount ]] && mountpoint -q "$fuse_mount"; then
    umount "$fuse_mount" 2>/dev/null || umount -l "$fuse_mount" || true
  fi
  [[ -n $fuse_pid ]] && { kill "$fuse_pid" 2>/dev/null || true; }
  if [[ -n $work && -d $work ]]; then
    rm -rf "$work/volumes" "$work/roots" "$work/debs"
    if ((rc == 0)); then
      rm -rf "$work"
    else
      log "logs kept in $work/logs"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- preflight: what this machine needs, installed or named --------------------------------
preflight() {
  [[ $(uname -s) == Linux ]] || die "the boot test needs Linux (systemd-nspawn), not $(uname -s)"
  [[ $(id -u) == 0 ]] || die "the boot test must run as root (systemd-nspawn -b, loop devices, mounts); run: sudo npm run test:boot"
  local missing=() spec
  for spec in debootstrap:debootstrap systemd-nspawn:systemd-container nsenter:util-linux \
    losetup:mount mkfs.ext4:e2fsprogs mkfs.xfs:xfsprogs dpkg-deb:dpkg; do
    command -v "${spec%%:*}" >/dev/null || missing+=("${spec#*:}")
  done
  command -v python3 >/dev/null || missing+=(python3)
  if ((${#missing[@]} > 0)); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]} (apt-get)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
      >"$work/logs/apt-get.log" 2>&1 || {
      tail -n 20 "$work/logs/apt-get.log" >&2
      die "could not install ${missing[*]} with apt-get (log above)"
    }
  fi
  [[ -e /dev/loop-control ]] || die "this kernel has no loop device support (/dev/loop-control is missing): the EBS volume stand-in is a loop device"
  grep -qw overlay /proc/filesystems || die "this kernel has no overlayfs (not in /proc/filesystems): each instance's root disk is an overlay on the cached rootfs"
  [[ -e /dev/fuse ]] || die "this kernel has no FUSE (/dev/fuse is missing): the unreadable-volume stand-in is a loop device on a FUSE file that fails reads"
  [[ -d /sys/fs/cgroup && -n $(ls -A /sys/fs/cgroup) ]] || die "no cgroup filesystem at /sys/fs/cgroup: systemd in the container needs one"
  command -v terraform >/dev/null || die "terraform is not on PATH: the user data is rendered by terraform console"
}

# --- the guest's stubs, packaged so the real install-packages.sh finds them installed ------
make_deb() {
  local name=$1 pkg="$work/debs/src-$1"
  shift
  mkdir -p "$pkg/DEBIAN"
  printf 'Package: %s\nVersion: 0.0.0-boot-test\nArchitecture: all\nMaintainer: pmm-cdktf boot test\nDescription: boot-test stub (scripts/boot-test/guest)\n' \
    "$name" >"$pkg/DEBIAN/control"
  while (($# > 0)); do
    install -D -m "$3" "$here/guest/$1" "$pkg$2"
    shift 3
  done
  dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$work/debs/$name.deb" >/dev/null
  rm -rf "$pkg"
}

build_stub_debs() {
  mkdir -p "$work/debs"
  make_deb docker-ce docker /usr/bin/docker 0755 docker.service /lib/systemd/system/docker.service 0644
  make_deb amazon-cloudwatch-agent amazon-cloudwatch-agent-ctl \
    /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl 0755
  make_deb pmm-boot-test-stubs snap /usr/bin/snap 0755 aws /snap/bin/aws 0755 \
    imds-private-ip.conf /etc/systemd/system/pmm-server.service.d/boot-test-ip.conf 0644 \
    imds-private-ip.conf /etc/systemd/system/pmm-tls.service.d/boot-test-ip.conf 0644 \
    readyz-server.py /usr/local/lib/boot-test/readyz-server.py 0755
}

# --- volumes ----------------------------------------------------------------------------------
# Each sets $volume to the new loop device (not printed: the cleanup lists must be updated here).
attach_loop() { # FILE [LOSETUP OPTIONS...]
  volume=$(losetup --find --show "${@:2}" "$1") || die "losetup could not attach $1 (no free loop device?)"
  loop_devices+=("$volume")
}

new_volume() { # NAME SIZE_MIB: a loop device on a sparse file
  truncate -s "${2}M" "$work/volumes/$1.img"
  attach_loop "$work/volumes/$1.img"
}

# A loop device on a FUSE file (__tests__/helpers/faulty-disk.py, shared with the unit tests)
# whose reads fail with EIO past the first MiB: the kernel has no device-mapper, so no dm-error.
# The backing image starts sparse; any write would allocate blocks in it.
new_unreadable_volume() {
  local image="$work/volumes/unreadable.img" size=$((512 * 1024 * 1024))
  fuse_mount="$work/volumes/faulty"
  mkdir -p "$fuse_mount"
  truncate -s "$size" "$image"
  python3 "$repo/__tests__/helpers/faulty-disk.py" "$image" "$fuse_mount" "1048576:$size" \
    >"$work/logs/faulty-disk.log" 2>&1 &
  fuse_pid=$!
  local waited=0
  until grep -q ready "$work/logs/faulty-disk.log"; do
    if ! kill -0 "$fuse_pid" 2>/dev/null || ((waited >= 40)); then
      die "the FUSE stand-in for an unreadable volume did not start (log: $work/logs/faulty-disk.log)"
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
  attach_loop "$fuse_mount/disk" --direct-io=off
  unreadable_image=$image
}

# --- instances ---------------------------------------------------------------------------------
# new_root NAME INSTANCE_ID: a new root disk (overlay on the cached rootfs) with the stubs and
# cloud-init's NoCloud seed (the rendered user data, gzipped as EC2 hands it over).
new_root() {
  local name=$1 instance_id=$2 d="$work/roots/$1"
  mkdir -p "$d/upper" "$d/work" "$d/merged"
  mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$d/upper,workdir=$d/work" "$d/merged"
  overlay_mounts+=("$d/merged")
  local m="$d/merged"
  systemd-nspawn --quiet --register=no --keep-unit --directory="$m" \
    --bind-ro="$work/debs:/mnt/boot-test-debs" \
    sh -c 'dpkg -i /mnt/boot-test-debs/*.deb && systemctl enable docker.service' </dev/null \
    >"$work/logs/$name-setup.log" 2>&1 || {
    tail -n 20 "$work/logs/$name-setup.log" >&2
    die "systemd-nspawn could not run a command in the guest root (log above): is systemd-container working here?"
  }
  install -d -m 0700 "$m/var/lib/boot-test"
  (umask 077 && printf '%s' "$canary" >"$m/var/lib/boot-test/secret")
  echo "$ADMIN_SECRET_ARN" >"$m/var/lib/boot-test/secret-arn"
  echo "$PMM_IMAGE_TAG" >"$m/var/lib/boot-test/image-tag"
  echo "$image_digest" >"$m/var/lib/boot-test/image-digest"
  install -d -m 0700 "$m/var/lib/boot-test/ssm"
  install -d "$m/var/lib/cloud/seed/nocloud"
  cp "$work/render/user-data" "$m/var/lib/cloud/seed/nocloud/user-data"
  printf 'instance-id: %s\nlocal-hostname: pmm-boot-test\n' "$instance_id" >"$m/var/lib/cloud/seed/nocloud/meta-data"
}

by_id_name() { echo "nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME_ID/-/}"; }

# boot ROOT_NAME LOG_NAME [DEVICE]: boots the root; DEVICE (a loop device) is attached from the
# start as /dev/nvme1n1 with the by-id link EC2's udev rules create. Sets leader, nspawn_pid,
# guest (the root as seen from here), boot_start.
boot() {
  local root=$1 name=$2 device=${3:-}
  guest="$work/roots/$root/merged"
  rm -rf "$guest/var/log/boot-test"
  local cmd=(systemd-nspawn --quiet --register=no --keep-unit --boot --directory="$guest"
    --machine="pmm-boot-$root" --private-network --console=read-only
    --bind="$work/ssm:/var/lib/boot-test/ssm")
  if [[ -n $device ]]; then
    local by_id="$work/by-id-$name"
    mkdir -p "$by_id"
    ln -sfn ../../nvme1n1 "$by_id/$(by_id_name)"
    cmd+=(--bind="$device:/dev/nvme1n1" --bind-ro="$by_id:/dev/disk/by-id")
  fi
  boot_start=$(date +%s.%N)
  "${cmd[@]}" </dev/null >"$work/logs/$name.console.log" 2>&1 &
  nspawn_pid=$!
  nspawn_pids+=("$nspawn_pid")
  leader=""
  local waited=0 child
  while [[ -z $leader ]]; do
    for child in $(ps -o pid= --ppid "$nspawn_pid" 2>/dev/null); do
      grep -qP '^NSpid:\t\d+\t1$' "/proc/$child/status" 2>/dev/null && leader=$child
    done
    [[ -n $leader ]] && break
    if ! kill -0 "$nspawn_pid" 2>/dev/null || ((waited >= 100)); then
      tail -n 30 "$work/logs/$name.console.log" >&2
      die "systemd-nspawn could not boot the container (console above): this machine cannot run 'systemd-nspawn --boot' (needs root, cgroups, and namespaces)"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

# Runs a command inside the booted container (all its namespaces), with a clean environment.
in_guest() { nsenter --target "$leader" --all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# late_attach DEVICE: what EC2 and udev do when the volume is attached to a running instance.
late_attach() {
  local dev=$1
  in_guest sh -c "mknod /dev/nvme1n1 b $((16#$(stat -c %t "$dev"))) $((16#$(stat -c %T "$dev"))) && mkdir -p /dev/disk/by-id && ln -s ../../nvme1n1 /dev/disk/by-id/$(by_id_name)"
}

shutdown_guest() {
  in_guest journalctl -b 0 --no-pager -o short-monotonic >"$work/logs/$1.journal.log" 2>&1 || true
  stop_container "$nspawn_pid"
}

# Waits for the docker stub's `run` (PMM's start); prints the seconds since boot_start.
wait_for_pmm() {
  local deadline=$((SECONDS + boot_timeout))
  until [[ -f $guest/var/log/boot-test/last-run ]]; do
    kill -0 "$nspawn_pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
  local run_dir
  run_dir=$guest$(cat "$guest/var/log/boot-test/last-run")
  awk -v a="$boot_start" -v b="$(cat "$run_dir/time")" 'BEGIN { printf "%.1f", b - a }'
}

# Waits until cloud-init's final stage (which runs boot.sh) has finished, either way.
wait_for_cloud_final() {
  local deadline=$((SECONDS + boot_timeout)) state
  while :; do
    state=$(in_guest systemctl show -P ActiveState cloud-final.service 2>/dev/null) || state=""
    [[ $state == active || $state == failed ]] && return 0
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

last_run() { echo "$guest$(cat "$guest/var/log/boot-test/last-run")"; }
guest_journal() { in_guest journalctl -b 0 --no-pager -o cat "$@"; }

# --- assertions ---------------------------------------------------------------------------------
scenario_failed=0
check() { # DESCRIPTION COMMAND...
  local desc=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "    ok   $desc"
  else
    echo "    FAIL $desc"
    scenario_failed=1
  fi
}
fail() {
  echo "    FAIL $1"
  scenario_failed=1
}

volume_fs() { blkid -p -s "$2" -o value "$1" 2>/dev/null; }

count_formats() { guest_journal -u pmm-data-volume.service | grep -c 'creating an ext4 filesystem' || true; }

check_pmm_started_on_volume() { # DEVICE_UUID
  local run
  run=$(last_run)
  check "PMM started on /srv = the data volume, mounted read-write (ext4, UUID $1)" \
    grep -qE "^/dev/nvme1n1 +ext4 +rw,[^ ]* +$1\$" "$run/srv"
  local r unmounted=0
  for r in "$guest"/var/log/boot-test/run-*; do
    grep -q "^/dev/nvme1n1 " "$r/srv" || unmounted=1
  done
  check "no docker run ever happened without the mounted volume" test "$unmounted" = 0
  check "docker run arguments are exactly the expected ones" diff <(printf '%s\n' "${expected_run_args[@]}") "$run/args"
  # shellcheck disable=SC2016 # awk's own $3 and $4
  check "docker pull $PMM_IMAGE came before docker run" \
    awk -v img="$PMM_IMAGE" '$3 == "pull" && $4 == img { p = 1 } $3 == "run" { exit !p } END { if (!p) exit 1 }' "$guest/var/log/boot-test/calls.log"
  check "admin password file at docker run: mode 0400, uid:gid 1000:1000, on tmpfs, the secret's value" \
    grep -qx "400 1000:1000 tmpfs $canary_sha256" "$run/password"
  check "pmm-server.service is active" in_guest systemctl is-active --quiet pmm-server.service
  check "PMM answers http://127.0.0.1/v1/readyz (docker stub)" in_guest curl -fsS --max-time 5 --retry 20 --retry-delay 1 --retry-connrefused http://127.0.0.1/v1/readyz
}

check_no_secret_leak() {
  local name=$1
  local files=("$guest/var/log/boot-test/calls.log" "$work/logs/$name.console.log")
  [[ -f $guest/var/log/cloud-init-output.log ]] && files+=("$guest/var/log/cloud-init-output.log")
  # shellcheck disable=SC2016 # expanded by the inner bash
  check "the admin password appears in no journal, log, console or stub argument" \
    bash -c '! grep -rqF -- "$1" "${@:2}" && ! nsenter --target "$0" --all journalctl --no-pager -o cat | grep -qF -- "$1"' \
    "$leader" "$canary" "${files[@]}" "$guest"/var/log/boot-test/run-*/args
}

# The SSM stub's recorded arguments and every parameter value (the Parameter Store of the run).
# The TLS identity on the data volume (templates/host/pmm-tls.sh): the CA and nginx's
# certificate, which verifies against it for the private IP; the CA published to SSM.
# Prints the SHA-256 of both files (the reboot and replacement must keep them).
tls_sums() { in_guest sh -c 'cat /srv/pmm-ca/ca.crt /srv/pmm-data/nginx/certificate.crt | sha256sum' | cut -d ' ' -f 1; }
check_tls_identity() { # EXPECTED_SUMS (empty on the first boot)
  check "nginx's certificate on the volume verifies against the private CA on the volume" \
    in_guest openssl verify -CAfile /srv/pmm-ca/ca.crt /srv/pmm-data/nginx/certificate.crt
  check "the certificate names the private IP" \
    bash -c "nsenter --target $leader --all openssl x509 -noout -ext subjectAltName -in /srv/pmm-data/nginx/certificate.crt | grep -q 'IP Address:10.0.1.5'"
  # shellcheck disable=SC2016 # expanded by the guest's sh
  check "the CA key is root-only, outside the container's /srv" \
    in_guest sh -c 'test "$(stat -c %a:%u /srv/pmm-ca/ca.key)" = 600:0 && test "$(stat -c %a /srv/pmm-ca)" = 700'
  check "the CA certificate is published to SSM ($CONFIG_PATH/ca-certificate)" \
    bash -c "diff <(cat '$work/ssm/params$CONFIG_PATH/ca-certificate'; echo) <(nsenter --target $leader --all cat /srv/pmm-ca/ca.crt)"
  if [[ -n $1 ]]; then
    check "the same CA and certificate as before (kept on the volume, not re-created)" test "$(tls_sums)" = "$1"
  fi
}

check_no_secret_in_ssm() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  check "the admin password appears in no SSM stub argument or parameter value" \
    bash -c 'test -s "$1" && ! grep -rqF -- "$0" "$1" "$2"' "$canary" "$work/ssm/calls.log" "$work/ssm/params"
}

# The config the host applied came from SSM: runtime.env names the digest, volume and secret.
check_runtime_config() {
  check "runtime.env from SSM: image by digest, the config's volume id and secret ARN" \
    diff <(printf 'PMM_IMAGE=%s\nPMM_DATA_VOLUME_ID=%s\nPMM_ADMIN_SECRET_ARN=%s\n' "$PMM_IMAGE" "$DATA_VOLUME_ID" "$ADMIN_SECRET_ARN") "$guest/etc/pmm/runtime.env"
  check "the image record in SSM is the digest resolved for tag ${PMM_IMAGE_TAG#*:}" \
    grep -qxE "config=[0-9a-f]{64} image=${PMM_IMAGE//./\\.} tag=${tag_re//./\\.}" "$work/ssm/params$CONFIG_PATH/image"
}

# put-parameter calls for the image record so far (the SSM stub's log, all instances).
count_image_records() { grep -c " ssm put-parameter --name $CONFIG_PATH/image " "$work/ssm/calls.log" || true; }

check_pmm_stays_down() { # what the refusal must say (regex)
  wait_for_cloud_final || fail "cloud-init's final stage (boot.sh) did not finish within ${boot_timeout}s"
  sleep "$settle_seconds"
  check "no docker run (PMM never started) within ${settle_seconds}s after boot.sh" test ! -e "$guest/var/log/boot-test/last-run"
  check "pmm-server.service is not active" bash -c "! nsenter --target $leader --all systemctl is-active --quiet pmm-server.service"
  check "/srv is not mounted" bash -c "! nsenter --target $leader --all mountpoint -q /srv"
  check "the journal says why (pmm-data-volume: /$1/)" \
    bash -c "nsenter --target $leader --all journalctl -b 0 --no-pager -o cat -u pmm-data-volume.service | grep -E -- '$1'"
  check "pmm-server.service's guard says why PMM does not start" \
    bash -c "nsenter --target $leader --all journalctl -b 0 --no-pager -o cat -u pmm-server.service | grep -q 'NOT starting PMM'"
  { guest_journal -u pmm-data-volume.service -u pmm-server.service | grep -E 'ERROR|NOT starting' | sort -u | head -n 3 | sed 's/^/         journal: /'; } || true
}

# --- scenarios ------------------------------------------------------------------------------------
declare -A result timing notes
record() { # NAME PMM_SECONDS NOTE
  if ((scenario_failed)); then
    result[$1]=FAIL
    failures=$((failures + 1))
  else
    result[$1]=ok
  fi
  timing[$1]=$2
  notes[$1]=$3
}

scenario_first_boot() {
  log "scenario first-boot: new instance, blank data volume"
  new_volume data 1024
  data_loop=$volume
  new_root r1 i-0b007e57000000001
  boot r1 first-boot "$data_loop"
  local t
  t=$(wait_for_pmm) || {
    fail "PMM did not start within ${boot_timeout}s"
    shutdown_guest first-boot
    record first-boot - "PMM never started"
    return
  }
  wait_for_cloud_final || fail "cloud-init's final stage did not finish"
  data_uuid=$(volume_fs "$data_loop" UUID)
  check "cloud-init ran boot.sh to the end (pmm-boot: done)" bash -c "nsenter --target $leader --all journalctl -b 0 --no-pager -o cat | grep -q 'pmm-boot: done'"
  check "the volume was formatted exactly once (ext4)" test "$(count_formats)/$(volume_fs "$data_loop" TYPE)" = 1/ext4
  check "fstab records the volume by its EBS by-id link with nofail" \
    grep -qE "^/dev/disk/by-id/$(by_id_name) /srv ext4 [^ ]*nofail" "$guest/etc/fstab"
  check_pmm_started_on_volume "$data_uuid"
  check "the PMM server env file has the public address" grep -qx "PMM_PUBLIC_ADDRESS=$PUBLIC_ADDRESS" "$guest/etc/pmm/pmm-server.env"
  check "the custom query file arrived (SSM custom-queries/high, gz+b64)" grep -q pg_boot_test "$guest/etc/pmm/custom-queries/postgresql/high-resolution/queries-custom.yml"
  check "the CloudWatch agent stub was configured from the written config" \
    grep -q 'amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/pmm-cloudwatch-agent.json' "$guest/var/log/boot-test/calls.log"
  check_runtime_config
  # shellcheck disable=SC2016 # expanded by the inner bash
  check "the host resolved the tag with docker image inspect and recorded it once (put-parameter)" \
    bash -c 'grep -qF "docker image inspect --format {{range .RepoDigests}}{{println .}}{{end}} $0" "$1" && test "$2" = 1' \
    "$PMM_IMAGE_TAG" "$guest/var/log/boot-test/calls.log" "$(count_image_records)"
  check_no_secret_leak first-boot
  check_no_secret_in_ssm
  check_tls_identity ''
  tls_sum=$(tls_sums)
  data_sum=$(in_guest sh -c 'mkdir -p /srv/pmm-data/boot-test && head -c 16M /dev/urandom >/srv/pmm-data/boot-test/data.bin && chown -R 1000:1000 /srv/pmm-data/boot-test && sync && sha256sum /srv/pmm-data/boot-test/data.bin' | cut -d ' ' -f 1)
  shutdown_guest first-boot
  record first-boot "$t" "formatted once; 16 MiB of data written"
}

check_data_kept() {
  check "not formatted: no mkfs in this boot, same filesystem UUID" test "$(count_formats)/$(volume_fs "$data_loop" UUID)" = "0/$data_uuid"
  check "data intact (sha256 of the 16 MiB file)" \
    bash -c "nsenter --target $leader --all sha256sum /srv/pmm-data/boot-test/data.bin | grep -q '^$data_sum '"
}

scenario_reboot() {
  log "scenario reboot: same instance, same volume"
  boot r1 reboot "$data_loop"
  local t
  t=$(wait_for_pmm) || {
    fail "PMM did not start again within ${boot_timeout}s"
    shutdown_guest reboot
    record reboot - "PMM never started"
    return
  }
  check_data_kept
  check_tls_identity "$tls_sum"
  check "boot.sh did not run again (cloud-init: once per instance)" bash -c "! nsenter --target $leader --all journalctl -b 0 --no-pager -o cat | grep -q 'pmm-boot:'"
  check_pmm_started_on_volume "$data_uuid"
  shutdown_guest reboot
  record reboot "$t" "mounted by pmm-data-volume (see docs: fstab)"
}

scenario_replacement() {
  log "scenario replacement: new root disk and instance id, the existing data volume"
  new_root r2 i-0b007e57000000002
  boot r2 replacement "$data_loop"
  local t
  t=$(wait_for_pmm) || {
    fail "PMM did not start within ${boot_timeout}s"
    shutdown_guest replacement
    record replacement - "PMM never started"
    return
  }
  wait_for_cloud_final || fail "cloud-init's final stage did not finish"
  check "cloud-init ran boot.sh on the new instance" bash -c "nsenter --target $leader --all journalctl -b 0 --no-pager -o cat | grep -q 'pmm-boot: done'"
  check_data_kept
  check_pmm_started_on_volume "$data_uuid"
  check_runtime_config
  # shellcheck disable=SC2016 # expanded by the inner bash
  check "the new instance reused the recorded digest (no new image record, no image inspect)" \
    bash -c 'test "$0" = 1 && ! grep -q "docker image inspect" "$1" && nsenter --target "$2" --all journalctl -b 0 --no-pager -o cat -u pmm-config.service | grep -qF "reusing $3"' \
    "$(count_image_records)" "$guest/var/log/boot-test/calls.log" "$leader" "$PMM_IMAGE"
  check_no_secret_leak replacement
  check_no_secret_in_ssm
  check_tls_identity "$tls_sum"
  shutdown_guest replacement
  record replacement "$t" "data volume re-used"
}

scenario_late_attach() {
  log "scenario late-attach: new instance, the data volume attached after boot.sh started waiting"
  new_root r3 i-0b007e57000000003
  boot r3 late-attach
  local deadline=$((SECONDS + boot_timeout))
  until [[ $(in_guest systemctl show -P ActiveState pmm-data-volume.service 2>/dev/null) == activating ]]; do
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  sleep 5
  check "pmm-data-volume.service was waiting for the volume" \
    bash -c "nsenter --target $leader --all journalctl -b 0 --no-pager -o cat -u pmm-data-volume.service | grep -q 'waiting'"
  check "PMM had not started before the volume was attached" test ! -e "$guest/var/log/boot-test/last-run"
  local attached_at t
  attached_at=$(date +%s.%N)
  late_attach "$data_loop"
  t=$(wait_for_pmm) || {
    fail "PMM did not start within ${boot_timeout}s of the attachment"
    shutdown_guest late-attach
    record late-attach - "PMM never started"
    return
  }
  check_data_kept
  check_pmm_started_on_volume "$data_uuid"
  local after
  after=$(awk -v a="$attached_at" -v b="$(cat "$(last_run)/time")" 'BEGIN { printf "%.1f", b - a }')
  shutdown_guest late-attach
  record late-attach "$t" "attached at +$(awk -v a="$boot_start" -v b="$attached_at" 'BEGIN { printf "%.0f", b - a }')s; PMM ${after}s later"
}

scenario_foreign_filesystem() {
  log "scenario foreign-filesystem: the volume holds an XFS filesystem"
  local loop before after
  new_volume foreign 512
  loop=$volume
  mkfs.xfs -q "$loop"
  before=$(blkid -p -o export "$loop"; head -c 1M "$loop" | sha256sum)
  new_root r4 i-0b007e57000000004
  boot r4 foreign-filesystem "$loop"
  check_pmm_stays_down 'ERROR.*xfs'
  after=$(blkid -p -o export "$loop"; head -c 1M "$loop" | sha256sum)
  check "the XFS filesystem is untouched (signature and first MiB)" test "$before" = "$after"
  shutdown_guest foreign-filesystem
  record foreign-filesystem - "PMM stays down"
}

scenario_unreadable() {
  log "scenario unreadable: every read past the first MiB of the volume fails (EIO)"
  local loop
  new_unreadable_volume
  loop=$volume
  new_root r5 i-0b007e57000000005
  boot r5 unreadable "$loop"
  check_pmm_stays_down 'ERROR.*(read|I/O)'
  check "nothing was written to the unreadable volume (its sparse image has no block allocated)" \
    test "$(stat -c %b "$unreadable_image")" = 0
  shutdown_guest unreadable
  record unreadable - "PMM stays down"
}

# --- main -------------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/pmm-boot-test.XXXXXX)
mkdir -p "$work/logs" "$work/volumes" "$work/roots"
total_start=$SECONDS

preflight
rootfs=$(bash "$here/rootfs.sh")
log "guest: $(cat "$rootfs/.pmm-boot-test-guest") from $rootfs (not Ubuntu 24.04: Debian's debootstrap has no noble script and no Ubuntu archive keyring to verify it)"

(cd "$repo" && npx tsx scripts/boot-test/render-user-data.ts "$work/render") | sed 's/^/boot-test: /'
# shellcheck source=/dev/null
. "$work/render/expected.env"
# The registry's digest for the tag (the docker stub answers it) and the image PMM runs by it.
tag_re=${PMM_IMAGE_TAG#*:}
image_digest="sha256:$(printf 'boot-test %s' "$PMM_IMAGE_TAG" | sha256sum | cut -d ' ' -f 1)"
PMM_IMAGE="${PMM_IMAGE_TAG%%:*}@$image_digest"
# Parameter Store as an apply leaves it: the rendered config and custom query values, and the
# image record's placeholder (constructs/pmm-config.ts); shared by every instance of this run.
mkdir -p "$work/ssm/params$CONFIG_PATH/custom-queries"
cp "$work/render/ssm-config" "$work/ssm/params$CONFIG_PATH/config"
cp "$work/render/ssm-custom-queries-high" "$work/ssm/params$CONFIG_PATH/custom-queries/high"
printf unresolved >"$work/ssm/params$CONFIG_PATH/image"
: >"$work/ssm/calls.log"
expected_run_args=(--name pmm-server --publish 80:8080 --publish 443:8443 --volume /srv/pmm-data:/srv
  --ulimit nofile=1000000:1000000 --env-file /etc/pmm/pmm-server.env
  --volume /run/pmm/admin-password:/run/secrets/pmm-admin-password:ro
  --env "GF_SECURITY_ADMIN_PASSWORD=\$__file{/run/secrets/pmm-admin-password}"
  --volume /etc/pmm/custom-queries/postgresql/high-resolution/queries-custom.yml:/usr/local/percona/pmm/collectors/custom-queries/postgresql/high-resolution/queries-custom.yml:ro
  "$PMM_IMAGE")
canary="BootCanary-$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')"
canary_sha256=$(printf '%s' "$canary" | sha256sum | cut -d ' ' -f 1)
build_stub_debs

for s in $scenarios; do
  scenario_failed=0
  case $s in
    first-boot) scenario_first_boot ;;
    reboot) scenario_reboot ;;
    replacement) scenario_replacement ;;
    late-attach) scenario_late_attach ;;
    foreign-filesystem) scenario_foreign_filesystem ;;
    unreadable) scenario_unreadable ;;
    *) die "unknown scenario '$s' (known: $all_scenarios)" ;;
  esac
done

echo
echo "Boot proof: $(cat "$rootfs/.pmm-boot-test-guest") guest, systemd-nspawn, real user data ($USER_DATA_GZIP_BYTES bytes gzipped)"
printf '%-20s %-6s %-16s %s\n' scenario result "boot->PMM start" notes
for s in $scenarios; do
  t=${timing[$s]:--}
  [[ $t == - ]] || t="${t}s"
  printf '%-20s %-6s %-16s %s\n' "$s" "${result[$s]:-FAIL}" "$t" "${notes[$s]:-}"
done
echo "total: $((SECONDS - total_start))s"
((failures == 0)) || die "$failures scenario(s) failed"
