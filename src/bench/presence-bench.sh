#!/usr/bin/env bash
# Benchmark: presence (issue 16). 2,000 watchers, distinct users, over two instances (1,000
# session streams each: the in-JVM test server and a second server process on its database),
# all on one session: time from the last stream opened until GET presence on both instances
# says 2,000 and a watcher on each got a presence message with count 2,000 (target <= 2 s), and
# the time for all to disappear once they close; beside the same for one watcher per instance
# (the reference, same run). Prints the BENCH lines and the machine's load.
#   usage: src/bench/presence-bench.sh [watchers per instance=1000]
# Needs: a JDK 25 (JAVA_HOME). Takes about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
PER=${1:-1000}
LOG=$(mktemp /tmp/collab-presence-bench-XXXXXX.log)
echo "start: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
./mvnw -B -ntp -o test -Dtest=PresenceBenchmark -Dbench=true -Dbench.watchers="$PER" -Djacoco.skip=true \
  -Dsurefire.failIfNoSpecifiedTests=false >"$LOG" 2>&1 || status=$?
grep '^BENCH' "$LOG" || true
echo "end: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
if ! grep -q '^BENCH \(MET\|MISSED\) ' "$LOG"; then
  echo "!!!!! presence-bench: no figures: the benchmark did not run; see $LOG" >&2
  exit $((status == 0 ? 1 : status))
fi
[[ $status -eq 0 ]] || echo "Maven exited with $status (the target missed, or a failure): see $LOG" >&2
exit $status
