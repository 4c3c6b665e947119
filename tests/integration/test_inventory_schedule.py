"""Inventory schedules and runs (issue 9, Deliver 2) with the real daemon,
the real s3batchctl and a real RGW.

The scheduler's clock is the daemon's test-only fast clock:
S3BATCHD_TEST_INVENTORY_CLOCK="EPOCH:SCALE" starts it at EPOCH and runs it
SCALE times faster than real time (src/invsched.h; nothing but the
scheduler reads it). Each daemon start sets the clock where the case
needs it, as a machine would find it after being down.

The one-at-a-time and crash cases route the source bucket to a stand-in
(a TCP listener that accepts and never answers, written here for that
fault) so that a run stays Running for as long as the case needs.
"""

import calendar
import socket
import threading
import time
import urllib.request

import pytest

from s3b import bucket_conf, endpoint_conf, free_ports, put_objects, \
    wait_until, write_json

RUN_TIMEOUT = 120


def epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def clock(text, scale):
    return {"S3BATCHD_TEST_INVENTORY_CLOCK": "%d:%d" % (epoch(text), scale)}


def inv_config(cid, dest, enabled=True, **schedule):
    schedule.setdefault("Frequency", "Hourly")
    return {"Id": cid, "IsEnabled": enabled,
            "Destination": {"S3BucketDestination": {
                "Bucket": "arn:aws:s3:::%s" % dest, "Format": "CSV",
                "Prefix": "inv"}},
            "IncludedObjectVersions": "Current",
            "Schedule": schedule}


def put_config(d, tmp_path, bucket, cfg):
    uri = write_json(tmp_path / ("inv-%s.json" % cfg["Id"]), cfg)
    d.ok("put-bucket-inventory-configuration", "--bucket", bucket, "--id",
         cfg["Id"], "--inventory-configuration", uri)


def run_again(d, bucket, cid):
    """run-inventory, again while it says the newest run's minute (its
    report's folder) is not over: with a fast test clock, soon."""
    found = {}

    def accepted():
        r = d.ctl("run-inventory", "--bucket", bucket, "--id", cid)
        assert r.rc == 0 or "InventoryRunTooSoon" in r.err, r
        found["r"] = r
        return r.rc == 0
    wait_until("run-inventory in a new minute", accepted, timeout=60,
               interval=0.2)
    return found["r"].json["RunId"]


def runs(d, bucket, cid):
    """Oldest first."""
    return list(reversed(d.ok("list-inventory-runs", "--bucket", bucket,
                              "--id", cid)["Runs"]))


def wait_runs(d, bucket, cid, n, what):
    """Until there are n runs and none is Running; returns them."""
    found = {}

    def look():
        rs = runs(d, bucket, cid)
        found["runs"] = rs
        return len(rs) >= n and all(r["State"] != "Running" for r in rs)
    wait_until(what, look, timeout=RUN_TIMEOUT, interval=0.2)
    return found["runs"]


def sched(r):
    return r["ScheduledTime"][:19]


def metrics(port):
    """The inventory lines of /metrics: {name{labels}: value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as f:
        text = f.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("s3batchd_inventory_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_schedule_restart_and_missed_run(s3batchd, s3, make_bucket,
                                         tmp_path):
    src, dest = make_bucket(), make_bucket()
    put_objects(s3, src, ["a", "b", "c"])
    port = free_ports(1)[0]
    d = s3batchd(daemon_conf="metrics_listen = 127.0.0.1:%d" % port,
                 start=False)
    # One minute a second: 01:00 is two seconds away.
    d.start(env=clock("2026-03-01T00:58:00Z", 60))
    put_config(d, tmp_path, src, inv_config("hourly", dest))
    put_config(d, tmp_path, src, inv_config("off", dest, enabled=False))
    rs = wait_runs(d, src, "hourly", 1, "the 01:00 run")
    assert len(rs) == 1, rs
    assert rs[0]["State"] == "Succeeded", rs
    assert rs[0]["Trigger"] == "schedule"
    assert sched(rs[0]) == "2026-03-01T01:00:00"
    assert rs[0]["Objects"] == 3 and rs[0]["Rows"] == 3, rs
    assert rs[0]["ReportLocation"].startswith("arn:aws:s3:::%s/inv/%s/"
                                              "hourly/" % (dest, src))
    # The report is where the run says.
    key = rs[0]["ReportLocation"].split("/", 1)[1]
    assert s3.head_object(Bucket=dest, Key=key)["ContentLength"] > 0

    # A restart that finds the clock before 02:00 owes nothing for 01:00
    # again: the next run is 02:00's.
    d.stop()
    d.start(env=clock("2026-03-01T01:59:00Z", 60))
    rs = wait_runs(d, src, "hourly", 2, "the 02:00 run")
    assert [sched(r) for r in rs] == ["2026-03-01T01:00:00",
                                      "2026-03-01T02:00:00"], rs

    # Down from 02:00 to 05:30: one run at start (05:00's), not three.
    d.stop()
    d.start(env=clock("2026-03-01T05:30:00Z", 1))
    rs = wait_runs(d, src, "hourly", 3, "the missed run")
    assert [sched(r) for r in rs] == ["2026-03-01T01:00:00",
                                      "2026-03-01T02:00:00",
                                      "2026-03-01T05:00:00"], rs
    assert all(r["State"] == "Succeeded" for r in rs), rs
    # The scheduler looks again as soon as a run ends; a second catch-up
    # run would start at once. Give it that moment, then count again.
    time.sleep(1)
    assert len(runs(d, src, "hourly")) == 3

    # The disabled configuration never ran on schedule; on request, it runs.
    assert runs(d, src, "off") == []
    run_id = d.ok("run-inventory", "--bucket", src, "--id", "off")["RunId"]
    rs = wait_runs(d, src, "off", 1, "the requested run")
    assert [(r["RunId"], r["Trigger"], r["State"]) for r in rs] == \
        [(run_id, "command", "Succeeded")], rs
    text = d.ok("list-inventory-runs", "--bucket", src, output="text")
    assert run_id in text and "Succeeded" in text

    # Metrics per configuration, from the stored runs.
    m = metrics(port)
    lab = 'bucket="%s",id="hourly"' % src
    assert m['s3batchd_inventory_runs_total{%s,outcome="succeeded"}' %
             lab] == 3, m
    assert m['s3batchd_inventory_runs_total{%s,outcome="failed"}' %
             lab] == 0, m
    assert m["s3batchd_inventory_running{%s}" % lab] == 0
    assert m["s3batchd_inventory_objects_listed_total{%s}" % lab] == 9
    assert m["s3batchd_inventory_rows_written_total{%s}" % lab] == 9
    assert m["s3batchd_inventory_last_duration_seconds{%s}" % lab] >= 0
    last = m["s3batchd_inventory_last_success_timestamp_seconds{%s}" % lab]
    assert abs(last - time.time()) < 600, m
    off = 'bucket="%s",id="off"' % src
    assert m['s3batchd_inventory_runs_total{%s,outcome="succeeded"}' %
             off] == 1, m


class BlackHole:
    """A stand-in S3 endpoint for one fault: it accepts connections and
    never answers, so that a run against it stays Running."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.held.append(c)
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join(5)
        for c in self.held:
            c.close()
        self.sock.close()


@pytest.fixture
def black_hole():
    b = BlackHole()
    yield b
    b.close()


def test_one_at_a_time_and_crash(s3batchd, black_hole, tmp_path):
    src = "hole-src"
    extra = (endpoint_conf("http://127.0.0.1:%d" % black_hole.port,
                           name="hole", extra="probe = no\n") +
             bucket_conf(src, "hole"))
    d = s3batchd(extra_conf=extra, start=False)
    d.start(env=clock("2026-03-02T10:00:00Z", 1))
    # Daily at 00:00: nothing is due for hours of this clock.
    put_config(d, tmp_path, src, inv_config("slow", "reports",
                                            Frequency="Daily"))
    first = d.ok("run-inventory", "--bucket", src, "--id", "slow")["RunId"]
    rs = runs(d, src, "slow")
    assert [(r["RunId"], r["State"]) for r in rs] == [(first, "Running")]
    # One at a time: refused, naming the run under way.
    r = d.ctl("run-inventory", "--bucket", src, "--id", "slow")
    assert r.rc == 1 and "InventoryRunInProgress" in r.err and \
        first in r.err, r
    assert len(runs(d, src, "slow")) == 1
    r = d.ctl("run-inventory", "--bucket", src, "--id", "nope")
    assert r.rc == 1 and "NoSuchConfiguration" in r.err, r

    # A crash mid-run: at start the run is Failed as interrupted and a
    # new run takes its place, for the same scheduled time.
    d.kill9()
    d.start(env=clock("2026-03-02T10:05:00Z", 1))
    found = {}

    def replaced():
        rs = runs(d, src, "slow")
        found["runs"] = rs
        return len(rs) == 2
    wait_until("the restarted run", replaced, timeout=30, interval=0.1)
    old, new = found["runs"]
    assert d.ok("status")["InventoryRunsRunning"] == 1
    assert old["RunId"] == first
    assert old["State"] == "Failed" and old["FailureCode"] == "Interrupted"
    assert "interrupted" in old["FailureReason"] or \
        "stopped during the run" in old["FailureReason"], old
    assert new["Trigger"] == "restart" and new["State"] == "Running", new
    assert new["ScheduledTime"] == old["ScheduledTime"]
    r = d.ctl("run-inventory", "--bucket", src, "--id", "slow")
    assert r.rc == 1 and new["RunId"] in r.err, r
    # A stop (not a crash) leaves it for the next start the same way.
    d.stop()


def test_report_feeds_a_job(s3batchd, s3, make_bucket, tmp_path):
    """Inventory -> filter -> job: the JobFilter's selection, a CSV
    manifest written beside the report before its manifest.json, becomes
    the manifest of the configuration's JobTemplate (pinned by its ETag);
    the job carries the configuration's tags and follows
    ConfirmationRequired. A filter that selects nothing makes no job."""
    src, dest = make_bucket(), make_bucket()
    put_objects(s3, src, ["a", "b", "c"])
    # TEST CLOCK, 600 times real time: runs a moment apart are minutes
    # apart, each report in its own folder.
    d = s3batchd(start=False)
    d.start(env=clock(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      600))
    template = {
        "Operation": {"S3PutObjectTagging": {"TagSet": [
            {"Key": "inv", "Value": "yes"}]}},
        "Priority": 7,
        "RoleArn": "arn:aws:iam::123456789012:role/batch",
        "Report": {"Enabled": False},
        "ConfirmationRequired": False,
    }
    cfg = inv_config("feed", dest, enabled=False, Frequency="Daily")
    cfg["JobTemplate"] = template
    cfg["JobFilter"] = "Key = 'b' OR Key = 'c'"
    put_config(d, tmp_path, src, cfg)
    run_id = run_again(d, src, "feed")
    rs = wait_runs(d, src, "feed", 1, "the run and its job")
    run = rs[0]
    assert run["RunId"] == run_id and run["State"] == "Succeeded", run
    assert "JobError" not in run, run
    job_id = run["JobId"]
    job = d.describe(job_id)
    report = run["ReportLocation"].split(":::", 1)[1].split("/", 1)[1]
    sel = run["SelectionLocation"].split(":::", 1)[1].split("/", 1)[1]
    # Beside the report's manifest.json, in its dated folder.
    assert sel == report.rsplit("/", 1)[0] + "/selected.csv", (sel, report)
    assert run["SelectionRows"] == 2, run
    body = s3.get_object(Bucket=dest, Key=sel)["Body"].read().decode()
    assert body == "%s,b\n%s,c\n" % (src, src), body
    etag = s3.head_object(Bucket=dest, Key=sel)["ETag"].strip('"')
    assert job["Manifest"]["Spec"]["Format"] == \
        "S3BatchOperations_CSV_20180820"
    assert job["Manifest"]["Spec"]["Fields"] == ["Bucket", "Key"]
    assert job["Manifest"]["Location"]["ObjectArn"] == \
        run["SelectionLocation"]
    assert job["Manifest"]["Location"]["ETag"].strip('"') == etag
    assert job["Priority"] == 7
    tags = d.ok("get-job-tagging", "--job-id", job_id)["Tags"]
    assert {"Key": "s3batchd:inventory-id", "Value": "feed"} in tags
    assert any(t["Key"] == "s3batchd:inventory-date" for t in tags), tags
    d.wait_status(job_id, "Complete", timeout=RUN_TIMEOUT)

    def tagged(k):
        return s3.get_object_tagging(Bucket=src, Key=k)["TagSet"]
    assert tagged("a") == []
    assert tagged("b") == [{"Key": "inv", "Value": "yes"}]
    assert tagged("c") == [{"Key": "inv", "Value": "yes"}]

    # ConfirmationRequired: the next report's job waits Suspended.
    template["ConfirmationRequired"] = True
    put_config(d, tmp_path, src, cfg)
    run_again(d, src, "feed")
    rs = wait_runs(d, src, "feed", 2, "the second run and its job")
    second = rs[-1]
    assert second["JobId"] != job_id, rs
    d.wait_status(second["JobId"], "Suspended", timeout=RUN_TIMEOUT)

    # A filter that selects nothing: the report, no selection, no job.
    cfg["JobFilter"] = "Key = 'none of them'"
    put_config(d, tmp_path, src, cfg)
    run_again(d, src, "feed")
    rs = wait_runs(d, src, "feed", 3, "the third run")
    third = rs[-1]
    assert third["State"] == "Succeeded", third
    assert "JobId" not in third and "SelectionLocation" not in third, third
    assert "selected no object" in third["JobError"], third


def test_same_minute_refused(s3batchd, s3, make_bucket, tmp_path):
    """A report's folder is named to the minute: run-inventory in the
    minute of the newest run is refused, saying when to run again, and
    the report stays as it was."""
    src, dest = make_bucket(), make_bucket()
    put_objects(s3, src, ["only"])
    d = s3batchd(start=False)
    # TEST CLOCK at real speed from 10:00:00: a minute to do this in.
    d.start(env=clock("2026-03-02T10:00:00Z", 1))
    put_config(d, tmp_path, src, inv_config("minute", dest, enabled=False))
    d.ok("run-inventory", "--bucket", src, "--id", "minute")
    first = wait_runs(d, src, "minute", 1, "the first run")[0]
    assert first["State"] == "Succeeded", first
    r = d.ctl("run-inventory", "--bucket", src, "--id", "minute")
    assert r.rc == 1 and "InventoryRunTooSoon" in r.err, r
    assert "2026-03-02T10-00Z" in r.err and "10:01 UTC" in r.err, r
    assert runs(d, src, "minute") == [first]


def test_owed_job_made_once_after_kill9(s3batchd, s3, make_bucket,
                                        tmp_path):
    """A run whose report is done and whose job is owed when the daemon
    dies: the next start makes the job, once. TEST ONLY:
    S3BATCHD_TEST_INVENTORY_OWE_JOB leaves the job owed (as a crash
    between the two would), and a kill -9 follows."""
    src, dest = make_bucket(), make_bucket()
    put_objects(s3, src, ["x", "y"])
    d = s3batchd(start=False)
    d.start(env={"S3BATCHD_TEST_INVENTORY_OWE_JOB": "1"})
    cfg = inv_config("owed", dest, enabled=False, Frequency="Daily")
    cfg["JobTemplate"] = {
        "Operation": {"S3PutObjectTagging": {"TagSet": [
            {"Key": "owed", "Value": "paid"}]}},
        "Priority": 5, "RoleArn": "arn:aws:iam::123456789012:role/batch",
        "Report": {"Enabled": False}, "ConfirmationRequired": False}
    put_config(d, tmp_path, src, cfg)
    d.ok("run-inventory", "--bucket", src, "--id", "owed")
    run = wait_runs(d, src, "owed", 1, "the run")[0]
    assert run["State"] == "Succeeded", run
    assert "JobId" not in run and "JobError" not in run, run
    assert "its job is owed and not made (TEST ONLY)" in d.logtext()
    assert d.ok("list-jobs")["Jobs"] == []
    d.kill9()
    d.start()
    found = {}

    def made():
        found["run"] = runs(d, src, "owed")[0]
        return "JobId" in found["run"]
    wait_until("the owed job", made, timeout=60, interval=0.2)
    job_id = found["run"]["JobId"]
    d.wait_status(job_id, "Complete", timeout=RUN_TIMEOUT)
    assert [j["JobId"] for j in d.ok("list-jobs")["Jobs"]] == [job_id]
    # Made once: another restart makes nothing more.
    d.stop()
    d.start()
    assert [j["JobId"] for j in d.ok("list-jobs")["Jobs"]] == [job_id]
    assert s3.get_object_tagging(Bucket=src, Key="x")["TagSet"] == \
        [{"Key": "owed", "Value": "paid"}]
