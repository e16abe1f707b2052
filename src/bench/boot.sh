#!/usr/bin/env bash
# Benchmark: built-in mode, process launch to readiness (GET /actuator/health/readiness = 200),
# on a fresh data directory and on an existing one, for the fat JAR, the extracted JAR and the
# extracted JAR with a JDK AOT cache. Prints each run and the median per variant.
#   usage: src/bench/boot.sh [runs per variant, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JAR=$(ls target/collab-server-*.jar 2>/dev/null | head -1 || true)
[[ -n "$JAR" ]] || { ./mvnw -B -q package -DskipTests; JAR=$(ls target/collab-server-*.jar | head -1); }
WORK=$(mktemp -d /tmp/collab-boot-XXXXXX)
PORT=${PORT:-18282}
trap 'pkill -f "collab.data-dir=$WORK" 2>/dev/null || true; sleep 1; rm -rf "$WORK"' EXIT

"$JAVA" -Djarmode=tools -jar "$JAR" extract --destination "$WORK/extracted" >/dev/null
EXTRACTED="$WORK/extracted/$(basename "$JAR")"
AOT="$WORK/app.aot"
# Training run: start the context, then exit (Spring's AOT-cache recipe), recording the cache.
"$JAVA" -XX:AOTCacheOutput="$AOT" -Dspring.context.exit=onRefresh -jar "$EXTRACTED" \
    --collab.data-dir="$WORK/training" --server.port=0 >"$WORK/training.log" 2>&1 || true
[[ -f "$AOT" ]] || { echo "AOT cache not created; see $WORK/training.log"; AOT=; }

ms() { date +%s%3N; }
boot() { # variant data-dir java-args...
  local data=$2; shift 2
  local start end pid
  start=$(ms)
  "$JAVA" "$@" --collab.data-dir="$data" --server.port="$PORT" >"$WORK/last.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "localhost:$PORT/actuator/health/readiness"; do
    kill -0 $pid 2>/dev/null || { echo "server died"; tail -20 "$WORK/last.log"; exit 1; }
    sleep 0.02
  done
  end=$(ms)
  kill $pid; wait $pid 2>/dev/null || true
  echo $((end - start))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_variant() { # name java-args...
  local name=$1; shift
  local fresh=() existing=() i
  for i in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/data"
    fresh+=("$(boot "$name" "$WORK/data" "$@")")
    existing+=("$(boot "$name" "$WORK/data" "$@")")
  done
  printf '%-28s fresh: %s ms (runs: %s)   existing: %s ms (runs: %s)\n' "$name" \
    "$(printf '%s\n' "${fresh[@]}" | median)" "${fresh[*]}" \
    "$(printf '%s\n' "${existing[@]}" | median)" "${existing[*]}"
}

echo "JDK: $("$JAVA" -version 2>&1 | head -1); cores: $(nproc)"
run_variant "fat jar" -jar "$JAR"
run_variant "extracted" -jar "$EXTRACTED"
[[ -n "$AOT" ]] && run_variant "extracted + AOT cache" -XX:AOTCache="$AOT" -jar "$EXTRACTED"
