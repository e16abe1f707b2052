#!/usr/bin/env bash
# Benchmark: the browser app (issue 14) in headless Chromium (Debian's chromium, chromium-driver)
# against the in-JVM test server with its embedded PostgreSQL: (a) opening a session with 5,000
# events (latest event fully visible, JS heap peak and after GC; beside an empty session and the
# raw history fetch; 5 rounds, each in a new tab, the first cold), (b) 200 output events/s for
# 30 s (long tasks beside 30 s of the same page idle, delivery lag of the last event, heap peak),
# (c) the JS+CSS bytes of a first load. Prints the BENCH lines (also in target/bench/app-bench.txt)
# and the machine's load, and exits non-zero when a target is missed or no figures came out
# (no Chromium: the browser tests are required here, never skipped). Coverage (JaCoCo) is off so
# it does not slow the server.
#   usage: src/bench/app-bench.sh
# Needs: a JDK 21+ (JAVA_HOME), chromium and chromium-driver. Takes about 2½ minutes (3 under load).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "!!!!! app-bench: no /usr/bin/chromium or /usr/bin/chromedriver: apt-get install -y chromium chromium-driver" >&2
  exit 2
fi
LOG=$(mktemp /tmp/collab-app-bench-XXXXXX.log)
export COLLAB_BROWSER_TESTS=required
echo "start: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
./mvnw -B -ntp test -Dtest=SessionViewBenchmark -Dbench=true -Djacoco.skip=true \
  -Dsurefire.failIfNoSpecifiedTests=false >"$LOG" 2>&1 || status=$?
grep '^BENCH' "$LOG" || true
echo "end: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(/usr/bin/chromium --version 2>/dev/null)"
if ! grep -q '^BENCH \(MET\|MISSED\) ' "$LOG"; then
  echo "!!!!! app-bench: no figures (no BENCH MET/MISSED line): the benchmark did not run; see $LOG" >&2
  exit $((status == 0 ? 1 : status))
fi
[[ $status -eq 0 ]] || echo "Maven exited with $status (a target missed, or a failure): see $LOG" >&2
exit $status
