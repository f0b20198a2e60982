#!/usr/bin/env bash
# The PMM host's first-boot sequence, run once per instance by cloud-init. PMM must come up
# even when an optional step fails, so: 1. the journal export (and its directories);
# 2. Docker CE; 3. the AWS CLI (PMM's runtime configuration and admin password come from SSM
# and Secrets Manager: until it is there nothing starts, and the timers retry); 4. enable and
# start the PMM units; 5. the CloudWatch agent. A failed step is logged and the later ones
# still run; the exit status is non-zero if any failed. Every step is idempotent: re-run with sudo /usr/local/lib/pmm/boot.sh.
# Tests override PMM_LIB_DIR and PMM_CWAGENT_CTL.
set -euo pipefail
log() { echo "pmm-boot: $*"; }

lib=${PMM_LIB_DIR:-/usr/local/lib/pmm}
cwagent_ctl=${PMM_CWAGENT_CTL:-/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl}
cwagent_config=/opt/aws/amazon-cloudwatch-agent/etc/pmm-cloudwatch-agent.json
failed=()

# step NAME COMMAND...: runs COMMAND; a failure is logged and recorded, never fatal.
step() {
  local name=$1
  shift
  if "$@"; then
    log "$name: ok"
  else
    log "ERROR: $name failed (exit $?); continuing with the next steps"
    failed+=("$name")
  fi
}

journal_export() {
  # /var/log/pmm must exist before the unit starts: systemd opens StandardOutput=append:
  # before it would create LogsDirectory= (systemd issue #27591).
  systemd-tmpfiles --create /etc/tmpfiles.d/pmm.conf || return 1
  systemctl daemon-reload || return 1
  systemctl enable --now pmm-journal-export.service
}

pmm_units() {
  systemctl daemon-reload || return 1
  systemctl enable pmm-config.service pmm-config.timer pmm-data-volume.service \
    pmm-data-volume.timer pmm-server.service pmm-admin-password.timer pmm-tls.timer || return 1
  # The runtime configuration (data volume id, image, ...); pmm-config.timer retries each minute.
  systemctl start pmm-config.service || log "configuration not applied yet; pmm-config.timer retries"
  systemctl start pmm-config.timer || return 1
  # Waits for the volume (the attachment may follow the instance by a minute or two). If it
  # times out, the timer retries and pmm-server keeps waiting for /srv.
  systemctl start pmm-data-volume.service || log "data volume not ready yet; pmm-data-volume.timer retries"
  systemctl start pmm-data-volume.timer || return 1
  systemctl start --no-block pmm-server.service || return 1
  systemctl start pmm-admin-password.timer pmm-tls.timer
}

cloudwatch_agent() {
  "$lib/install-packages.sh" cloudwatch-agent || return 1
  "$cwagent_ctl" -a fetch-config -m ec2 -s -c "file:$cwagent_config"
}

step journal-export journal_export
step docker "$lib/install-packages.sh" docker
step aws-cli "$lib/install-packages.sh" aws-cli
step pmm-units pmm_units
step cloudwatch-agent cloudwatch_agent

if ((${#failed[@]} > 0)); then
  log "finished with errors in: ${failed[*]}; the PMM units are enabled. Fix the cause and re-run $lib/boot.sh"
  exit 1
fi
log "done: pmm-server.service starts once /srv is mounted"
