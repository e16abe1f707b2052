#!/bin/sh
# The agent the tests run: it does what its message (on stdin) says.
msg=$(cat)
case "$msg" in
  lines*) n=${msg#lines }; i=1; while [ "$i" -le "$n" ]; do echo "line $i"; i=$((i + 1)); done ;;
  fail*) echo "working"; echo "first problem" >&2; echo "fatal: it broke" >&2; exit 3 ;;
  ticks*) n=${msg#ticks }; i=1; while [ "$i" -le "$n" ]; do echo "tick $i"; sleep 0.2; i=$((i + 1)); done ;;
  sleep*) echo "sleeping"; set -- ${msg#sleep }; sleep "$1"; echo "woke up" ;;
  spawn*) sleep 300 & echo "child $!"; echo "parent $$"; wait ;;
  stubborn*) (trap '' TERM; exec sleep 300) & echo "child $!"; echo "parent $$"; wait ;;
  quickleave*) sleep 300 & echo "child $!"; echo "bye" ;;
  leave*) sleep 300 & echo "child $!"; while [ ! -e stop ]; do sleep 0.05; done; echo "bye" ;;
  utf8*) printf '\303'; sleep 0.3; printf '\251t\303\251 \360\237'; sleep 0.3; printf '\230\200 fin\n' ;;
  nul*) printf 'a\000b\n' ;;
  noisy*) i=1; while [ "$i" -le 2000 ]; do echo "warning $i: something odd on stderr" >&2; i=$((i + 1)); done; echo "done"; exit 2 ;;
  showenv*) env; echo "--- .git/config"; cat .git/config; echo "--- end" ;;
  env*) echo "session=$COLLAB_SESSION_ID run=$COLLAB_RUN_ID pwd=$(pwd)" ;;
  *) echo "you said: $msg" ;;
esac
