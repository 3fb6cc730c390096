#!/usr/bin/env bash
# Compares the candidate HTTP servers of dev.pledge.bench.http under wrk, one server at a time, on
# loopback. Writes raw wrk output and a summary (one line per server, workload and connection count)
# to $OUT (default /tmp/http-bench). See docs/http-server-choice.md for the method and the results.
#
#   mvn -B -q -pl pledge-bench -am package -DskipTests
#   bash pledge-bench/src/main/java/dev/pledge/bench/http/run-comparison.sh [rounds] [seconds]
#
# Needs wrk (apt-get install wrk) and JDK 21+ in JAVA_HOME. Each round runs every server; the order is
# reversed on even rounds so that drift in the machine's load does not favour one server.
set -euo pipefail
ROUNDS=${1:-2}
SECONDS_PER_RUN=${2:-10}
OUT=${OUT:-/tmp/http-bench}
JAVA=${JAVA_HOME:?set JAVA_HOME}/bin/java
ROOT=$(cd "$(dirname "$0")/../../../../../../../.." && pwd)
BENCH=$ROOT/pledge-bench
JVM_FLAGS=(-Xms64m -Xmx256m -XX:+UseG1GC)
mkdir -p "$OUT"

# The full classpath of pledge-bench (the last module of the reactor writes the file last), then one per candidate: the workload's classes and Jackson,
# plus only that server's own jars.
(cd "$ROOT" && mvn -B -q -o -pl pledge-bench -am -DskipTests compile dependency:build-classpath \
  -Dmdep.outputFile="$OUT/all.cp" -DincludeScope=runtime >/dev/null)
jars_of() { tr ':' '\n' < "$OUT/all.cp" | grep -E "$1" || true; }
COMMON="$BENCH/target/classes:$(jars_of '/com/fasterxml/jackson/' | paste -sd:)"
declare -A OWN=(
  [jdk]='^$'
  [jetty]='/org/eclipse/jetty/|/org/slf4j/slf4j-api/'
  [helidon]='/io/helidon/'
  [undertow]='/io/undertow/|/org/jboss/|/org/wildfly/|/io/smallrye/'
  [undertow-worker]='/io/undertow/|/org/jboss/|/org/wildfly/|/io/smallrye/'
  [jdk-defaults]='^$'
)
declare -A MAIN=(
  [jdk]=JdkServerMain [jetty]=JettyServerMain [helidon]=HelidonServerMain [undertow]=UndertowServerMain
  [undertow-worker]=UndertowServerMain [jdk-defaults]=JdkServerMain
)
# Extra arguments after the port: Undertow on its own platform worker pool instead of virtual threads.
# jdk-defaults: the JDK server without the system properties JdkServerMain sets (as HttpApiServer runs it).
declare -A ARGS=([undertow-worker]=worker [jdk-defaults]=defaults)
declare -A PORT=([jdk]=18081 [jetty]=18082 [helidon]=18083 [undertow]=18084 [undertow-worker]=18085 [jdk-defaults]=18086)
SERVERS=(${SERVERS:-jdk jetty helidon undertow undertow-worker})

# The create request: a 4-step saga of about 1 KiB, as a client of the coordinator would send.
BODY=$(python3 - <<'PY'
import json
steps = [{"action": f"http://127.0.0.1:9001/inventory/reserve/{i}",
          "compensate": f"http://127.0.0.1:9001/inventory/release/{i}",
          "payload": {"orderId": "order-000123", "sku": f"SKU-{i:05d}", "quantity": i + 1,
                      "note": "x" * 60}} for i in range(4)]
print(json.dumps({"gid": "bench-order-000123", "mode": "saga", "timeoutSeconds": 30,
                  "branches": steps}))
PY
)
printf '%s' "$BODY" > "$OUT/body.json"
cat > "$OUT/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$OUT/body.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA

summary="$OUT/summary.tsv"
[[ -f $summary ]] || printf 'round\tserver\tworkload\tconns\treq_per_s\tp50\tp99\tnon2xx\terrors\tload1\n' > "$summary"

run_wrk() { # server round workload conns url [script]
  local server=$1 round=$2 workload=$3 conns=$4 url=$5 script=${6:-}
  local file="$OUT/r$round-$server-$workload-c$conns.txt"
  local threads=2
  local args=(-t"$threads" -c"$conns" -d"${SECONDS_PER_RUN}s" --timeout 10s --latency)
  [[ -n $script ]] && args+=(-s "$script")
  wrk "${args[@]}" "$url" > "$file" 2>&1 || true
  local rps p50 p99 non2xx errors load
  rps=$(awk '/^Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1=="50%" {print $2}' "$file")
  p99=$(awk '$1=="99%" {print $2}' "$file")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$file"); non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors/ {print $3 $4 $5 $6 $7 $8 $9}' "$file"); errors=${errors:-none}
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$server" "$workload" "$conns" \
    "$rps" "$p50" "$p99" "$non2xx" "$errors" "$load" | tee -a "$summary"
}

for round in $(seq 1 "$ROUNDS"); do
  order=("${SERVERS[@]}")
  if (( round % 2 == 0 )); then
    order=()
    for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do order+=("${SERVERS[i]}"); done
  fi
  for server in "${order[@]}"; do
    port=${PORT[$server]}
    cp="$COMMON"
    own=$(jars_of "${OWN[$server]}" | paste -sd:)
    [[ -n $own ]] && cp="$cp:$own"
    "$JAVA" "${JVM_FLAGS[@]}" -cp "$cp" "dev.pledge.bench.http.${MAIN[$server]}" "$port" ${ARGS[$server]:-} \
      > "$OUT/r$round-$server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
      grep -q 'listening' "$OUT/r$round-$server.log" && break
      sleep 0.1
    done
    base="http://127.0.0.1:$port"
    thread=$(curl -s -D - -o /dev/null "$base/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="bench-thread" {print $2}')
    idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    own_kib=0
    if [[ -n $own ]]; then own_kib=$(du -ck $(echo "$own" | tr ':' ' ') | tail -1 | cut -f1); fi
    own_count=$(echo -n "$own" | tr ':' '\n' | grep -c . || true)
    # Warm-up, not recorded: the JIT compiles the hot paths of each server.
    wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$OUT/post.lua" "$base/api/v1/transactions" > /dev/null 2>&1 || true
    run_wrk "$server" "$round" health 64 "$base/health"
    for conns in 16 64 256; do
      run_wrk "$server" "$round" create "$conns" "$base/api/v1/transactions" "$OUT/post.lua"
    done
    for conns in 256 1024; do
      run_wrk "$server" "$round" create-block2ms "$conns" "$base/api/v1/transactions?blockMicros=2000" "$OUT/post.lua"
    done
    peak_rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    threads_now=$(awk '/Threads/ {print $2}' "/proc/$pid/status")
    printf 'memory\t%s\t%s\tthread=%s\tidle_rss_kib=%s\tpeak_rss_kib=%s\tos_threads=%s\tdeps_jars=%s\tdeps_kib=%s\n' \
      "$round" "$server" "$thread" "$idle_rss" "$peak_rss" "$threads_now" "$own_count" "$own_kib" | tee -a "$OUT/memory.tsv"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
