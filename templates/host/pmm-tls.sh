#!/usr/bin/env bash
# PMM's TLS identity, kept on the data volume so it survives reboots, instance replacement
# and restores from snapshot (issue 13, docs/tls.md):
#   - a private CA, created once: /srv/pmm-ca/ca.{key,crt}, root-only and outside
#     /srv/pmm-data (never mounted into the container; the key never leaves the host). X.509
#     name constraints limit it to this PMM's private IP and public host name, so trusting it
#     on a database host vouches for nothing else. Re-created only when it is missing or does
#     not cover the private IP (the old pair is kept beside it, renamed).
#   - nginx's server certificate, issued by that CA for the private IP (and the host name when
#     the CA covers it): /srv/pmm-data/nginx/certificate.{crt,key} and ca-certs.pem, the files
#     PMM 3's nginx reads as /srv/nginx/... (PMM's entrypoint creates a self-signed pair only
#     when they are missing). Re-issued when missing, not from this CA (PMM's self-signed pair
#     of an earlier release, kept once as *.pmm-self-signed), for other names, or within
#     PMM_TLS_RENEW_DAYS of expiry.
#   - the CA certificate (public) in SSM: <PMM_CONFIG_PATH>/ca-certificate, for the reconciler
#     and operators. A failed publication is reported (exit 1) after the files are in place.
# Run before PMM starts (pmm-server.service, "ExecStartPre=-": PMM starts even if this fails;
# agents then refuse it until pmm-tls.timer has fixed it) and hourly by pmm-tls.timer with
# --reload, which restarts nginx in the container after a renewal.
# Tests override: PMM_MOUNT_POINT, PMM_DATA_DIR, PMM_DATA_OWNER, PMM_AWS_CLI, DOCKER,
# PMM_SERVER_ENV_FILE, PMM_PRIVATE_IP, PMM_TLS_*_DAYS.
set -euo pipefail
umask 077

log() { echo "pmm-tls: $*"; }
die() {
  echo "pmm-tls: ERROR: $*" >&2
  exit 1
}

srv=${PMM_MOUNT_POINT:-/srv}
ca_dir=$srv/pmm-ca
nginx_dir=${PMM_DATA_DIR:-$srv/pmm-data}/nginx
owner=${PMM_DATA_OWNER:-1000:1000}
aws=${PMM_AWS_CLI:-/snap/bin/aws}
docker=${DOCKER:-/usr/bin/docker}
server_env=${PMM_SERVER_ENV_FILE:-/etc/pmm/pmm-server.env}
ca_days=${PMM_TLS_CA_DAYS:-3650}
cert_days=${PMM_TLS_CERT_DAYS:-365}
renew_days=${PMM_TLS_RENEW_DAYS:-30}
parameter=${PMM_CONFIG_PATH:?PMM_CONFIG_PATH is not set (see /etc/pmm/host.env)}/ca-certificate
ca_key=$ca_dir/ca.key ca_crt=$ca_dir/ca.crt
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
crt=$nginx_dir/certificate.crt key=$nginx_dir/certificate.key

# The persistent network interface is the instance's device 0: its address is local-ipv4.
private_ip() {
  local imds=http://169.254.169.254/latest token
  token=$(curl -fsS -m 5 -X PUT "$imds/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60') &&
    curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/local-ipv4"
}
ip=${PMM_PRIVATE_IP:-$(private_ip)} || die "no private IP from the instance metadata"
[[ $ip =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die "not an IPv4 address: '$ip'"
name=$(sed -n 's/^PMM_PUBLIC_ADDRESS=//p' "$server_env" 2>/dev/null | tail -n 1)
[[ $name =~ ^[A-Za-z0-9.-]+$ ]] || name=''

# permits LINE: the CA's name constraints list LINE (e.g. IP:10.0.1.5/255.255.255.255).
permits() {
  openssl x509 -noout -ext nameConstraints -in "$ca_crt" 2>/dev/null | sed 's/^ *//' | grep -qxF "$1"
}

# ---- the CA ----
if [[ ! -s $ca_key || ! -s $ca_crt ]] || ! permits "IP:$ip/255.255.255.255"; then
  install -d -m 0700 "$ca_dir"
  if [[ -e $ca_crt ]]; then
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    log "the CA does not cover $ip: kept as *.$stamp, creating a new one"
    mv -f "$ca_crt" "$ca_crt.$stamp"
    [[ ! -e $ca_key ]] || mv -f "$ca_key" "$ca_key.$stamp"
  fi
  # No DNS name known: a DNS constraint that matches nothing (RFC 6761 .invalid), so the CA
  # still cannot vouch for any real name.
  openssl req -x509 -new "${ec[@]}" -sha256 \
    -days "$ca_days" -subj "/O=PMM/CN=PMM private CA $ip" \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext "nameConstraints=critical,permitted;IP:$ip/255.255.255.255,permitted;DNS:${name:-pmm.invalid}" \
    -keyout "$ca_key.new" -out "$ca_crt.new" 2>/dev/null || die "openssl could not create the CA"
  mv -f "$ca_key.new" "$ca_key"
  mv -f "$ca_crt.new" "$ca_crt"
  log "created a private CA for $ip${name:+ and $name} ($ca_days days)"
fi

# ---- the server certificate ----
sans="IP:$ip"
if [[ -n $name ]] && permits "DNS:$name"; then
  sans+=",DNS:$name"
elif [[ -n $name ]]; then
  log "WARNING: the CA does not cover $name; the certificate names $ip only (docs/tls.md)"
fi
current_sans() {
  openssl x509 -noout -ext subjectAltName -in "$crt" 2>/dev/null | tail -n +2 |
    sed 's/^ *//; s/IP Address:/IP:/g; s/, /,/g'
}
reason=''
if [[ ! -s $crt || ! -s $key ]]; then
  reason='missing'
elif ! openssl verify -CAfile "$ca_crt" "$crt" >/dev/null 2>&1; then
  reason='not issued by this CA'
elif [[ $(current_sans) != "$sans" ]]; then
  reason="names $(current_sans), not $sans"
elif ! openssl x509 -noout -checkend $((renew_days * 86400)) -in "$crt" >/dev/null; then
  reason="expires within $renew_days days"
elif [[ $(openssl x509 -noout -pubkey -in "$crt") != "$(openssl pkey -pubout -in "$key" 2>/dev/null)" ]]; then
  reason='does not match its key' # e.g. a crash between the two renames below
fi
changed=false
if [[ -n $reason ]]; then
  install -d -m 0755 "$nginx_dir"
  chown "$owner" "$nginx_dir"
  if [[ $reason == 'not issued by this CA' && ! -e $crt.pmm-self-signed ]]; then
    cp -p "$crt" "$crt.pmm-self-signed"
    cp -p "$key" "$key.pmm-self-signed"
  fi
  work=$(mktemp -d "$nginx_dir/.pmm-tls.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$sans" >"$work/ext"
  if ! openssl req -new "${ec[@]}" -subj /O=PMM \
    -keyout "$work/key" -out "$work/csr" 2>/dev/null ||
    ! openssl x509 -req -in "$work/csr" -CA "$ca_crt" -CAkey "$ca_key" -sha256 \
      -set_serial "0x$(openssl rand -hex 16)" -days "$cert_days" -extfile "$work/ext" \
      -out "$work/crt" 2>/dev/null; then
    die "openssl could not issue the server certificate"
  fi
  cp "$ca_crt" "$work/ca"
  chmod 0644 "$work/crt" "$work/ca"
  chown "$owner" "$work/key" "$work/crt" "$work/ca"
  mv -f "$work/key" "$key"
  mv -f "$work/crt" "$crt"
  mv -f "$work/ca" "$nginx_dir/ca-certs.pem"
  changed=true
  log "issued the server certificate for $sans ($cert_days days; was: $reason)"
fi

if [[ ${1:-} == --reload && $changed == true ]] &&
  [[ $("$docker" inspect -f '{{.State.Running}}' pmm-server 2>/dev/null) == true ]]; then
  "$docker" exec pmm-server supervisorctl restart nginx >/dev/null ||
    log "WARNING: could not restart nginx; the new certificate applies at PMM's next start"
fi

# ---- publish the CA certificate (public) ----
pem=$(<"$ca_crt")
current=$("$aws" ssm get-parameter --name "$parameter" --query Parameter.Value --output text 2>/dev/null) || current=''
if [[ $current != "$pem" ]]; then
  "$aws" ssm put-parameter --name "$parameter" --type String --overwrite --value="$pem" >/dev/null ||
    die "could not publish the CA certificate to $parameter; pmm-tls.timer retries"
  log "published the CA certificate to $parameter"
fi
