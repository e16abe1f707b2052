#!/bin/sh
# The agent of OutputDuringOutageTest. "flood N": prints N lines "abcdefghij" as fast as it can.
# "print until stopped": prints numbered lines until ./stop exists in its workspace, and keeps the
# number of the last line in ./progress so the test can see it run. "fast": the same, without a
# pause between lines.
msg=$(cat)
case "$msg" in
  flood*) yes abcdefghij | head -n "${msg#flood }"; exit 0 ;;
esac
i=1
while [ ! -e stop ]; do
  echo "line $i"
  echo "$i" > progress.tmp && mv progress.tmp progress
  i=$((i + 1))
  [ "$msg" = fast ] || sleep 0.02
done
echo "done"
