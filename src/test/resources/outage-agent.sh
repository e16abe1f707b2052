#!/bin/sh
# The agent of OutputDuringOutageTest: prints numbered lines until ./stop exists in its
# workspace, and keeps the number of the last line in ./progress so the test can see it run.
i=1
while [ ! -e stop ]; do
  echo "line $i"
  echo "$i" > progress.tmp && mv progress.tmp progress
  i=$((i + 1))
  sleep 0.02
done
echo "done"
