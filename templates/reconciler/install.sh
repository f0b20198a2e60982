#!/bin/sh
# Enrols this instance in PMM. Sent by the ASG reconciler Lambda through SSM
# AWS-RunShellScript (which runs it with /bin/sh, so this is POSIX sh).
#
# Idempotent: every step checks before it acts, so a re-run on an enrolled instance changes
# nothing. The reconciler replaces the PARAMETERS line below with NON-SECRET values only:
#   PMM_SERVER_ADDRESS    private IP of the PMM instance; pmm-agent connects to it on 443
#   PMM_ADMIN_SECRET_ARN  Secrets Manager ARN of the PMM admin password
#   PMM_TARGETS           one line per instance of this batch:
#                         <instance-id> <service-name> <node-address> <port> <username> <db-secret-arn|->
# Secrets are read here with the instance's own IAM role, kept in shell variables and passed
# to pmm-agent through its environment; they never appear in the SSM command or its output.
#
# Exit codes: 0 enrolled (or already), 10 not a target, 11 another run holds the lock,
# 17 PMM says the service already exists (the reconciler cleans up and retries), else failure.

# @@PARAMETERS@@

set -eu
umask 077

PMM_AGENT_CONFIG=${PMM_AGENT_CONFIG:-/usr/local/percona/pmm/config/pmm-agent.yaml}
PMM_RECONCILER_LOCK=${PMM_RECONCILER_LOCK:-/run/pmm-reconciler.lock}
IMDS=http://169.254.169.254/latest

log() { printf 'pmm-reconciler: %s\n' "$*"; }
finish() {
  printf 'PMM_RECONCILER_RESULT=%s\n' "$2"
  exit "$1"
}

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
    apt-get install -y -q "$deb"
    rm -f "$deb"
  fi
  log 'enabling the pmm3-client repository and installing pmm-client'
  percona-release enable pmm3-client
  apt-get update -q
  apt-get install -y -q pmm-client
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
  # pmm-agent reads the password from its environment (pmm-admin config would put it in argv).
  # --force replaces a stale node of the same name left by an earlier instance.
  PMM_AGENT_SERVER_PASSWORD=$(read_password "$PMM_ADMIN_SECRET_ARN")
  export PMM_AGENT_SERVER_PASSWORD
  pmm-agent setup --config-file="$PMM_AGENT_CONFIG" \
    --server-address="$PMM_SERVER_ADDRESS:443" --server-username=admin --server-insecure-tls \
    --force "$2" generic "$1" >/dev/null
  unset PMM_AGENT_SERVER_PASSWORD
  tries=0
  until agent_connected; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || finish 1 'error:pmm-agent did not connect'
    sleep 2
  done
}

add_mysql() {
  name=$1 port=$2 user=$3 secret=$4 id=$5
  if pmm-admin list 2>/dev/null | grep -F -- "$name" | grep -q MySQL; then
    log "MySQL service $name is already added"
    return
  fi
  password=''
  [ "$secret" = '-' ] || password=$(read_password "$secret")
  log "adding MySQL service $name (127.0.0.1:$port, user $user)"
  set -- add mysql --query-source=perfschema --username="$user" \
    --custom-labels="aws_instance_id=$id"
  [ -z "$password" ] || set -- "$@" --password="$password"
  rc=0
  out=$(pmm-admin "$@" "$name" "127.0.0.1:$port" 2>&1) || rc=$?
  if [ -n "$password" ]; then
    case $out in *"$password"*) out='(output withheld: it contained a credential)' ;; esac
  fi
  printf '%s\n' "$out"
  [ "$rc" -eq 0 ] && return
  case $out in *'already exists'*) finish 17 'already-exists' ;; esac
  finish 1 "error:pmm-admin add mysql exited $rc"
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
  install_client
  configure_agent "$2" "$3"
  add_mysql "$2" "$4" "$5" "$6" "$id"
  finish 0 'enrolled'
}

main
