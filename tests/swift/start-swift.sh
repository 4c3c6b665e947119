#!/bin/bash
# Start a throw-away one-node OpenStack Swift (proxy with the s3api and
# tempauth middlewares, one account, container and object server on one
# "device" directory, memcached) serving S3 on 127.0.0.1, for tests and
# the demo, next to tests/rgw/start-rgw.sh's RGW. Everything lives under
# one base directory (own swift.conf, rings, devices; mount_check off, no
# xfs: the object server needs only user xattrs, which ext4 and tmpfs have);
# stop-swift.sh BASE stops it again. See docs/TESTING.md and
# docs/COMPATIBILITY.md.
#
# Environment (all optional):
#   SWIFT_BASE           base directory (default: a new mktemp -d)
#   SWIFT_PORT           S3 (proxy) port (default 8480); the account,
#                        container and object servers and memcached take
#                        SWIFT_PORT+1 .. SWIFT_PORT+4
#   SWIFT_KEEP_FAILED=1  keep the base directory when the start fails
#
# S3 credentials (tempauth): access key "test:tester" secret "testing",
# and a second account's user "test2:other" secret "otherpw".
#
# On success it prints SWIFT_ENDPOINT=, SWIFT_BASE=, SWIFT_PORT=,
# SWIFT_ACCESS_KEY=, SWIFT_SECRET_KEY=, SWIFT_OTHER_ACCESS_KEY=,
# SWIFT_OTHER_SECRET_KEY= and SWIFT_START_SECONDS= lines on stdout (also
# saved in BASE/env) and exits 0, leaving the servers running; progress and
# errors go to stderr.
set -euo pipefail
export LC_ALL=C

SWIFT_PORT=${SWIFT_PORT:-8480}

# Every server is started with a configuration file under BASE on its
# command line: stop-swift.sh checks it there before it signals a pid.
MARKER=.s3batch-swift

say() { echo "start-swift: $*" >&2; }

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
T0=$(now_ms)

if ! [[ $SWIFT_PORT =~ ^[0-9]+$ ]] || ((SWIFT_PORT < 1 || SWIFT_PORT > 65531)); then
	say "SWIFT_PORT=$SWIFT_PORT is not a port number (it needs 4 more after it)"
	exit 2
fi
PROXY_PORT=$SWIFT_PORT
ACCOUNT_PORT=$((SWIFT_PORT + 1))
CONTAINER_PORT=$((SWIFT_PORT + 2))
OBJECT_PORT=$((SWIFT_PORT + 3))
MEMCACHED_PORT=$((SWIFT_PORT + 4))

for tool in swift-proxy-server swift-account-server swift-container-server \
    swift-object-server swift-ring-builder memcached curl python3; do
	if ! command -v "$tool" >/dev/null; then
		say "$tool not found: run tests/deps.sh (needs swift swift-proxy swift-account swift-container swift-object memcached curl)"
		exit 2
	fi
done

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $PROXY_PORT $ACCOUNT_PORT $CONTAINER_PORT $OBJECT_PORT $MEMCACHED_PORT; do
	if port_busy "$p"; then
		say "port $p on 127.0.0.1 is already in use (SWIFT_PORT=$SWIFT_PORT uses $PROXY_PORT-$MEMCACHED_PORT)"
		exit 2
	fi
done

CREATED_BASE=0
if [[ -z ${SWIFT_BASE:-} ]]; then
	SWIFT_BASE=$(mktemp -d "${TMPDIR:-/tmp}/s3b-swift.XXXXXX")
	CREATED_BASE=1
else
	mkdir -p "$SWIFT_BASE"
	SWIFT_BASE=$(cd "$SWIFT_BASE" && pwd -P)
	if [[ -n $(ls -A "$SWIFT_BASE") ]]; then
		if [[ ! -e $SWIFT_BASE/$MARKER ]]; then
			say "$SWIFT_BASE is not empty and was not made by start-swift.sh: refusing to use it"
			exit 2
		fi
		for f in "$SWIFT_BASE"/*.pid; do
			[[ -e $f ]] || continue
			pid=$(<"$f")
			if [[ -r /proc/$pid/cmdline ]] &&
			    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$SWIFT_BASE/"; then
				say "$SWIFT_BASE still has a running server (pid $pid): stop it with stop-swift.sh first"
				exit 2
			fi
		done
		rm -rf "${SWIFT_BASE:?}"/* "${SWIFT_BASE:?}/$MARKER"
	fi
fi
BASE=$SWIFT_BASE
ETC=$BASE/etc
mkdir -p "$ETC" "$BASE"/{log,run,cache} "$BASE/srv/node/d1"
touch "$BASE/$MARKER"

STARTED=()
OK=0
KEEP_FAILED=${SWIFT_KEEP_FAILED:-0}
# alive, show_log, stop_started, on_exit, die
. "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
trap on_exit EXIT

check_servers() {
	local d
	for d in "${STARTED[@]}"; do
		if ! alive "$(<"$BASE/$d.pid")"; then
			show_log "$BASE/log/$d.log"
			die "$d exited during start-up (see the log above)"
		fi
	done
}

wait_until() {
	local limit=$1 what=$2 deadline d
	shift 2
	deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		check_servers
		if ((SECONDS >= deadline)); then
			for d in "${STARTED[@]}"; do
				show_log "$BASE/log/$d.log"
			done
			die "timed out after ${limit}s waiting for $what"
		fi
		sleep 0.2
	done
}

# start NAME COMMAND...: a server detached in its own session, its output
# (Swift logs to the console with -v) in BASE/log/NAME.log.
start() {
	local name=$1
	shift
	setsid "$@" </dev/null >"$BASE/log/$name.log" 2>&1 &
	echo $! >"$BASE/$name.pid"
	STARTED+=("$name")
}

run() {
	local what=$1 out=$2
	shift 2
	if ! "$@" >"$out" 2>&1; then
		show_log "$out"
		die "$what"
	fi
}

USER_NAME=$(id -un)
# The python3 Swift is installed for (the Debian package's, /usr/bin): a
# python3 earlier in PATH may not have it.
SWIFT_PY=$(sed -n '1s/^#! *//p' "$(command -v swift-ring-builder)")
[[ -x ${SWIFT_PY%% *} ]] || SWIFT_PY=python3
SUFFIX=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

# swift_dir in every server's [DEFAULT] makes Swift read this swift.conf
# (hash suffix, storage policies) and these rings instead of /etc/swift's.
cat >"$ETC/swift.conf" <<CONF
# Written by start-swift.sh: a one-node test cluster, not for real data.
[swift-hash]
swift_hash_path_suffix = $SUFFIX
swift_hash_path_prefix = s3batchd-test

[storage-policy:0]
name = Policy-0
default = yes
CONF

common_conf() {
	cat <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
swift_dir = $ETC
devices = $BASE/srv/node
mount_check = false
disable_fallocate = true
workers = 1
user = $USER_NAME
log_name = $2
log_level = INFO
CONF
}

for s in account:$ACCOUNT_PORT container:$CONTAINER_PORT object:$OBJECT_PORT; do
	name=${s%%:*}
	port=${s##*:}
	{
		common_conf "$port" "$name-server"
		cat <<CONF

[pipeline:main]
pipeline = healthcheck recon $name-server

[app:$name-server]
use = egg:swift#$name

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:recon]
use = egg:swift#recon
recon_cache_path = $BASE/cache
CONF
		[[ $name == object ]] && printf '\n[object-expirer]\n'
		[[ $name == container ]] && printf '\n[container-sync]\n'
	} >"$ETC/$name-server.conf"
done

# The pipeline of Swift's s3api documentation for tempauth, with
# versioned_writes allowing S3 versioning (object_versioning) and the
# listing and multipart helpers s3api relies on.
{
	common_conf "$PROXY_PORT" proxy-server
	cat <<CONF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
allow_multipart_uploads = true
force_swift_request_proxy_log = false

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test2_other = otherpw .admin
reseller_prefix = AUTH_

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
allow_object_versioning = true

[filter:symlink]
use = egg:swift#symlink

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:tempurl]
use = egg:swift#tempurl
CONF
} >"$ETC/proxy-server.conf"

say "base $BASE, S3 port $PROXY_PORT, servers on $ACCOUNT_PORT-$OBJECT_PORT, memcached on $MEMCACHED_PORT"

# --- rings: one replica on one device; 2^6 partitions are plenty. Built in
# one python3 process with Swift's RingBuilder: nine swift-ring-builder runs
# cost about 20 s on a loaded machine.
run "building the rings failed" "$BASE/log/rings.out" \
	$SWIFT_PY - "$ETC" "$ACCOUNT_PORT" "$CONTAINER_PORT" "$OBJECT_PORT" <<'PY'
import os, sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for name, port in zip(("account", "container", "object"), sys.argv[2:]):
    b = RingBuilder(6, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1",
               "port": int(port), "device": "d1", "weight": 1})
    b.rebalance()
    b.save(os.path.join(etc, name + ".builder"))
    b.get_ring().save(os.path.join(etc, name + ".ring.gz"))
PY
T_RINGS=$(now_ms)

# memcached refuses to run as root without -u.
start memcached memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 \
	-u "$USER_NAME" -P "$BASE/run/memcached.$MEMCACHED_PORT.pid"
for name in account container object proxy; do
	start "$name" "swift-$name-server" "$ETC/$name-server.conf" -v
done
healthy() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/healthcheck"; }
for p in $ACCOUNT_PORT $CONTAINER_PORT $OBJECT_PORT $PROXY_PORT; do
	wait_until 120 "the server on 127.0.0.1:$p to answer" healthy "$p"
done
T_UP=$(now_ms)

# A first authenticated S3 request creates the accounts (account_autocreate)
# and proves tempauth and s3api are wired.
run "the first S3 requests failed" "$BASE/log/first-request.out" \
	$SWIFT_PY - "http://127.0.0.1:$PROXY_PORT" <<'PY'
import sys
import boto3
from botocore.config import Config
for ak, sk in (("test:tester", "testing"), ("test2:other", "otherpw")):
    c = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=ak,
                     aws_secret_access_key=sk, region_name="us-east-1",
                     config=Config(s3={"addressing_style": "path"},
                                   retries={"max_attempts": 10}))
    c.list_buckets()
PY
T_END=$(now_ms)

ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
say "rings $(ms $((T_RINGS - T0)))s, servers $(ms $((T_UP - T_RINGS)))s, first requests $(ms $((T_END - T_UP)))s"
say "pids: proxy=$(<"$BASE/proxy.pid") account=$(<"$BASE/account.pid") container=$(<"$BASE/container.pid") object=$(<"$BASE/object.pid") memcached=$(<"$BASE/memcached.pid")"
{
	echo "SWIFT_ENDPOINT=http://127.0.0.1:$PROXY_PORT"
	echo "SWIFT_BASE=$BASE"
	echo "SWIFT_PORT=$PROXY_PORT"
	echo "SWIFT_ACCESS_KEY=test:tester"
	echo "SWIFT_SECRET_KEY=testing"
	echo "SWIFT_OTHER_ACCESS_KEY=test2:other"
	echo "SWIFT_OTHER_SECRET_KEY=otherpw"
	echo "SWIFT_START_SECONDS=$(ms $((T_END - T0)))"
} | tee "$BASE/env"
OK=1
