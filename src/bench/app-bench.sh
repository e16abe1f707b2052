#!/usr/bin/env bash
# Benchmark: the browser app (issue 14) in headless Chromium (Debian's chromium, chromium-driver)
# against the in-JVM test server with its embedded PostgreSQL: (a) opening a session with 5,000
# events (latest event in view, JS heap after GC; beside an empty session and the raw history
# fetch), (b) 200 output events/s for 30 s (long tasks, delivery lag of the last event), (c) the
# JS+CSS bytes of a first load. Prints the BENCH lines (also in target/bench/app-bench.txt) and
# exits non-zero when a target is missed. Coverage (JaCoCo) is off so it does not slow the server.
#   usage: src/bench/app-bench.sh
# Needs: a JDK 21+ (JAVA_HOME), chromium and chromium-driver. Takes about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG=$(mktemp /tmp/collab-app-bench-XXXXXX.log)
status=0
./mvnw -B -ntp test -Dtest=SessionViewBenchmark -Dbench=true -Djacoco.skip=true \
  -Dsurefire.failIfNoSpecifiedTests=false >"$LOG" 2>&1 || status=$?
grep '^BENCH' "$LOG" || true
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(/usr/bin/chromium --version 2>/dev/null || echo 'no chromium')"
[[ $status -eq 0 ]] || echo "Maven exited with $status: see $LOG" >&2
exit $status
