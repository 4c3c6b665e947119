#!/bin/sh
# The s3batchd demo, from a fresh Debian 12 machine (as root, or a user with
# sudo): installs what it needs (tests/deps.sh), builds s3batchd in
# build/demo, starts a throw-away Ceph RGW on 127.0.0.1 with 3,000 sample
# objects, starts s3batchd against it, and runs one real S3 Batch
# Operations job: S3PutObjectCopy of every object to another bucket with
# new tags, and a completion report in Amazon's format in a third bucket.
# It shows the job's progress (s3batchctl watch), describe-job, and the
# report, then leaves everything running so that you can look around, and
# prints how to stop it.
#
# usage: sh tests/demo.sh            run the demo (stops a previous one first)
#        sh tests/demo.sh --stop     stop the demo's s3batchd and RGW
#        sh tests/demo.sh --once     run the demo, then stop everything
#
# Non-interactive and idempotent: run it again and it starts over. What is
# running is recorded in build/demo/demo.env.
#   DEMO_OBJECTS=N   sample objects (default 3000)

# The RGW scripts and the rest of this one want bash; Debian always has it.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=$top/build/demo
state=$builddir/demo.env
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
nobjects=${DEMO_OBJECTS:-3000}
jobs=$(nproc 2>/dev/null || echo 2)

if [ -t 1 ]; then
	step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	step() { printf '\n==> %s\n' "$*"; }
fi
info() { printf '    %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

mode=run
case "${1:-}" in
"") ;;
--stop) mode=stop ;;
--once) mode=once ;;
-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) die "unknown option $1 (try --help)" ;;
esac

# Stop what a previous run recorded: its s3batchd (by pid, only while that
# pid is still our s3batchd with our config), its RGW (stop-rgw.sh checks
# its own pids the same way), and its temporary directory.
stop_demo() {
	[ -f "$state" ] || return 0
	local DEMO_PID="" DEMO_CONF="" DEMO_RGW_BASE="" DEMO_DIR=""
	# shellcheck disable=SC1090
	. "$state"
	if [ -n "$DEMO_PID" ] && [ -r "/proc/$DEMO_PID/cmdline" ] &&
	    tr '\0' ' ' <"/proc/$DEMO_PID/cmdline" | grep -qF -- "$DEMO_CONF"; then
		info "stopping s3batchd (pid $DEMO_PID)"
		kill "$DEMO_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			[ -d "/proc/$DEMO_PID" ] || break
			sleep 0.1
		done
	fi
	if [ -n "$DEMO_RGW_BASE" ] && [ -d "$DEMO_RGW_BASE" ]; then
		info "stopping RGW ($DEMO_RGW_BASE)"
		bash tests/rgw/stop-rgw.sh "$DEMO_RGW_BASE" >/dev/null 2>&1 || true
	fi
	if [ -n "$DEMO_DIR" ] && [ -d "$DEMO_DIR" ]; then
		rm -rf "$DEMO_DIR"
	fi
	rm -f "$state"
}

if [ "$mode" = stop ]; then
	if [ ! -f "$state" ]; then
		echo "demo: nothing to stop (no $state)"
		exit 0
	fi
	step "Stopping the demo"
	stop_demo
	echo "demo: stopped"
	exit 0
fi

if [ -f "$state" ]; then
	step "Stopping the previous demo"
	stop_demo
fi

step "Packages (tests/deps.sh)"
sh tests/deps.sh

step "Building s3batchd in build/demo"
if [ ! -x configure ] || [ configure.ac -nt configure ] ||
    [ Makefile.am -nt Makefile.in ]; then
	info "autoreconf -fi"
	autoreconf -fi >/dev/null 2>&1 || die "autoreconf failed (run 'autoreconf -fi' to see why)"
fi
mkdir -p "$builddir"
if [ ! -f "$builddir/Makefile" ]; then
	info "configure"
	(cd "$builddir" && "$top/configure" -q >configure.log 2>&1) ||
	    { tail -30 "$builddir/configure.log"; die "configure failed (see $builddir/configure.log)"; }
fi
info "make -j$jobs"
(cd "$builddir" && make -j"$jobs" >make.log 2>&1) ||
    { tail -30 "$builddir/make.log"; die "make failed (see $builddir/make.log)"; }
s3batchd=$builddir/s3batchd
ctl=$builddir/s3batchctl
info "built $s3batchd and $ctl"

# Three free ports on 127.0.0.1: RGW, its monitor (v2 and v1).
free_ports() {
	"$PY" - <<'PY'
import socket
socks = []
for _ in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

step "Starting Ceph RGW on 127.0.0.1 (tests/rgw/start-rgw.sh)"
rgw_out=
for _ in 1 2 3; do
	read -r p_rgw p_mon p_mon1 p_metrics <<<"$(free_ports)"
	if rgw_out=$(RGW_PORT=$p_rgw RGW_MON_PORT=$p_mon RGW_MON_V1_PORT=$p_mon1 \
	    bash tests/rgw/start-rgw.sh 2>"$builddir/start-rgw.log"); then
		break
	fi
	rgw_out=
	grep -q "already in use" "$builddir/start-rgw.log" || break
done
[ -n "$rgw_out" ] || { tail -20 "$builddir/start-rgw.log"; die "RGW did not start"; }
RGW_ENDPOINT=$(printf '%s\n' "$rgw_out" | sed -n 's/^RGW_ENDPOINT=//p')
RGW_BASE=$(printf '%s\n' "$rgw_out" | sed -n 's/^RGW_BASE=//p')
info "S3 endpoint $RGW_ENDPOINT (user TESTAK / TESTSK), cluster in $RGW_BASE"

demodir=$(mktemp -d "${TMPDIR:-/tmp}/s3batchd-demo.XXXXXX")
chmod 755 "$demodir"
conf=$demodir/s3batchd.conf
sock=$demodir/control.sock
# Record at once, so that --stop or the next run cleans up even if a later
# step fails.
write_state() {
	cat >"$state" <<EOF
DEMO_PID=${daemon_pid:-}
DEMO_CONF=$conf
DEMO_RGW_BASE=$RGW_BASE
DEMO_DIR=$demodir
DEMO_SOCKET=$sock
DEMO_ENDPOINT=$RGW_ENDPOINT
EOF
}
write_state

SRC=demo-photos
DST=demo-archive
REP=demo-reports
step "Sample data: $nobjects objects in s3://$SRC (tests/bench/setup_objects.py)"
"$PY" tests/bench/setup_objects.py --endpoint "$RGW_ENDPOINT" --bucket "$SRC" \
    --prefix photos/2026/img- --count "$nobjects" --size 1024 \
    --manifest "$demodir/manifest.csv" --manifest-key manifests/photos.csv \
    >"$demodir/setup.out" 2>&1 || { cat "$demodir/setup.out"; die "could not create the sample objects"; }
sed 's/^/    /' "$demodir/setup.out"
manifest_arn=$(sed -n 's/^manifest object: ObjectArn \([^ ]*\) ETag .*/\1/p' "$demodir/setup.out")
manifest_etag=$(sed -n 's/^manifest object: .* ETag "*\([0-9a-f-]*\)"*$/\1/p' "$demodir/setup.out")
[ -n "$manifest_arn" ] && [ -n "$manifest_etag" ] || die "no manifest ObjectArn/ETag in the setup output"

export RGW_ENDPOINT
"$PY" - "$DST" "$REP" <<'PY'
import sys, boto3, botocore.config
s3 = boto3.client("s3", endpoint_url=__import__("os").environ["RGW_ENDPOINT"],
                  aws_access_key_id="TESTAK", aws_secret_access_key="TESTSK",
                  region_name="us-east-1",
                  config=botocore.config.Config(s3={"addressing_style": "path"}))
for b in sys.argv[1:]:
    s3.create_bucket(Bucket=b)
    print("    bucket s3://%s created" % b)
PY

step "Starting s3batchd (config in $conf)"
cat >"$conf" <<EOF
# s3batchd demo configuration (see docs/s3batchd.conf.5)
[daemon]
state_dir = $demodir/state
control_socket = $sock
metrics_listen = 127.0.0.1:$p_metrics
max_inflight = 64

[endpoint default]
url = $RGW_ENDPOINT
region = us-east-1
addressing = path
access_key_id = TESTAK
secret_access_key = TESTSK
max_connections = 32
EOF
chmod 600 "$conf"
out=$("$s3batchd" -n -f "$conf" 2>&1 >/dev/null) || { echo "$out"; die "s3batchd -n rejected $conf"; }
info "s3batchd -n: $out"
# setsid: the daemon outlives this script and the terminal's Ctrl-C.
setsid "$s3batchd" -d -f "$conf" >"$demodir/s3batchd.log" 2>&1 </dev/null &
daemon_pid=$!
write_state
for _ in $(seq 1 100); do
	[ -S "$sock" ] && break
	kill -0 "$daemon_pid" 2>/dev/null || { cat "$demodir/s3batchd.log"; die "s3batchd exited"; }
	sleep 0.1
done
[ -S "$sock" ] || die "s3batchd did not open $sock"
export S3BATCHD_SOCKET=$sock
info "pid $daemon_pid, control socket $sock, log $demodir/s3batchd.log"
info "metrics: curl -s http://127.0.0.1:$p_metrics/metrics"
"$ctl" status | sed 's/^/    /'

step "The job: copy every object to s3://$DST with new tags, report to s3://$REP"
cat >"$demodir/job.json" <<EOF
{
  "AccountId": "123456789012",
  "ConfirmationRequired": false,
  "Operation": {
    "S3PutObjectCopy": {
      "TargetResource": "arn:aws:s3:::$DST",
      "TargetKeyPrefix": "archived/",
      "StorageClass": "STANDARD_IA",
      "NewObjectTagging": [
        { "Key": "project", "Value": "demo" },
        { "Key": "copied-by", "Value": "s3batchd" }
      ]
    }
  },
  "Manifest": {
    "Spec": {
      "Format": "S3BatchOperations_CSV_20180820",
      "Fields": ["Bucket", "Key"]
    },
    "Location": {
      "ObjectArn": "$manifest_arn",
      "ETag": "$manifest_etag"
    }
  },
  "Report": {
    "Enabled": true,
    "Bucket": "arn:aws:s3:::$REP",
    "Format": "Report_CSV_20180820",
    "Prefix": "batch",
    "ReportScope": "AllTasks"
  },
  "Priority": 10,
  "RoleArn": "arn:aws:iam::123456789012:role/batch-operations",
  "Description": "demo: archive the photos with tags"
}
EOF
sed 's/^/    /' "$demodir/job.json"
echo
info "\$ s3batchctl create-job --cli-input-json file://$demodir/job.json"
job_id=$("$ctl" create-job --cli-input-json "file://$demodir/job.json")
info "JobId: $job_id"

step "Progress (s3batchctl watch --job-id $job_id)"
"$ctl" watch --job-id "$job_id" --interval 1 || true

step "s3batchctl describe-job --job-id $job_id"
"$ctl" describe-job --job-id "$job_id" | sed 's/^/    /'
status=$("$ctl" --output json describe-job --job-id "$job_id" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Job"]["Status"])')

step "Task results from the daemon (s3batchctl report --job-id $job_id | head)"
"$ctl" report --job-id "$job_id" | head -n 8 | sed 's/^/    /' || true

step "What boto3 sees in the buckets"
"$PY" - "$SRC" "$DST" "$REP" <<'PY'
import json, os, sys, boto3, botocore.config
src, dst, rep = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=os.environ["RGW_ENDPOINT"],
                  aws_access_key_id="TESTAK", aws_secret_access_key="TESTSK",
                  region_name="us-east-1",
                  config=botocore.config.Config(s3={"addressing_style": "path"}))

def keys(bucket, prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix):
        out += page.get("Contents", [])
    return out

copies = keys(dst)
print("    s3://%s: %d objects, e.g. %s" % (dst, len(copies),
      copies[0]["Key"] if copies else "-"))
if copies:
    k = copies[0]["Key"]
    h = s3.head_object(Bucket=dst, Key=k)
    t = s3.get_object_tagging(Bucket=dst, Key=k)["TagSet"]
    print("      %s: StorageClass %s, tags %s" % (
        k, h.get("StorageClass", "STANDARD"),
        ", ".join("%s=%s" % (x["Key"], x["Value"]) for x in t)))
print("    s3://%s (the completion report, Amazon's layout):" % rep)
for o in keys(rep):
    print("      %-78s %7d bytes" % (o["Key"], o["Size"]))
for o in keys(rep):
    if o["Key"].endswith("manifest.json"):
        m = json.loads(s3.get_object(Bucket=rep, Key=o["Key"])["Body"].read())
        print("    %s:" % o["Key"])
        for line in json.dumps(m, indent=2).splitlines():
            print("      " + line)
PY

if [ "$mode" = once ]; then
	step "Stopping everything (--once)"
	stop_demo
	[ "$status" = Complete ] || die "the job ended $status"
	echo "demo: done"
	exit 0
fi

step "The demo is still running: look around"
cat <<EOF
    export S3BATCHD_SOCKET=$sock
    $ctl list-jobs
    $ctl describe-job --job-id $job_id
    $ctl report --job-id $job_id --format jsonl | head
    $ctl clone-job --help
    curl -s http://127.0.0.1:$p_metrics/metrics | grep ^s3batchd | head
  S3: endpoint $RGW_ENDPOINT, access key TESTAK, secret TESTSK (path-style),
  buckets $SRC, $DST, $REP; daemon config $conf, log $demodir/s3batchd.log.

To stop it all:
    sh tests/demo.sh --stop
  or by hand:
    kill $daemon_pid                                  # s3batchd
    bash tests/rgw/stop-rgw.sh $RGW_BASE    # Ceph RGW
    rm -rf $demodir $state
EOF
[ "$status" = Complete ] || die "the job ended $status (see $demodir/s3batchd.log)"
