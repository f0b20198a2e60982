#!/usr/bin/env bash
# Runs the PMM 3 container in the foreground for pmm-server.service, so its output lands in
# the journal. Host 80/443 map to PMM 3's nginx on 8080/8443; the data volume's pmm-data
# directory is the container's /srv. Custom PostgreSQL query files are mounted read-only
# only when the boot sequence wrote them. The admin password file (fetch-admin-password.sh) is
# mounted read-only and named in GF_SECURITY_ADMIN_PASSWORD through Grafana's $__file{}
# expansion, so Grafana creates its admin user with it on the first start; `docker inspect`
# shows only the path. (Grafana itself ignores GF_*__FILE: that is a feature of the
# grafana/grafana image's entrypoint, which the PMM image does not use.)
set -euo pipefail

image=${PMM_IMAGE:?PMM_IMAGE is not set (see /etc/pmm/host.env)}
docker=${DOCKER:-/usr/bin/docker}
data_dir=${PMM_DATA_DIR:-/srv/pmm-data}
env_file=${PMM_SERVER_ENV_FILE:-/etc/pmm/pmm-server.env}
queries_dir=${PMM_CUSTOM_QUERIES_DIR:-/etc/pmm/custom-queries/postgresql}
container_queries=/usr/local/percona/pmm/collectors/custom-queries/postgresql
password_file=${PMM_ADMIN_PASSWORD_FILE:-/run/pmm/admin-password}
container_password_file=/run/secrets/pmm-admin-password

args=(
  run --name pmm-server
  --publish 80:8080 --publish 443:8443
  --volume "$data_dir:/srv"
  --ulimit nofile=1000000:1000000
  --env-file "$env_file"
)
if [[ -f $password_file ]]; then
  args+=(
    --volume "$password_file:$container_password_file:ro"
    --env "GF_SECURITY_ADMIN_PASSWORD=\$__file{$container_password_file}"
  )
fi
for resolution in high medium low; do
  file="$queries_dir/$resolution-resolution/queries-custom.yml"
  if [[ -f $file ]]; then
    args+=(--volume "$file:$container_queries/$resolution-resolution/queries-custom.yml:ro")
  fi
done
exec "$docker" "${args[@]}" "$image"
