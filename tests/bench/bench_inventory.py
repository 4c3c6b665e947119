#!/usr/bin/python3
"""Benchmark: an inventory run (issue 9) over a large bucket, real RGW.

Prints figures, asserts nothing (these machines are noisy). Runs are
interleaved on the same RGW, --runs times each:
  - `aws s3api list-objects-v2 --bucket B | gzip` (the awscli Debian
    package): objects/s;
  - s3batchd's run-inventory with the listing's fields only (Size,
    LastModifiedDate, ETag, StorageClass): rows/s from its own log line
    ("N objects listed, M rows ... in T ms": every page, the gzip'd data
    files and their upload, manifest.json, checksum and symlink), the
    ratio to the aws cli (issue 9's target: >= 3x);
  - with --head: boto3 HEADs of every object on 32 threads, against a run
    with EncryptionStatus (one HEAD per object): objects/s and the ratio
    (target >= 1.5x);
  - the daemon's peak RSS (VmHWM; target <= 64 MiB).

The bucket is made with tests/bench/setup_objects.py (RGW takes ~500-1000
PUTs/s: 100,000 objects take 2-3 minutes; issue 9 names 1,000,000, which
takes 20-30 minutes to create) and kept for the next run unless --remove
is given; a bucket that already holds --count objects is reused.

usage: S3B_BUILDDIR=build tests/bench/bench_inventory.py --endpoint URL
           [--count 20000] [--bucket NAME] [--runs 2] [--head] [--remove]
"""

import argparse
import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
from s3b import (Daemon, endpoint_conf, make_client,  # noqa: E402
                 remove_bucket, write_json)
from benchlib import AK, SK, aws_cli, ensure_objects, vm  # noqa: E402

LOG_RE = (r"inventory %s of s3://\S+: (\d+) objects listed, (\d+) rows in "
          r"(\d+) files \((\d+) bytes, (\d+) HEADs\) in (\d+) ms")


def aws_cli_gzip(args):
    """Seconds for aws s3api list-objects-v2 piped through gzip."""
    aws, env = aws_cli()
    t = time.monotonic()
    lister = subprocess.Popen([aws, "s3api", "list-objects-v2", "--bucket",
                               args.bucket, "--endpoint-url", args.endpoint,
                               "--output", "json"], env=env,
                              stdout=subprocess.PIPE)
    gz = subprocess.run(["gzip", "-c"], stdin=lister.stdout,
                        stdout=subprocess.DEVNULL)
    lister.stdout.close()
    assert lister.wait() == 0 and gz.returncode == 0
    return time.monotonic() - t


def boto3_heads(s3, bucket, keys, threads=32):
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as ex:
        list(ex.map(lambda k: s3.head_object(Bucket=bucket, Key=k), keys))
    return time.monotonic() - t


def inventory_run(d, bucket, cid, n_before):
    """run-inventory; (objects, rows, files, seconds from the log, wall)."""
    t = time.monotonic()
    run_id = d.ok("run-inventory", "--bucket", bucket, "--id", cid)["RunId"]
    while True:
        runs = d.ok("list-inventory-runs", "--bucket", bucket, "--id",
                    cid)["Runs"]
        r = [x for x in runs if x["RunId"] == run_id]
        if r and r[0]["State"] != "Running":
            break
        time.sleep(0.2)
    wall = time.monotonic() - t
    assert r[0]["State"] == "Succeeded", r[0]
    for _ in range(50):
        found = re.findall(LOG_RE % re.escape(cid), d.logtext())
        if len(found) > n_before:
            objects, rows, files, _, _, ms = (int(x) for x in
                                              found[n_before])
            return objects, rows, files, ms / 1000.0, wall
        time.sleep(0.1)
    raise AssertionError("no log line for run %s" % run_id)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", default=os.environ.get("S3B_RGW_ENDPOINT",
                                                         "http://127.0.0.1:7480"))
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--bucket", default="s3b-bench-inventory")
    ap.add_argument("--dest", default="s3b-bench-inventory-dest")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--head", action="store_true",
                    help="also EncryptionStatus against boto3 HEADs")
    ap.add_argument("--remove", action="store_true")
    args = ap.parse_args()

    s3 = make_client(args.endpoint, AK, SK)
    n = ensure_objects(args, s3)
    try:
        s3.create_bucket(Bucket=args.dest)
    except Exception:
        pass

    d = Daemon(extra_conf=endpoint_conf(args.endpoint))
    os.chmod(d.conf, 0o600)
    d.start()
    try:
        base_rss = vm(d.pid, "VmRSS")
        cases = [("bench-list", ["Size", "LastModifiedDate", "ETag",
                                 "StorageClass"])]
        if args.head:
            cases.append(("bench-head", ["EncryptionStatus"]))
        for cid, fields in cases:
            cfg = {"Id": cid, "IsEnabled": True,
                   "Destination": {"S3BucketDestination": {
                       "Bucket": "arn:aws:s3:::%s" % args.dest,
                       "Format": "CSV", "Prefix": "bench"}},
                   "IncludedObjectVersions": "Current",
                   "OptionalFields": fields,
                   "Schedule": {"Frequency": "Daily"}}
            uri = write_json(d.dir / ("%s.json" % cid), cfg)
            d.ok("put-bucket-inventory-configuration", "--bucket",
                 args.bucket, "--id", cid, "--inventory-configuration", uri)
        keys = None
        best = {}
        for i in range(args.runs):
            secs = aws_cli_gzip(args)
            best["cli"] = min(best.get("cli", secs), secs)
            print("run %d: aws s3api list-objects-v2 | gzip: %d objects in "
                  "%.2f s, %.0f objects/s" % (i + 1, n, secs, n / secs))
            objects, rows, files, secs, wall = inventory_run(
                d, args.bucket, "bench-list", i)
            best["list"] = min(best.get("list", secs), secs)
            print("run %d: inventory (listing fields): %d objects, %d rows, "
                  "%d files in %.2f s (%.2f s wall), %.0f rows/s" %
                  (i + 1, objects, rows, files, secs, wall, rows / secs))
            if args.head:
                if keys is None:
                    keys = [o["Key"] for page in
                            s3.get_paginator("list_objects_v2").paginate(
                                Bucket=args.bucket)
                            for o in page.get("Contents", [])]
                secs = boto3_heads(s3, args.bucket, keys)
                best["heads"] = min(best.get("heads", secs), secs)
                print("run %d: boto3 HEAD x %d, 32 threads: %.2f s, %.0f "
                      "objects/s" % (i + 1, len(keys), secs,
                                     len(keys) / secs))
                objects, rows, files, secs, wall = inventory_run(
                    d, args.bucket, "bench-head", i)
                best["head"] = min(best.get("head", secs), secs)
                print("run %d: inventory (EncryptionStatus): %d objects in "
                      "%.2f s, %.0f objects/s" % (i + 1, objects, secs,
                                                  objects / secs))
        print("best: inventory %.0f rows/s = %.2fx aws cli | gzip "
              "(target >= 3x)" % (n / best["list"], best["cli"] /
                                  best["list"]))
        if args.head:
            print("best: inventory with HEADs %.0f objects/s = %.2fx boto3 "
                  "32 threads (target >= 1.5x)" %
                  (n / best["head"], best["heads"] / best["head"]))
        print("daemon RSS: %.1f MiB at start, peak (VmHWM) %.1f MiB "
              "(target <= 64 MiB)" % (base_rss / 1048576.0,
                                      vm(d.pid, "VmHWM") / 1048576.0))
    finally:
        d.stop()
        d.remove()
        if args.remove:
            remove_bucket(s3, args.bucket)
            remove_bucket(s3, args.dest)


if __name__ == "__main__":
    main()
