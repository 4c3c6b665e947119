#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine: installs what it
# needs (tests/deps.sh), builds s3batchd twice (a strict-warnings build and
# an ASan+UBSan build), and runs, on each, the C unit tests, the fuzz corpus
# replays and the integration tests (the real daemon and s3batchctl, a real
# Ceph RGW on 127.0.0.1, results checked with boto3). The job cases that run
# against each S3 server (test_servers.py) also run against OpenStack
# Swift's s3api, started next to RGW, in the strict build only: the
# sanitizer build runs them against RGW (S3B_SERVERS). Ends with one line
# "N passed, N failed"; exits non-zero if anything failed or nothing ran.
#
# usage: tests/check.sh [pytest arguments...]
#   S3B_SKIP_ASAN=1   skip the sanitizer build (quicker, for development)
# The README says "sh tests/check.sh": run under bash whatever sh is.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
export PYTHONDONTWRITEBYTECODE=1
# Debian's python3 has python3-pytest and python3-boto3; another one first
# on PATH (pyenv, a venv) may not.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

say() { printf '\n=== %s\n' "$*"; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# The sanitizer build's options: a report fails the test that caused it.
ASAN_RUN=detect_leaks=1:abort_on_error=0:halt_on_error=1
UBSAN_RUN=print_stacktrace=1:halt_on_error=1

say "packages"
if ! sh tests/deps.sh; then
	echo "check: installing packages failed"
	echo "0 passed, 1 failed"
	exit 1
fi

say "autoreconf"
autoreconf -fi >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

rgw_base=
swift_base=
cleanup() {
	[ -n "$rgw_base" ] && bash tests/rgw/stop-rgw.sh "$rgw_base" >/dev/null 2>&1
	[ -n "$swift_base" ] && bash tests/swift/stop-swift.sh "$swift_base" >/dev/null 2>&1
}
trap cleanup EXIT

# One RGW for every pytest run below (the fixtures reuse it).
say "starting Ceph RGW on 127.0.0.1"
port=$((17480 + RANDOM % 2000))
# memstore keeps objects in RAM; only what is stored is resident, and the
# suite (two builds' worth of jobs) needs more than the script's default.
if out=$(RGW_PORT=$port RGW_MEMSTORE_BYTES=$((8 << 30)) \
    bash tests/rgw/start-rgw.sh); then
	eval "$(printf '%s\n' "$out" | grep -E '^(RGW_ENDPOINT|RGW_BASE)=')"
	rgw_base=$RGW_BASE
	export S3B_RGW_ENDPOINT=$RGW_ENDPOINT
	echo "RGW at $S3B_RGW_ENDPOINT"
else
	echo "check: RGW did not start; tests that need it will start their own"
fi

# One Swift s3api, the second S3 implementation, for the strict build's
# job cases. Its five ports (proxy, account, container, object, memcached)
# lie above RGW's range.
say "starting OpenStack Swift (s3api) on 127.0.0.1"
swift_port=$((19500 + RANDOM % 2000))
if out=$(SWIFT_PORT=$swift_port bash tests/swift/start-swift.sh); then
	eval "$(printf '%s\n' "$out" | grep -E '^(SWIFT_ENDPOINT|SWIFT_BASE)=')"
	swift_base=$SWIFT_BASE
	export S3B_SWIFT_ENDPOINT=$SWIFT_ENDPOINT
	echo "Swift at $S3B_SWIFT_ENDPOINT"
else
	echo "check: Swift did not start; the job cases will start their own"
fi

# make check: automake's log gives the counts.
run_make_check() {
	local dir=$1 log p f
	(cd "$dir" && make -j"$jobs" check >make-check.out 2>&1)
	log="$dir/test-suite.log"
	if [ ! -f "$log" ]; then
		tail -40 "$dir/make-check.out"
		count 0 1
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log")
	f=$(( $(sed -n 's/^# FAIL: *//p' "$log") + $(sed -n 's/^# ERROR: *//p' "$log") + $(sed -n 's/^# XPASS: *//p' "$log") ))
	echo "make check in $dir: $p passed, $f failed"
	[ "$f" -eq 0 ] || grep -E '^(FAIL|ERROR)' "$dir/make-check.out"
	[ "$f" -eq 0 ] || tail -60 "$log"
	count "${p:-0}" "$f"
}

# pytest: its junit XML gives the counts, left in DIR/pytest.count for
# collect_pytest (the two builds' runs go side by side, in subshells).
run_pytest() {
	local dir=$1 xml res
	shift
	xml="$dir/pytest.xml"
	rm -f "$xml" "$dir/pytest.count"
	S3B_BUILDDIR="$dir" "$PY" -m pytest -p no:cacheprovider -q \
	    --junitxml="$xml" tests/integration "$@" >"$dir/pytest.out" 2>&1
	[ -f "$xml" ] || return
	"$PY" - "$xml" >"$dir/pytest.count" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else list(r)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
}

collect_pytest() {
	local dir=$1 p f
	cat "$dir/pytest.out" 2>/dev/null
	if ! read -r p f <"$dir/pytest.count" 2>/dev/null; then
		echo "pytest with $dir: no result"
		count 0 1
		return
	fi
	echo "pytest with $dir: $p passed, $f failed"
	count "$p" "$f"
}

build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" -q "$@" >configure.out 2>&1 &&
	    make -j"$jobs" >make.out 2>&1); then
		echo "check: build in $dir failed:"
		tail -40 "$dir/configure.out" "$dir/make.out" 2>/dev/null
		count 0 1
		return 1
	fi
}

# Both builds first, with their unit tests; then the two integration runs
# side by side (they wait on daemons and servers far more than they use the
# CPU, and every test holds on a busy machine), each in its own log, shown
# when both are done.
say "build: strict warnings"
strict=
if build build/check --enable-werror; then
	say "unit tests and fuzz corpus replays"
	run_make_check build/check
	strict=$top/build/check
fi

asan=
if [ "${S3B_SKIP_ASAN:-0}" != 1 ]; then
	say "build: ASan + UBSan"
	if build build/asan --enable-werror --enable-sanitizers; then
		say "unit tests and fuzz corpus replays (sanitizers)"
		ASAN_OPTIONS=$ASAN_RUN UBSAN_OPTIONS=$UBSAN_RUN \
		    run_make_check build/asan
		asan=$top/build/asan
	fi
fi

pids=
if [ -n "$strict" ]; then
	S3B_SERVERS=rgw,swift run_pytest "$strict" "$@" &
	pids="$pids $!"
fi
if [ -n "$asan" ]; then
	ASAN_OPTIONS=$ASAN_RUN UBSAN_OPTIONS=$UBSAN_RUN S3B_SERVERS=rgw \
	    run_pytest "$asan" "$@" &
	pids="$pids $!"
fi
if [ -n "$pids" ]; then
	say "integration tests: strict build (job cases against RGW and Swift)${asan:+ and sanitizer build (job cases against RGW)}, side by side"
	t0=$(date +%s)
	# A line every five minutes, so that a long quiet run shows it lives.
	while sleep 10; do
		running=0
		for pid in $pids; do
			kill -0 "$pid" 2>/dev/null && running=1
		done
		[ "$running" -eq 1 ] || break
		el=$(( $(date +%s) - t0 ))
		[ $((el % 300)) -lt 10 ] && echo "  ... $((el / 60)) min"
	done
	wait
	[ -n "$strict" ] && { say "integration tests, strict build"; collect_pytest "$strict"; }
	[ -n "$asan" ] && { say "integration tests, sanitizer build"; collect_pytest "$asan"; }
fi

echo
if [ $((passed + failed)) -eq 0 ]; then
	echo "check: no test ran"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
