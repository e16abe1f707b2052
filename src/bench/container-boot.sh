#!/usr/bin/env bash
# Benchmark: team-mode boot to readiness laid out as in the container image (Dockerfile): the
# -Dteam-mode-only JAR extracted in layers, the image's JVM flags, with and without the JDK AOT
# cache that the image trains at build time. Needs a PostgreSQL to point at:
#   usage: src/bench/container-boot.sh <jdbc-url> <user> [runs per variant, default 5]
#   e.g.   src/bench/container-boot.sh jdbc:postgresql://127.0.0.1:55432/collab postgres 5
set -euo pipefail
cd "$(dirname "$0")/../.."
URL=${1:?jdbc url}; DB_USER=${2:?user}; RUNS=${3:-5}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
FLAGS=(-XX:+UseG1GC -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError)
WORK=$(mktemp -d /tmp/collab-ctrboot-XXXXXX)
PORT=${PORT:-18383}
trap 'pkill -f -- "$WORK/" 2>/dev/null || true; rm -rf "$WORK"' EXIT

./mvnw -B -q -ntp -Dteam-mode-only -Dmaven.test.skip=true package
cp "$(ls target/collab-server-*.jar | head -1)" "$WORK/application.jar"
"$JAVA" -Djarmode=tools -jar "$WORK/application.jar" extract --layers --destination "$WORK/layers" >/dev/null
mkdir "$WORK/app"
for layer in dependencies spring-boot-loader snapshot-dependencies application; do
  cp -a "$WORK/layers/$layer/." "$WORK/app/"
done
APP="$WORK/app/application.jar"
DB=(--spring.datasource.url="$URL" --spring.datasource.username="$DB_USER")

echo "training the AOT cache (as the image build does)"
"$JAVA" "${FLAGS[@]}" -XX:AOTCacheOutput="$WORK/app/collab.aot" -Dspring.context.exit=onRefresh \
  -jar "$APP" "${DB[@]}" --collab.data-dir="$WORK/training" --server.port=0 >"$WORK/training.log" 2>&1 \
  || { echo "training failed:"; grep -v "warning\]\[aot" "$WORK/training.log" | tail -20; exit 1; }
ls -l "$WORK/app/collab.aot" | awk '{printf "AOT cache: %.0f MB\n", $5/1048576}'

ms() { date +%s%3N; }
boot() {
  local start pid
  start=$(ms)
  "$JAVA" "${FLAGS[@]}" "$@" -jar "$APP" "${DB[@]}" --collab.data-dir="$WORK/data" --server.port="$PORT" \
    >"$WORK/last.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "localhost:$PORT/actuator/health/readiness"; do
    kill -0 $pid 2>/dev/null || { echo "server died"; tail -20 "$WORK/last.log"; exit 1; }
    sleep 0.02
  done
  echo $(($(ms) - start))
  kill $pid; wait $pid 2>/dev/null || true
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
variant() {
  local name=$1 runs=() i; shift
  for i in $(seq 1 "$RUNS"); do runs+=("$(boot "$@")"); done
  printf '%-24s median %s ms (runs: %s)\n' "$name" "$(printf '%s\n' "${runs[@]}" | median)" "${runs[*]}"
}
echo "JDK: $("$JAVA" -version 2>&1 | head -1); cores: $(nproc)"
variant "extracted, no cache"
variant "extracted + AOT cache" -XX:AOTCache="$WORK/app/collab.aot"
