#!/bin/bash
# Stop a Swift started by start-swift.sh and remove its base directory.
# usage: stop-swift.sh BASE [--keep]
#
# Only the pids in BASE's pid files are signalled, and only while their
# command line still names a file under BASE (a recycled pid belongs to
# someone else). --keep leaves the directory (logs) in place.
set -uo pipefail

say() { echo "stop-swift: $*" >&2; }
# alive, stop_args, stop_one, stop_done
. "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"

stop_args stop-swift.sh .s3batch-swift "$@"

srv_ours() {
	[[ -r /proc/$1/cmdline ]] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$BASE/"
}

# The proxy first (the others' only client), memcached last. A Swift
# server's SIGTERM also stops the worker it forked (same process group), so
# only the parent in the pid file is signalled, and a SIGKILL goes to the
# group.
stop_one proxy 50 group
stop_one object 50 group
stop_one container 50 group
stop_one account 50 group
stop_one memcached 50 group
stop_done
