#!/bin/sh
# Enrols this instance in PMM. Sent by the ASG reconciler Lambda through SSM
# AWS-RunShellScript (which runs it with /bin/sh, so this is POSIX sh).
#
# Idempotent: every step checks before it acts, so a re-run on an enrolled instance changes
# nothing. The reconciler replaces the PARAMETERS line below with NON-SECRET values only:
#   PMM_SERVER_ADDRESS    private IP of the PMM instance; pmm-agent connects to it on 443
#   PMM_CA_CERTIFICATE    PEM of the PMM host's private CA (public; name-constrained to PMM's
#                         own IP and host name): the one CA this script trusts for PMM
#   PMM_ENROLMENT_SECRET_ARN  Secrets Manager ARN of the enrolment credential: the login and
#                         password of the reconciler's enrolment user, JSON {"username",
#                         "password"}, valid only while installs are in flight (readable only by
#                         their instances). The instance never sees the admin password.
#   PMM_MANAGED_BY        value of the managed_by custom label on the services this script adds
#                         (with aws_instance_id: the marker the reconciler removes by)
#   PMM_TARGETS           one line per instance of this batch:
#                         <instance-id> <service-name> <node-address> <port> <username> <db-secret-arn|->
# Secrets are read here with the instance's own IAM role and kept in shell variables; they
# reach other processes only through the environment (pmm-agent setup), stdin (the request
# body) or a 0600 file (curl's -K config), never through argv, the SSM command or its output.
#
# Exit codes: 0 enrolled (or already), 10 not a target, 11 another run holds the lock,
# 17 PMM says the service already exists (the reconciler cleans up and retries), else failure.

# @@PARAMETERS@@

set -eu
umask 077

PMM_AGENT_CONFIG=${PMM_AGENT_CONFIG:-/usr/local/percona/pmm/config/pmm-agent.yaml}
PMM_RECONCILER_LOCK=${PMM_RECONCILER_LOCK:-/run/pmm-reconciler.lock}
# pmm-agent (Go) verifies PMM against the system trust store (it has no CA option), so the CA
# goes there; curl trusts it alone (--cacert). docs/tls.md.
PMM_CA_FILE=${PMM_CA_FILE:-/usr/local/share/ca-certificates/pmm-server-ca.crt}
CA_CHANGED=0
# unattended-upgrades holds the dpkg lock on a fresh Ubuntu instance for minutes: wait for it.
# Three apt-get calls at most, so the worst case (3 x 300 s) stays under the SSM
# executionTimeout the reconciler sets (1200 s).
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-300}
IMDS=http://169.254.169.254/latest

log() { printf 'pmm-reconciler: %s\n' "$*"; }
TMP_FILES=''
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  # shellcheck disable=SC2086 # space-separated mktemp paths
  [ -z "$TMP_FILES" ] || rm -f $TMP_FILES
}
trap cleanup EXIT
finish() {
  printf 'PMM_RECONCILER_RESULT=%s\n' "$2"
  exit "$1"
}
apt_get() { apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT" "$@"; }

imds_token() {
  curl -fsS -m 5 -X PUT "$IMDS/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'
}

instance_id() {
  if [ -n "${AWS_SSM_INSTANCE_ID:-}" ]; then
    printf '%s' "$AWS_SSM_INSTANCE_ID"
    return
  fi
  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $(imds_token)" "$IMDS/meta-data/instance-id"
}

# Region of a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME).
region_of() { printf '%s' "$1" | cut -d: -f4; }

# Reads one JSON key from stdin (python3 ships with Ubuntu).
json_get() {
  python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); sys.stdout.write("" if v is None else str(v))' "$1"
}

# SecretString of a secret, via the AWS CLI when installed, else curl's SigV4 signing with the
# instance role's credentials from IMDS (passed to curl on stdin, never in argv).
secret_string() {
  arn=$1
  region=$(region_of "$arn")
  if command -v aws >/dev/null 2>&1; then
    aws secretsmanager get-secret-value --region "$region" --secret-id "$arn" \
      --query SecretString --output text
    return
  fi
  token=$(imds_token)
  role=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/iam/security-credentials/")
  creds=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/iam/security-credentials/$role")
  key_id=$(printf '%s' "$creds" | json_get AccessKeyId)
  key_secret=$(printf '%s' "$creds" | json_get SecretAccessKey)
  session=$(printf '%s' "$creds" | json_get Token)
  printf 'user = "%s:%s"\nheader = "x-amz-security-token: %s"\n' "$key_id" "$key_secret" "$session" |
    curl -fsS -m 20 -K - --aws-sigv4 "aws:amz:$region:secretsmanager" \
      -H 'Content-Type: application/x-amz-json-1.1' \
      -H 'X-Amz-Target: secretsmanager.GetSecretValue' \
      --data "{\"SecretId\":\"$arn\"}" "https://secretsmanager.$region.amazonaws.com/" |
    json_get SecretString
}

# The enrolment credential (JSON {"username", "password"}), registration only.
enrolment_credential() {
  secret_string "$PMM_ENROLMENT_SECRET_ARN"
}

# A password secret: a plain string, or JSON with a "password" key (the RDS convention).
read_password() {
  raw=$(secret_string "$1")
  case $raw in
    '{'*) printf '%s' "$raw" | json_get password ;;
    *) printf '%s' "$raw" ;;
  esac
}

install_client() {
  if dpkg-query -W -f='${Status}' pmm-client 2>/dev/null | grep -q 'install ok installed'; then
    log 'pmm-client is already installed'
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! command -v percona-release >/dev/null 2>&1; then
    log 'installing percona-release'
    deb=$(mktemp --suffix=.deb)
    curl -fsSL -m 120 -o "$deb" https://repo.percona.com/apt/percona-release_latest.generic_all.deb
    apt_get install -y -q "$deb"
    rm -f "$deb"
  fi
  log 'enabling the pmm3-client repository and installing pmm-client'
  percona-release enable pmm3-client
  apt_get update -q
  apt_get install -y -q pmm-client
}

# Installs PMM's CA (PMM_CA_CERTIFICATE) in the system trust store; refuses anything else.
install_ca() {
  case ${PMM_CA_CERTIFICATE:-} in
    '-----BEGIN CERTIFICATE-----'*'-----END CERTIFICATE-----') ;;
    *) finish 1 'error:no PMM CA certificate in the command (PMM_CA_CERTIFICATE)' ;;
  esac
  printf '%s\n' "$PMM_CA_CERTIFICATE" | openssl x509 -noout 2>/dev/null ||
    finish 1 'error:PMM_CA_CERTIFICATE is not a readable certificate'
  if [ -f "$PMM_CA_FILE" ] && [ "$(cat "$PMM_CA_FILE")" = "$PMM_CA_CERTIFICATE" ]; then
    return
  fi
  log "trusting the PMM CA ($PMM_CA_FILE)"
  mkdir -p "$(dirname "$PMM_CA_FILE")"
  printf '%s\n' "$PMM_CA_CERTIFICATE" >"$PMM_CA_FILE.tmp"
  chmod 0644 "$PMM_CA_FILE.tmp"
  mv -f "$PMM_CA_FILE.tmp" "$PMM_CA_FILE"
  update-ca-certificates >/dev/null || finish 1 'error:update-ca-certificates failed'
  CA_CHANGED=1
}

# An agent registered by an earlier release skips verification (insecure-tls: true), and a
# running agent keeps the trust store it read at start (a new CA): verify from now on and
# restart it, leaving it a minute to reconnect before configure_agent re-registers.
refresh_agent_tls() {
  [ -f "$PMM_AGENT_CONFIG" ] && [ -n "$(agent_server_field address)" ] || return 0
  if ! grep -Eq '^[[:space:]]+insecure-tls:[[:space:]]*true[[:space:]]*$' "$PMM_AGENT_CONFIG"; then
    [ "$CA_CHANGED" -eq 1 ] || return 0
  fi
  log 'pmm-agent: verifying PMM with its CA from now on; restarting it'
  sed -i -E 's/^([[:space:]]+insecure-tls:)[[:space:]]*true[[:space:]]*$/\1 false/' "$PMM_AGENT_CONFIG"
  systemctl restart pmm-agent || return 0
  tries=0
  until agent_connected; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || return 0
    sleep 2
  done
}

agent_connected() {
  status=$(pmm-admin status 2>/dev/null) || return 1
  printf '%s\n' "$status" | grep -q "https://$PMM_SERVER_ADDRESS:443" &&
    printf '%s\n' "$status" | grep -Eq 'Connected[[:space:]]*:[[:space:]]*true'
}

configure_agent() {
  if agent_connected; then
    log 'pmm-agent is already connected to this PMM server'
    return
  fi
  log "registering node $1 with PMM at $PMM_SERVER_ADDRESS:443"
  # Registration uses the enrolment user's login and password, the password in pmm-agent's
  # environment (pmm-admin config would put it in argv). Registered with a user's password,
  # PMM creates the node's own service account and token, which pmm-agent saves instead (a
  # token used to register would itself become the node's credential: docs/reconciler.md).
  # --force replaces a stale node of the same name left by an earlier instance.
  # Its output carries no secret (the password is only in its environment) and is printed so
  # a failed registration can be diagnosed from the SSM output; withheld if it ever echoes it.
  enrolment=$(enrolment_credential) ||
    finish 1 'error:cannot read the enrolment secret (GetSecretValue on it for this instance?)'
  enrol_user=$(printf '%s' "$enrolment" | json_get username)
  PMM_AGENT_SERVER_PASSWORD=$(printf '%s' "$enrolment" | json_get password)
  enrolment=''
  [ -n "$PMM_AGENT_SERVER_PASSWORD" ] && [ -n "$enrol_user" ] ||
    finish 1 'error:no enrolment credential in the enrolment secret (no install in flight?)'
  case $enrol_user in *[!A-Za-z0-9._-]*) finish 1 'error:unexpected enrolment user name' ;; esac
  export PMM_AGENT_SERVER_PASSWORD
  rc=0
  out=$(pmm-agent setup --config-file="$PMM_AGENT_CONFIG" \
    --server-address="$PMM_SERVER_ADDRESS:443" --server-username="$enrol_user" \
    --force "$2" generic "$1" 2>&1) || rc=$?
  case $out in *"$PMM_AGENT_SERVER_PASSWORD"*) out='(output withheld: it contained a credential)' ;; esac
  unset PMM_AGENT_SERVER_PASSWORD
  printf '%s\n' "$out"
  [ "$rc" -eq 0 ] || finish 1 "error:pmm-agent setup exited $rc"
  tries=0
  until agent_connected; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || finish 1 'error:pmm-agent did not connect'
    sleep 2
  done
}

# One `key: value` of the `server:` section of the pmm-agent config (what `pmm-agent setup`
# saved: PMM 3 stores username `service_token` and the node's service-account token as the
# password). Surrounding quotes are removed.
agent_server_field() {
  awk -v key="$1" '
    /^[^[:space:]]/ { in_server = ($0 ~ /^server:/) ; next }
    in_server && $1 == key ":" {
      sub(/^[[:space:]]*[^:]*:[[:space:]]*/, ""); sub(/[[:space:]]+$/, "")
      if ($0 ~ /^".*"$/ || $0 ~ /^'"'"'.*'"'"'$/) $0 = substr($0, 2, length($0) - 2)
      print; exit
    }' "$PMM_AGENT_CONFIG"
}

# node_id and agent_id of the local pmm-agent (`pmm-admin status --json`).
agent_ids() {
  pmm-admin status --json 2>/dev/null | python3 -c 'import json, sys
s = json.load(sys.stdin).get("pmm_agent_status") or {}
sys.stdout.write("%s %s" % (s.get("node_id", ""), s.get("agent_id", "")))'
}

# The AddService request body (`POST /v1/management/services`, api/management/v1/service.proto
# AddServiceRequest.mysql = AddMySQLServiceParams). The password is read from stdin; every
# other value is a validated, non-secret argument.
mysql_body() {
  python3 -c 'import json, sys
node_id, agent_id, name, port, user, instance_id, managed_by = sys.argv[1:8]
print(json.dumps({"mysql": {
    "node_id": node_id,
    "pmm_agent_id": agent_id,
    "service_name": name,
    "address": "127.0.0.1",
    "port": int(port),
    "username": user,
    "password": sys.stdin.read(),
    "qan_mysql_perfschema": True,
    "custom_labels": {"aws_instance_id": instance_id, "managed_by": managed_by},
}}))' "$@"
}

add_mysql() {
  name=$1 port=$2 user=$3 secret=$4 id=$5
  if pmm-admin list 2>/dev/null | grep -F -- "$name" | grep -q MySQL; then
    log "MySQL service $name is already added"
    return
  fi
  password=''
  [ "$secret" = '-' ] || password=$(read_password "$secret")
  # shellcheck disable=SC2046 # two space-free IDs
  set -- $(agent_ids) "$name" "$port" "$user" "$id" "$PMM_MANAGED_BY"
  [ "$#" -eq 7 ] || finish 1 'error:no node_id/agent_id from pmm-admin status --json'
  api_user=$(agent_server_field username)
  api_password=$(agent_server_field password)
  [ -n "$api_user" ] && [ -n "$api_password" ] ||
    finish 1 "error:no server credential in $PMM_AGENT_CONFIG"
  case $api_user$api_password in *'"'* | *\\*) finish 1 'error:unexpected credential format' ;; esac
  log "adding MySQL service $name (127.0.0.1:$port, user $user) through the PMM API"
  # The node's own credential goes to curl in a 0600 config file (umask 077), the body
  # (with the DB password) on stdin: neither is in any process's argv.
  auth=$(mktemp) response=$(mktemp)
  TMP_FILES="$TMP_FILES $auth $response"
  printf 'user = "%s:%s"\n' "$api_user" "$api_password" >"$auth"
  rc=0
  code=$(printf '%s' "$password" | mysql_body "$@" |
    curl -sS -m 60 --cacert "$PMM_CA_FILE" -K "$auth" -X POST -H 'Content-Type: application/json' \
      --data-binary @- -o "$response" -w '%{http_code}' \
      "https://$PMM_SERVER_ADDRESS:443/v1/management/services") || rc=$?
  out=$(head -c 2000 "$response" 2>/dev/null || true)
  rm -f "$auth" "$response"
  for secret_value in "$password" "$api_password"; do
    [ -n "$secret_value" ] || continue
    case $out in *"$secret_value"*) out='(response withheld: it contained a credential)' ;; esac
  done
  [ "$rc" -eq 0 ] || finish 1 "error:curl to the PMM API exited $rc"
  case $code in
    2??)
      log "MySQL service $name added"
      return
      ;;
  esac
  printf 'PMM API answered HTTP %s: %s\n' "$code" "$out"
  case $code in 409) finish 17 'already-exists' ;; esac
  case $out in *'already exists'*) finish 17 'already-exists' ;; esac
  finish 1 "error:PMM API add service answered HTTP $code"
}

main() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$PMM_RECONCILER_LOCK"
    flock -n 9 || finish 11 'busy'
  fi
  id=$(instance_id)
  line=$(printf '%s\n' "$PMM_TARGETS" | awk -v id="$id" '$1 == id { print; exit }')
  [ -n "$line" ] || finish 10 'not-a-target'
  # Fields are validated, space-free values (IDs, names, ports, ARNs).
  # shellcheck disable=SC2086
  set -- $line
  install_ca
  install_client
  refresh_agent_tls
  configure_agent "$2" "$3"
  add_mysql "$2" "$4" "$5" "$6" "$id"
  finish 0 'enrolled'
}

main
