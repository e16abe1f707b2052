#!/usr/bin/env bash
# Benchmark: GET /api/projects/{key}/sessions?limit=50 on 1,000,000 sessions over 1,000 projects,
# first page and a deep keyset page, under 8 concurrent clients (wrk), against the built-in mode
# server JAR. Prints wrk's latency distribution and requests/s. Loopback only.
# A server with identity and access (issue 13) is called as a project *member* (not a server
# admin, so the role check does its query) with a personal access token; an older server without
# login is called without credentials, so the same script measures both sides of issue 13.
#   usage: src/bench/session-list.sh [duration, default 30s]
# Needs: a JDK 21+ (JAVA_HOME), wrk, psql (Debian packages: wrk, postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-30s}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JAR=$(ls target/collab-server-*.jar 2>/dev/null | grep -v plain | head -1 || true)
[[ -n "$JAR" ]] || { ./mvnw -B -q package -DskipTests; JAR=$(ls target/collab-server-*.jar | head -1); }
# BENCH_DATA keeps a seeded data directory between runs (it is then not removed).
DATA=${BENCH_DATA:-$(mktemp -d /tmp/collab-bench-XXXXXX)}
PORT=${PORT:-18181}
mkdir -p "$DATA"
LOG="$DATA/server.log"
cleanup() { [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; [[ -n "${BENCH_DATA:-}" ]] || rm -rf "$DATA"; }
trap cleanup EXIT

# shellcheck disable=SC2086
"$JAVA" ${JAVA_OPTS:-} -jar "$JAR" --collab.data-dir="$DATA" --server.port="$PORT" \
  --collab.auth.first-admin.login=bench --collab.auth.first-admin.password=bench-password-1 "${@:2}" >"$LOG" 2>&1 &
SERVER=$!
for _ in $(seq 1 240); do curl -sf "localhost:$PORT/actuator/health/readiness" >/dev/null && break; sleep 0.5; done
PGPORT=$(grep -o 'Built-in PostgreSQL ready on port [0-9]*' "$LOG" | grep -o '[0-9]*$')
# Built-in PostgreSQL asks for a password (issue 11): the one the server keeps in its data dir.
PGPASSWORD=$(cat "$DATA/postgres-password")
export PGPASSWORD
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PGPORT" -U postgres -d collab)

if [[ $("${PSQL[@]}" -At -c "select count(*) from projects where key like 'bench-%'") == 0 ]]; then
echo "Seeding 1,000 projects and 1,000,000 sessions..."
start=$(date +%s.%N)
"${PSQL[@]}" <<'SQL'
insert into projects (key, name, created_at)
select 'bench-' || lpad(p::text, 4, '0'), 'Bench ' || p, now() from generate_series(0, 999) p;
insert into sessions (id, project_key, title, state, created_at, last_activity_at, head_seq)
select gen_random_uuid(), 'bench-' || lpad((n % 1000)::text, 4, '0'), 'session ' || n,
       (array['IDLE','IDLE','ENDED','RUNNING'])[1 + n % 4],
       now() - make_interval(secs => n),
       -- many ties: activity lands on whole seconds within one day
       date_trunc('second', now()) - make_interval(secs => (n::bigint * 7919) % 86400),
       n % 500
from generate_series(1, 1000000) n;
vacuum analyze projects, sessions;
checkpoint;
SQL
echo "Seeded in $(echo "$(date +%s.%N) - $start" | bc) s"
fi

KEY=bench-0042
# Deep keyset page: the cursor of the 900th session of the project (newest first).
ROW=$("${PSQL[@]}" -At -c "select (extract(epoch from last_activity_at) * 1000000)::bigint || '.' || id from sessions
      where project_key = '$KEY' order by last_activity_at desc, id desc offset 899 limit 1")
CURSOR=$(printf 's1.%s' "$ROW" | base64 -w0 | tr '+/' '-_' | tr -d '=')
FIRST="http://localhost:$PORT/api/projects/$KEY/sessions?limit=50"
DEEP="$FIRST&cursor=$CURSOR"
AUTH=()
if [[ $(curl -s -o /dev/null -w '%{http_code}' "$FIRST") == 401 ]]; then
  # Issue 13: log in as the first admin, make a member of $KEY, and call with the member's token.
  JAR_COOKIES="$DATA/cookies"; rm -f "$JAR_COOKIES"
  login() { curl -sf -c "$JAR_COOKIES" -b "$JAR_COOKIES" -H 'Content-Type: application/json' \
    -d "{\"login\":\"$1\",\"password\":\"$2\"}" "http://localhost:$PORT/api/auth/login" >/dev/null; }
  xsrf() { awk '$6=="XSRF-TOKEN"{print $7}' "$JAR_COOKIES"; }
  login bench bench-password-1
  curl -s -o /dev/null -b "$JAR_COOKIES" -c "$JAR_COOKIES" -H "X-XSRF-TOKEN: $(xsrf)" -H 'Content-Type: application/json' \
    -d '{"login":"reader","displayName":"Reader","password":"reader-password-1","admin":false}' "http://localhost:$PORT/api/users"
  "${PSQL[@]}" -c "insert into project_members (project_key, user_id, role)
     select '$KEY', id, 'member' from users where login = 'reader' on conflict do nothing"
  rm -f "$JAR_COOKIES"; login reader reader-password-1
  TOKEN=$(curl -sf -b "$JAR_COOKIES" -c "$JAR_COOKIES" -H "X-XSRF-TOKEN: $(xsrf)" -H 'Content-Type: application/json' \
    -d '{"name":"bench","expiresAt":null}' "http://localhost:$PORT/api/tokens" | grep -o 'collab_pat_[A-Za-z0-9_-]*')
  AUTH=(-H "Authorization: Bearer $TOKEN")
  echo "== as project member 'reader' with a personal access token"
else
  echo "== without credentials (a server before identity and access)"
fi
curl -sf "${AUTH[@]}" "$DEEP" | grep -q '"items":\[{' || { echo "deep page request failed"; exit 1; }

echo "== warm-up"
wrk -t2 -c8 -d20s "${AUTH[@]}" "$FIRST" >/dev/null
wrk -t2 -c8 -d10s "${AUTH[@]}" "$DEEP" >/dev/null
echo "== first page: $FIRST"
wrk -t2 -c8 -d"$DURATION" --latency "${AUTH[@]}" "$FIRST"
echo "== deep keyset page (after the 900th session of 1,000)"
wrk -t2 -c8 -d"$DURATION" --latency "${AUTH[@]}" "$DEEP"
