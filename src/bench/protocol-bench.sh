#!/bin/sh
# Benchmark of the agent protocols (issue 15): a Claude Code transcript's volume replayed at 500
# lines/s through collab.runner.protocol=claude-code, side by side with the same lines as plain
# text output (protocol text); delivery latency from the fake agent's write to the SSE client's
# receipt, p50/p99 (src/test/java/dev/collab/run/ProtocolBenchmark.java).
#   src/bench/protocol-bench.sh [lines=5000] [rate=500] [rounds=2]
# Two server processes on the tests' database server, measured in turns, after a warm-up run each;
# the report is printed and written to target/protocol-bench.txt.
set -eu
cd "$(dirname "$0")/../.."
./mvnw -B -ntp -o test -Dbench=true -Dtest=ProtocolBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.lines="${1:-5000}" -Dbench.rate="${2:-500}" -Dbench.rounds="${3:-2}" > target/protocol-bench.log 2>&1 \
  || { tail -40 target/protocol-bench.log; exit 1; }
cat target/protocol-bench.txt
