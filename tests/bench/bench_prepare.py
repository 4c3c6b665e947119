#!/usr/bin/env python3
"""Benchmark: preparing a large CSV manifest streamed through s3batchctl.

Prints figures, asserts nothing (these machines are noisy):
  - wall time from `s3batchctl create-job --manifest-file` to the job being
    Suspended with every task stored;
  - the daemon's peak RSS (VmHWM);
  - `s3batchctl status` latency (median, max) while the job prepares.

usage: S3B_BUILDDIR=build/check tests/bench/bench_prepare.py [ROWS]
"""

import json
import pathlib
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] /
                       "integration"))
from s3b import Daemon, binary, job_spec, write_json  # noqa: E402
from benchlib import vm  # noqa: E402


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    d = Daemon()
    manifest = d.dir / "manifest.csv"
    with open(manifest, "w") as f:
        for i in range(rows):
            f.write("bench-bucket,photos/2026/11/img%%20%08d.jpg\n" % i)
    size = manifest.stat().st_size
    spec = write_json(d.dir / "job.json", job_spec())
    d.start()
    base_rss = vm(d.pid, "VmRSS")

    latencies = []
    stop = threading.Event()

    def poll_status():
        while not stop.is_set():
            t = time.monotonic()
            r = subprocess.run([binary("s3batchctl"), "-s", str(d.socket),
                                "--output", "json", "status"],
                               capture_output=True)
            if r.returncode == 0:
                latencies.append(time.monotonic() - t)
            time.sleep(0.05)

    poller = threading.Thread(target=poll_status)
    t0 = time.monotonic()
    poller.start()
    r = subprocess.run([binary("s3batchctl"), "-s", str(d.socket), "--output",
                        "json", "create-job", "--cli-input-json", spec,
                        "--manifest-file", str(manifest)],
                       capture_output=True, text=True)
    t_upload = time.monotonic() - t0
    if r.returncode != 0:
        print("create-job failed:", r.stderr)
        return 1
    job_id = json.loads(r.stdout)["JobId"]
    while True:
        job = d.describe(job_id)
        if job["Status"] != "Preparing":
            break
        time.sleep(0.02)
    t_total = time.monotonic() - t0
    stop.set()
    poller.join()
    hwm = vm(d.pid, "VmHWM")
    d.stop()
    d.remove()
    n = job["ProgressSummary"]["TotalNumberOfTasks"]
    print("manifest: %d rows, %.1f MB" % (rows, size / 1e6))
    print("job status: %s, %d tasks" % (job["Status"], n))
    print("upload (create-job returned): %.2f s" % t_upload)
    print("prepare, create-job to Suspended: %.2f s (%.0f rows/s)" %
          (t_total, rows / t_total))
    print("daemon RSS: %.1f MiB at start, %.1f MiB peak" %
          (base_rss / 2**20, hwm / 2**20))
    if latencies:
        print("status latency while preparing: median %.1f ms, max %.1f ms "
              "(%d samples)" % (statistics.median(latencies) * 1e3,
                                max(latencies) * 1e3, len(latencies)))
    return 0 if n == rows else 1


if __name__ == "__main__":
    sys.exit(main())
