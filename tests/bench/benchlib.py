"""What the benchmark scripts share: a process's memory figures, a bucket
of N objects made once and reused, and the aws cli's environment.

Imported by the scripts beside it (their directory is on sys.path when
one runs); it runs nothing itself.
"""

import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
AK, SK = "TESTAK", "TESTSK"


def vm(pid, field):
    """A /proc/PID/status figure (VmRSS, VmHWM...) in bytes; 0 if absent."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def count_keys(s3, bucket):
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        n += page.get("KeyCount", 0)
    return n


def ensure_objects(args, s3):
    """args.bucket holds at least args.count objects (made with
    setup_objects.py when it does not); returns how many it holds."""
    try:
        s3.head_bucket(Bucket=args.bucket)
        have = count_keys(s3, args.bucket)
    except Exception:
        have = 0
    if have >= args.count:
        print("bucket %s: %d objects already there" % (args.bucket, have))
        return have
    t = time.monotonic()
    subprocess.run([sys.executable, str(HERE / "setup_objects.py"),
                    "--endpoint", args.endpoint, "--bucket", args.bucket,
                    "--count", str(args.count), "--size", "16",
                    "--threads", "64", "--manifest", os.devnull,
                    "--skip-existing"], check=True)
    have = count_keys(s3, args.bucket)
    print("bucket %s: %d objects, made in %.0f s" %
          (args.bucket, have, time.monotonic() - t))
    return have


def aws_cli():
    """The aws cli (the Debian package's when there is one) and an
    environment with the test credentials and no user configuration."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="",
               AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    aws = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws"
    return aws, env
