#!/bin/bash
# Stop a cluster started by start-rgw.sh and remove its base directory.
# usage: stop-rgw.sh BASE [--keep]
#
# Only the pids in BASE's pid files are signalled, and only while their
# command line still names BASE/ceph.conf (a recycled pid belongs to someone
# else). --keep leaves the directory (logs) in place.
set -uo pipefail

say() { echo "stop-rgw: $*" >&2; }
# alive, stop_args, stop_one, stop_done
. "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"

stop_args stop-rgw.sh .s3batch-rgw "$@"

srv_ours() {
	[[ -r /proc/$1/cmdline ]] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$BASE/ceph.conf"
}

# radosgw first (it is a client of the others), the mon last. radosgw keeps
# no state of its own but spends about 5 s in its SIGTERM shutdown, so it
# gets half a second; the OSD and mon stop within a fraction of a second.
stop_one rgw 5
stop_one osd 50
stop_one mon 50
stop_done
