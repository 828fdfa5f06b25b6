#!/usr/bin/env bash
# Installs the test dependencies that are not Go modules and that the tests
# cannot start from PostgreSQL's own binaries: PgBouncer (test/pgbouncer_test.go)
# and headless Chromium (the console browser test).
# Best effort: when it cannot install (not root, no apt-get), it says so and
# the PgBouncer test skips with that message, unless ODATAGW_REQUIRE_PGBOUNCER
# is set (CI: .ci/run), in which case the test fails.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

if ! have pgbouncer; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: installing pgbouncer" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
    # The package enables a system service on port 6432; the tests start their own.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
  else
    echo "install-test-deps: pgbouncer missing and cannot be installed here (needs root and apt-get: apt-get install pgbouncer); its test will skip" >&2
  fi
fi

# Headless Chromium for the console's browser test (test/console_browser_test.go).
# Best effort like PgBouncer: without it the test skips with a message, unless
# ODATAGW_REQUIRE_CHROMIUM is set.
if ! have chromium; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: installing chromium" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "install-test-deps: chromium missing and cannot be installed here (needs root and apt-get: apt-get install chromium); the console browser test will skip" >&2
  fi
fi
