#!/usr/bin/env bash
# Checks the Prometheus side of collab-server's operator kit with promtool (Debian: apt-get install
# prometheus), and fails when promtool is missing:
# 1. the rules' syntax: promtool check rules collab-server.rules.yml;
# 2. the rules' unit tests, in which every alert fires once and stays quiet once:
#    promtool test rules collab-server.rules.test.yml;
# 3. the PromQL of every query of the Grafana dashboard (deploy/grafana/collab-server.json), each
#    made a recording rule of a scratch rules file with Grafana's variables replaced by values
#    ($__rate_interval by 5m, $instance by .*), so that a dashboard query that does not parse
#    fails here rather than in an operator's Grafana.
# Which metric names the rules and the dashboard use is checked against a running server by
# OperatorKitMetricsTest. Run from anywhere; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v promtool >/dev/null; then
  echo "promtool not found: install Prometheus (Debian: apt-get install prometheus) to check deploy/prometheus" >&2
  exit 1
fi
promtool --version 2>&1 | sed -n 1p

promtool check rules collab-server.rules.yml
promtool test rules collab-server.rules.test.yml

dashboard=../grafana/collab-server.json
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Grafana writes each query as one JSON string on its own line ("expr": "..."; the variable's
# "definition"): undo the JSON escapes a query can hold (\" \\ \n), then replace the variables.
{
  echo "groups:"
  echo "  - name: grafana-dashboard-queries"
  echo "    rules:"
  n=0
  while IFS= read -r query; do
    n=$((n + 1))
    echo "      - record: dashboard_query_$n"
    echo "        expr: |"
    printf '          %s\n' "$query"
  done < <(grep -E '^ *"(expr|definition)": ' "$dashboard" |
    sed -E -e 's/^ *"(expr|definition)": "//' -e 's/",?$//' \
      -e 's/\\n/ /g' -e 's/\\"/"/g' -e 's/\\\\/\\/g' \
      -e 's/^label_values\((.*), *[a-zA-Z_][a-zA-Z0-9_]*\)$/\1/' \
      -e 's/\$__rate_interval/5m/g' -e 's/\$__interval/1m/g' -e 's/\$__range/1h/g' \
      -e 's/\$\{?instance\}?/.*/g')
  if ((n == 0)); then
    echo "no queries found in $dashboard" >&2
    exit 1
  fi
} >"$scratch/dashboard.rules.yml"
if grep -q '\$' "$scratch/dashboard.rules.yml"; then
  echo "$dashboard uses a variable this check does not know (only \$__rate_interval, \$__interval, \$__range, \$instance):" >&2
  grep '\$' "$scratch/dashboard.rules.yml" >&2
  exit 1
fi
echo "Checking the queries of $dashboard"
promtool check rules "$scratch/dashboard.rules.yml"
