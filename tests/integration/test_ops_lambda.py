"""LambdaInvoke through the real s3batchd against a real RGW. No Lambda
service runs on loopback: tests/lambda_function.py is a stand-in that
speaks Amazon's Batch Operations contract, as the Lambda Invoke REST call
(verifying SigV4 for service "lambda" with its own code) and as a plain
URL. Effects on objects are checked with boto3; the stand-in's counters
show what was invoked, how often and with what."""

import json
import sys
import time
import urllib.parse

import pytest

from s3b import (AWKWARD, TOP, by_key, create_job as create,
                 inventory_location, inventory_manifest, job_spec,
                 manifest_csv, put_objects, report_csv_lines, report_rows,
                 tagging, taggings, wait_until)
from s3b import run_job as run_spec

sys.path.insert(0, str(TOP / "tests"))
from lambda_function import FunctionServer, boto3_tagger  # noqa: E402

ARN = "arn:aws:lambda:us-east-1:123456789012:function:batch-fn"
LAMBDA_KEYS = {"LAMBDAAK": "LAMBDASK"}
FAST = "retry_base = 10ms\nretry_max = 40ms\n"


def lambda_conf(fn, name="default", ak="LAMBDAAK", sk="LAMBDASK", extra=""):
    return ("[lambda %s]\nurl = %s\naccess_key_id = %s\n"
            "secret_access_key = %s\n%s\n" % (name, fn.url, ak, sk, extra))


def lambda_op(fn_arn, version=None, args=None):
    op = {"FunctionArn": fn_arn}
    if version is not None:
        op["InvocationSchemaVersion"] = version
    if args is not None:
        op["UserArguments"] = args
    return {"LambdaInvoke": op}


def stats(fn):
    return fn.state.stats()


@pytest.fixture
def function(rgw):
    fn = FunctionServer(0, boto3_tagger(rgw.client(max_pool_connections=128)),
                        LAMBDA_KEYS).start()
    yield fn
    fn.stop()


def run_job(d, tmp_path, spec, manifest, timeout=300):
    return run_spec(d, tmp_path, spec, manifest, timeout=timeout)


@pytest.mark.timeout(1200)
def test_arn_schema2_2000_objects(s3batchd, s3, make_bucket, function,
                                  tmp_path):
    """2,000 objects through the Lambda Invoke call, schema 2.0: each is
    invoked exactly once (no failure, no crash), signed for lambda in the
    ARN's region, tagged by the function, its resultString in the report
    (local and Amazon's CSV in the report bucket)."""
    bucket = make_bucket()
    rep = make_bucket()
    keys = ["obj/%04d" % i for i in range(2000 - len(AWKWARD))] + AWKWARD
    put_objects(s3, bucket, keys, workers=32)
    d = s3batchd(daemon_conf=FAST, extra_conf=lambda_conf(function))
    spec = job_spec(lambda_op(ARN, "2.0", {"mode": "tag", "k": "v"}),
                    confirmation=False)
    spec["Report"] = {"Enabled": True, "Bucket": "arn:aws:s3:::%s" % rep,
                      "Format": "Report_CSV_20180820", "Prefix": "r",
                      "ReportScope": "AllTasks"}
    job_id, job = run_job(d, tmp_path, spec,
                          manifest_csv(tmp_path / "m.csv", bucket, keys))
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert ps["TotalNumberOfTasks"] == 2000
    assert ps["NumberOfTasksSucceeded"] == 2000
    assert ps["NumberOfTasksFailed"] == 0

    st = stats(function)
    assert st["invocations"] == 2000
    assert sorted(st["per_object"]) == sorted("%s/%s" % (bucket, k)
                                              for k in keys)
    assert set(st["per_task"].values()) == {1}
    assert len(st["per_task"]) == 2000
    events = [e["event"] for e in st["log"]]
    assert {e["job"]["id"] for e in events} == {job_id}
    assert all(e["job"]["userArguments"] == {"mode": "tag", "k": "v"}
               for e in events)
    assert all(e["invocationSchemaVersion"] == "2.0" for e in events)
    assert len({e["invocationId"] for e in events}) == 2000
    for e in events:
        t = e["tasks"]
        assert len(t) == 1 and t[0]["s3Bucket"] == bucket
        assert "s3BucketArn" not in t[0] and t[0]["s3VersionId"] is None
    assert all(e["lambda"] and e["scope"] == {
        "region": "us-east-1", "service": "lambda",
        "access_key": "LAMBDAAK"} and e["function"] == ARN and
        e["invocation_type"] == "RequestResponse" for e in st["log"])

    # Every object carries the function's tags (checked with boto3).
    tags = taggings(s3, bucket, keys)
    assert [k for k in keys
            if tags[k] != {"lambda": "ran", "schema": "2.0"}] == []

    rows = report_rows(d, job_id)
    assert len(rows) == 2000
    for r in rows:
        k = urllib.parse.unquote(r["Key"])
        assert r["TaskStatus"] == "succeeded"
        assert r["ResultMessage"] == "tagged " + k
        assert r["HTTPStatusCode"] == 200 and r["Attempts"] == 1

    _, lines = report_csv_lines(s3, rep, "r", job_id)
    assert len(lines) == 2000
    assert "%s,obj/0007,,succeeded,200,,tagged obj/0007" % bucket in lines


def test_url_schema1_versions_and_awkward_keys(s3batchd, s3, make_bucket,
                                               function, tmp_path):
    """An http URL FunctionArn (unsigned), schema 1.0 (s3BucketArn), version
    ids from the manifest, keys URL-encoded: the function, reading the key
    back with unquote, tags exactly the named version."""
    bucket = make_bucket(versioned=True)
    keys = ["tag/" + k for k in AWKWARD]
    put_objects(s3, bucket, keys)
    first = {k: s3.head_object(Bucket=bucket, Key=k)["VersionId"]
             for k in keys}
    put_objects(s3, bucket, keys)          # a newer version of each
    d = s3batchd(daemon_conf=FAST)
    m = manifest_csv(tmp_path / "m.csv", bucket, keys,
                     [first[k] for k in keys])
    spec = job_spec(lambda_op(function.url + "/hooks/batch?token=abc"),
                    confirmation=False)
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id, job = run_job(d, tmp_path, spec, m)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)

    st = stats(function)
    assert st["invocations"] == len(keys)
    for e in st["log"]:
        assert not e["lambda"] and not e["authorization"]
        assert e["path"] == "/hooks/batch?token=abc"
        ev = e["event"]
        assert ev["invocationSchemaVersion"] == "1.0"
        assert "userArguments" not in ev["job"]
        t = ev["tasks"][0]
        assert t["s3BucketArn"] == "arn:aws:s3:::" + bucket
        assert "s3Bucket" not in t
        assert t["s3VersionId"] == first[e["key"]]
        # URL-encoded: a reader using unquote_plus gets the key too.
        assert urllib.parse.unquote_plus(t["s3Key"]) == e["key"]
    assert sorted(e["key"] for e in st["log"]) == sorted(keys)
    for k in keys:
        assert tagging(s3, bucket, k, VersionId=first[k]) == {
            "lambda": "ran", "schema": "1.0"}, k
        assert tagging(s3, bucket, k) == {}, k
    rows = report_rows(d, job_id)
    assert sorted(r["VersionId"] for r in rows) == sorted(first.values())


def test_result_contract(s3batchd, s3, make_bucket, function, tmp_path):
    """Succeeded, TemporaryFailure redriven with backoff (until success or
    max_attempts), X-Amz-Function-Error and 5xx/429 redriven,
    PermanentFailure and 4xx final, missing keys PermanentFailure by
    default, an invalid answer final; each in the report."""
    bucket = make_bucket()
    keys = ["ok/a", "temp2/b", "temp9/c", "perm/d", "missing/e",
            "fnerr1/f", "http503x2/g", "http429x1/h", "http400x1/i",
            "garbage/j", "slow300/k"]
    put_objects(s3, bucket, keys)
    d = s3batchd(daemon_conf=FAST + "max_attempts = 4\n",
                 extra_conf=lambda_conf(function))
    spec = job_spec(lambda_op(ARN, "2.0"), confirmation=False)
    t0 = time.monotonic()
    job_id, job = run_job(d, tmp_path, spec,
                          manifest_csv(tmp_path / "m.csv", bucket, keys))
    assert job["Status"] == "Complete", job
    rows = by_key(report_rows(d, job_id))
    want = {
        # key: (status, code, message, invocations)
        "ok/a": ("succeeded", "", "ok ok/a", 1),
        "temp2/b": ("succeeded", "", "tagged temp2/b", 3),
        "temp9/c": ("failed", "TemporaryFailure", "busy 4 temp9/c", 4),
        "perm/d": ("failed", "PermanentFailure", "refused perm/d", 1),
        "missing/e": ("failed", "PermanentFailure",
                      "the function returned PermanentFailure", 1),
        "fnerr1/f": ("succeeded", "", "tagged fnerr1/f", 2),
        "http503x2/g": ("succeeded", "", "tagged http503x2/g", 3),
        "http429x1/h": ("succeeded", "", "tagged http429x1/h", 2),
        "http400x1/i": ("failed", "ServiceException", "stand-in 400", 1),
        "garbage/j": ("failed", "InvalidResponse",
                      "the function's answer is not JSON", 1),
        "slow300/k": ("succeeded", "", "tagged slow300/k", 1),
    }
    st = stats(function)
    for k, (status, code, msg, n) in want.items():
        r = rows[k]
        assert (r["TaskStatus"], r["ErrorCode"], r["ResultMessage"]) == \
            (status, code, msg), r
        assert st["per_object"]["%s/%s" % (bucket, k)] == n, k
        assert r["Attempts"] == n, r
        if msg.startswith("tagged "):
            assert tagging(s3, bucket, k) == {"lambda": "ran",
                                              "schema": "2.0"}, k
        else:
            assert tagging(s3, bucket, k) == {}, k
    assert rows["http400x1/i"]["HTTPStatusCode"] == 400
    assert rows["perm/d"]["HTTPStatusCode"] == 200
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] == 6
    assert ps["NumberOfTasksFailed"] == 5
    # The redrives of one task keep its taskId and invocationId.
    inv = [e["event"] for e in st["log"] if e["key"] == "temp9/c"]
    assert len({e["tasks"][0]["taskId"] for e in inv}) == 1
    assert len({e["invocationId"] for e in inv}) == 1
    assert time.monotonic() - t0 < 60


def test_treat_missing_keys_as(s3batchd, s3, make_bucket, function,
                               tmp_path):
    bucket = make_bucket()
    keys = ["a", "b"]
    put_objects(s3, bucket, keys)
    d = s3batchd(daemon_conf=FAST + "max_attempts = 3\n",
                 extra_conf=lambda_conf(function))
    for missing_as, status, code, n in (
            ("Succeeded", "succeeded", "", 1),
            ("TemporaryFailure", "failed", "TemporaryFailure", 3),
            ("PermanentFailure", "failed", "PermanentFailure", 1)):
        function.state.reset()
        spec = job_spec(lambda_op(ARN, "2.0", {"mode": "missing",
                                               "missing_as": missing_as}),
                        confirmation=False)
        job_id, job = run_job(d, tmp_path, spec,
                              manifest_csv(tmp_path / "m.csv", bucket, keys))
        assert job["Status"] == "Complete", job
        for r in report_rows(d, job_id):
            assert (r["TaskStatus"], r["ErrorCode"]) == (status, code), r
            assert r["Attempts"] == n
        if status == "succeeded":
            assert {r["ResultMessage"] for r in report_rows(d, job_id)} == \
                {"Successful"}
        assert set(stats(function)["per_task"].values()) == {n}


def test_region_sections_profiles_and_signature(s3batchd, s3, make_bucket,
                                                function, tmp_path):
    """[lambda REGION] wins over [lambda default]; the RoleArn's profile
    signs when it exists; a wrong secret is refused by the stand-in's
    SigV4 check and the task fails without retries; no section at all
    fails the task with NoSuchEndpoint."""
    bucket = make_bucket()
    put_objects(s3, bucket, ["ok/x"])
    m = manifest_csv(tmp_path / "m.csv", bucket, ["ok/x"])
    function.state.keys["PROFAK"] = "PROFSK"
    d = s3batchd(daemon_conf=FAST, extra_conf=(
        lambda_conf(function, sk="WRONG") +
        lambda_conf(function, name="eu-west-1") +
        "[credentials other-role]\naccess_key_id = PROFAK\n"
        "secret_access_key = PROFSK\n"))
    eu = "arn:aws:lambda:eu-west-1:123456789012:function:f:live"

    job_id, job = run_job(d, tmp_path, job_spec(lambda_op(eu),
                                                confirmation=False), m)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 1
    e = stats(function)["log"][-1]
    assert e["scope"]["region"] == "eu-west-1" and e["function"] == eu

    job_id, job = run_job(d, tmp_path, job_spec(lambda_op(ARN),
                                                confirmation=False), m)
    r = report_rows(d, job_id)[0]
    assert (r["TaskStatus"], r["ErrorCode"], r["HTTPStatusCode"],
            r["Attempts"]) == ("failed", "InvalidSignatureException", 403, 1)
    assert r["ResultMessage"] == "signature mismatch"

    spec = job_spec(lambda_op(ARN), confirmation=False,
                    RoleArn="arn:aws:iam::123456789012:role/other-role")
    job_id, job = run_job(d, tmp_path, spec, m)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 1
    assert stats(function)["log"][-1]["scope"]["access_key"] == "PROFAK"

    d2 = s3batchd(daemon_conf=FAST)
    job_id, job = run_job(d2, tmp_path, job_spec(lambda_op(ARN),
                                                 confirmation=False), m)
    r = report_rows(d2, job_id)[0]
    assert (r["TaskStatus"], r["ErrorCode"]) == ("failed", "NoSuchEndpoint")
    assert "[lambda us-east-1] or [lambda default]" in r["ResultMessage"]


def test_inventory_pinned_etags(s3batchd, s3, make_bucket, function,
                                tmp_path):
    """An inventory manifest pins ETags: an object changed since is not
    handed to the function (HEAD If-Match, 412); the others are."""
    b = make_bucket()
    inv = make_bucket()
    keys = ["tag/k%02d" % i for i in range(10)]
    etags = put_objects(s3, b, keys)
    rows = [(b, urllib.parse.quote(k), etags[k].strip('"')) for k in keys]
    key, etag = inventory_manifest(s3, b, inv, rows, "Bucket, Key, ETag")
    for k in keys[:3]:
        s3.put_object(Bucket=b, Key=k, Body=b"changed")
    d = s3batchd(daemon_conf=FAST)
    spec = job_spec(lambda_op(function.url + "/x", "2.0"),
                    confirmation=False)
    spec["Manifest"] = inventory_location(inv, key, etag)
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 3
    failed = report_rows(d, job_id, failed_only=True)
    assert sorted(urllib.parse.unquote(r["Key"]) for r in failed) == keys[:3]
    assert all(r["HTTPStatusCode"] == 412 and
               r["ErrorCode"] == "PreconditionFailed" for r in failed)
    assert sorted(e["key"] for e in stats(function)["log"]) == keys[3:]
    for k in keys[:3]:
        assert tagging(s3, b, k) == {}
    for k in keys[3:]:
        assert tagging(s3, b, k) == {"lambda": "ran", "schema": "2.0"}


def test_bad_parameters(s3batchd, function, tmp_path):
    d = s3batchd()
    for op, msg in (
            (lambda_op("f", "1.0", {"a": "b"}),
             "Operation.LambdaInvoke.UserArguments: needs "
             "InvocationSchemaVersion 2.0"),
            (lambda_op("f", "3.0"),
             "Operation.LambdaInvoke.InvocationSchemaVersion: \"3.0\" is "
             "not 1.0 or 2.0"),
            (lambda_op("arn:aws:s3:::bucket"),
             "Operation.LambdaInvoke.FunctionArn: \"arn:aws:s3:::bucket\" "
             "is not a Lambda function ARN"),
            (lambda_op("https://u:p@example.com/"),
             "carries credentials")):
        spec = job_spec(op, confirmation=False)
        p = tmp_path / "spec.json"
        p.write_text(json.dumps(spec))
        m = tmp_path / "m.csv"
        m.write_text("b,k\n")
        r = d.ctl("create-job", "--cli-input-json", "file://%s" % p,
                  "--manifest-file", m)
        assert r.rc != 0 and msg in r.err + r.out, r


def test_cancel_during_redrives(s3batchd, s3, make_bucket, function,
                                tmp_path):
    """A task answering TemporaryFailure is redriven with backoff up to
    max_attempts; a cancel meanwhile starts no other task, and the job ends
    Cancelled once that task's redrives end (the scheduler lets in-flight
    tasks finish)."""
    bucket = make_bucket()
    keys = ["temp1000/a"] + ["ok/%02d" % i for i in range(50)]
    put_objects(s3, bucket, keys)
    d = s3batchd(daemon_conf="max_inflight = 1\nmax_attempts = 10\n"
                 "retry_base = 100ms\nretry_max = 100ms\n",
                 extra_conf=lambda_conf(function))
    job_id = create(d, tmp_path, job_spec(lambda_op(ARN), confirmation=False),
                    manifest_csv(tmp_path / "m.csv", bucket, keys))
    wait_until("3 invocations of the failing task",
               lambda: stats(function)["invocations"] >= 3, timeout=30,
               interval=0.02)
    assert stats(function)["per_object"] == {
        "%s/temp1000/a" % bucket: stats(function)["invocations"]}
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Cancelled")
    job = d.wait_status(job_id, "Cancelled", timeout=30)
    st = stats(function)
    assert st["per_object"] == {"%s/temp1000/a" % bucket: 10}
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 0
    r = report_rows(d, job_id)
    assert len(r) == 1 and r[0]["ErrorCode"] == "TemporaryFailure"
    assert r[0]["ResultMessage"] == "busy 10 temp1000/a"
    # Cancelled means no more invocations: a second later, still 10.
    time.sleep(1)
    assert stats(function)["invocations"] == 10


def test_at_least_once_across_kill9(s3batchd, s3, make_bucket, function,
                                    tmp_path):
    """kill -9 mid-job: every object is invoked at least once and every task
    has exactly one result; objects in flight at the crash run again."""
    bucket = make_bucket()
    keys = ["slow20/%03d" % i for i in range(300)]
    put_objects(s3, bucket, keys)
    d = s3batchd(daemon_conf=FAST, extra_conf=lambda_conf(
        function, extra="max_connections = 8"))
    job_id = create(d, tmp_path, job_spec(lambda_op(ARN), confirmation=False),
                    manifest_csv(tmp_path / "m.csv", bucket, keys))
    wait_until("60 invocations", lambda: stats(function)["invocations"] >=
               60, timeout=60, interval=0.02)
    job = d.describe(job_id)
    assert job["Status"] == "Active" and \
        job["ProgressSummary"]["NumberOfTasksSucceeded"] < 300, job
    d.kill9()
    d.start()
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 300
    st = stats(function)
    per = st["per_object"]
    assert set(per) == {"%s/%s" % (bucket, k) for k in keys}
    assert min(per.values()) >= 1
    assert st["invocations"] >= 300
    rows = report_rows(d, job_id)
    assert sorted(urllib.parse.unquote(r["Key"]) for r in rows) == keys
    # The taskId is stable across the restart for an object run twice.
    again = [k for k, n in per.items() if n > 1]
    for obj in again:
        ids = {e["event"]["tasks"][0]["taskId"] for e in st["log"]
               if "%s/%s" % (e["bucket"], e["key"]) == obj}
        assert len(ids) == 1
    tags = taggings(s3, bucket, keys)
    assert [k for k in keys
            if tags[k] != {"lambda": "ran", "schema": "1.0"}] == []
    print("kill -9: %d objects, %d invocations, %d invoked twice" %
          (len(keys), st["invocations"], len(again)))
