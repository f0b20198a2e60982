#!/usr/bin/env bash
# swap.sh SIZE_MIB: keeps the PMM host's swap file at SIZE_MIB (0 = none), called by
# apply-config.sh on every run (quiet when it is already right). The file lives on the root
# volume, never on the data volume (/srv): swap is scratch, and a copy of it in the data
# volume's backups would be useless. A resize swaps the old file off only once the root volume
# has room for the new one (2 GiB always stay free); a failure leaves the current swap as is.
# Tests override PMM_SWAP_FILE, PMM_PROC_SWAPS and the tools through PATH.
set -euo pipefail
export LC_ALL=C
die() {
  echo "pmm-swap: ERROR: $*" >&2
  exit 1
}

want=${1:-}
file=${PMM_SWAP_FILE:-/var/lib/pmm-swap/swapfile}
swaps=${PMM_PROC_SWAPS:-/proc/swaps}
reserve_mib=2048
[[ $want =~ ^[0-9]{1,6}$ ]] || die "bad size '$want' (MiB)"
[[ $file != /srv && $file != /srv/* ]] || die "not on the data volume: $file"

off() { ! active || swapoff "$file" || die "could not swap $file off (memory in use?); keeping it"; }
active() { awk -v f="$file" '$1 == f { found = 1 } END { exit !found }' "$swaps"; }
have_mib=0
[[ -f $file ]] && have_mib=$(($(stat -c %s "$file") / 1048576))

if ((want == 0)); then
  [[ -e $file ]] || exit 0
  off
  rm -f "$file"
  echo "pmm-swap: removed $file"
  exit 0
fi
if ((have_mib == want)) && active; then exit 0; fi

install -d -m 0700 "$(dirname "$file")"
free_mib=$(df --output=avail -B1M "$(dirname "$file")" | tail -n 1 | tr -d ' ')
((free_mib + have_mib >= want + reserve_mib)) ||
  die "${free_mib} MiB free on the root volume: too little for ${want} MiB of swap and ${reserve_mib} MiB spare (raise root_volume_size or lower swap_size_mib)"
off
rm -f "$file" "$file.new"
if ! { fallocate -l "${want}M" "$file.new" && chmod 0600 "$file.new" &&
  mkswap "$file.new" >/dev/null && mv -f "$file.new" "$file" && swapon "$file"; }; then
  die "could not set up $file"
fi
# Swap is a safety net against the OOM killer, not extra memory: use it only under pressure.
sysctl -q -w vm.swappiness=10 || true
echo "pmm-swap: ${want} MiB of swap in $file (was ${have_mib} MiB)"
