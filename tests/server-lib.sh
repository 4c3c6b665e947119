# Shell functions shared by the scripts that start and stop the throw-away
# S3 servers of the tests (tests/rgw/*-rgw.sh, tests/swift/*-swift.sh).
# Sourced, not run. The sourcing script defines say() and sets:
#   start scripts: BASE, STARTED (the names of BASE/NAME.pid files it
#                  started), OK (1 once started), CREATED_BASE, KEEP_FAILED
#                  (1: keep BASE when the start fails)
#   stop scripts:  BASE, and srv_ours PID (does the pid still belong to
#                  this BASE? a recycled pid belongs to someone else)

# A daemon is alive while its pid is neither gone nor a zombie (our own
# children stay zombies until waited for, and kill -0 succeeds on those).
alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	read -r _ _ st _ <"/proc/$1/stat" || return 1
	[[ $st != Z ]]
}

show_log() {
	local f
	for f in "$@"; do
		[[ -s $f ]] || continue
		echo "---- last lines of $f" >&2
		tail -n 25 "$f" >&2
	done
}

# Stop what a failed start started: SIGTERM to all, then SIGKILL to each
# that is still there after five seconds.
stop_started() {
	local d pid i
	for d in "${STARTED[@]}"; do
		pid=$(<"$BASE/$d.pid")
		kill -TERM "$pid" 2>/dev/null || true
	done
	for d in "${STARTED[@]}"; do
		pid=$(<"$BASE/$d.pid")
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# The start scripts' EXIT trap: nothing to do after a good start.
on_exit() {
	((OK)) && return
	stop_started
	if ((CREATED_BASE)) && [[ ${KEEP_FAILED:-0} != 1 ]]; then
		rm -rf "$BASE"
	else
		say "logs kept in $BASE/log"
	fi
}

die() {
	say "FAILED: $*"
	exit 1
}

# stop_args NAME MARKER "$@": a stop script's arguments (BASE [--keep]);
# sets BASE (absolute) and KEEP, or exits: 0 when BASE is already gone, 2
# on a usage error or a BASE that the start script did not make.
stop_args() {
	local name=$1 marker=$2
	shift 2
	if [[ $# -lt 1 || $# -gt 2 || ( $# -eq 2 && $2 != --keep ) ]]; then
		echo "usage: $name BASE [--keep]" >&2
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
	if [[ ! -e $BASE/$marker ]]; then
		say "$BASE was not made by the start script: not touching it"
		exit 2
	fi
}

# stop_one NAME GRACE [group]: SIGTERM to the pid in BASE/NAME.pid, then
# SIGKILL (to its process group with "group") after GRACE tenths of a
# second. Only while srv_ours says the pid is still this BASE's.
stop_one() {
	local f=$BASE/$1.pid pid i
	[[ -s $f ]] || return 0
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] && srv_ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < $2; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
	if alive "$pid" && srv_ours "$pid"; then
		if [[ ${3:-} == group ]]; then
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		else
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
}

# The end of a stop script.
stop_done() {
	if ((KEEP)); then
		say "stopped; logs kept in $BASE/log"
	else
		rm -rf "$BASE"
	fi
	exit 0
}
