#!/usr/bin/python3
"""Server-side copy throughput (issue 12's targets): s3batchd's
S3PutObjectCopy job against what a user would otherwise run, on the same
objects of the same RGW, interleaved RUNS times. Prints figures; asserts
nothing.

  s3batchd  a fresh daemon (max_inflight and max_connections 32) and one
            copy job over a local CSV manifest, timed from create-job to
            Complete; its requests per task from its own metrics
                                            (targets: >= 1.2x boto3 and
                                            rclone, 1.0 request per task)
  boto3     copy_object from a 32-thread pool
  rclone    `rclone copy --transfers 32 --checkers 32` between two buckets
            of the same remote (server-side copy); skipped when rclone is
            not installed (Debian's package: apt-get install rclone)

usage: bench_copy.py [--endpoint URL] [--builddir DIR] [--count 5000]
           [--size 1024] [--runs 3] [--skip-rclone]
"""

import argparse
import concurrent.futures
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from conftest import USERS, REGION, make_client  # noqa: E402
from s3b import Daemon, free_ports, job_spec, write_json  # noqa: E402

CONC = 32


def fresh_bucket(client, name):
    try:
        client.create_bucket(Bucket=name)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    empty(client, name)


def empty(client, name):
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objs:
            client.delete_objects(Bucket=name, Delete={"Objects": objs})


def count(client, name):
    n = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        n += len(page.get("Contents", []))
    return n


def requests_by_method(url):
    """s3batchd_http_requests_total summed by method, from /metrics."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    by = {}
    for line in text.splitlines():
        if not line.startswith("s3batchd_http_requests_total{"):
            continue
        labels, value = line.rsplit(" ", 1)
        method = labels.split('method="', 1)[1].split('"', 1)[0]
        by[method] = by.get(method, 0) + int(float(value))
    return by


def run_daemon(a, src, dst, keys):
    port = free_ports(1)[0]
    ak, sk = USERS["tester"]
    d = Daemon(daemon_conf="max_inflight = %d\nmetrics_listen = "
               "127.0.0.1:%d\n" % (CONC, port),
               extra_conf="[endpoint default]\nurl = %s\nregion = %s\n"
               "access_key_id = %s\nsecret_access_key = %s\n"
               "max_connections = %d\nprobe = no\n" %
               (a.endpoint, REGION, ak, sk, CONC))
    os.chmod(d.conf, 0o600)
    d.start()
    try:
        man = pathlib.Path(d.dir) / "manifest.csv"
        man.write_text("".join("%s,%s\n" % (src, urllib.parse.quote(
            k, safe="/")) for k in keys))
        spec = job_spec({"S3PutObjectCopy": {
            "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False)
        uri = write_json(pathlib.Path(d.dir) / "job.json", spec)
        t0 = time.monotonic()
        r = d.ctl("create-job", "--cli-input-json", uri, "--manifest-file",
                  str(man))
        if r.rc != 0:
            raise SystemExit("bench: create-job failed: %r" % r)
        job = d.wait_status(r.json["JobId"], ("Complete", "Failed"),
                            timeout=3600)
        secs = time.monotonic() - t0
        ps = job["ProgressSummary"]
        if job["Status"] != "Complete" or \
                ps["NumberOfTasksSucceeded"] != len(keys):
            raise SystemExit("bench: job ended %s: %r" % (job["Status"], ps))
        by = requests_by_method("http://127.0.0.1:%d/metrics" % port)
        return secs, sum(by.values()) / len(keys), by
    finally:
        d.stop()
        d.remove()


def run_boto3(a, src, dst, keys):
    s3 = make_client(a.endpoint, *USERS["tester"],
                     max_pool_connections=CONC)

    def one(k):
        s3.copy_object(Bucket=dst, Key=k,
                       CopySource={"Bucket": src, "Key": k})
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CONC) as ex:
        list(ex.map(one, keys))
    return time.monotonic() - t0


def run_rclone(a, src, dst):
    ak, sk = USERS["tester"]
    tmp = tempfile.mkdtemp(prefix="bench-copy-rclone-")
    try:
        conf = pathlib.Path(tmp) / "rclone.conf"
        conf.write_text("[rgw]\ntype = s3\nprovider = Ceph\n"
                        "access_key_id = %s\nsecret_access_key = %s\n"
                        "endpoint = %s\nregion = %s\n" %
                        (ak, sk, a.endpoint, REGION))
        # The AWS SDK in rclone takes AWS_CA_BUNDLE, which it cannot use
        # on plain HTTP: none of the caller's AWS_ settings apply here.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_")}
        t0 = time.monotonic()
        subprocess.run(["rclone", "--config", str(conf), "copy",
                        "--transfers", str(CONC), "--checkers", str(CONC),
                        "--s3-no-check-bucket", "rgw:%s" % src,
                        "rgw:%s" % dst], check=True, env=env)
        return time.monotonic() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", default=os.environ.get(
        "RGW_ENDPOINT", os.environ.get("S3B_RGW_ENDPOINT",
                                       "http://127.0.0.1:7480")))
    p.add_argument("--builddir", default=os.environ.get("S3B_BUILDDIR"))
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--skip-rclone", action="store_true")
    a = p.parse_args()
    if a.builddir:
        os.environ["S3B_BUILDDIR"] = a.builddir
    s3 = make_client(a.endpoint, *USERS["tester"], max_pool_connections=CONC)
    src, dst = "bench-copy-src", "bench-copy-dst"
    fresh_bucket(s3, dst)
    keys = ["obj/%06d" % i for i in range(a.count)]
    try:
        s3.create_bucket(Bucket=src)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    if count(s3, src) != a.count:
        empty(s3, src)
        body = os.urandom(a.size)
        with concurrent.futures.ThreadPoolExecutor(CONC) as ex:
            list(ex.map(lambda k: s3.put_object(Bucket=src, Key=k,
                                                Body=body), keys))
    rclone = not a.skip_rclone and shutil.which("rclone") is not None
    times = {"s3batchd": [], "boto3": []}
    if rclone:
        times["rclone"] = []
    per_task = []
    for run in range(a.runs):
        for name in list(times):
            empty(s3, dst)
            if name == "s3batchd":
                secs, rpt, by = run_daemon(a, src, dst, keys)
                per_task.append(rpt)
                extra = " requests_per_task=%.3f by_method=%s" % (rpt, by)
            elif name == "boto3":
                secs, extra = run_boto3(a, src, dst, keys), ""
            else:
                secs, extra = run_rclone(a, src, dst), ""
            if count(s3, dst) != a.count:
                raise SystemExit("bench: %s left %d of %d objects" %
                                 (name, count(s3, dst), a.count))
            times[name].append(secs)
            print("RESULT client=%s run=%d objects=%d seconds=%.2f "
                  "rps=%.0f%s" % (name, run, a.count, secs, a.count / secs,
                                  extra), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print("median %-9s %.2f s  %.0f copies/s" % (k, v, a.count / v))
    for k in med:
        if k != "s3batchd":
            print("s3batchd / %s: %.2fx" % (k, med[k] / med["s3batchd"]))
    print("s3batchd requests per task: %.3f" % statistics.median(per_task))
    if not rclone:
        print("rclone: not installed (apt-get install rclone), skipped")
    empty(s3, dst)


if __name__ == "__main__":
    main()
