#!/usr/bin/env bash
# Benchmark: health latency while the sweeper deletes 10 trees of 3,000 files, against idle; and
# the sweep's time against `rm -rf` of identical trees in the same run. Built-in mode server JAR,
# loopback only. Health is probed by wrk at a fixed pace (one request every 5 ms per probe).
#   usage: src/bench/sweep.sh [trees, default 10] [files per tree, default 3000]
# Needs: a JDK 21+ (JAVA_HOME), wrk, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
TREES=${1:-10}
FILES=${2:-3000}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JAR=$(ls target/collab-server-*.jar 2>/dev/null | head -1 || true)
[[ -n "$JAR" ]] || { ./mvnw -B -q package -DskipTests; JAR=$(ls target/collab-server-*.jar | head -1); }
DATA=$(mktemp -d /tmp/collab-sweep-XXXXXX)
PORT=${PORT:-18282}
B="http://localhost:$PORT"
cleanup() { [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

"$JAVA" -jar "$JAR" --collab.data-dir="$DATA" --server.port="$PORT" --collab.sweeper.initial-delay=1h \
    --collab.sweeper.max-per-run="$TREES" >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 240); do curl -sf "$B/actuator/health/readiness" >/dev/null && break; sleep 0.5; done

# A tree like a JavaScript checkout: directories of 100 small files each.
make_tree() { # dir
  python3 - "$1" "$FILES" <<'PY'
import os, sys
root, files = sys.argv[1], int(sys.argv[2])
for d in range(files // 100):
    lib = os.path.join(root, "node_modules", f"pkg{d}", "lib")
    os.makedirs(lib)
    for f in range(100):
        with open(os.path.join(lib, f"f{f}.js"), "w") as out:
            out.write(f"module.exports = {f};\n")
PY
}
echo "Creating $TREES trees of $FILES files for the sweeper and identical ones for rm -rf..."
mkdir -p "$DATA/rmrf"
for t in $(seq 1 "$TREES"); do
  tree="$DATA/workspaces/$(cat /proc/sys/kernel/random/uuid)"
  make_tree "$tree"
  touch -d '2 hours ago' "$tree"   # older than collab.sweeper.min-age (1h)
  make_tree "$DATA/rmrf/tree$t"
done
sync

cat > "$DATA/pace.lua" <<'LUA'
function delay() return 5 end
LUA
probe() { # seconds path
  wrk -t1 -c1 -d"$1"s --latency -s "$DATA/pace.lua" "$B$2"
}
summary() { grep -E "50%|99%|Latency   |requests in|Non-2xx|Socket errors" | sed 's/^/    /'; }

echo "== idle: readiness and liveness probes, 10 s"
probe 10 /actuator/health/readiness > "$DATA/idle-ready.txt" & IDLE=$!
probe 10 /actuator/health/liveness > "$DATA/idle-live.txt"
wait $IDLE
echo "  readiness:"; summary < "$DATA/idle-ready.txt"
echo "  liveness:";  summary < "$DATA/idle-live.txt"

echo "== sweeping: same probes for 3 s, the sweep starting 0.3 s in (it takes about 1 s)"
probe 3 /actuator/health/readiness > "$DATA/sweep-ready.txt" & READY=$!
probe 3 /actuator/health/liveness > "$DATA/sweep-live.txt" & LIVE=$!
sleep 0.3
curl -sf -XPOST "$B/actuator/sweeper" >/dev/null
until curl -sf "$B/actuator/sweeper" | grep -q '"lastRuns":\[{'; do sleep 0.2; done
RUN=$(curl -sf "$B/actuator/sweeper")
wait $READY $LIVE
echo "  readiness:"; summary < "$DATA/sweep-ready.txt"
echo "  liveness:";  summary < "$DATA/sweep-live.txt"
echo "  sweep report: $(echo "$RUN" | grep -o '"lastRuns":\[{[^}]*}')"
SWEEP_MS=$(echo "$RUN" | python3 -c 'import json,sys,datetime as d
r=json.load(sys.stdin)["lastRuns"][0]
p=lambda s: d.datetime.fromisoformat(s.replace("Z","+00:00"))
print(round((p(r["finishedAt"])-p(r["startedAt"])).total_seconds()*1000))')

echo "== rm -rf of the identical trees"
start=$(date +%s%N); rm -rf "$DATA/rmrf"; end=$(date +%s%N)
RM_MS=$(( (end - start) / 1000000 ))
echo "  sweep: ${SWEEP_MS} ms   rm -rf: ${RM_MS} ms   ratio: $(echo "scale=2; $SWEEP_MS / $RM_MS" | bc)"
