#!/usr/bin/env bash
# Benchmark: the session diff (issue 15). A repository of 5,000 files (a local bare repository
# made by the test), cloned by a session's first run; 200 files changed in its workspace (110
# modified, 30 added, 30 deleted, 30 renamed); GET /api/sessions/{id}/diff over HTTP against the
# in-JVM test server, 9 rounds after a warm-up, beside plain `git diff --stat -M HEAD` of the same
# workspace as the reference. Target: median <= 1 s. Prints the BENCH lines (also in
# target/bench/diff-bench.txt) and the machine's load; exits non-zero when the target is missed or
# no figures came out. Coverage (JaCoCo) is off so it does not slow the server.
#   usage: src/bench/diff-bench.sh
# Needs: a JDK 21+ (JAVA_HOME) and git.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG=$(mktemp /tmp/collab-diff-bench-XXXXXX.log)
echo "start: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
./mvnw -B -ntp test -Dtest=DiffBenchmark -Dbench=true -Djacoco.skip=true \
  -Dsurefire.failIfNoSpecifiedTests=false >"$LOG" 2>&1 || status=$?
grep '^BENCH' "$LOG" || true
echo "end: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(git --version)"
if ! grep -q '^BENCH \(MET\|MISSED\) ' "$LOG"; then
  echo "!!!!! diff-bench: no figures (no BENCH MET/MISSED line): the benchmark did not run; see $LOG" >&2
  exit $((status == 0 ? 1 : status))
fi
[[ $status -eq 0 ]] || echo "Maven exited with $status (the target missed, or a failure): see $LOG" >&2
exit $status
