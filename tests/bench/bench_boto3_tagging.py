#!/usr/bin/python3
"""What a user would otherwise write: boto3, a 32-thread pool, and
put_object_tagging on every key. The figure to compare s3batchd's tagging
job and tests/bench/bench-client with. Prints tasks/s and latency
percentiles; asserts nothing.

Keys: PREFIX%08d for 0..COUNT-1 (the keys tests/bench/setup_objects.py
creates), or every row of a CSV manifest (--manifest, rows
"bucket,url-encoded-key[,version-id]").

usage: bench_boto3_tagging.py [--endpoint URL] [--bucket B] [--prefix P]
           [--count N] [--threads 32] [--manifest FILE] [--tag K=V]
"""

import argparse
import concurrent.futures
import csv
import os
import sys
import threading
import time
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions


def make_client(endpoint, access_key, secret_key, pool, attempts):
    # The user's defaults, except the pool: boto3's 10 connections would
    # leave most of 32 threads waiting.
    opts = dict(region_name="us-east-1", signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"total_max_attempts": attempts, "mode": "standard"},
                max_pool_connections=pool)
    try:
        cfg = botocore.config.Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required", **opts)
    except TypeError:
        cfg = botocore.config.Config(**opts)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, config=cfg)


def manifest_tasks(path):
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row:
                continue
            task = {"Bucket": row[0], "Key": urllib.parse.unquote_plus(row[1])}
            if len(row) > 2 and row[2]:
                task["VersionId"] = row[2]
            yield task


def percentile(sorted_vals, pct):
    if not sorted_vals:
        return 0.0
    rank = max(1, min(len(sorted_vals),
                      int(pct / 100.0 * len(sorted_vals) + 0.999999)))
    return sorted_vals[rank - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint",
                    default=os.environ.get("RGW_ENDPOINT",
                                           "http://127.0.0.1:7480"))
    ap.add_argument("--access-key", default="TESTAK")
    ap.add_argument("--secret-key", default="TESTSK")
    ap.add_argument("--bucket", default="bench")
    ap.add_argument("--prefix", default="bench/")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--manifest", help="take the tasks from this CSV")
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--attempts", type=int, default=3,
                    help="boto3 total_max_attempts (default 3, boto3's)")
    ap.add_argument("--tag", default="bench=done", help="KEY=VALUE to set")
    args = ap.parse_args()
    k, sep, v = args.tag.partition("=")
    if not sep or not k:
        ap.error("--tag wants KEY=VALUE")
    tagging = {"TagSet": [{"Key": k, "Value": v}]}

    if args.manifest:
        tasks = list(manifest_tasks(args.manifest))
    else:
        tasks = [{"Bucket": args.bucket, "Key": "%s%08d" % (args.prefix, i)}
                 for i in range(args.count)]
    s3 = make_client(args.endpoint, args.access_key, args.secret_key,
                     args.threads, args.attempts)

    lock = threading.Lock()
    latencies = []
    errors = {}
    retries = [0]

    def one(task):
        t = time.monotonic()
        try:
            r = s3.put_object_tagging(Tagging=tagging, **task)
            n = r["ResponseMetadata"].get("RetryAttempts", 0)
            err = None
        except botocore.exceptions.ClientError as e:
            n = e.response.get("ResponseMetadata", {}).get(
                "RetryAttempts", 0)
            err = "%s %s" % (e.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode"), e.response.get("Error", {}).get("Code"))
        except botocore.exceptions.BotoCoreError as e:
            n, err = 0, type(e).__name__
        dt = time.monotonic() - t
        with lock:
            latencies.append(dt)
            retries[0] += n
            if err:
                errors[err] = errors.get(err, 0) + 1

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as ex:
        for _ in ex.map(one, tasks):
            pass
    secs = time.monotonic() - t0

    latencies.sort()
    ms = [x * 1000 for x in latencies]
    nerr = sum(errors.values())
    rate = len(tasks) / secs if secs else 0.0
    print("endpoint       %s" % args.endpoint)
    print("tasks          %d put_object_tagging, %d threads" %
          (len(tasks), args.threads))
    print("ok             %d" % (len(tasks) - nerr))
    print("errors         %d%s" % (nerr, "  (%s)" % ", ".join(
        "%d x %s" % (n, e) for e, n in sorted(errors.items()))
        if errors else ""))
    print("retries        %d" % retries[0])
    print("elapsed        %.3f s" % secs)
    print("tasks/s        %.1f" % rate)
    print("latency ms     mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  "
          "max %.2f" % (sum(ms) / len(ms) if ms else 0, percentile(ms, 50),
                        percentile(ms, 90), percentile(ms, 99),
                        ms[-1] if ms else 0))
    print("RESULT client=boto3 requests=%d ok=%d concurrency=%d "
          "seconds=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f" %
          (len(tasks), len(tasks) - nerr, args.threads, secs, rate,
           percentile(ms, 50), percentile(ms, 99)))
    return 1 if nerr else 0


if __name__ == "__main__":
    sys.exit(main())
