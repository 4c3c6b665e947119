#!/bin/bash
# Start a throw-away one-node Ceph cluster (1 mon, 1 memstore OSD, no mgr,
# auth off) with radosgw serving S3 on 127.0.0.1, for tests, the demo and
# benchmarks. Everything lives under one base directory; stop-rgw.sh BASE
# stops it again. See docs/TESTING.md.
#
# Environment (all optional):
#   RGW_BASE             base directory (default: a new mktemp -d)
#   RGW_PORT             S3 port (default 7480)
#   RGW_MON_PORT         mon msgr v2 port (default RGW_PORT+1)
#   RGW_MON_V1_PORT      mon msgr v1 port (default RGW_MON_PORT+1)
#   RGW_STORE            memstore (default, in RAM) or bluestore (sparse file)
#   RGW_MEMSTORE_BYTES   memstore capacity (default 3 GiB; only what is
#                        stored is resident)
#   RGW_STORAGE_CLASSES  storage classes added to the default placement
#   RGW_KEEP_FAILED=1    keep the base directory when the start fails
#
# On success it prints RGW_ENDPOINT=, RGW_BASE=, RGW_PORT=, RGW_MON_PORT=
# and RGW_START_SECONDS= lines on stdout (also saved in BASE/env) and exits
# 0, leaving the daemons running; progress and errors go to stderr.
set -euo pipefail
export LC_ALL=C

RGW_PORT=${RGW_PORT:-7480}
RGW_MON_PORT=${RGW_MON_PORT:-$((RGW_PORT + 1))}
RGW_MON_V1_PORT=${RGW_MON_V1_PORT:-$((RGW_MON_PORT + 1))}
RGW_STORE=${RGW_STORE:-memstore}
RGW_MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-3221225472}
RGW_STORAGE_CLASSES=${RGW_STORAGE_CLASSES:-STANDARD_IA ONEZONE_IA INTELLIGENT_TIERING GLACIER DEEP_ARCHIVE GLACIER_IR REDUCED_REDUNDANCY}

# The daemons are started with "-c BASE/ceph.conf" on their command line:
# stop-rgw.sh checks it there before it signals a pid, so it never touches
# another cluster's daemons.
MARKER=.s3batch-rgw

say() { echo "start-rgw: $*" >&2; }

# Milliseconds since the script started, for the timing line.
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
T0=$(now_ms)

for v in RGW_PORT RGW_MON_PORT RGW_MON_V1_PORT; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} > 65535)); then
		say "$v=${!v} is not a port number"
		exit 2
	fi
	# OSDs take their ports from ms_bind_port_min..max (6800-7300), one
	# cluster after the other: a port of ours there may be taken first.
	if ((${!v} >= 6800 && ${!v} <= 7300)); then
		say "$v=${!v} is in 6800-7300, where the OSDs bind: pick another port"
		exit 2
	fi
done
case $RGW_STORE in
memstore | bluestore) ;;
*) say "RGW_STORE=$RGW_STORE: use memstore or bluestore"; exit 2 ;;
esac
for tool in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool uuidgen curl; do
	if ! command -v "$tool" >/dev/null; then
		say "$tool not found: run tests/deps.sh (needs radosgw ceph-mon ceph-osd uuid-runtime curl)"
		exit 2
	fi
done

# A port someone already listens on would make a daemon fail later with a
# less obvious message (or, for a mon, join the other cluster's traffic).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$RGW_PORT" "$RGW_MON_PORT" "$RGW_MON_V1_PORT"; do
	if port_busy "$p"; then
		say "port $p on 127.0.0.1 is already in use (RGW_PORT=$RGW_PORT RGW_MON_PORT=$RGW_MON_PORT RGW_MON_V1_PORT=$RGW_MON_V1_PORT)"
		exit 2
	fi
done

CREATED_BASE=0
if [[ -z ${RGW_BASE:-} ]]; then
	RGW_BASE=$(mktemp -d "${TMPDIR:-/tmp}/s3b-rgw.XXXXXX")
	CREATED_BASE=1
else
	mkdir -p "$RGW_BASE"
	RGW_BASE=$(cd "$RGW_BASE" && pwd -P)
	if [[ -n $(ls -A "$RGW_BASE") ]]; then
		if [[ ! -e $RGW_BASE/$MARKER ]]; then
			say "$RGW_BASE is not empty and was not made by start-rgw.sh: refusing to use it"
			exit 2
		fi
		for f in "$RGW_BASE"/*.pid; do
			[[ -e $f ]] || continue
			pid=$(<"$f")
			if [[ -r /proc/$pid/cmdline ]] &&
			    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$RGW_BASE/ceph.conf"; then
				say "$RGW_BASE still has a running daemon (pid $pid): stop it with stop-rgw.sh first"
				exit 2
			fi
		done
		rm -rf "${RGW_BASE:?}"/* "${RGW_BASE:?}/$MARKER"
	fi
fi
BASE=$RGW_BASE
CONF=$BASE/ceph.conf
export CEPH_CONF=$CONF
mkdir -p "$BASE"/{mon/ceph-a,osd/ceph-0,run,log,rgw,crash}
touch "$BASE/$MARKER"

STARTED=()
OK=0
KEEP_FAILED=${RGW_KEEP_FAILED:-0}
# alive, show_log, stop_started, on_exit, die
. "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
trap on_exit EXIT

# Which log tells why a daemon is gone.
log_of() {
	case $1 in
	mon) echo "$BASE/log/mon.a.out $BASE/log/mon.a.log" ;;
	osd) echo "$BASE/log/osd.mkfs.out $BASE/log/osd.0.out $BASE/log/osd.0.log" ;;
	rgw) echo "$BASE/log/rgw.out $BASE/log/client.rgw.a.log" ;;
	esac
}

check_daemons() {
	local d
	for d in "${STARTED[@]}"; do
		if ! alive "$(<"$BASE/$d.pid")"; then
			# shellcheck disable=SC2046
			show_log $(log_of "$d")
			die "$d daemon exited during start-up (see the log above)"
		fi
	done
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND until it succeeds, failing
# at once when one of our daemons dies, or when SECONDS pass.
wait_until() {
	local limit=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		check_daemons
		if ((SECONDS >= deadline)); then
			for d in "${STARTED[@]}"; do
				# shellcheck disable=SC2046
				show_log $(log_of "$d")
			done
			die "timed out after ${limit}s waiting for $what"
		fi
		sleep 0.2
	done
}

# start NAME LOGFILE COMMAND...: run a daemon detached (own session, so the
# caller's Ctrl-C or job control does not reach it), with its pid file.
start() {
	local name=$1 out=$2
	shift 2
	setsid "$@" </dev/null >"$out" 2>&1 &
	echo $! >"$BASE/$name.pid"
	STARTED+=("$name")
}

# run WHAT LOG COMMAND...: a one-shot step whose output is kept in LOG.
run() {
	local what=$1 out=$2
	shift 2
	if ! "$@" >"$out" 2>&1; then
		show_log "$out"
		die "$what"
	fi
}

MON_ADDR="[v2:127.0.0.1:$RGW_MON_PORT,v1:127.0.0.1:$RGW_MON_V1_PORT]"
FSID=$(uuidgen)
cat >"$CONF" <<EOF
# Written by start-rgw.sh: a one-node test cluster, not for real data.
[global]
fsid = $FSID
mon_host = $MON_ADDR
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# With auth off, clients must not insist on a secure mon session, or
# radosgw loops on "get_initial_auth_request returned -13".
ms_mon_client_mode = crc
keyring = $BASE/keyring
run_dir = $BASE/run
crash_dir = $BASE/crash
admin_socket = $BASE/run/\$cluster-\$name.asok
log_file = $BASE/log/\$name.log
mon_cluster_log_file = $BASE/log/cluster.log
log_max_recent = 500
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0

[mon]
mon_data = $BASE/mon/\$cluster-\$id
# Each pool RGW creates costs two map updates; at the default 1 s paxos
# interval that made start-up and the first PUT to each storage class slow.
paxos_propose_interval = 0.01
paxos_min_wait = 0.01
mon_allow_pool_delete = true
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[osd]
osd_data = $BASE/osd/\$cluster-\$id
osd_objectstore = $RGW_STORE
memstore_device_bytes = $RGW_MEMSTORE_BYTES
# Not \$osd_data/block: mkfs makes a symlink of that name.
bluestore_block_path = $BASE/osd/\$cluster-\$id.block
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_block_db_create = false
bluestore_block_wal_create = false
osd_memory_target = 939524096
bluestore_cache_autotune = true
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $BASE/rgw
rgw_thread_pool_size = 64
rgw_dns_name = localhost
# SSE-C and SSE-KMS over plain HTTP, with two fixed test keys for KMS (a
# change of key, S3UpdateObjectEncryption, needs a second one).
rgw_crypt_require_ssl = false
rgw_crypt_s3_kms_backend = testing
rgw_crypt_s3_kms_encryption_keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo= testkey-2=yOwbrI7MEvHSbFraG8u+dGqf8s0ZHqmHmCkyNF4UpV0=
EOF

say "base $BASE, S3 port $RGW_PORT, mon ports $RGW_MON_PORT/$RGW_MON_V1_PORT, $RGW_STORE"

# --- mon
run "monmaptool failed" "$BASE/log/monmap.out" \
	monmaptool --create --fsid "$FSID" --addv a "$MON_ADDR" "$BASE/monmap"
run "ceph-mon --mkfs failed" "$BASE/log/mon.mkfs.out" \
	ceph-mon -c "$CONF" --mkfs -i a --monmap "$BASE/monmap"
start mon "$BASE/log/mon.a.out" ceph-mon -c "$CONF" -f -i a
wait_until 60 "the monitor to answer" ceph --connect-timeout 2 mon stat
T_MON=$(now_ms)

# --- osd
OSD_UUID=$(uuidgen)
OSD_ID=$(ceph osd new "$OSD_UUID" 2>"$BASE/log/osd.new.out") ||
	{ show_log "$BASE/log/osd.new.out"; die "ceph osd new failed"; }
[[ $OSD_ID == 0 ]] || die "expected osd id 0 in a fresh cluster, got '$OSD_ID'"
run "ceph-osd --mkfs failed" "$BASE/log/osd.mkfs.out" \
	ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID"
start osd "$BASE/log/osd.0.out" ceph-osd -c "$CONF" -f -i 0
osd_up() { ceph osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
wait_until 120 "osd.0 to come up" osd_up
T_OSD=$(now_ms)

# --- extra storage classes, so that x-amz-storage-class values other than
# STANDARD are accepted (RGW answers 400 InvalidStorageClass otherwise).
# One get/set per map instead of one radosgw-admin call per class: each call
# costs about half a second. "user list" (but not "zone get") first creates
# the default zone and zonegroup.
if [[ -n ${RGW_STORAGE_CLASSES// /} ]]; then
	run "radosgw-admin user list failed" "$BASE/log/init-zone.out" \
		radosgw-admin user list
	run "radosgw-admin zone get failed" "$BASE/log/zone.json" \
		radosgw-admin zone get --rgw-zone default
	run "radosgw-admin zonegroup get failed" "$BASE/log/zonegroup.json" \
		radosgw-admin zonegroup get --rgw-zonegroup default
	# shellcheck disable=SC2086 # one argument per storage class
	run "editing the placement maps failed" "$BASE/log/placement.out" \
		python3 - "$BASE/log/zonegroup.json" "$BASE/log/zone.json" $RGW_STORAGE_CLASSES <<'EOF'
import json, sys
zg_path, zone_path, classes = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(zg_path) as f:
    zg = json.load(f)
for target in zg["placement_targets"]:
    if target["name"] == "default-placement":
        have = target.setdefault("storage_classes", [])
        for sc in classes:
            if sc not in have:
                have.append(sc)
with open(zg_path, "w") as f:
    json.dump(zg, f)
with open(zone_path) as f:
    zone = json.load(f)
for pool in zone["placement_pools"]:
    if pool["key"] == "default-placement":
        scs = pool["val"]["storage_classes"]
        for sc in classes:
            name = sc.lower().replace("_", "-")
            scs.setdefault(sc, {"data_pool": "default.rgw." + name + ".data"})
with open(zone_path, "w") as f:
    json.dump(zone, f)
EOF
	run "radosgw-admin zonegroup set failed" "$BASE/log/zonegroup.set.out" \
		radosgw-admin zonegroup set --rgw-zonegroup default --infile "$BASE/log/zonegroup.json"
	run "radosgw-admin zone set failed" "$BASE/log/zone.set.out" \
		radosgw-admin zone set --rgw-zone default --infile "$BASE/log/zone.json"
fi
T_SC=$(now_ms)

# --- radosgw
start rgw "$BASE/log/rgw.out" radosgw -c "$CONF" -f -n client.rgw.a
s3_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$RGW_PORT/"; }
wait_until 180 "radosgw to answer on 127.0.0.1:$RGW_PORT" s3_answers
T_RGW=$(now_ms)

# --- users
run "creating user tester failed" "$BASE/user-tester.json" \
	radosgw-admin user create --uid=tester --display-name=Tester \
	--access-key=TESTAK --secret=TESTSK
run "creating user other failed" "$BASE/user-other.json" \
	radosgw-admin user create --uid=other --display-name=Other \
	--access-key=OTHERAK --secret=OTHERSK
T_END=$(now_ms)

ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
say "mon $(ms $((T_MON - T0)))s, osd $(ms $((T_OSD - T_MON)))s, storage classes $(ms $((T_SC - T_OSD)))s, rgw $(ms $((T_RGW - T_SC)))s, users $(ms $((T_END - T_RGW)))s"
say "pids: mon=$(<"$BASE/mon.pid") osd=$(<"$BASE/osd.pid") rgw=$(<"$BASE/rgw.pid")"
{
	echo "RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT"
	echo "RGW_BASE=$BASE"
	echo "RGW_PORT=$RGW_PORT"
	echo "RGW_MON_PORT=$RGW_MON_PORT"
	echo "RGW_START_SECONDS=$(ms $((T_END - T0)))"
} | tee "$BASE/env"
OK=1
