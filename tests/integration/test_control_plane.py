"""The spine: the real daemon and the real s3batchctl, Amazon's job control
plane, durability across kill -9, timers across restarts, bad input.

No S3 server is needed here: jobs use local manifests streamed by
s3batchctl, and nothing here runs tasks against S3.
"""

import json
import pwd
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from s3b import Daemon, binary, free_ports, job_spec, wait_until, write_json

JOB_DESCRIPTOR_KEYS = [
    "JobId", "ConfirmationRequired", "Description", "JobArn", "Status",
    "Manifest", "Operation", "Priority", "ProgressSummary",
    "StatusUpdateReason", "FailureReasons", "Report", "CreationTime",
    "TerminationDate", "RoleArn", "SuspendedDate", "SuspendedCause",
    "ManifestGenerator", "GeneratedManifestDescriptor",
]


def make_manifest(tmp_path, n, name="manifest.csv", bucket="bkt"):
    p = tmp_path / name
    with open(p, "w") as f:
        for i in range(n):
            f.write("%s,dir/key%%20%d\n" % (bucket, i))
    return p


def create(d, tmp_path, n=10, spec=None, manifest=None, **kw):
    spec = spec or job_spec(**kw)
    uri = write_json(tmp_path / ("job-%d.json" % time.monotonic_ns()), spec)
    manifest = manifest or make_manifest(tmp_path, n)
    r = d.ctl("create-job", "--account-id", "123456789012",
              "--cli-input-json", uri, "--manifest-file", manifest)
    return r


def test_create_suspended_confirm_and_shapes(daemon, tmp_path):
    r = create(daemon, tmp_path, n=1234, Description="tag them")
    assert r.rc == 0, r
    assert list(r.json) == ["JobId"]
    job_id = r.json["JobId"]
    job = daemon.wait_status(job_id, "Suspended")
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 1234
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 0
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 0
    assert job["ProgressSummary"]["Timers"] == {"ElapsedTimeInActiveSeconds": 0}
    assert job["ConfirmationRequired"] is True
    assert job["Description"] == "tag them"
    assert job["Priority"] == 10
    assert job["JobArn"].endswith(":job/" + job_id)
    assert job["JobArn"].startswith("arn:aws:s3:")
    assert job["Operation"] == {
        "S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}
    assert job["RoleArn"] == "arn:aws:iam::123456789012:role/batch"
    assert "SuspendedDate" in job and "SuspendedCause" in job
    assert job["FailureReasons"] == []
    # Every member is one of Amazon's JobDescriptor, in the cli's order.
    keys = list(job)
    assert all(k in JOB_DESCRIPTOR_KEYS for k in keys), keys
    assert keys == sorted(keys, key=JOB_DESCRIPTOR_KEYS.index)
    assert job["CreationTime"].endswith("+00:00")

    r = daemon.ok("update-job-status", "--job-id", job_id,
                  "--requested-job-status", "Ready",
                  "--status-update-reason", "looks right")
    assert r == {"JobId": job_id, "Status": "Ready",
                 "StatusUpdateReason": "looks right"}
    # The engine takes it up at once (its bucket has no endpoint here, so
    # its tasks fail fast).
    assert daemon.describe(job_id)["Status"] in (
        "Ready", "Active", "Completing", "Complete", "Failing", "Failed")


def test_priority_tags_cancel_clone(daemon, tmp_path):
    job_id = create(daemon, tmp_path, n=50).json["JobId"]
    daemon.wait_status(job_id, "Suspended")
    assert daemon.ok("update-job-priority", "--job-id", job_id,
                     "--priority", "99") == {"JobId": job_id, "Priority": 99}
    assert daemon.describe(job_id)["Priority"] == 99

    assert daemon.ok("get-job-tagging", "--job-id", job_id) == {"Tags": []}
    assert daemon.ok("put-job-tagging", "--job-id", job_id, "--tags",
                     "Key=team,Value=storage", "Key=env,Value=") is None
    assert daemon.ok("get-job-tagging", "--job-id", job_id) == {
        "Tags": [{"Key": "team", "Value": "storage"},
                 {"Key": "env", "Value": ""}]}
    assert daemon.ok("delete-job-tagging", "--job-id", job_id) is None
    assert daemon.ok("get-job-tagging", "--job-id", job_id) == {"Tags": []}

    r = daemon.ok("update-job-status", "--job-id", job_id,
                  "--requested-job-status", "Cancelled")
    assert r["Status"] == "Cancelled"
    job = daemon.describe(job_id)
    assert job["Status"] == "Cancelled"
    assert "TerminationDate" in job

    # A cancelled job cannot be confirmed or reprioritised.
    r = daemon.ctl("update-job-status", "--job-id", job_id,
                   "--requested-job-status", "Ready")
    assert r.rc == 1 and "JobStatusException" in r.err

    clone = daemon.ok("clone-job", "--job-id", job_id, "--priority", "5")
    cj = daemon.wait_status(clone["JobId"], "Suspended")
    assert cj["ProgressSummary"]["TotalNumberOfTasks"] == 50
    assert cj["Priority"] == 5
    assert cj["Operation"] == daemon.describe(job_id)["Operation"]

    # Failed-only clone: nothing failed, but the job was cancelled before
    # any task ran, and --failed-tasks-only takes every task that did not
    # succeed (failed or never ran): all 50.
    clone2 = daemon.ok("clone-job", "--job-id", job_id, "--failed-tasks-only")
    cj2 = daemon.wait_status(clone2["JobId"], ("Suspended", "Ready"))
    assert cj2["ProgressSummary"]["TotalNumberOfTasks"] == 50


def test_list_jobs_filter_and_pages(daemon, tmp_path):
    ids = []
    for i in range(5):
        ids.append(create(daemon, tmp_path, n=3,
                          confirmation=(i % 2 == 0)).json["JobId"])
    for i, j in enumerate(ids):
        # Unconfirmed jobs run at once (and end: no endpoint here).
        daemon.wait_status(j, "Suspended" if i % 2 == 0 else
                           ("Complete", "Failed"))
    r = daemon.ok("list-jobs", "--job-statuses", "Suspended")
    assert sorted(j["JobId"] for j in r["Jobs"]) == sorted(ids[0::2])
    for j in r["Jobs"]:
        assert set(j) <= {"JobId", "Description", "Operation", "Priority",
                          "Status", "CreationTime", "TerminationDate",
                          "ProgressSummary"}
        assert j["Operation"] == "S3PutObjectTagging"
    seen = []
    token = None
    for _ in range(len(ids) + 1):     # pages of 2: never more than this
        args = ["list-jobs", "--max-results", "2"]
        if token:
            args += ["--next-token", token]
        r = daemon.ok(*args)
        assert len(r["Jobs"]) <= 2
        seen += [j["JobId"] for j in r["Jobs"]]
        token = r.get("NextToken")
        if not token:
            break
    assert not token, "list-jobs still paging after %r" % seen
    assert seen == ids
    r = daemon.ctl("list-jobs", "--next-token", "garbage")
    assert r.rc == 1 and "NextToken" in r.err


def test_idempotency_token(daemon, tmp_path):
    spec = job_spec(ClientRequestToken="tok-1")
    a = create(daemon, tmp_path, spec=spec)
    b = create(daemon, tmp_path, spec=spec)
    assert a.rc == 0 and b.rc == 0
    assert a.json["JobId"] == b.json["JobId"]
    spec2 = job_spec(ClientRequestToken="tok-1", priority=11)
    c = create(daemon, tmp_path, spec=spec2)
    assert c.rc == 1 and "IdempotencyException" in c.err


def test_s3_manifest_without_endpoint_fails_clearly(daemon, tmp_path):
    spec = job_spec()
    spec["Manifest"]["Location"] = {
        "ObjectArn": "arn:aws:s3:::bucket/manifest.csv",
        "ETag": "0123456789abcdef0123456789abcdef"}
    uri = write_json(tmp_path / "s3.json", spec)
    r = daemon.ok("create-job", "--cli-input-json", uri)
    job = daemon.wait_status(r["JobId"], "Failed")
    reason = job["FailureReasons"][0]
    assert reason["FailureCode"] == "ManifestUnreadable"
    assert "NoSuchEndpoint" in reason["FailureReason"]
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0


@pytest.mark.parametrize("manifest,expect", [
    (b"Bucket,Key\nbkt,k\n", "line 1"),
    (b"bkt,k\nbkt,k,extra,more\n", "line 2"),
    (b"bkt,k\nbkt,bad%zzescape\n", "line 2"),
    (b"bkt,k\nbkt,k\nbkt,\xff\xfe\n", "line 3"),
    (b"bkt,k\nbkt," + b"x" * 20000 + b"\n", "line 2"),
    (b"bkt,k\nbkt,%ff%fe\n", "line 2"),
], ids=["header", "columns", "escape", "utf8", "long-line", "utf8-escaped"])
def test_bad_manifest_fails_with_line(daemon, tmp_path, manifest, expect):
    p = tmp_path / "bad.csv"
    p.write_bytes(manifest)
    r = create(daemon, tmp_path, manifest=p)
    assert r.rc == 0, r
    job = daemon.wait_status(r.json["JobId"], "Failed")
    reasons = job["FailureReasons"]
    assert len(reasons) == 1, job
    assert expect in reasons[0]["FailureReason"], reasons
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0


def test_empty_version_id_fails(daemon, tmp_path):
    spec = job_spec()
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    p = tmp_path / "v.csv"
    p.write_bytes(b"bkt,k,v1\nbkt,k2,null\nbkt,k3,\n")
    r = create(daemon, tmp_path, spec=spec, manifest=p)
    job = daemon.wait_status(r.json["JobId"], "Failed")
    assert "line 3" in job["FailureReasons"][0]["FailureReason"]


@pytest.mark.parametrize("mutate,field", [
    (lambda s: s.update(Priority=-1), "Priority"),
    (lambda s: s.update(Priority="high"), "Priority"),
    (lambda s: s["Operation"].update(S3DeleteObjectTagging={}), "Operation"),
    (lambda s: s.pop("Operation"), "Operation"),
    (lambda s: s["Report"].update(Format="CSV"), "Report.Format"),
    (lambda s: s.update(Bogus=1), "Bogus"),
    (lambda s: s["Operation"]["S3PutObjectTagging"]["TagSet"][0].update(
        Key=""), "Operation.S3PutObjectTagging.TagSet[0].Key"),
    (lambda s: s["Manifest"]["Spec"].update(Format="XML"),
     "Manifest.Spec.Format"),
    (lambda s: s.update(Description="x" * 300), "Description"),
], ids=["negative-priority", "string-priority", "two-operations",
        "no-operation", "report-format", "unknown-field", "empty-tag-key",
        "manifest-format", "long-description"])
def test_invalid_job_names_field(daemon, tmp_path, mutate, field):
    spec = job_spec()
    mutate(spec)
    r = create(daemon, tmp_path, spec=spec)
    # Refused by the daemon (1), or already by s3batchctl (2).
    assert r.rc in (1, 2), r
    assert field in r.err, r.err
    assert daemon.ok("status")["Jobs"]["New"] == 0


def test_malformed_json_file(daemon, tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{"Operation": ')
    r = daemon.ctl("create-job", "--cli-input-json", "file://%s" % p,
                   "--manifest-file", make_manifest(tmp_path, 1))
    assert r.rc in (1, 2) and r.err, r
    assert "JSON" in r.err or "json" in r.err


def test_socket_garbage_and_oversize(daemon):
    replies = daemon.raw(b"this is not json\n")
    assert replies[0]["ok"] is False
    assert replies[0]["error"]["code"] == "ProtocolError"
    replies = daemon.raw(b'{"v":1,"id":7,"cmd":"nope"}\n')
    assert replies[0]["error"]["code"] == "UnknownCommand"
    assert replies[0]["id"] == 7
    replies = daemon.raw(b'{"v":99,"id":1,"cmd":"status"}\n')
    assert replies[0]["error"]["code"] == "UnsupportedVersion"
    replies = daemon.raw(b'[1,2,3]\n')
    assert replies[0]["error"]["code"] == "ProtocolError"
    replies = daemon.raw(b'{"v":1,"id":1,"cmd":"describe-job","args":'
                         b'{"JobId":"00000000-0000-4000-8000-000000000000"}}\n')
    assert replies[0]["error"]["code"] == "NoSuchJob"
    big = b'{"v":1,"id":1,"cmd":"status","args":{"x":"' + \
        b"a" * (2 * 1024 * 1024) + b'"}}\n'
    replies = daemon.raw(big)
    assert replies and replies[0]["error"]["code"] == "MessageTooLarge"
    # Bad chunk frames during a stream.
    spec = job_spec()
    spec["ManifestStream"] = True
    msg = json.dumps({"v": 1, "id": 3, "cmd": "create-job",
                      "args": spec}).encode() + b"\n"
    replies = daemon.raw(msg + b'{"chunk":-5}\n', timeout=5)
    assert replies[0].get("continue") is True
    assert replies[1]["error"]["code"] == "ProtocolError"
    # Still serving, nothing lost.
    assert daemon.ok("status")["Pid"] == daemon.pid
    assert daemon.proc.poll() is None


def test_unprivileged_peer(daemon, tmp_path):
    job_id = create(daemon, tmp_path, n=3).json["JobId"]
    daemon.wait_status(job_id, "Suspended")
    # Reading is allowed for anyone who can connect.
    r = daemon.ctl("describe-job", "--job-id", job_id, user="nobody")
    assert r.rc == 0, r
    # Changing is not.
    r = daemon.ctl("update-job-status", "--job-id", job_id,
                   "--requested-job-status", "Ready", user="nobody")
    assert r.rc == 1 and "AccessDenied" in r.err, r
    assert daemon.describe(job_id)["Status"] == "Suspended"


def test_control_group_may_mutate(tmp_path):
    import grp
    nogroup = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    d = Daemon(daemon_conf="control_group = %s" % nogroup).start()
    try:
        job_id = create(d, tmp_path, n=3).json["JobId"]
        d.wait_status(job_id, "Suspended")
        r = d.ctl("update-job-priority", "--job-id", job_id, "--priority",
                  "3", user="nobody")
        assert r.rc == 0, r
    finally:
        d.stop()
        d.remove()


def test_confirm_timeout_and_retention(tmp_path):
    d = Daemon(tmp_path, daemon_conf="confirm_timeout = 2s\n"
               "job_retention = 2s").start()
    try:
        job_id = create(d, tmp_path, n=3).json["JobId"]
        job = d.wait_status(job_id, "Failed", timeout=15)
        assert job["FailureReasons"][0]["FailureCode"] == \
            "ConfirmationTimeout"
        r = wait_until("the job to be removed after job_retention",
                       lambda: gone(d, job_id), timeout=15, interval=0.2)
        assert "NoSuchJob" in r.err, r
    finally:
        d.stop()


def gone(d, job_id):
    """describe-job's failure once the job is gone, else None."""
    r = d.ctl("describe-job", "--job-id", job_id)
    return r if r.rc == 1 else None


def test_timers_hold_across_restart(tmp_path):
    d = Daemon(tmp_path, daemon_conf="confirm_timeout = 3s\n"
               "job_retention = 3s").start()
    try:
        job_id = create(d, tmp_path, n=3).json["JobId"]
        d.wait_status(job_id, "Suspended")
        d.stop()
        time.sleep(3.5)     # the timer expires while the daemon is down
        d.start()
        job = d.wait_status(job_id, "Failed", timeout=10)
        assert job["FailureReasons"][0]["FailureCode"] == \
            "ConfirmationTimeout"
        d.stop()
        time.sleep(3.5)     # job_retention runs out while the daemon is down
        d.start()
        r = wait_until("the job to be removed after job_retention",
                       lambda: gone(d, job_id), timeout=10, interval=0.2)
        assert "NoSuchJob" in r.err, r
    finally:
        d.stop()


def test_kill9_idle_and_preparing(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        done = create(d, tmp_path, n=100).json["JobId"]
        d.wait_status(done, "Suspended")
        d.ok("update-job-priority", "--job-id", done, "--priority", "42")
        d.kill9()
        d.start()
        job = d.describe(done)
        assert job["Status"] == "Suspended" and job["Priority"] == 42
        assert job["ProgressSummary"]["TotalNumberOfTasks"] == 100

        # Kill while a large manifest is being prepared (checked: the job
        # is Preparing, part of its tasks stored, when the kill comes).
        big = make_manifest(tmp_path, 400000, name="big.csv")
        r = create(d, tmp_path, manifest=big)
        assert r.rc == 0
        big_id = r.json["JobId"]
        job = d.wait_job(big_id, "Preparing", lambda j: j["Status"] !=
                         "New", timeout=60, interval=0.01)
        assert job["Status"] == "Preparing", job
        d.kill9()
        d.start()
        job = d.wait_status(big_id, "Suspended", timeout=120)
        assert job["ProgressSummary"]["TotalNumberOfTasks"] == 400000
        # Every acknowledged job is there.
        ids = [j["JobId"] for j in d.ok("list-jobs")["Jobs"]]
        assert done in ids and big_id in ids
        spool = list((d.state / "spool").iterdir())
        assert spool == []
    finally:
        d.stop()


def test_refuses_to_steal_socket(tmp_path, daemon):
    (tmp_path / "other").mkdir()
    other = Daemon(tmp_path / "other")
    other.conf.write_text(daemon.conf.read_text().replace(
        str(daemon.state), str(tmp_path / "other" / "state")))
    other.start(wait=False)
    rc = other.proc.wait(20)
    assert rc != 0
    assert "another s3batchd" in other.logtext()
    assert daemon.ok("status")["Pid"] == daemon.pid


def test_config_check(tmp_path):
    d = Daemon(tmp_path)
    r = subprocess.run([binary("s3batchd"), "-n", "-f", str(d.conf)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    d.conf.write_text(d.conf.read_text() + "\nbogus_key = 1\n")
    r = subprocess.run([binary("s3batchd"), "-n", "-f", str(d.conf)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "bogus_key" in r.stderr


def test_status_and_text_output(daemon, tmp_path):
    st = daemon.ok("status")
    assert st["ProtocolVersion"] == 1 and "Jobs" in st
    job_id = create(daemon, tmp_path, n=3).json["JobId"]
    daemon.wait_status(job_id, "Suspended")
    out = daemon.ok("describe-job", "--job-id", job_id, output="text")
    assert job_id in out and "Suspended" in out
    out = daemon.ok("list-jobs", output="text")
    assert job_id in out


def test_unreachable_and_usage(tmp_path):
    d = Daemon(tmp_path)
    r = d.ctl("status")
    assert r.rc == 3 and str(d.socket) in r.err
    r = d.ctl("describe-job")
    assert r.rc == 2
    r = d.ctl("no-such-verb")
    assert r.rc == 2


def test_sigterm_clean_exit(tmp_path):
    d = Daemon(tmp_path).start()
    assert d.stop() == 0
    assert not d.socket.exists()


def test_metrics_endpoint(tmp_path):
    port = free_ports(1)[0]
    d = Daemon(daemon_conf="metrics_listen = 127.0.0.1:%d" % port).start()
    try:
        job_id = create(d, tmp_path, n=5).json["JobId"]
        d.wait_status(job_id, "Suspended")
        text = urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
        assert 's3batchd_jobs{status="Suspended"} 1' in text
        assert "# TYPE s3batchd_tasks_total counter" in text
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                float(value)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/other" % port,
                                   timeout=10)
            assert False, "expected 404"
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        d.stop()
        d.remove()
