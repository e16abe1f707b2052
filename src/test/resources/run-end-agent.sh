#!/bin/sh
# The agent of RunEndDuringOutageTest: says it started, then waits without a word until ./stop
# exists in its workspace, and exits 0. Nothing of its output is left to append when it exits, so
# the first thing the runner needs the database for afterwards is recording the run's end.
cat > /dev/null
echo started
while [ ! -e stop ]; do
  sleep 0.02
done
