#!/usr/bin/env bash
# The PMM host's first-boot sequence. cloud-init runs it once per instance after writing the
# files it uses (scripts, units, configs); every step is idempotent, so running it again by
# hand (sudo /usr/local/lib/pmm/boot.sh) is safe.
set -euo pipefail
log() { echo "pmm-boot: $*"; }

lib=/usr/local/lib/pmm
"$lib/install-packages.sh"

systemctl daemon-reload
systemctl enable --now pmm-journal-export.service

/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/pmm-cloudwatch-agent.json

systemctl enable pmm-data-volume.service pmm-data-volume.timer pmm-server.service \
  pmm-admin-password.timer
# Waits for the volume (the attachment may follow the instance by a minute or two). If it
# times out, the timer retries and pmm-server keeps waiting for /srv.
systemctl start pmm-data-volume.service || log "data volume not ready yet; pmm-data-volume.timer retries"
systemctl start pmm-data-volume.timer
systemctl start --no-block pmm-server.service
systemctl start pmm-admin-password.timer
log "done: pmm-server.service starts once /srv is mounted"
