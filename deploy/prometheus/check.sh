#!/usr/bin/env bash
# Checks the Prometheus rules of collab-server: their syntax (promtool check rules) and their unit
# tests (promtool test rules), in which every alert fires once and stays quiet once. promtool comes
# with Prometheus (Debian: apt-get install prometheus). Run from anywhere; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v promtool >/dev/null; then
  echo "promtool not found: install Prometheus (Debian: apt-get install prometheus) to check deploy/prometheus" >&2
  exit 1
fi
echo "$(promtool --version 2>&1 | head -1)"
promtool check rules collab-server.rules.yml
promtool test rules collab-server.rules.test.yml
