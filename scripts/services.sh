#!/usr/bin/env bash
# Makes sure the local services that Pledge's integration tests use are running on loopback, and
# prepares them: PostgreSQL with max_prepared_transactions >= 64 (for 2pc and xa) and a pledge_test
# database, MariaDB with a pledge_test database. For the console's browser tests it installs Debian's
# chromium (apt-get, as root) and playwright-core (npm ci in pledge-server/src/test/console) when
# missing. Safe to run any number of times: a service that answers
# is left alone, a setting already right is not touched.
#
# Prints one line per service: `ok <service> <address>`, or `MISSING <service> <address> (<why>)`.
# With CI=true a missing service fails the script; otherwise it warns and exits 0, so that a developer
# without, say, Mosquitto can still run everything else.
#
# Environment: PLEDGE_SERVICES_TIMEOUT, seconds to wait for a service after starting it (default 60).

# The probes, starters and preparers below are called through variables, which shellcheck cannot see.
# shellcheck disable=SC2317
set -uo pipefail

readonly host=127.0.0.1
readonly wait_seconds=${PLEDGE_SERVICES_TIMEOUT:-60}
readonly min_prepared_transactions=64
# One database per suite that keeps its own tables, so suites running side by side never share rows:
# the log's contract and the server (pledge_test), the SDK (pledge_sdk_test), the event store
# (pledge_es_test), the broker adapters (pledge_broker_test), xa's prepared transactions (pledge_xa_test).
readonly test_databases=(pledge_test pledge_sdk_test pledge_es_test pledge_broker_test pledge_xa_test)

missing=()
log=$(mktemp -t pledge-services.XXXXXX)
trap 'rm -f "$log"' EXIT

# --- probes: each succeeds only when the service speaks its protocol, not merely when a port is open.

# Runs a probe with a hard time limit, so a hung peer cannot stall the script.
probe() {
  timeout 5 bash -c "$1" >/dev/null 2>&1
}

postgres_up() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$host" -p 5432 -U postgres
  else
    probe "exec 3<>/dev/tcp/$host/5432"
  fi
}

mariadb_client() {
  command -v mariadb || command -v mysql
}

mariadb_up() {
  local client
  if client=$(mariadb_client); then
    "$client" -h "$host" -P 3306 -u root --connect-timeout=3 -N -e 'SELECT 1' >/dev/null 2>&1
  else
    probe "exec 3<>/dev/tcp/$host/3306"
  fi
}

# AMQP 0-9-1: after the protocol header the broker sends a method frame (type 1) on channel 0.
rabbitmq_up() {
  probe "exec 3<>/dev/tcp/$host/5672
         printf 'AMQP\\x00\\x00\\x09\\x01' >&3
         [[ \$(head -c 3 <&3 | od -An -tx1 | tr -d ' \\n') == 010000 ]]"
}

# NATS greets every client with an INFO line; the tests need JetStream, which INFO reports.
nats_up() {
  probe "exec 3<>/dev/tcp/$host/4222
         IFS= read -r line <&3
         [[ \$line == INFO* && \$line == *'\"jetstream\":true'* ]]"
}

redis_up() {
  if command -v redis-cli >/dev/null; then
    [[ $(timeout 5 redis-cli -h "$host" -p 6379 ping 2>/dev/null) == PONG ]]
  else
    probe "exec 3<>/dev/tcp/$host/6379
           printf 'PING\\r\\n' >&3
           IFS= read -r line <&3
           [[ \$line == +PONG* ]]"
  fi
}

# MQTT 3.1.1: a CONNECT with an empty client id must be answered by a CONNACK (0x20), whatever its code.
mosquitto_up() {
  probe "exec 3<>/dev/tcp/$host/1883
         printf '\\x10\\x0c\\x00\\x04MQTT\\x04\\x02\\x00\\x3c\\x00\\x00' >&3
         [[ \$(head -c 1 <&3 | od -An -tx1 | tr -d ' \\n') == 20 ]]"
}

# --- starting

postgres_cluster() {
  local cluster
  if command -v pg_lsclusters >/dev/null; then
    cluster=$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1, $2; exit }')
  fi
  if [[ -z ${cluster:-} && -d /etc/postgresql ]]; then
    cluster="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1) main"
  fi
  [[ -n ${cluster:-} ]] && echo "$cluster"
}

start_postgres() {
  local cluster
  cluster=$(postgres_cluster) || return 1
  # shellcheck disable=SC2086 # "<version> <name>" is two arguments.
  pg_ctlcluster --skip-systemctl-redirect $cluster start
}

start_mariadb() {
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}

start_rabbitmq() {
  rabbitmq-server -detached
}

start_nats() {
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a "$host" -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

start_redis() {
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_mosquitto() {
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
}

# Runs a command or function with a time limit (timeout(1) cannot run shell functions).
run_bounded() {
  local seconds=$1 pid deadline
  shift
  "$@" &
  pid=$!
  deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null
      echo "gave up after ${seconds}s: $*"
      return 1
    fi
    sleep 0.2
  done
  wait "$pid"
}

# Polls a probe once a second until it succeeds or wait_seconds pass.
wait_for() {
  local check=$1 deadline=$((SECONDS + wait_seconds))
  until "$check"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

report_missing() {
  local service=$1 address=$2 why=$3
  missing+=("$service")
  echo "MISSING $service $address ($why)"
  if [[ -s $log ]]; then
    sed 's/^/    | /' "$log" | tail -n 20
  fi
}

# ensure <service> <address> <probe> <start function> <program the start needs> [<prepare function>]
# Starts the service if its probe fails, waits for it, runs the prepare function if any, and only then
# reports it ok.
ensure() {
  local service=$1 address=$2 check=$3 start=$4 program=$5 prepare=${6:-} how=""
  : >"$log"
  if ! "$check"; then
    if ! command -v "$program" >/dev/null; then
      report_missing "$service" "$address" "down, and $program is not installed"
      return 1
    fi
    if ! run_bounded 120 "$start" >"$log" 2>&1; then
      report_missing "$service" "$address" "down, and starting it failed"
      return 1
    fi
    if ! wait_for "$check"; then
      report_missing "$service" "$address" "started, but not answering after ${wait_seconds}s"
      return 1
    fi
    how=" (started)"
  fi
  if [[ -n $prepare ]] && ! "$prepare"; then
    return 1
  fi
  echo "ok $service $address$how"
}

# --- preparing

psql_postgres() {
  psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p 5432 -U postgres -d postgres -tA "$@"
}

# max_prepared_transactions is read only at server start: raise it, then restart, only when too low.
prepare_postgres() {
  local current cluster
  current=$(psql_postgres -c 'SHOW max_prepared_transactions' 2>"$log") || {
    report_missing postgres "$host:5432" "cannot read max_prepared_transactions"
    return 1
  }
  if ((current < min_prepared_transactions)); then
    echo "   postgres: max_prepared_transactions is $current, setting it to $min_prepared_transactions and restarting"
    cluster=$(postgres_cluster)
    # shellcheck disable=SC2086 # "<version> <name>" is two arguments.
    if ! psql_postgres -c "ALTER SYSTEM SET max_prepared_transactions = $min_prepared_transactions" >"$log" 2>&1 ||
      ! run_bounded 120 pg_ctlcluster --skip-systemctl-redirect $cluster restart >>"$log" 2>&1 ||
      ! wait_for postgres_up; then
      report_missing postgres "$host:5432" "could not raise max_prepared_transactions to $min_prepared_transactions"
      return 1
    fi
    current=$(psql_postgres -c 'SHOW max_prepared_transactions' 2>"$log")
    if ((current < min_prepared_transactions)); then
      report_missing postgres "$host:5432" "max_prepared_transactions is still $current after a restart"
      return 1
    fi
  fi
  local database
  for database in "${test_databases[@]}"; do
    if [[ -z $(psql_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$database'" 2>"$log") ]]; then
      if ! psql_postgres -c "CREATE DATABASE $database" >"$log" 2>&1; then
        report_missing postgres "$host:5432" "cannot create database $database"
        return 1
      fi
    fi
  done
}

prepare_mariadb() {
  local client database
  client=$(mariadb_client) || {
    report_missing mariadb "$host:3306" "no mariadb or mysql client to create the test databases"
    return 1
  }
  for database in "${test_databases[@]}"; do
    if ! "$client" -h "$host" -P 3306 -u root -e "CREATE DATABASE IF NOT EXISTS $database" >"$log" 2>&1; then
      report_missing mariadb "$host:3306" "cannot create database $database"
      return 1
    fi
  done
}

# --- node packages: for the console's browser tests Debian's Chromium and playwright-core, for the
# broker example amqplib, each at the version of its lock file

readonly repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly console_tests=$repository/pledge-server/src/test/console
# The consumer in another language of docs/brokers.md (NodeConsumerTest runs it).
readonly node_consumer=$repository/examples/node-consumer

install_chromium() {
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
}

ensure_chromium() {
  : >"$log"
  if ! command -v chromium >/dev/null; then
    if ! command -v apt-get >/dev/null || [[ $(id -u) != 0 ]]; then
      report_missing chromium /usr/bin/chromium "not installed; as root: apt-get install chromium"
      return 1
    fi
    if ! run_bounded 900 install_chromium >"$log" 2>&1 || ! command -v chromium >/dev/null; then
      report_missing chromium /usr/bin/chromium "apt-get install chromium failed"
      return 1
    fi
    echo "ok chromium $(command -v chromium) (installed)"
    return 0
  fi
  echo "ok chromium $(command -v chromium)"
}

# The version npm ci would install, and the one installed, of <package> in <folder>: read from the
# lock file and from the installed package.
npm_versions() {
  node -e '
    const fs = require("fs");
    const [folder, name] = process.argv.slice(1);
    const want = JSON.parse(fs.readFileSync(folder + "/package-lock.json")).packages["node_modules/" + name].version;
    let have = "none";
    try { have = JSON.parse(fs.readFileSync(folder + "/node_modules/" + name + "/package.json")).version; } catch (e) {}
    console.log(want + " " + have);' "$1" "$2"
}

# ensure_npm <folder> <package>: `npm ci` in <folder> when <package> is not installed there at the
# version of its package-lock.json; nothing when it is.
ensure_npm() {
  local folder=$1 package=$2 versions want have
  : >"$log"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    report_missing "$package" "$folder" "node and npm are not installed"
    return 1
  fi
  versions=$(npm_versions "$folder" "$package" 2>"$log") || {
    report_missing "$package" "$folder" "cannot read its package-lock.json"
    return 1
  }
  read -r want have <<<"$versions"
  if [[ $want != "$have" ]]; then
    if ! (cd "$folder" && run_bounded 300 npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
      report_missing "$package" "$folder" "npm ci failed"
      return 1
    fi
    echo "ok $package $want (installed by npm ci in $folder)"
    return 0
  fi
  echo "ok $package $want"
}

# --- main

ensure postgres "$host:5432" postgres_up start_postgres pg_ctlcluster prepare_postgres
ensure mariadb "$host:3306" mariadb_up start_mariadb start-stop-daemon prepare_mariadb
ensure rabbitmq "$host:5672" rabbitmq_up start_rabbitmq rabbitmq-server
ensure nats "$host:4222" nats_up start_nats start-stop-daemon
ensure redis "$host:6379" redis_up start_redis redis-server
ensure mosquitto "$host:1883" mosquitto_up start_mosquitto mosquitto
ensure_chromium
ensure_npm "$console_tests" playwright-core
ensure_npm "$node_consumer" amqplib

if ((${#missing[@]} > 0)); then
  echo
  echo "!!! MISSING: ${missing[*]}. Tests that need them will fail."
  if [[ ${CI:-} == true ]]; then
    exit 1
  fi
  echo "!!! (Not fatal outside CI; with CI=true this script exits non-zero.)"
fi
exit 0
