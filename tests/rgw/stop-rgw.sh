#!/bin/bash
# Stop a cluster started by start-rgw.sh and remove its base directory.
# usage: stop-rgw.sh BASE [--keep]
#
# Only the pids in BASE's pid files are signalled, and only while their
# command line still names BASE/ceph.conf (a recycled pid belongs to someone
# else). --keep leaves the directory (logs) in place.
set -uo pipefail

say() { echo "stop-rgw: $*" >&2; }

if [[ $# -lt 1 || $# -gt 2 || ( $# -eq 2 && $2 != --keep ) ]]; then
	echo "usage: stop-rgw.sh BASE [--keep]" >&2
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
if [[ ! -e $BASE/.s3batch-rgw ]]; then
	say "$BASE was not made by start-rgw.sh: not touching it"
	exit 2
fi

ours() {
	[[ -r /proc/$1/cmdline ]] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$BASE/ceph.conf"
}

alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	read -r _ _ st _ <"/proc/$1/stat" || return 1
	[[ $st != Z ]]
}

# stop_one NAME GRACE: SIGTERM, then SIGKILL after GRACE tenths of a second.
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
		kill -KILL "$pid" 2>/dev/null
	fi
}

# radosgw first (it is a client of the others), the mon last. radosgw keeps
# no state of its own but spends about 5 s in its SIGTERM shutdown, so it
# gets half a second; the OSD and mon stop within a fraction of a second.
stop_one rgw 5
stop_one osd 50
stop_one mon 50

if ((KEEP)); then
	say "stopped; logs kept in $BASE/log"
else
	rm -rf "$BASE"
fi
exit 0
