#!/usr/bin/env bash
# fuzz.sh TARGET PACKAGE: a short fuzz run of one target (FUZZTIME, default 10s).
#
# Go's fuzzing coordinator sometimes ends a time-boxed run with a bare
# "context deadline exceeded" when the time runs out while a worker is busy
# (no failing input, nothing written to testdata/fuzz). Such a run is
# repeated once. A real failure is not hidden by the repeat: its input is
# saved under testdata/fuzz/TARGET, and the repeat runs it first and fails.
set -uo pipefail
target=$1 pkg=$2
go=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() { "$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-10s}" "$pkg" 2>&1 | tee "$log"; }
run && exit 0
if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
	echo "fuzz.sh: $target ended with the fuzzing coordinator's deadline, not a failing input: once more" >&2
	run && exit 0
fi
exit 1
