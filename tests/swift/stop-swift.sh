#!/bin/bash
# Stop a Swift started by start-swift.sh and remove its base directory.
# usage: stop-swift.sh BASE [--keep]
#
# Only the pids in BASE's pid files are signalled, and only while their
# command line still names a file under BASE (a recycled pid belongs to
# someone else). --keep leaves the directory (logs) in place.
set -uo pipefail

say() { echo "stop-swift: $*" >&2; }

if [[ $# -lt 1 || $# -gt 2 || ( $# -eq 2 && $2 != --keep ) ]]; then
	echo "usage: stop-swift.sh BASE [--keep]" >&2
	exit 2
fi
BASE=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1

if [[ ! -d $BASE ]]; then
	say "$BASE: no such directory (already stopped?)"
	exit 0
fi
BASE=$(cd "$BASE" && pwd -P)
if [[ ! -e $BASE/.s3batch-swift ]]; then
	say "$BASE was not made by start-swift.sh: not touching it"
	exit 2
fi

ours() {
	[[ -r /proc/$1/cmdline ]] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$BASE/"
}

alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	read -r _ _ st _ <"/proc/$1/stat" || return 1
	[[ $st != Z ]]
}

# stop_one NAME GRACE: SIGTERM, then SIGKILL after GRACE tenths of a second.
# A Swift server's SIGTERM also stops the worker it forked (same process
# group), so only the parent in the pid file is signalled.
stop_one() {
	local f=$BASE/$1.pid pid i
	[[ -s $f ]] || return 0
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] && ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < $2; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
	if alive "$pid" && ours "$pid"; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
}

# The proxy first (the others' only client), memcached last.
stop_one proxy 50
stop_one object 50
stop_one container 50
stop_one account 50
stop_one memcached 50

if ((KEEP)); then
	say "stopped; logs kept in $BASE/log"
else
	rm -rf "$BASE"
fi
exit 0
