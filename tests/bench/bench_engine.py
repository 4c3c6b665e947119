#!/usr/bin/python3
"""bench_engine: s3batchd's tagging job against what a user would otherwise
run, on the same objects of the same RGW (issue 3's targets).

Three clients tag the same COUNT objects (PutObjectTagging, one tag), each
RUNS times, interleaved so that the machine's noise hits them alike:

  boto3     tests/bench/bench_boto3_tagging.py: a 32-thread pool, what a
            user would otherwise write          (target: s3batchd >= 2x)
  floor     tests/bench/bench-client: a minimal keep-alive libcurl client
            issuing the same signed requests at the same concurrency
                                                (target: s3batchd >= 0.85x)
  s3batchd  a fresh daemon (max_inflight and max_connections = the
            concurrency) and one S3PutObjectTagging job over a local CSV
            manifest, timed from `s3batchctl create-job` to Complete

and reports medians and ratios. For s3batchd it also reads the daemon's
CPU time (utime + stime of /proc/PID/stat, every thread) around each job:
target <= 100 us per task. Then the daemon's peak RSS (VmHWM) after a
SMALL-task job and after a BIG-task job, each on a fresh daemon (target:
flat, <= 64 MiB): the big manifest repeats the COUNT objects (tagging the
same object again is an ordinary task to the daemon). RGW bounds that
job's wall time (1,000,000 tasks at ~1,500/s is ~11 minutes): --big-seconds
N cancels it N seconds after it became Active (every task is stored by
then, and the window of tasks read from the store is what it would be to
the end), --big-tasks 0 skips it. Figures only: nothing passes or fails.

  --perf FILE   record the daemon with `perf record -g` during its first
                run, and print the top of `perf report`

usage: bench_engine.py [--endpoint URL] [--builddir DIR] [--count N]
           [--runs N] [--concurrency N] [--small-tasks N] [--big-tasks N]
           [--big-seconds N] [--skip-boto3] [--skip-floor] [--perf FILE]
           [--keep-logs DIR]

Without --endpoint (or $RGW_ENDPOINT) it starts its own RGW with
tests/rgw/start-rgw.sh and stops it at the end. Objects come from
tests/bench/setup_objects.py (--skip-existing: a second run PUTs nothing).
Binaries come from --builddir (default $S3B_BUILDDIR, else the top of the
tree). Use Debian's /usr/bin/python3 (it has boto3).
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parents[2]
BENCH = TOP / "tests" / "bench"
sys.path.insert(0, str(TOP / "tests" / "integration"))
from benchlib import vm as proc_status  # noqa: E402

AK, SK = "TESTAK", "TESTSK"
TAG_KEY, TAG_VALUE = "bench", "done"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(fmt, *args):
    print(fmt % args if args else fmt, flush=True)


def result_line(text):
    """The RESULT key=value ... line of bench-client and the boto3 script."""
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return dict(w.split("=", 1) for w in line.split()[1:])
    raise RuntimeError("no RESULT line in:\n" + text[-2000:])


def proc_cpu(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def mib(n):
    return n / (1024.0 * 1024.0)


class Rgw:
    """The endpoint: given, or started here with start-rgw.sh."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.base = None

    @classmethod
    def start(cls):
        from conftest import free_ports
        for _ in range(3):
            port, mon, mon1 = free_ports(3)
            env = dict(os.environ, RGW_PORT=str(port), RGW_MON_PORT=str(mon),
                       RGW_MON_V1_PORT=str(mon1))
            env.pop("RGW_BASE", None)
            p = subprocess.run(["bash", str(TOP / "tests/rgw/start-rgw.sh")],
                               env=env, capture_output=True, text=True)
            if p.returncode == 0:
                vals = dict(l.split("=", 1) for l in p.stdout.splitlines()
                            if "=" in l)
                r = cls(vals["RGW_ENDPOINT"])
                r.base = vals["RGW_BASE"]
                return r
        raise RuntimeError("start-rgw.sh failed:\n" + p.stderr)

    def stop(self):
        if self.base:
            subprocess.run(["bash", str(TOP / "tests/rgw/stop-rgw.sh"),
                            self.base], capture_output=True)


def write_manifest(path, bucket, prefix, count, rows):
    """rows rows over count keys, in order, repeating."""
    with open(path, "w") as f:
        for i in range(rows):
            f.write("%s,%s%08d\n" % (bucket, prefix, i % count))
    return path


class Engine:
    """One fresh s3batchd for one measurement."""

    def __init__(self, args, log_name):
        from conftest import endpoint_conf
        from s3b import Daemon
        self.args = args
        conf = ("max_inflight = %d\n" % args.concurrency)
        ep = endpoint_conf(args.endpoint).replace(
            "max_connections = 32",
            "max_connections = %d" % args.concurrency)
        self.d = Daemon(tmpdir=tempfile.mkdtemp(prefix="s3b-bench-"),
                        daemon_conf=conf, extra_conf=ep)
        os.chmod(self.d.conf, 0o600)
        self.log_name = log_name

    def __enter__(self):
        self.d.start()
        return self

    def __exit__(self, *exc):
        self.d.stop()
        if self.args.keep_logs:
            shutil.copy(self.d.log, self.args.keep_logs / self.log_name)
        self.d.remove()

    @property
    def pid(self):
        return self.d.pid

    def run_job(self, manifest, ntasks, poll=0.05, sample=None,
                cancel_after=0):
        """Create a tagging job on a local manifest and wait for it (with
        cancel_after, cancel it that many seconds after it became Active).
        Returns a dict of figures."""
        from s3b import job_spec, write_json
        spec = job_spec({"S3PutObjectTagging": {"TagSet": [
            {"Key": TAG_KEY, "Value": TAG_VALUE}]}}, confirmation=False)
        uri = write_json(self.d.dir / "job.json", spec)
        cpu0 = proc_cpu(self.pid)
        t0 = time.monotonic()
        r = self.d.ctl("create-job", "--cli-input-json", uri,
                       "--manifest-file", str(manifest), timeout=3600)
        if r.rc != 0:
            raise RuntimeError("create-job: %r" % r)
        job_id = r.json["JobId"]
        t_created = time.monotonic()
        t_active = None
        hwm_prepared = None
        cancelled = False
        while True:
            job = self.d.describe(job_id)
            now = time.monotonic()
            st = job["Status"]
            if t_active is None and st not in ("New", "Preparing", "Ready"):
                t_active = now
                hwm_prepared = proc_status(self.pid, "VmHWM")
            if st in ("Complete", "Failed", "Cancelled"):
                break
            if (cancel_after and not cancelled and t_active is not None and
                    now - t_active >= cancel_after):
                self.d.ok("update-job-status", "--job-id", job_id,
                          "--requested-job-status", "Cancelled")
                cancelled = True
            if sample is not None:
                sample(job)
            time.sleep(poll)
        t1 = time.monotonic()
        cpu1 = proc_cpu(self.pid)
        ps = job["ProgressSummary"]
        done = ps["NumberOfTasksSucceeded"]
        if ps["NumberOfTasksFailed"] or (st != "Complete" and not cancelled) \
                or (not cancelled and done != ntasks):
            raise RuntimeError("job %s ended %s: %s" % (job_id, st,
                                                        json.dumps(ps)))
        ntasks = done
        return {
            "status": st,
            "done": done,
            "job": job_id,
            "seconds": t1 - t0,
            "rate": ntasks / (t1 - t0),
            "create_seconds": t_created - t0,
            "run_rate": ntasks / (t1 - (t_active or t0)),
            "cpu": cpu1 - cpu0,
            "cpu_us_per_task": (cpu1 - cpu0) * 1e6 / ntasks,
            "hwm": proc_status(self.pid, "VmHWM"),
            "hwm_prepared": hwm_prepared,
            "rss": proc_status(self.pid, "VmRSS"),
        }


def run_boto3(args):
    p = subprocess.run(
        [sys.executable, str(BENCH / "bench_boto3_tagging.py"),
         "--endpoint", args.endpoint, "--bucket", args.bucket,
         "--prefix", args.prefix, "--count", str(args.count),
         "--threads", str(args.concurrency),
         "--tag", "%s=%s" % (TAG_KEY, TAG_VALUE)],
        capture_output=True, text=True)
    res = result_line(p.stdout)
    if p.returncode != 0:
        raise RuntimeError("boto3 run had errors:\n" + p.stdout)
    return float(res["rps"])


def run_floor(args):
    exe = pathlib.Path(args.builddir) / "tests" / "bench" / "bench-client"
    p = subprocess.run(
        [str(exe), "-t", "%s=%s" % (TAG_KEY, TAG_VALUE), args.endpoint, AK,
         SK, args.bucket, args.prefix, str(args.count),
         str(args.concurrency)], capture_output=True, text=True)
    res = result_line(p.stdout)
    if p.returncode != 0:
        raise RuntimeError("bench-client had errors:\n" + p.stdout)
    return float(res["rps"])


def perf_start(pid, path):
    if shutil.which("perf") is None:
        say("perf: not installed, no profile")
        return None
    return subprocess.Popen(["perf", "record", "-g", "-o", str(path), "-p",
                             str(pid)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def perf_stop(proc, path):
    if proc is None:
        return
    proc.send_signal(2)
    proc.wait()
    p = subprocess.run(["perf", "report", "-i", str(path), "--stdio",
                        "--no-children", "--sort", "dso,sym", "-g", "none",
                        "--percent-limit", "1"],
                       capture_output=True, text=True)
    say("\nperf profile of s3batchd (self time, >= 1%%; %s):", path)
    for line in p.stdout.splitlines():
        if line.strip() and not line.startswith("#"):
            say("  %s", line.rstrip())


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio_line(name, value, target, cmp):
    ok = value >= target if cmp == ">=" else value <= target
    return "%-44s %8.2f   target %s %-6g %s" % (name, value, cmp, target,
                                                "met" if ok else "NOT MET")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default=os.environ.get("RGW_ENDPOINT"))
    ap.add_argument("--builddir", default=os.environ.get("S3B_BUILDDIR",
                                                         str(TOP)))
    ap.add_argument("--bucket", default="bench")
    ap.add_argument("--prefix", default="bench/")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--small-tasks", type=int, default=10000)
    ap.add_argument("--big-tasks", type=int, default=1000000)
    ap.add_argument("--big-seconds", type=int, default=0,
                    help="cancel the big job this long after it became "
                    "Active (0: let it finish)")
    ap.add_argument("--skip-boto3", action="store_true")
    ap.add_argument("--skip-floor", action="store_true")
    ap.add_argument("--perf", metavar="FILE")
    ap.add_argument("--keep-logs", metavar="DIR",
                    help="copy each daemon's log here")
    args = ap.parse_args()
    os.environ["S3B_BUILDDIR"] = args.builddir
    if args.keep_logs:
        args.keep_logs = pathlib.Path(args.keep_logs)
        args.keep_logs.mkdir(parents=True, exist_ok=True)

    rgw = Rgw.start() if not args.endpoint else Rgw(args.endpoint)
    args.endpoint = rgw.endpoint.rstrip("/")
    work = pathlib.Path(tempfile.mkdtemp(prefix="s3b-bench-engine-"))
    try:
        return bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        rgw.stop()


def bench(args, work):
    say("bench_engine: %d objects at %s, concurrency %d, %d runs each",
        args.count, args.endpoint, args.concurrency, args.runs)
    manifest = work / "manifest.csv"
    p = subprocess.run(
        [sys.executable, str(BENCH / "setup_objects.py"),
         "--endpoint", args.endpoint, "--bucket", args.bucket,
         "--prefix", args.prefix, "--count", str(args.count),
         "--manifest", str(manifest), "--skip-existing"],
        capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("setup_objects.py:\n" + p.stdout + p.stderr)
    say("%s", p.stdout.strip().splitlines()[0])

    boto3_rps, floor_rps, daemon = [], [], []
    for i in range(args.runs):
        if not args.skip_boto3:
            boto3_rps.append(run_boto3(args))
            say("run %d  boto3 (%d threads)      %8.1f tasks/s", i + 1,
                args.concurrency, boto3_rps[-1])
        if not args.skip_floor:
            floor_rps.append(run_floor(args))
            say("run %d  bench-client (floor)    %8.1f requests/s", i + 1,
                floor_rps[-1])
        with Engine(args, "s3batchd-run%d.log" % (i + 1)) as e:
            prof = None
            if args.perf and i == 0:
                prof = perf_start(e.pid, args.perf)
            r = e.run_job(manifest, args.count)
            if prof is not None:
                perf_stop(prof, args.perf)
        daemon.append(r)
        say("run %d  s3batchd job            %8.1f tasks/s (%.2f s end to "
            "end; %.1f tasks/s once Active), CPU %.2f s = %.1f us/task, "
            "VmHWM %.1f MiB", i + 1, r["rate"], r["seconds"], r["run_rate"],
            r["cpu"], r["cpu_us_per_task"], mib(r["hwm"]))

    d_rate = median([r["rate"] for r in daemon])
    d_cpu = median([r["cpu_us_per_task"] for r in daemon])
    if daemon:
        say("\nmedians over %d runs of %d tasks:", args.runs, args.count)
    if boto3_rps:
        say("  boto3, %d threads            %8.1f tasks/s", args.concurrency,
            median(boto3_rps))
    if floor_rps:
        say("  bench-client (floor)         %8.1f requests/s",
            median(floor_rps))
    if daemon:
        say("  s3batchd                     %8.1f tasks/s  (%.1f once "
            "Active)", d_rate, median([r["run_rate"] for r in daemon]))
        say("  s3batchd CPU                 %8.1f us/task (user+sys)", d_cpu)

    small = big = None
    if args.small_tasks:
        m = write_manifest(work / "small.csv", args.bucket, args.prefix,
                           args.count, args.small_tasks)
        with Engine(args, "s3batchd-small.log") as e:
            small = e.run_job(m, args.small_tasks)
        say("\n%d-task job: VmHWM %.1f MiB (%.1f MiB once prepared), %.1f "
            "tasks/s, CPU %.1f us/task", args.small_tasks, mib(small["hwm"]),
            mib(small["hwm_prepared"] or 0), small["rate"],
            small["cpu_us_per_task"])
    if args.big_tasks:
        m = write_manifest(work / "big.csv", args.bucket, args.prefix,
                           args.count, args.big_tasks)
        say("%d-task job (manifest %.1f MiB, the %d objects repeated): "
            "running, RGW bounds its time...", args.big_tasks,
            mib(m.stat().st_size), args.count)
        with Engine(args, "s3batchd-big.log") as e:
            last = [time.monotonic()]

            def progress(job):
                if time.monotonic() - last[0] >= 60:
                    last[0] = time.monotonic()
                    ps = job["ProgressSummary"]
                    say("  ... %d of %d tasks done, VmRSS %.1f MiB",
                        ps.get("NumberOfTasksSucceeded", 0) +
                        ps.get("NumberOfTasksFailed", 0),
                        ps.get("TotalNumberOfTasks", 0),
                        mib(proc_status(e.pid, "VmRSS")))
            big = e.run_job(m, args.big_tasks, poll=0.5, sample=progress,
                            cancel_after=args.big_seconds)
        say("%d-task job: %s after %d tasks; VmHWM %.1f MiB (%.1f MiB once "
            "prepared), %.1f tasks/s over %.0f s (prepare included), CPU "
            "%.1f us/task", args.big_tasks, big["status"], big["done"],
            mib(big["hwm"]), mib(big["hwm_prepared"] or 0), big["rate"],
            big["seconds"], big["cpu_us_per_task"])

    say("\ntargets (issue 3):")
    if boto3_rps and daemon:
        say(ratio_line("s3batchd / boto3 (tasks/s)", d_rate /
                       median(boto3_rps), 2.0, ">="))
    if floor_rps and daemon:
        say(ratio_line("s3batchd / bench-client (tasks/s)", d_rate /
                       median(floor_rps), 0.85, ">="))
    if daemon:
        say(ratio_line("s3batchd CPU per task (us)", d_cpu, 100, "<="))
    for name, r in (("%d" % args.small_tasks, small),
                    ("%d" % args.big_tasks, big)):
        if r is not None:
            say(ratio_line("s3batchd VmHWM, %s-task job (MiB)" % name,
                           mib(r["hwm"]), 64, "<="))
    if small is not None and big is not None:
        say("%-44s %8.2f   (flat: about 1)" % ("VmHWM big / small",
                                                big["hwm"] / small["hwm"]))
    say("RESULT client=s3batchd tasks=%d concurrency=%d rps=%.1f "
        "cpu_us_per_task=%.1f boto3_rps=%s floor_rps=%s hwm_small_mib=%s "
        "hwm_big_mib=%s" % (
            args.count, args.concurrency, d_rate, d_cpu,
            "%.1f" % median(boto3_rps) if boto3_rps else "-",
            "%.1f" % median(floor_rps) if floor_rps else "-",
            "%.1f" % mib(small["hwm"]) if small else "-",
            "%.1f" % mib(big["hwm"]) if big else "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
