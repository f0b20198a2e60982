#!/usr/bin/env bash
# Runs the PMM 3 container in the foreground for pmm-server.service, so its output lands in
# the journal. Host 80/443 map to PMM 3's nginx on 8080/8443; the data volume's pmm-data
# directory is the container's /srv. Custom PostgreSQL query files are mounted read-only
# only when the boot sequence wrote them.
set -euo pipefail

image=${PMM_IMAGE:?PMM_IMAGE is not set (see /etc/pmm/host.env)}
docker=${DOCKER:-/usr/bin/docker}
data_dir=${PMM_DATA_DIR:-/srv/pmm-data}
env_file=${PMM_SERVER_ENV_FILE:-/etc/pmm/pmm-server.env}
queries_dir=${PMM_CUSTOM_QUERIES_DIR:-/etc/pmm/custom-queries/postgresql}
container_queries=/usr/local/percona/pmm/collectors/custom-queries/postgresql

args=(
  run --name pmm-server
  --publish 80:8080 --publish 443:8443
  --volume "$data_dir:/srv"
  --ulimit nofile=1000000:1000000
  --env-file "$env_file"
)
for resolution in high medium low; do
  file="$queries_dir/$resolution-resolution/queries-custom.yml"
  if [[ -f $file ]]; then
    args+=(--volume "$file:$container_queries/$resolution-resolution/queries-custom.yml:ro")
  fi
done
exec "$docker" "${args[@]}" "$image"
