#!/usr/bin/env bash
# The nothing-lost soak (issue 17; docs/performance.md, "Soak (issue 17)"): three collab-server
# processes in team mode on one real PostgreSQL started here, one shared workspace root, the
# sweeper on a short interval and a small agent script, so that runs happen all the time. Clients
# (src/bench/soak/soak.mjs, with the browser app's own stream and outbox modules) send with
# Idempotency-Keys and retry until acknowledged, and follow every session's stream; a seeded fault
# injector meanwhile kills (-9) and stops (SIGTERM) instances and restarts them, restarts
# PostgreSQL, terminates the servers' connections, drops every stream at once and runs the
# sweeper. The checker (src/bench/soak/check.mjs) then verifies that nothing was lost or repeated.
#
#   src/bench/soak.sh [--duration 30m|--short] [--seed N] [--self-test]
#
#   --duration D   how long the load and the faults last (s, m or h; default 30m)
#   --short        the CI variant: 45 s of load, fewer clients, every fault kind once (3 minutes
#                  in all on 2 cores; a warning past that)
#   --seed N       the seed of the clients' and the injector's choices (default: random; printed)
#   --self-test    only the checker's own tests, on synthetic histories (a few seconds, no server)
#
# Needs: a JDK 21+ (JAVA_HOME or java on PATH), Node.js 20+, psql (Debian: postgresql-client),
# tar with xz, and unzip or the JDK's jar. PostgreSQL comes from the JAR (the binaries built-in
# mode uses), or from the system when the JAR has none (a -Dteam-mode-only build). Builds
# target/collab-server-*.jar when it is missing. As root, PostgreSQL runs in a user namespace
# (unshare -U), as built-in mode runs it. Ports are free ones the OS hands out.
# Everything lives in one temp directory; every process started here is stopped on exit, also on
# failure. Exit code: 0 when the checker found no violation, 1 otherwise (2: bad usage or setup).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

duration=30m
short=false
seed=""
self_test=false
while (($#)); do
  case $1 in
    --duration) duration=${2:?--duration needs a value, e.g. 30m}; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --short) short=true; shift ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --seed=*) seed=${1#*=}; shift ;;
    --self-test) self_test=true; shift ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'soak: %s\n' "$*"; }
die() { say "$*" >&2; exit 2; }

command -v node >/dev/null || die "Node.js 20+ is needed (node not found)"
if $self_test; then
  exec node src/bench/soak/check.mjs --self-test
fi

[[ $seed =~ ^[0-9]*$ ]] || die "--seed takes a whole number, not '$seed'"
[[ -n $seed ]] || seed=$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 1000000000 ))
if $short; then
  duration_s=45
else
  [[ $duration =~ ^([0-9]+)(s|m|h)?$ ]] || die "--duration takes 90s, 10m or 1h, not '$duration'"
  case ${BASH_REMATCH[2]:-s} in s) duration_s=${BASH_REMATCH[1]} ;; m) duration_s=$((BASH_REMATCH[1] * 60)) ;;
    h) duration_s=$((BASH_REMATCH[1] * 3600)) ;; esac
  ((duration_s >= 30)) || die "--duration must be at least 30s"
fi

java=${JAVA_HOME:+$JAVA_HOME/bin/}java
command -v "$java" >/dev/null || die "no java (set JAVA_HOME to a JDK 21+)"
command -v psql >/dev/null || die "psql is needed (Debian: apt-get install postgresql-client): the soak reads the log and terminates connections with it"
jar=$(ls target/collab-server-*.jar 2>/dev/null | grep -v -e '-sources' -e '-javadoc' | head -1 || true)
if [[ -z $jar ]]; then
  say "no target/collab-server-*.jar: building it (./mvnw -B -ntp -o -q -DskipTests package)"
  ./mvnw -B -ntp -o -q -DskipTests package || ./mvnw -B -ntp -q -DskipTests package
  jar=$(ls target/collab-server-*.jar | grep -v -e '-sources' -e '-javadoc' | head -1)
fi
jar=$(readlink -f "$jar")

work=$(mktemp -d /tmp/collab-soak-XXXXXX)
pgdata=$work/pgdata
pgsock=$work/pgsock
keep_all=true
started=$SECONDS

# Every process of the run is stopped here, whatever ended the script: the Node driver (its own
# process group), every server incarnation and what it left running (a process group each,
# listed in $work/pids by the driver), then PostgreSQL. Only ids we started are signalled.
cleanup() {
  local status=$? pid group
  trap - EXIT INT TERM
  if [[ -n ${driver:-} ]]; then kill -TERM -- "-$driver" 2>/dev/null || true; fi
  for group in "$work"/pids/*.pgid; do
    [[ -f $group ]] || continue
    kill -KILL -- "-$(cat "$group")" 2>/dev/null || true
  done
  if [[ -n ${driver:-} ]]; then kill -KILL -- "-$driver" 2>/dev/null || true; fi
  if [[ -f $pgdata/postmaster.pid ]]; then
    pid=$(head -1 "$pgdata/postmaster.pid" 2>/dev/null || true)
    "${pgrun[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  if $keep_all; then
    say "kept everything for a look: $work"
  else
    # The report, the history and the logs stay; the bulk (database, binaries, workspaces) goes.
    rm -rf "$pgdata" "$work/pg" "$work/workspaces" "$work/instances" "$work/app" "$pgsock"
    say "report, history and logs kept in $work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work"/{logs,pids,agents,workspaces,instances,pg,home} "$pgsock"

# ---- PostgreSQL: the JAR's own binaries (those built-in mode extracts), else the system's ----
pgrun=()
if [[ $EUID -eq 0 ]]; then
  unshare -U true 2>/dev/null || die "running as root, PostgreSQL must run in a user namespace, but 'unshare -U' fails here: run as an ordinary user"
  pgrun=(unshare -U)
fi
binaries=$(unzip -Z1 "$jar" 2>/dev/null | grep -m1 "BOOT-INF/lib/embedded-postgres-binaries-linux-$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64v8/')-" || true)
if [[ -z $binaries ]] && command -v "${JAVA_HOME:+$JAVA_HOME/bin/}jar" >/dev/null; then
  binaries=$("${JAVA_HOME:+$JAVA_HOME/bin/}jar" tf "$jar" | grep -m1 "BOOT-INF/lib/embedded-postgres-binaries-linux-$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64v8/')-" || true)
fi
if [[ -n $binaries ]]; then
  (
    cd "$work/pg"
    if command -v unzip >/dev/null; then
      unzip -q -o "$jar" "$binaries"
      archive=$(unzip -Z1 "$binaries" | grep -m1 '\.txz$')
      unzip -p "$binaries" "$archive" | tar -xJf -
    else
      "${JAVA_HOME:+$JAVA_HOME/bin/}jar" xf "$jar" "$binaries"
      archive=$("${JAVA_HOME:+$JAVA_HOME/bin/}jar" tf "$binaries" | grep -m1 '\.txz$')
      "${JAVA_HOME:+$JAVA_HOME/bin/}jar" xf "$binaries" "$archive"
      tar -xJf "$archive"
    fi
  ) || die "could not unpack the PostgreSQL binaries from $jar"
  pgbin=$work/pg/bin
  pgsource="the JAR's built-in binaries ($(basename "$binaries" .jar))"
else
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [[ -x $pgbin/postgres ]] || die "$jar has no PostgreSQL binaries (a team-mode-only build) and no system PostgreSQL was found (Debian: postgresql)"
  pgsource="the system's ($pgbin)"
fi

ports=$(node -e '
  const net = require("node:net");
  const servers = [];
  const next = () => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { servers.push(s);
    if (servers.length < 4) next(); else { console.log(servers.map((x) => x.address().port).join(" ")); servers.forEach((x) => x.close()); } }); };
  next();')
read -r pgport port1 port2 port3 <<<"$ports"

say "seed $seed; $($short && echo "short run (load ${duration_s} s)" || echo "load and faults for ${duration_s} s"); work directory $work"
say "PostgreSQL: $pgsource on 127.0.0.1:$pgport"
"${pgrun[@]}" "$pgbin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C >"$work/logs/initdb.log" 2>&1 ||
  { cat "$work/logs/initdb.log" >&2; die "initdb failed"; }
cat >>"$pgdata/postgresql.conf" <<EOF
# soak (src/bench/soak.sh): loopback only, trust (a throw-away cluster in a private temp dir)
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$pgsock'
max_connections = 100
log_line_prefix = '%m [%p] '
EOF
echo "CREATE DATABASE collab;" | "${pgrun[@]}" "$pgbin/postgres" --single -D "$pgdata" postgres >"$work/logs/createdb.log" 2>&1 ||
  { cat "$work/logs/createdb.log" >&2; die "could not create the collab database"; }

# PostgreSQL control for the driver: start, the two restarts' stops, psql.
cat >"$work/pg.sh" <<EOF
#!/usr/bin/env bash
# soak: PostgreSQL control. pg.sh start | stop-fast | stop-immediate | psql [psql args…]
set -euo pipefail
case \$1 in
  start) exec ${pgrun[*]} "$pgbin/pg_ctl" -D "$pgdata" -l "$work/logs/postgresql.log" -w -t 120 start ;;
  stop-fast) exec ${pgrun[*]} "$pgbin/pg_ctl" -D "$pgdata" -m fast -w -t 120 stop ;;
  stop-immediate) exec ${pgrun[*]} "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w -t 120 stop ;;
  psql) shift; PGCONNECT_TIMEOUT=5 exec psql -X -q -h 127.0.0.1 -p $pgport -U postgres -d collab -v ON_ERROR_STOP=1 "\$@" ;;
  *) echo "pg.sh: start | stop-fast | stop-immediate | psql" >&2; exit 2 ;;
esac
EOF
chmod +x "$work/pg.sh"
"$work/pg.sh" start >/dev/null

# The agent: the message says what to do ("lines=N pause=S exit=C"); it prints N lines, S seconds
# apart, and exits with C. Its start (with its parent: the JVM) and its normal end go to
# agents/<run id>, outside the workspace, which it never writes. A server killed with -9 leaves it
# writing into a closed pipe: SIGPIPE ends it there, before its "done" line.
cat >"$work/agent.sh" <<'EOF'
#!/bin/sh
record="$(dirname "$0")/agents/$COLLAB_RUN_ID"
echo "start $PPID $(date +%s%3N)" >"$record"
text=$(cat)
lines=$(printf '%s\n' "$text" | sed -n 's/.*lines=\([0-9][0-9]*\).*/\1/p' | head -1)
pause=$(printf '%s\n' "$text" | sed -n 's/.*pause=\([0-9.][0-9.]*\).*/\1/p' | head -1)
code=$(printf '%s\n' "$text" | sed -n 's/.*exit=\([0-9][0-9]*\).*/\1/p' | head -1)
lines=${lines:-3} pause=${pause:-0.2} code=${code:-0}
i=1
while [ "$i" -le "$lines" ]; do
  echo "soak agent: line $i of $lines"
  sleep "$pause"
  i=$((i + 1))
done
[ "$code" -eq 0 ] || echo "soak agent: failing with $code, as asked" >&2
echo "done $(date +%s%3N) $code" >>"$record"
exit "$code"
EOF
chmod +x "$work/agent.sh"

# One server incarnation, in the foreground (the driver starts it as a process group of its own
# and restarts it after a fault): start-instance.sh <n> <log file>. Three JVMs share two cores on
# CI: C1 only and the serial collector halve what a boot costs (measured: 26 → 14 CPU-seconds to
# readiness), which is most of what the short run waits for; the soak checks correctness, not
# the JIT's peak. The lease is 20 s: its renewal, every third of it, may wait the pool's 5 s
# connection timeout during a database fault and must still come before the lease ends. A replay
# cap of 50 (not 200) makes late and reconnecting watchers meet `gap` events and fill them.
admin_login=soak-admin
admin_password="soak-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$work/start-instance.sh" <<EOF
#!/usr/bin/env bash
# soak: one collab-server incarnation in team mode. start-instance.sh <n> <log file>
set -euo pipefail
n=\$1
port=\$(sed -n "\${n}p" "$work/ports")
mkdir -p "$work/instances/\$n" "$work/home/\$n"
exec env -i PATH="$PATH" HOME="$work/home/\$n" ${JAVA_HOME:+JAVA_HOME="$JAVA_HOME"} \\
  COLLAB_AUTH_FIRST_ADMIN_LOGIN="$admin_login" COLLAB_AUTH_FIRST_ADMIN_PASSWORD="$admin_password" \\
  "$java" -Xmx384m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" --server.port="\$port" \\
  --spring.datasource.url="jdbc:postgresql://127.0.0.1:$pgport/collab" --spring.datasource.username=postgres \\
  --spring.datasource.hikari.maximum-pool-size=10 \\
  --collab.data-dir="$work/instances/\$n" --collab.workspace.root="$work/workspaces" \\
  --collab.runner.command="$work/agent.sh" --collab.runner.lease=20s --collab.runner.timeout=2m \\
  --collab.sweeper.enabled=true --collab.sweeper.initial-delay=5s --collab.sweeper.interval=15s \\
  --collab.sweeper.min-age=1m --collab.sweeper.max-per-run=10 --collab.stream.max-replay=50 \\
  >>"\$2" 2>&1
EOF
chmod +x "$work/start-instance.sh"
printf '%s\n' "$port1" "$port2" "$port3" >"$work/ports"

say "PostgreSQL up after $((SECONDS - started)) s; starting the driver (node src/bench/soak/soak.mjs)"
set +e
setsid node src/bench/soak/soak.mjs --work "$work" --repo "$repo" --seed "$seed" --duration "$duration_s" \
  --short "$short" --admin "$admin_login" --password "$admin_password" --lease-ms 20000 &
driver=$!
wait "$driver"
status=$?
set -e
driver=""
say "wall time $((SECONDS - started)) s (without the JAR build); load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
if $short && ((SECONDS - started > 180)); then
  say "!! WARNING: the short run took $((SECONDS - started)) s, over its 3-minute budget (most of it is the servers' boots: see 'ready after' above)" >&2
fi
if [[ $status -eq 0 ]]; then
  keep_all=false
  say "PASSED: report in $work/report.json"
else
  say "FAILED (exit $status): report in $work/report.json, logs in $work/logs"
  status=1
fi
exit "$status"
