#!/usr/bin/python3
"""Cross-endpoint copy throughput: s3batchd's S3PutObjectCopy to a bucket on
another endpoint against `aws s3 cp` (Debian's awscli) between the same two
endpoints. Prints figures; asserts nothing.

The two endpoints are the loopback RGW's users TESTAK (source) and OTHERAK
(target): what the daemon sees as [endpoint default] and [endpoint other].
`aws s3 cp` cannot copy between two endpoints by itself, so it is measured
the two ways a user would do it:

  pipe    aws s3 cp s3://src/KEY - | aws s3 cp - s3://dst/KEY, one pipe per
          object, --parallel of them at once (no staging)
  staged  aws s3 cp --recursive to a temporary directory, then from it
          (the objects staged on disk; the time of both halves)

usage: bench_crosscopy.py [--endpoint URL] [--builddir DIR] [--count 16]
           [--size-mib 64] [--parallel 4] [--runs 1] [--skip-aws]

The daemon's job uses its defaults (single PUTs up to multipart_part_size,
256 MiB) unless --daemon-conf adds lines to its [daemon] section.
"""

import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from conftest import USERS, REGION, make_client  # noqa: E402
from s3b import Daemon, job_spec, write_json  # noqa: E402

MIB = 1024 * 1024


def endpoint_conf(name, url, user):
    ak, sk = USERS[user]
    return ("[endpoint %s]\nurl = %s\nregion = %s\naccess_key_id = %s\n"
            "secret_access_key = %s\nmax_connections = 32\n\n" %
            (name, url, REGION, ak, sk))


def aws_env(user):
    e = dict(os.environ)
    e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = USERS[user]
    e["AWS_DEFAULT_REGION"] = REGION
    e.pop("AWS_PROFILE", None)
    e["AWS_CONFIG_FILE"] = os.devnull
    e["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return e


def aws(endpoint):
    return ["/usr/bin/aws", "--endpoint-url", endpoint, "s3", "cp",
            "--only-show-errors"]


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


def check(dst, bucket, keys, digests):
    for k in keys:
        body = dst.get_object(Bucket=bucket, Key=k)["Body"].read()
        if hashlib.md5(body).hexdigest() != digests[k]:
            raise SystemExit("bench: %s/%s differs from its source" %
                             (bucket, k))


def run_pipe(a, src_bucket, dst_bucket, keys, parallel):
    t0 = time.monotonic()
    pending = list(keys)
    running = []
    while pending or running:
        while pending and len(running) < parallel:
            k = pending.pop(0)
            get = subprocess.Popen(
                aws(a.endpoint) + ["s3://%s/%s" % (src_bucket, k), "-"],
                stdout=subprocess.PIPE, env=aws_env("tester"))
            put = subprocess.Popen(
                aws(a.endpoint) + ["-", "s3://%s/%s" % (dst_bucket, k),
                                   "--expected-size", str(a.size_mib * MIB)],
                stdin=get.stdout, env=aws_env("other"))
            get.stdout.close()
            running.append((get, put))
        get, put = running.pop(0)
        if put.wait() != 0 or get.wait() != 0:
            raise SystemExit("bench: aws s3 cp pipe failed")
    return time.monotonic() - t0


def run_staged(a, src_bucket, dst_bucket):
    tmp = tempfile.mkdtemp(prefix="bench-crosscopy-")
    try:
        t0 = time.monotonic()
        subprocess.run(aws(a.endpoint) + ["--recursive",
                       "s3://%s/" % src_bucket, tmp], check=True,
                       env=aws_env("tester"))
        subprocess.run(aws(a.endpoint) + ["--recursive", tmp,
                       "s3://%s/" % dst_bucket], check=True,
                       env=aws_env("other"))
        return time.monotonic() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_daemon(a, src_bucket, dst_bucket, keys):
    d = Daemon(daemon_conf=a.daemon_conf,
               extra_conf=endpoint_conf("default", a.endpoint, "tester") +
               endpoint_conf("other", a.endpoint, "other") +
               "[bucket %s]\nendpoint = other\n" % dst_bucket)
    os.chmod(d.conf, 0o600)
    d.start()
    try:
        man = pathlib.Path(d.dir) / "manifest.csv"
        man.write_text("".join("%s,%s\n" % (src_bucket,
                       urllib.parse.quote(k, safe="/")) for k in keys))
        spec = job_spec({"S3PutObjectCopy": {
            "TargetResource": "arn:aws:s3:::%s" % dst_bucket}},
            confirmation=False)
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
        return secs
    finally:
        d.stop()
        d.remove()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", default=os.environ.get(
        "RGW_ENDPOINT", os.environ.get("S3B_RGW_ENDPOINT",
                                       "http://127.0.0.1:7480")))
    p.add_argument("--builddir", default=os.environ.get("S3B_BUILDDIR"))
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--size-mib", type=int, default=64)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--daemon-conf", default="")
    p.add_argument("--skip-aws", action="store_true")
    a = p.parse_args()
    if a.builddir:
        os.environ["S3B_BUILDDIR"] = a.builddir
    src = make_client(a.endpoint, *USERS["tester"])
    dst = make_client(a.endpoint, *USERS["other"])
    sb, db = "bench-xc-src", "bench-xc-dst"
    fresh_bucket(src, sb)
    fresh_bucket(dst, db)
    keys = ["obj/%04d" % i for i in range(a.count)]
    digests = {}
    for k in keys:
        data = os.urandom(a.size_mib * MIB)
        digests[k] = hashlib.md5(data).hexdigest()
        src.put_object(Bucket=sb, Key=k, Body=data)
    total = a.count * a.size_mib * MIB
    results = []
    for run in range(a.runs):
        cases = [("s3batchd", lambda: run_daemon(a, sb, db, keys))]
        if not a.skip_aws:
            cases += [
                ("aws-pipe", lambda: run_pipe(a, sb, db, keys, a.parallel)),
                ("aws-staged", lambda: run_staged(a, sb, db)),
            ]
        for name, fn in cases:
            empty(dst, db)
            secs = fn()
            check(dst, db, keys, digests)
            mibs = total / MIB / secs
            results.append((name, secs, mibs))
            print("RESULT client=%s run=%d objects=%d size_mib=%d "
                  "seconds=%.2f mib_per_s=%.1f" % (name, run, a.count,
                                                   a.size_mib, secs, mibs),
                  flush=True)
    best = {}
    for name, secs, mibs in results:
        best[name] = max(best.get(name, 0), mibs)
    for name in ("aws-pipe", "aws-staged"):
        if name in best:
            print("ratio s3batchd/%s = %.2f" % (name, best["s3batchd"] /
                                                best[name]))
    empty(src, sb)
    empty(dst, db)


if __name__ == "__main__":
    main()
