#!/usr/bin/env bash
# Clean-room smoke test of a built artifact, as an operator would first run it:
#   deploy/smoke.sh jar target/collab-server-<version>.jar
#       the JAR from an empty temp directory (and an empty HOME), built-in PostgreSQL
#   deploy/smoke.sh image collab-server:ci [docker run options…]
#       the container image; pass the database, e.g. -e COLLAB_DATABASE_URL=postgres://…
# The first admin comes from COLLAB_AUTH_FIRST_ADMIN_LOGIN/PASSWORD, as the README's run command
# gives it. Then: wait for readiness, log in with the password, make a personal access token and
# use it for the rest; create a project and a session, send a message and wait for the
# demo agent's run to finish, stop with SIGTERM, and require a clean exit (0, or 143 for a JVM
# ended by SIGTERM) with no ERROR in the log. Exits non-zero with the log tail on any failure.
set -euo pipefail

mode=${1:?usage: $0 jar <file> | image <name> [docker run options…]}
artifact=${2:?usage: $0 jar <file> | image <name> [docker run options…]}
shift 2
port=${SMOKE_PORT:-18480}
base="http://127.0.0.1:$port"
work=$(mktemp -d /tmp/collab-smoke-XXXXXX)
log="$work/server.log"
container=""
pid=""
admin_login=smoke-admin
admin_password="smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
token=""

say() { printf 'smoke: %s\n' "$*"; }
# To stderr: fail may run inside $(…), whose stdout is captured.
fail() {
  say "FAILED: $*" >&2
  if [[ -n $container ]]; then docker logs "$container" >"$log" 2>&1 || true; fi
  tail -n 60 "$log" >&2 2>/dev/null || true
  exit 1
}
cleanup() {
  if [[ -n $container ]]; then docker rm -f "$container" >/dev/null 2>&1 || true; fi
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  # A server killed on failure leaves its built-in PostgreSQL running on the temp data directory.
  pkill -f -- "$work/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

alive() {
  if [[ -n $container ]]; then
    [[ $(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null) == true ]]
  else
    kill -0 "$pid" 2>/dev/null && [[ $(ps -o stat= -p "$pid" 2>/dev/null) != Z* ]]
  fi
}

case $mode in
  jar)
    jar=$(readlink -f "$artifact")
    [[ -f $jar ]] || fail "no such JAR: $artifact"
    mkdir -p "$work/cwd"
    # Nothing from the caller's environment (no database URL); the data directory is a fresh
    # one of ours, never the caller's ~/.collab (Java takes user.home from the passwd entry).
    (cd "$work/cwd" && exec env -i PATH="$PATH" ${JAVA_HOME:+JAVA_HOME="$JAVA_HOME"} \
        COLLAB_AUTH_FIRST_ADMIN_LOGIN="$admin_login" COLLAB_AUTH_FIRST_ADMIN_PASSWORD="$admin_password" \
        java -jar "$jar" --server.port="$port" --collab.data-dir="$work/data" "$@" >"$log" 2>&1) &
    pid=$!
    ;;
  image)
    container="collab-smoke-$$"
    docker run -d --name "$container" -p "127.0.0.1:$port:8080" \
      -e COLLAB_AUTH_FIRST_ADMIN_LOGIN="$admin_login" -e COLLAB_AUTH_FIRST_ADMIN_PASSWORD="$admin_password" \
      "$@" "$artifact" >/dev/null \
      || fail "docker run failed"
    ;;
  *) fail "unknown mode $mode (jar or image)" ;;
esac

say "waiting for readiness on $base"
deadline=$((SECONDS + ${SMOKE_BOOT_TIMEOUT:-180}))
until curl -fsS -o /dev/null "$base/actuator/health/readiness" 2>/dev/null; do
  alive || fail "the server exited before it was ready"
  ((SECONDS < deadline)) || fail "not ready after ${SMOKE_BOOT_TIMEOUT:-180} s"
  sleep 0.2
done
curl -fsS -o /dev/null "$base/actuator/health/liveness" || fail "liveness is not UP"

request() { # method path [body] -> prints "status body"; with the token once there is one
  curl -sS -X "$1" -H 'Content-Type: application/json' ${token:+-H "Authorization: Bearer $token"} \
    ${3:+--data "$3"} -w '\n%{http_code}' "$base$2"
}
expect() { # wanted-status method path [body] -> prints the body
  local answer status
  answer=$(request "$2" "$3" "${4:-}") || fail "$2 $3: no answer"
  status=${answer##*$'\n'}
  [[ $status == "$1" ]] || fail "$2 $3: expected $1, got $status: ${answer%$'\n'*}"
  printf '%s' "${answer%$'\n'*}"
}
field() { sed -n "s/.*\"$1\": \{0,1\}\"\([^\"]*\)\".*/\1/p"; }

# Without credentials the API is closed; a browser login (cookie + XSRF token) makes a token.
expect 401 GET /api/projects >/dev/null
cookies="$work/cookies"
curl -fsS -c "$cookies" -H 'Content-Type: application/json' \
  --data "{\"login\":\"$admin_login\",\"password\":\"$admin_password\"}" "$base/api/auth/login" >/dev/null \
  || fail "the first admin cannot log in"
xsrf=$(awk '$6=="XSRF-TOKEN"{print $7}' "$cookies")
token=$(curl -fsS -b "$cookies" -H "X-XSRF-TOKEN: $xsrf" -H 'Content-Type: application/json' \
  --data '{"name":"smoke","expiresAt":null}' "$base/api/tokens" | field token) || fail "no token made"
[[ $token == collab_pat_* ]] || fail "no token in the answer"
say "logged in as $admin_login; using a personal access token"
expect 201 PUT /api/projects/smoke '{"name":"Smoke test","repoUrl":null}' >/dev/null
session=$(expect 201 POST /api/projects/smoke/sessions '{"title":"smoke"}' | field id)
[[ -n $session ]] || fail "no session id in the answer"
say "session $session created"
expect 202 POST "/api/sessions/$session/messages" '{"text":"hello from the smoke test","author":"ci"}' >/dev/null
deadline=$((SECONDS + 120))
until expect 200 GET "/api/sessions/$session/events?after=0&limit=1000" | grep -Eq '"type": ?"run.finished"'; do
  ((SECONDS < deadline)) || fail "the demo agent's run did not finish"
  sleep 0.5
done
events=$(expect 200 GET "/api/sessions/$session/events?after=0&limit=1000")
grep -Eq '"status": ?"succeeded"' <<<"$events" || fail "the run did not succeed: $events"
say "message answered by the agent"

say "stopping with SIGTERM"
if [[ -n $container ]]; then
  docker stop -t 60 "$container" >/dev/null
  code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
  docker logs "$container" >"$log" 2>&1
else
  kill -TERM "$pid"
  code=0
  wait "$pid" || code=$?
  pid=""
fi
[[ $code == 0 || $code == 143 ]] || fail "exit code $code after SIGTERM"
# Text logs: the level column; JSON (ECS) logs: "log":{"level":"ERROR",…}.
if grep -E '(^|[ "])ERROR([ "]|$)|"level":"ERROR"' "$log"; then
  fail "the log has errors"
fi
if grep -Fq "$admin_password" "$log" || grep -Fq "$token" "$log"; then
  fail "the log shows the password or the token"
fi
say "clean exit ($code); passed"
