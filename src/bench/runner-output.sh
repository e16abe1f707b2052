#!/bin/sh
# Benchmark of the agent runner (issue 12): output throughput and the server's CPU while runs wait.
#   src/bench/runner-output.sh target/collab-server-*.jar [port=18586]   (java on the PATH: JDK 21+)
# Built-in mode, a temp data directory, an agent script that floods or sleeps:
# 1. "flood N": one run prints N lines of 11 bytes as fast as it can; reported: send → run.finished
#    (every output event committed) and the MB/s that makes.
# 2. "sleep S" in R sessions at once: R runs that print nothing; reported: the server's CPU time
#    over a fixed window while they sleep (what per-run polling costs).
set -eu
jar=$1
port=${2:-18586}
runs=${RUNS:-20}
lines=${LINES_OUT:-2000000}
dir=$(mktemp -d)
agent=$dir/agent.sh
cat > "$agent" <<'AGENT'
msg=$(cat)
case "$msg" in
  flood*) yes abcdefghij | head -n "${msg#flood }" ;;
  sleep*) sleep "${msg#sleep }" ;;
esac
AGENT
base=http://localhost:$port
java -jar "$jar" --server.port="$port" --collab.data-dir="$dir/data" --collab.runner.command=sh,"$agent" \
  --collab.runner.timeout=10m > "$dir/server.log" 2>&1 &
server=$!
# (|| true: under set -e a failing command in the trap would end it before the clean-up)
trap 'kill $server 2> /dev/null || true; wait $server 2> /dev/null || true; rm -rf "$dir"' EXIT
until curl -sf "$base/actuator/health/readiness" > /dev/null; do
  kill -0 $server 2> /dev/null || { echo "the server did not start:"; tail -5 "$dir/server.log"; exit 1; }
  sleep 0.5
done
curl -sf -X PUT "$base/api/projects/bench" -H 'content-type: application/json' -d '{"name":"bench"}' > /dev/null
session() { curl -sf -X POST "$base/api/projects/bench/sessions" -H 'content-type: application/json' -d '{}' | sed 's/.*"id":"\([^"]*\)".*/\1/'; }
send() { curl -sf -X POST "$base/api/sessions/$1/messages" -H 'content-type: application/json' -d "{\"text\":\"$2\",\"author\":\"bench\"}" > /dev/null; }
idle() { curl -sf "$base/api/sessions/$1" | grep -q '"state":"IDLE"'; }
now() { date +%s.%N; }
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }   # utime + stime, clock ticks

# 1. throughput (a warm-up run first)
for round in warmup measured; do
  s=$(session)
  start=$(now)
  send "$s" "flood $lines"
  until idle "$s"; do sleep 0.05; done
  end=$(now)
  events=$(curl -sf "$base/api/sessions/$s" | sed 's/.*"headSeq":\([0-9]*\).*/\1/')
  echo "flood $round: $lines lines ($((lines * 11)) bytes) in $(echo "$end - $start" | bc) s," \
    "$(echo "scale=1; $lines * 11 / 1000000 / ($end - $start)" | bc) MB/s, $events events"
done

# 2. CPU while runs sleep
ids=""
for i in $(seq "$runs"); do ids="$ids $(session)"; done
for s in $ids; do send "$s" "sleep 30"; done
sleep 3
before=$(cpu); t0=$(now)
sleep 20
after=$(cpu); t1=$(now)
ticks=$(getconf CLK_TCK)
echo "$runs sleeping runs: server CPU $(echo "scale=2; ($after - $before) / $ticks" | bc) s over $(echo "$t1 - $t0" | bc | cut -c1-5) s"
