#!/usr/bin/env bash
# Installs, idempotently and from official sources only:
#   - Docker CE from Docker's apt repository (download.docker.com, signed by Docker's key);
#   - the Amazon CloudWatch agent .deb from Amazon's S3 distribution, its GPG signature
#     checked against Amazon's published key fingerprint;
#   - the AWS CLI v2 snap (published by Amazon Web Services), used by the host with its
#     instance role to read the admin password secret.
# Usage: install-packages.sh docker|aws-cli|cloudwatch-agent (boot.sh runs them one by one,
# so a failed optional step cannot keep PMM from starting).
set -euo pipefail

log() { echo "pmm-install: $*"; }
die() {
  echo "pmm-install: ERROR: $*" >&2
  exit 1
}

# Retries a command (network installs) with a growing pause.
retry() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then return 0; fi
    log "attempt $attempt of '$*' failed; retrying"
    sleep $((attempt * 10))
  done
  return 1
}

# apt waits up to 10 minutes for the dpkg lock (cloud-init, unattended-upgrades at first boot)
# instead of failing at once.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }

export DEBIAN_FRONTEND=noninteractive
arch=$(dpkg --print-architecture) # amd64 or arm64
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")

install_docker() {
  if dpkg-query -W -f='${Status}' docker-ce 2>/dev/null | grep -q 'ok installed'; then
    log "Docker CE already installed"
    return
  fi
  retry apt_get update -q
  retry apt_get install -y -q ca-certificates curl gnupg
  install -m 0755 -d /etc/apt/keyrings
  retry curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc
  chmod a+r /etc/apt/keyrings/docker.asc
  echo "deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu $codename stable" \
    >/etc/apt/sources.list.d/docker.list
  retry apt_get update -q
  retry apt_get install -y -q docker-ce docker-ce-cli containerd.io
  log "Docker CE installed"
}

# Amazon's CloudWatch agent signing key (documented fingerprint).
CWAGENT_KEY_FINGERPRINT=937616F3450B7D806CBD9725D58167303B789C72
CWAGENT_BASE=https://amazoncloudwatch-agent.s3.amazonaws.com

install_cloudwatch_agent() {
  if dpkg-query -W -f='${Status}' amazon-cloudwatch-agent 2>/dev/null | grep -q 'ok installed'; then
    log "CloudWatch agent already installed"
    return
  fi
  local work
  work=$(mktemp -d)
  retry curl -fsSL https://s3.amazonaws.com/amazoncloudwatch-agent/assets/amazon-cloudwatch-agent.gpg -o "$work/key.gpg"
  retry curl -fsSL "$CWAGENT_BASE/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb" -o "$work/agent.deb"
  retry curl -fsSL "$CWAGENT_BASE/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb.sig" -o "$work/agent.deb.sig"
  export GNUPGHOME="$work/gnupg"
  install -m 0700 -d "$GNUPGHOME"
  gpg --batch --quiet --import "$work/key.gpg"
  gpg --batch --with-colons --fingerprint | grep -q "^fpr:::::::::$CWAGENT_KEY_FINGERPRINT:" ||
    die "the CloudWatch agent signing key does not have the expected fingerprint"
  gpg --batch --quiet --verify "$work/agent.deb.sig" "$work/agent.deb" ||
    die "the CloudWatch agent package signature does not verify"
  unset GNUPGHOME
  retry apt_get install -y -q "$work/agent.deb"
  rm -rf "$work"
  log "CloudWatch agent installed"
}

install_aws_cli() {
  if snap list aws-cli >/dev/null 2>&1; then
    log "AWS CLI already installed"
    return
  fi
  retry snap wait system seed.loaded
  retry snap install aws-cli --classic
  log "AWS CLI installed"
}

case ${1:-} in
  docker) install_docker ;;
  aws-cli) install_aws_cli ;;
  cloudwatch-agent) install_cloudwatch_agent ;;
  *) die "usage: $0 docker|aws-cli|cloudwatch-agent" ;;
esac
