#!/usr/bin/env bash
# Benchmark (issue 4, event log and live streaming): SSE fan-out of collab-server against a minimal
# in-memory Node.js hub (node-hub.mjs, the kind of server the original incident ran), on this machine,
# loopback only. collab-server runs from the TEST classpath (for POST /test/sessions/{id}/events) with
# the built-in PostgreSQL; load comes from loadgen.mjs (Node.js standard library only).
#
#   usage: src/bench/fanout/run.sh scenario...
#     smoke        1 session x 20 watchers, 10 events/s, 5 s; both servers
#     fanout1000   1 session x 1000 watchers, 20 events/s, 30 s; both servers
#     fanout5000   1 session x 5000 watchers, 4 events/s, 30 s; both servers
#     realistic    2000 sessions x 5 watchers, 500 events/s, 30 s; collab only
#     idle         100 sessions x 100 watchers (10,000 streams), no events, held 20 s; collab only:
#                  heap (also after a full GC), live threads, RSS
#     throughput   100 sessions x 1 stream; 8 concurrent POST /test/sessions/{id}/events?count=50, 20 s
#     storm5000    reconnect storm (issue 11): 1 session with 100 events of history, 5000 streams opening at
#                  once (collab: Last-Event-ID spread over head-50..head), then 4 events/s, 20 s; both servers
#     storm10000   100 sessions x 100 streams (10,000) opening at once, 100 events of history each (collab:
#                  cursors over head-50..head), then 50 events/s over the sessions, 20 s; both servers
#   and the same at other sizes (e.g. for a quick check):
#     fanout-W-R-D          1 session x W watchers, R events/s, D s; both servers (e.g. fanout-50-20-5)
#     realistic-S-W-R-D     S sessions x W watchers, R events/s, D s; collab only
#     idle-S-W-D            S sessions x W watchers, no events, held D s; collab only
#     throughput-S-C-D      S sessions x 1 stream, C concurrent requests of 50 events, D s; collab only
#     storm-S-W-H-B-R-D     storm: S sessions x W streams at once, H events of history, cursors up to B behind,
#                           R events/s, D s; both servers
#
# For each run it prints the loadgen's JSON line, then a "server" JSON line: CPU seconds of the server
# process over the whole loadgen run (setup, ramp, window, drain) and of PostgreSQL (collab), and memory
# sampled in the middle of the measured window (collab: heap from /actuator/prometheus, live threads; node:
# /stats), RSS from /proc, and listenOverflows: connections the kernel dropped during the run because a
# listen backlog was full (machine-wide, from /proc/net/netstat: other processes' listeners count too).
# The loadgen line has the same CPU figures for the measured window only.
#
# Environment: JAVA_HOME (default temurin 25), JAVA_OPTS (collab JVM options), COLLAB_PORT (18480),
# NODE_PORT (18481), WARMUP seconds (5; smoke: 1), FRESH=1 (a new collab-server, fresh database, for
# each scenario), BUILD=1 (always rebuild; by default only when target/ lacks the classes or a source under
# src/main, src/test or pom.xml is newer), NO_BUILD=1 (never), KEEP=1 (keep the temp dir and logs).
# Needs: a JDK 21+, Node.js 20+, curl. Uses up to 2 x 10,000 sockets: raises `ulimit -n` for itself.
set -euo pipefail
cd "$(dirname "$0")/../../.."
HERE=src/bench/fanout
[[ $# -gt 0 ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JCMD=${JAVA_HOME:+$JAVA_HOME/bin/}jcmd
COLLAB_PORT=${COLLAB_PORT:-18480}
NODE_PORT=${NODE_PORT:-18481}
CB="http://127.0.0.1:$COLLAB_PORT"
NB="http://127.0.0.1:$NODE_PORT"
CLK_TCK=$(getconf CLK_TCK)

# Each process (loadgen, server) holds one socket per stream. Where the hard limit cannot be raised
# (no CAP_SYS_RESOURCE, e.g. in a container) this falls back to the hard limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[[ $(ulimit -n) -ge 10500 ]] || echo "warning: ulimit -n is $(ulimit -n); 10,000 streams need more" >&2

# ---------- scenarios: validate first, so a typo does not cost a server start ----------
needs_node=
for s in "$@"; do
  case $s in
    smoke|fanout1000|fanout5000|storm5000|storm10000) needs_node=1 ;;
    fanout-[0-9]*-[0-9]*-[0-9]*|storm-[0-9]*-[0-9]*-[0-9]*-[0-9]*-[0-9]*-[0-9]*) needs_node=1 ;;
    realistic|idle|throughput) ;;
    realistic-[0-9]*-[0-9]*-[0-9]*-[0-9]*|idle-[0-9]*-[0-9]*-[0-9]*|throughput-[0-9]*-[0-9]*-[0-9]*) ;;
    *) echo "unknown scenario: $s (run without arguments for the list)" >&2; exit 2 ;;
  esac
done

# ---------- build ----------
# Needed: no classes yet, or a source newer than the newest compiled file (NO_BUILD=1 runs what is there).
stale() {
  [[ -f target/classes/dev/collab/CollabServerApplication.class \
    && -f target/test-classes/dev/collab/web/TestEndpoints.class ]] || return 0
  local newest
  newest=$(find target/classes target/test-classes -type f -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
  [[ -n $(find src/main src/test pom.xml -type f -newer "$newest" -print -quit) ]]
}
if [[ -n "${BUILD:-}" ]] || { [[ -z "${NO_BUILD:-}" ]] && stale; }; then
  echo "building (./mvnw -B -q -DskipTests package)..." >&2
  ./mvnw -B -q -DskipTests package
fi
if [[ -n "${BUILD:-}" || ! -s target/bench.classpath || pom.xml -nt target/bench.classpath ]]; then
  ./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
fi

WORK=$(mktemp -d /tmp/collab-fanout-XXXXXX)
# A copy of the classes: a rebuild in target/ during a long run does not change the server under test.
mkdir -p "$WORK/cp"
cp -r target/classes "$WORK/cp/classes"
cp -r target/test-classes "$WORK/cp/test-classes"
CLASSPATH_ARG="$WORK/cp/test-classes:$WORK/cp/classes:$(cat target/bench.classpath)"

JPID= NPID= LG=
postmaster_pid() { # of the current collab data dir, if running
  local f
  f=$(find "$WORK/collab" -maxdepth 3 -name postmaster.pid 2>/dev/null | head -1)
  [[ -n "$f" ]] && head -1 "$f" 2>/dev/null || true
}
stop_collab() {
  [[ -n "$JPID" ]] || return 0
  local pm
  pm=$(postmaster_pid)
  kill "$JPID" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$JPID" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$JPID" 2>/dev/null; then echo "collab-server did not stop in 60 s: killed" >&2; kill -9 "$JPID" 2>/dev/null || true; fi
  wait "$JPID" 2>/dev/null || true
  # The built-in PostgreSQL is a daemon of its own: stopped by the server on a clean exit, else here.
  if [[ -n "$pm" ]] && kill -0 "$pm" 2>/dev/null; then
    kill -INT "$pm" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pm" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pm" 2>/dev/null || true
  fi
  JPID=
}
cleanup() {
  set +e
  [[ -n "$LG" ]] && kill "$LG" 2>/dev/null && wait "$LG" 2>/dev/null
  [[ -n "$NPID" ]] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
  stop_collab
  if [[ -n "${KEEP:-}" ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_collab() {
  port_free "$COLLAB_PORT" || { echo "port $COLLAB_PORT is in use (set COLLAB_PORT)" >&2; exit 1; }
  rm -rf "$WORK/collab"
  # shellcheck disable=SC2086
  "$JAVA" ${JAVA_OPTS:-} -cp "$CLASSPATH_ARG" dev.collab.CollabServerApplication \
      --collab.data-dir="$WORK/collab" --server.port="$COLLAB_PORT" \
      --collab.test.endpoints=true --collab.sweeper.enabled=false \
      --collab.auth.first-admin.login=bench --collab.auth.first-admin.password=bench-password-1 >>"$WORK/collab.log" 2>&1 &
  JPID=$!
  local start=$SECONDS
  until curl -sf -o /dev/null "$CB/actuator/health/readiness"; do
    kill -0 "$JPID" 2>/dev/null || { echo "collab-server died:" >&2; tail -30 "$WORK/collab.log" >&2; exit 1; }
    (( SECONDS - start < 240 )) || { echo "collab-server not ready in 240 s" >&2; tail -30 "$WORK/collab.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "collab-server ready (pid $JPID, PostgreSQL pid $(postmaster_pid), $((SECONDS - start)) s)" >&2
  collab_token
}

# Issue 13: every /api request needs a user. The loadgen calls as the first admin with a personal
# access token (COLLAB_TOKEN); a server from before identity and access gets none and needs none.
collab_token() {
  unset COLLAB_TOKEN
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$CB/api/projects") == 401 ]] || return 0
  local jar="$WORK/cookies" xsrf
  rm -f "$jar"
  curl -sf -c "$jar" -H 'Content-Type: application/json' -d '{"login":"bench","password":"bench-password-1"}' \
    "$CB/api/auth/login" >/dev/null
  xsrf=$(awk '$6=="XSRF-TOKEN"{print $7}' "$jar")
  COLLAB_TOKEN=$(curl -sf -b "$jar" -H "X-XSRF-TOKEN: $xsrf" -H 'Content-Type: application/json' \
    -d '{"name":"fanout","expiresAt":null}' "$CB/api/tokens" | sed -n 's/.*"token":"\(collab_pat_[^"]*\)".*/\1/p')
  [[ -n "$COLLAB_TOKEN" ]] || { echo "could not create a token for the loadgen" >&2; exit 1; }
  export COLLAB_TOKEN
}

start_node() {
  port_free "$NODE_PORT" || { echo "port $NODE_PORT is in use (set NODE_PORT)" >&2; exit 1; }
  node "$HERE/node-hub.mjs" "$NODE_PORT" >>"$WORK/node.log" 2>&1 &
  NPID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$NB/stats" && break; sleep 0.1; done
  curl -sf -o /dev/null "$NB/stats" || { echo "node-hub did not start:" >&2; cat "$WORK/node.log" >&2; exit 1; }
  echo "node-hub ready (pid $NPID)" >&2
}

# CPU ticks of a process and its descendants (live ones, and the reaped ones through cutime/cstime).
tree_ticks() {
  local pid=$1 t=0 c
  [[ -r /proc/$pid/stat ]] || { echo 0; return; }
  t=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13 + $14 + $15}')
  for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do t=$((t + $(tree_ticks "$c"))); done
  echo "$t"
}
# Connections the kernel dropped because a listen backlog was full (machine-wide: TcpExt ListenOverflows).
listen_overflows() {
  awk '/^TcpExt:/ {if (!h) {for (i = 2; i <= NF; i++) n[$i] = i; h = 1} else {print $(n["ListenOverflows"]); exit}}' /proc/net/netstat
}
secs() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", t / h}'; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo null; }
os_threads() { awk '/^Threads/ {print $2}' "/proc/$1/status" 2>/dev/null || echo null; }

collab_memory() { # JSON members: heap, live threads, subscribers, RSS
  local prom
  prom=$(curl -sf "$CB/actuator/prometheus" || true)
  awk '
    /^jvm_memory_used_bytes\{/ && /area="heap"/ {heap += $NF}
    /^jvm_threads_live_threads/ {threads = $NF}
    /^collab_stream_subscribers/ {subs = $NF}
    END {printf "\"heapUsedMB\":%.1f,\"threadsLive\":%d,\"subscribers\":%d", heap / 1048576, threads, subs}' <<<"$prom"
  printf ',"rssMB":%s,"osThreads":%s' "$(rss_mb "$JPID")" "$(os_threads "$JPID")"
}
node_memory() {
  local stats
  stats=$(curl -sf "$NB/stats" || echo '{}')
  node -e 'const s = JSON.parse(process.argv[1]);
    process.stdout.write(`"heapUsedMB":${(s.heapUsed / 1048576).toFixed(1)},"subscribers":${s.subscribers}`)' "$stats"
  printf ',"rssMB":%s,"osThreads":%s' "$(rss_mb "$NPID")" "$(os_threads "$NPID")"
}

subscribers() { # target: live streams the server still counts
  if [[ $1 == collab ]]; then
    curl -sf "$CB/actuator/prometheus" | awk '/^collab_stream_subscribers/ {printf "%d", $NF; found = 1} END {if (!found) print -1}'
  else
    curl -sf "$NB/stats" | sed -n 's/.*"subscribers":\([0-9]*\).*/\1/p'
  fi
}
# Streams of the previous run still held by the server would skew this one: collab notices a client
# that went away only when a write fails (the heartbeat, every 15 s), so this can take up to ~30 s.
settle() { # target
  local start=$SECONDS n
  while n=$(subscribers "$1"); [[ -n "$n" && "$n" -gt 0 ]]; do
    (( SECONDS - start < 60 )) || { echo "   $1 still counts $n streams after 60 s; going on" >&2; return; }
    sleep 0.5
  done
  (( SECONDS - start < 2 )) || echo "   waited $((SECONDS - start)) s for $1 to let go of the previous run's streams" >&2
}

# sleep up to $1 seconds while process $2 lives
sleep_while() {
  local n=0 steps
  steps=$(awk -v s="$1" 'BEGIN {printf "%d", s * 10}')
  while (( n < steps )) && kill -0 "$2" 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
}

# run_load scenario target sessions watchers rate duration warmup [more loadgen args]
run_load() {
  local scenario=$1 target=$2 s=$3 w=$4 rate=$5 duration=$6 warmup=$7
  shift 7
  local pid base pm= ready="$WORK/ready.$scenario.$target" out="$WORK/loadgen.$scenario.$target.json"
  if [[ $target == collab ]]; then pid=$JPID base=$CB pm=$(postmaster_pid); else pid=$NPID base=$NB; fi
  echo "== $scenario: $target, $s session(s) x $w watcher(s), $rate events/s, ${duration} s (+${warmup} s warm-up)" >&2
  settle "$target"
  rm -f "$ready"
  local c0 p0=0 c1 p1=0 rc=0 mem= lo0 lo1
  lo0=$(listen_overflows)
  c0=$(tree_ticks "$pid")
  [[ -n "$pm" ]] && p0=$(tree_ticks "$pm")
  node "$HERE/loadgen.mjs" --target "$target" --base "$base" --sessions "$s" --watchers "$w" --rate "$rate" \
      --duration "$duration" --warmup "$warmup" --server-pid "$pid" ${pm:+--db-pid "$pm"} --ready-file "$ready" \
      "$@" >"$out" 2> >(sed -u 's/^/   /' >&2) &
  LG=$!
  while [[ ! -f "$ready" ]] && kill -0 "$LG" 2>/dev/null; do sleep 0.1; done
  if [[ -f "$ready" ]]; then
    sleep_while "$(awk -v w="$warmup" -v d="$duration" 'BEGIN {print w + d / 2}')" "$LG"
    if [[ $target == collab ]]; then mem=$(collab_memory); else mem=$(node_memory); fi
    if [[ $scenario == idle* ]] && kill -0 "$LG" 2>/dev/null; then
      "$JCMD" "$JPID" GC.run >/dev/null 2>&1 || true
      mem+=",\"afterFullGc\":{$(collab_memory)}"
    fi
  fi
  wait "$LG" || rc=$?
  LG=
  c1=$(tree_ticks "$pid")
  lo1=$(listen_overflows)
  [[ -n "$pm" ]] && p1=$(tree_ticks "$pm")
  if [[ $rc -ne 0 || ! -s "$out" ]]; then echo "loadgen failed (exit $rc)" >&2; return 1; fi
  cat "$out"
  printf '{"server":"%s","scenario":"%s","cpuSeconds":%s%s,"listenOverflows":%s%s}\n' "$target" "$scenario" \
    "$(secs $((c1 - c0)))" "$([[ -n $pm ]] && printf ',"postgresCpuSeconds":%s' "$(secs $((p1 - p0)))")" \
    "$((lo1 - lo0))" "${mem:+,$mem}"
}

both() { # scenario sessions watchers rate duration warmup
  run_load "$1" collab "${@:2}"
  run_load "$1" node "${@:2}"
}

WARMUP=${WARMUP:-5}
[[ -n "$needs_node" ]] && start_node
start_collab
first=1
for scenario in "$@"; do
  if [[ -n "${FRESH:-}" && -z "$first" ]]; then stop_collab; start_collab; fi
  first=
  case $scenario in
    smoke)      both smoke 1 20 10 5 1 ;;
    fanout1000) both fanout1000 1 1000 20 30 "$WARMUP" ;;
    fanout5000) both fanout5000 1 5000 4 30 "$WARMUP" ;;
    fanout-*)
      IFS=- read -r _ w r d <<<"$scenario"
      both "$scenario" 1 "$w" "$r" "$d" "$WARMUP" ;;
    realistic)  run_load realistic collab 2000 5 500 30 "$WARMUP" ;;
    realistic-*)
      IFS=- read -r _ sn w r d <<<"$scenario"
      run_load "$scenario" collab "$sn" "$w" "$r" "$d" "$WARMUP" ;;
    idle)       run_load idle collab 100 100 0 20 0 ;;
    idle-*)
      IFS=- read -r _ sn w d <<<"$scenario"
      run_load "$scenario" collab "$sn" "$w" 0 "$d" 0 ;;
    throughput) run_load throughput collab 100 1 0 20 2 --mode throughput --concurrency 8 --batch 50 ;;
    storm5000)  both storm5000 1 5000 4 20 "$WARMUP" --storm --history 100 --behind 50 ;;
    storm10000) both storm10000 100 100 50 20 "$WARMUP" --storm --history 100 --behind 50 ;;
    storm-*)
      IFS=- read -r _ sn w h b r d <<<"$scenario"
      both "$scenario" "$sn" "$w" "$r" "$d" "$WARMUP" --storm --history "$h" --behind "$b" ;;
    throughput-*)
      IFS=- read -r _ sn c d <<<"$scenario"
      run_load "$scenario" collab "$sn" 1 0 "$d" 2 --mode throughput --concurrency "$c" --batch 50 ;;
  esac
done
