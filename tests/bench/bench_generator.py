#!/usr/bin/python3
"""Benchmark: ManifestGenerator over a large bucket against a real RGW.

Prints figures, asserts nothing (these machines are noisy):
  - the listing rate of `aws s3api list-objects-v2` paginating the whole
    bucket (the awscli Debian package), best of --runs;
  - the listing rate of s3batchd's ManifestGenerator over the same bucket
    (its own "listed N objects ... in T ms" log line: versioning check,
    every page, filtering and writing the gzip'd report), best of --runs,
    and the ratio of the two;
  - wall time from create-job to the job being Suspended (listing plus the
    worker preparing every task);
  - the daemon's peak RSS (VmHWM) and its RSS before the job.

The bucket is made with tests/bench/setup_objects.py (RGW takes ~500-1000
PUTs/s: 200,000 objects take 4-6 minutes) and kept for the next run unless
--remove is given; a bucket that already holds --count objects is reused.

usage: S3B_BUILDDIR=build tests/bench/bench_generator.py --endpoint URL
           [--count 200000] [--bucket NAME] [--runs 2] [--remove]
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
from conftest import endpoint_conf, make_client, remove_bucket  # noqa: E402
from s3b import Daemon, write_json  # noqa: E402
from benchlib import AK, SK, aws_cli, ensure_objects, vm  # noqa: E402


def aws_cli_rate(args, n):
    aws, env = aws_cli()
    best = None
    for _ in range(args.runs):
        t = time.monotonic()
        subprocess.run([aws, "s3api", "list-objects-v2", "--bucket",
                        args.bucket, "--endpoint-url", args.endpoint,
                        "--output", "json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        dt = time.monotonic() - t
        best = dt if best is None else min(best, dt)
    return n / best, best


def generator_run(d, spec_path, job_no):
    r = d.ctl("create-job", "--cli-input-json", spec_path)
    assert r.rc == 0, r
    job_id = r.json["JobId"]
    t = time.monotonic()
    peak = 0
    while True:
        peak = max(peak, vm(d.pid, "VmRSS"))
        job = d.describe(job_id)
        if job["Status"] in ("Suspended", "Failed", "Complete"):
            break
        time.sleep(0.2)
    wall = time.monotonic() - t
    assert job["Status"] == "Suspended", job
    m = None
    for _ in range(50):
        found = re.findall(r"listed (\d+) objects of s3://\S+, selected "
                           r"(\d+) .* in (\d+) ms", d.logtext())
        if len(found) > job_no:
            m = found[job_no]
            break
        time.sleep(0.1)
    listed, selected, ms = (int(x) for x in m)
    d.ok("update-job-status", "--job-id", job_id, "--requested-job-status",
         "Cancelled")
    return listed, selected, ms / 1000.0, wall, peak, job


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", default=os.environ.get("S3B_RGW_ENDPOINT",
                                                         "http://127.0.0.1:7480"))
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--bucket", default="s3b-bench-generator")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--remove", action="store_true")
    args = ap.parse_args()

    s3 = make_client(args.endpoint, AK, SK)
    n = ensure_objects(args, s3)
    cli_rate, cli_s = aws_cli_rate(args, n)
    print("aws s3api list-objects-v2: %d objects in %.2f s, %.0f objects/s"
          % (n, cli_s, cli_rate))

    d = Daemon(extra_conf=endpoint_conf(args.endpoint))
    os.chmod(d.conf, 0o600)
    d.start()
    try:
        base_rss = vm(d.pid, "VmRSS")
        spec = {
            "Operation": {"S3PutObjectTagging": {
                "TagSet": [{"Key": "bench", "Value": "generator"}]}},
            "ManifestGenerator": {"S3JobManifestGenerator": {
                "SourceBucket": "arn:aws:s3:::%s" % args.bucket,
                "EnableManifestOutput": False}},
            "Report": {"Enabled": False}, "Priority": 10,
            "RoleArn": "arn:aws:iam::123456789012:role/batch",
            "ConfirmationRequired": True}
        path = write_json(d.dir / "job.json", spec)
        best = None
        for i in range(args.runs):
            listed, selected, secs, wall, peak, job = generator_run(
                d, path, i)
            print("generator run %d: listed %d (selected %d) in %.2f s, "
                  "%.0f objects/s; create-job to Suspended %.2f s; "
                  "RSS sampled peak %.1f MiB" %
                  (i + 1, listed, selected, secs, listed / secs, wall,
                   peak / 1048576.0))
            if best is None or secs < best[2]:
                best = (listed, selected, secs)
        gen_rate = best[0] / best[2]
        hwm = vm(d.pid, "VmHWM")
        print("generator: %.0f objects/s = %.2fx aws cli (target >= 0.8x)"
              % (gen_rate, gen_rate / cli_rate))
        print("daemon RSS: %.1f MiB at start, peak (VmHWM) %.1f MiB "
              "(target <= 64 MiB)" % (base_rss / 1048576.0,
                                      hwm / 1048576.0))
    finally:
        d.stop()
        d.remove()
        if args.remove:
            remove_bucket(s3, args.bucket)


if __name__ == "__main__":
    main()
