#!/usr/bin/python3
"""Create a bucket holding N small objects, quickly, and write an S3 Batch
Operations CSV manifest of them (S3BatchOperations_CSV_20180820: rows
"bucket,url-encoded-key", no header).

Keys are PREFIX followed by the object's number in 8 digits
(bench/00000000, bench/00000001, ...), the keys tests/bench/bench-client
and bench_boto3_tagging.py address. Objects are PUT from a thread pool;
with --skip-existing, keys already listed in the bucket are not PUT again.

usage: setup_objects.py [--endpoint URL] [--bucket NAME] [--prefix P]
           [--count N] [--size BYTES] [--threads T] [--manifest FILE]
           [--manifest-key KEY] [--skip-existing]

Prints what it did and, with --manifest-key (the manifest also uploaded to
the bucket), the ObjectArn and ETag a CreateJob Manifest.Location wants.
"""

import argparse
import concurrent.futures
import os
import sys
import time
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions


def make_client(endpoint, access_key, secret_key, pool):
    opts = dict(region_name="us-east-1", signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"total_max_attempts": 5, "mode": "standard"},
                max_pool_connections=pool)
    try:
        # botocore 1.36+ checksums every upload; RGW does not know them.
        cfg = botocore.config.Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required", **opts)
    except TypeError:
        cfg = botocore.config.Config(**opts)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, config=cfg)


def key_of(prefix, i):
    return "%s%08d" % (prefix, i)


def manifest_row(bucket, key):
    # The key URL-encoded ('/' kept, as in Amazon's examples); a bucket
    # name never needs quoting.
    return "%s,%s\n" % (bucket, urllib.parse.quote(key, safe="/"))


def ensure_bucket(s3, bucket):
    """True when the bucket had to be created. HEAD first: RGW (like
    Amazon in us-east-1) answers 200 to creating a bucket one owns."""
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as e:
        if e.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode") != 404:
            raise
    s3.create_bucket(Bucket=bucket)
    return True


def existing_keys(s3, bucket, prefix):
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


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
    ap.add_argument("--size", type=int, default=16,
                    help="bytes per object (default 16)")
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--manifest", default="manifest.csv",
                    help="where to write the CSV manifest ('-': stdout)")
    ap.add_argument("--manifest-key",
                    help="also upload the manifest to the bucket as KEY")
    ap.add_argument("--skip-existing", action="store_true",
                    help="do not PUT keys the bucket already has")
    args = ap.parse_args()
    if args.count < 0 or args.size < 0 or args.threads < 1:
        ap.error("--count and --size must be >= 0, --threads >= 1")

    s3 = make_client(args.endpoint, args.access_key, args.secret_key,
                     args.threads)
    created = ensure_bucket(s3, args.bucket)
    keys = [key_of(args.prefix, i) for i in range(args.count)]
    todo = keys
    if args.skip_existing and not created:
        have = existing_keys(s3, args.bucket, args.prefix)
        todo = [k for k in keys if k not in have]
    body = (b"0123456789abcdef" * (args.size // 16 + 1))[:args.size]

    def put(key):
        s3.put_object(Bucket=args.bucket, Key=key, Body=body)

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as ex:
        for _ in ex.map(put, todo):
            pass
    secs = time.monotonic() - t0

    text = "".join(manifest_row(args.bucket, k) for k in keys)
    if args.manifest == "-":
        sys.stdout.write(text)
        out = sys.stderr
    else:
        with open(args.manifest, "w") as f:
            f.write(text)
        out = sys.stdout
    out.write("bucket %s%s at %s: %d objects of %d bytes PUT in %.2f s "
              "(%.0f/s, %d threads), %d already there\n" %
              (args.bucket, " (created)" if created else "", args.endpoint,
               len(todo), args.size, secs, len(todo) / secs if secs else 0,
               args.threads, len(keys) - len(todo)))
    out.write("manifest %s: %d rows (S3BatchOperations_CSV_20180820, "
              "fields Bucket,Key)\n" % (args.manifest, len(keys)))
    if args.manifest_key:
        r = s3.put_object(Bucket=args.bucket, Key=args.manifest_key,
                          Body=text.encode(), ContentType="text/csv")
        out.write("manifest object: ObjectArn arn:aws:s3:::%s/%s ETag %s\n"
                  % (args.bucket, args.manifest_key, r["ETag"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
