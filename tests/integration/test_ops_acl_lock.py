"""S3PutObjectAcl, S3PutObjectRetention and S3PutObjectLegalHold against a
real Ceph RGW with Object Lock buckets: jobs created with Amazon's JSON run
through the real s3batchd and s3batchctl; every effect is checked with
boto3, never with the project's own code, and every refusal must reach the
report with S3's status and error code."""

import datetime
import time
import urllib.parse

import botocore.exceptions
import pytest

import s3b
from s3b import (by_key, create_bucket, create_job as create, error_code,
                 http_status, inventory_location, inventory_manifest,
                 job_spec, manifest_csv, pmap, put_objects, remove_bucket,
                 report_rows, unique_bucket_name, write_json)

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
N = 2000
AWKWARD = s3b.AWKWARD[:5]


def utc(seconds):
    """Now plus seconds, to the second (S3 keeps whole seconds or ms)."""
    t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return t + datetime.timedelta(seconds=seconds)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_job(d, tmp_path, operation, bucket, keys, versions=None, timeout=300,
            name="m.csv"):
    spec = job_spec(operation, confirmation=False)
    if versions is not None:
        spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    m = manifest_csv(tmp_path / ("%d-%s" % (time.monotonic_ns(), name)),
                     bucket, keys, versions)
    return s3b.run_job(d, tmp_path, spec, m, timeout=timeout)


def grants_of(s3, bucket, key, **kw):
    """An object's ACL as a set of (grantee, permission)."""
    acl = s3.get_object_acl(Bucket=bucket, Key=key, **kw)
    out = set()
    for g in acl["Grants"]:
        who = g["Grantee"].get("ID") or g["Grantee"].get("URI") or \
            g["Grantee"].get("EmailAddress")
        out.add((who, g["Permission"]))
    return acl["Owner"]["ID"], out


def retention(s3, bucket, key, **kw):
    try:
        r = s3.get_object_retention(Bucket=bucket, Key=key, **kw)
    except botocore.exceptions.ClientError as e:
        if error_code(e) in ("NoSuchObjectLockConfiguration",
                             "ObjectLockConfigurationNotFoundError"):
            return None
        raise
    r = r["Retention"]
    return r["Mode"], r["RetainUntilDate"].astimezone(datetime.timezone.utc)


def legal_hold(s3, bucket, key, **kw):
    try:
        return s3.get_object_legal_hold(Bucket=bucket, Key=key,
                                        **kw)["LegalHold"]["Status"]
    except botocore.exceptions.ClientError as e:
        if error_code(e) in ("NoSuchObjectLockConfiguration",
                             "ObjectLockConfigurationNotFoundError"):
            return None
        raise


@pytest.fixture(scope="module")
def locked2000(rgw):
    """One Object Lock bucket of 2,000 objects (awkward keys among them)
    for the three 2,000-object jobs: uploading and emptying it is most of
    their time. Each test leaves it usable by the others."""
    s3 = rgw.client()
    name = create_bucket(s3, unique_bucket_name("s3b-lock2k"),
                         object_lock=True)
    keys = ["obj/%04d" % i for i in range(N - len(AWKWARD))] + AWKWARD
    put_objects(s3, name, keys, workers=32)
    yield name, keys
    remove_bucket(s3, name)


def assert_all_succeeded(d, job_id, job, n):
    ps = job["ProgressSummary"]
    assert job["Status"] == "Complete", (job, report_rows(d, job_id, True))
    assert ps["TotalNumberOfTasks"] == n
    assert ps["NumberOfTasksSucceeded"] == n, report_rows(d, job_id, True)
    assert ps["NumberOfTasksFailed"] == 0


# --------------------------------------------------------------- S3PutObjectAcl

@pytest.mark.timeout(1200)
def test_acl_2000_grants_then_canned(s3batchd, s3, rgw, locked2000,
                                     tmp_path):
    bucket, keys = locked2000
    other = rgw.client("other")
    assert other.list_buckets()["Owner"]["ID"] == "other"
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, {"S3PutObjectAcl": {
        "AccessControlPolicy": {"AccessControlList": {
            "Owner": {"ID": "tester", "DisplayName": "Tester"},
            "Grants": [
                {"Grantee": {"TypeIdentifier": "id", "Identifier": "tester",
                             "DisplayName": "Tester"},
                 "Permission": "FULL_CONTROL"},
                {"Grantee": {"TypeIdentifier": "id", "Identifier": "other"},
                 "Permission": "READ"},
                {"Grantee": {"TypeIdentifier": "uri",
                             "Identifier": ALL_USERS},
                 "Permission": "READ_ACP"}]}}}}, bucket, keys)
    assert_all_succeeded(d, job_id, job, N)
    want = ("tester", {("tester", "FULL_CONTROL"), ("other", "READ"),
                       (ALL_USERS, "READ_ACP")})
    got = pmap(lambda k: grants_of(s3, bucket, k), keys)
    assert [k for k, g in zip(keys, got) if g != want] == []
    # The effect, seen by the grantee itself.
    for k in keys[:20] + AWKWARD:
        assert other.get_object(Bucket=bucket, Key=k)["Body"].read() == \
            k.encode()
    rows = report_rows(d, job_id)
    assert len(rows) == N and set(by_key(rows)) == set(keys)
    assert {(r["TaskStatus"], r["HTTPStatusCode"]) for r in rows} == \
        {("succeeded", 200)}

    # A canned ACL replaces all of it.
    job_id, job = run_job(d, tmp_path, {"S3PutObjectAcl": {
        "AccessControlPolicy": {"CannedAccessControlList": "private"}}},
        bucket, keys)
    assert_all_succeeded(d, job_id, job, N)
    got = pmap(lambda k: grants_of(s3, bucket, k), keys)
    assert [k for k, g in zip(keys, got)
            if g != ("tester", {("tester", "FULL_CONTROL")})] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_object(Bucket=bucket, Key=keys[0])
    assert http_status(e.value) == 403


def test_acl_versions_and_failures(s3batchd, s3, versioned_bucket, tmp_path):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")["VersionId"]
    s3.put_object(Bucket=b, Key="plain", Body=b"p")
    d = s3batchd()
    # Only v1 becomes public-read; a missing key and version fail alone.
    job_id, job = run_job(d, tmp_path, {"S3PutObjectAcl": {
        "AccessControlPolicy": {"CannedAccessControlList": "public-read"}}},
        b, ["doc", "missing", "doc"],
        versions=[v1, "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8"
                  "gdRQBpUMLUo", "null"])
    assert job["Status"] == "Complete", job
    rows = report_rows(d, job_id)
    assert rows[0]["TaskStatus"] == "succeeded", rows
    # Amazon would say NoSuchVersion for the second; RGW says NoSuchKey.
    assert [(r["HTTPStatusCode"], r["ErrorCode"]) for r in rows[1:]] == \
        [(404, "NoSuchKey"), (404, "NoSuchKey")], rows
    assert (ALL_USERS, "READ") in grants_of(s3, b, "doc", VersionId=v1)[1]
    assert (ALL_USERS, "READ") not in grants_of(s3, b, "doc",
                                                VersionId=v2)[1]

    # A grant S3 cannot resolve fails each task with S3's own code.
    job_id, job = run_job(d, tmp_path, {"S3PutObjectAcl": {
        "AccessControlPolicy": {"AccessControlList": {
            "Owner": {"ID": "tester"},
            "Grants": [{"Grantee": {"TypeIdentifier": "emailAddress",
                                    "Identifier": "nobody@example.com"},
                        "Permission": "READ"}]}}}}, b, ["plain"])
    rows = report_rows(d, job_id)
    assert [(r["TaskStatus"], r["HTTPStatusCode"], r["ErrorCode"])
            for r in rows] == [("failed", 400,
                                "UnresolvableGrantByEmailAddress")], rows
    assert grants_of(s3, b, "plain") == ("tester",
                                         {("tester", "FULL_CONTROL")})


def test_acl_without_owner_grant_quirk(s3batchd, s3, bucket, tmp_path):
    """The ACL is applied exactly as given, owner grant or not; on this RGW
    the owner then loses PutObjectTagging (docs/TESTING.md, quirk 8) and,
    without READ, the HEAD a pinned ETag needs: such a task fails with 403
    AccessDenied and the ACL is left alone."""
    etags = put_objects(s3, bucket, ["o1", "o2"])
    d = s3batchd()
    op = {"S3PutObjectAcl": {"AccessControlPolicy": {"AccessControlList": {
        "Owner": {"ID": "tester"},
        "Grants": [{"Grantee": {"TypeIdentifier": "id",
                                "Identifier": "other"},
                    "Permission": "READ"}]}}}}
    job_id, job = run_job(d, tmp_path, op, bucket, ["o1", "o2"])
    assert_all_succeeded(d, job_id, job, 2)
    assert grants_of(s3, bucket, "o1") == ("tester", {("other", "READ")})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="o1",
                              Tagging={"TagSet": []})
    assert http_status(e.value) == 403
    # A pinned ETag needs a HEAD, which the owner may no longer do.
    rows = [(bucket, k, etags[k].strip('"')) for k in ("o1", "o2")]
    key, etag = inventory_manifest(s3, bucket, bucket, rows,
                                   "Bucket, Key, ETag")
    spec = job_spec({"S3PutObjectAcl": {"AccessControlPolicy": {
        "CannedAccessControlList": "private"}}}, confirmation=False)
    spec["Manifest"] = inventory_location(bucket, key, etag)
    job_id = create(d, tmp_path, spec)
    d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    rows = report_rows(d, job_id)
    assert {(r["HTTPStatusCode"], r["ErrorCode"]) for r in rows} == \
        {(403, "AccessDenied")}, rows
    assert grants_of(s3, bucket, "o2") == ("tester", {("other", "READ")})
    # The owner can always rewrite the ACL itself (no pinned ETag).
    job_id, job = run_job(d, tmp_path, {"S3PutObjectAcl": {
        "AccessControlPolicy": {"CannedAccessControlList": "private"}}},
        bucket, ["o1", "o2"])
    assert_all_succeeded(d, job_id, job, 2)
    s3.put_object_tagging(Bucket=bucket, Key="o1", Tagging={"TagSet": []})


def test_bad_parameters_fail_create_job(s3batchd, bucket, tmp_path):
    """A bad parameter fails create-job with a message naming the field."""
    d = s3batchd()
    m = manifest_csv(tmp_path / "m.csv", bucket, ["k"])
    cases = [
        ({"S3PutObjectAcl": {"AccessControlPolicy": {}}},
         "Operation.S3PutObjectAcl.AccessControlPolicy"),
        ({"S3PutObjectAcl": {"AccessControlPolicy": {
            "CannedAccessControlList": "private",
            "AccessControlList": {"Owner": {"ID": "tester"}}}}},
         "not both"),
        ({"S3PutObjectAcl": {"AccessControlPolicy": {"AccessControlList": {
            "Owner": {"ID": "tester"}, "Grants": [{"Grantee": {
                "TypeIdentifier": "id"}, "Permission": "READ"}]}}}},
         "Grants[0].Grantee.Identifier"),
        ({"S3PutObjectRetention": {"Retention": {"Mode": "GOVERNANCE"}}},
         "Operation.S3PutObjectRetention.Retention: Mode without "
         "RetainUntilDate"),
        ({"S3PutObjectRetention": {"Retention": {
            "Mode": "GOVERNANCE", "RetainUntilDate": "soon"}}},
         "RetainUntilDate"),
        ({"S3PutObjectLegalHold": {"LegalHold": {"Status": "MAYBE"}}},
         "Operation.S3PutObjectLegalHold.LegalHold.Status"),
    ]
    for op, what in cases:
        spec = job_spec(op, confirmation=False)
        uri = write_json(tmp_path / "bad.json", spec)
        r = d.ctl("create-job", "--cli-input-json", uri,
                  "--manifest-file", str(m))
        assert r.rc != 0, (op, r)
        assert what in r.out + r.err, (op, r)


# --------------------------------------------------------- S3PutObjectRetention

@pytest.mark.timeout(1200)
def test_retention_2000_set_then_shorten_with_bypass(s3batchd, s3,
                                                     locked2000, tmp_path):
    b, keys = locked2000
    d = s3batchd()
    far, near = utc(2 * 86400), utc(86400)
    job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
        "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": iso(far)}}},
        b, keys)
    assert_all_succeeded(d, job_id, job, N)
    got = pmap(lambda k: retention(s3, b, k), keys)
    assert [k for k, r in zip(keys, got) if r != ("GOVERNANCE", far)] == []
    # Governance holds: a delete without the bypass is refused.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=b, Key=keys[0],
                         VersionId=s3.head_object(Bucket=b, Key=keys[0])
                         ["VersionId"])
    assert http_status(e.value) == 403

    # Shortening GOVERNANCE with BypassGovernanceRetention works.
    job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
        "BypassGovernanceRetention": True,
        "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": iso(near)}}},
        b, keys)
    assert_all_succeeded(d, job_id, job, N)
    got = pmap(lambda k: retention(s3, b, k), keys)
    assert [k for k, r in zip(keys, got) if r != ("GOVERNANCE", near)] == []


def test_retention_refusals_reported_per_task(s3batchd, s3, locked_bucket,
                                              make_bucket, tmp_path):
    """Shortening GOVERNANCE without the bypass, shortening or weakening
    COMPLIANCE even with it, a missing object and a bucket without Object
    Lock: each a failed task with S3's status and code, the others done."""
    b = locked_bucket
    plain = make_bucket()
    gov = ["gov/%d" % i for i in range(4)]
    comp = ["comp/%d" % i for i in range(3)]
    free = ["free/%d" % i for i in range(3)]
    put_objects(s3, b, gov + comp + free)
    put_objects(s3, plain, ["p"])
    # COMPLIANCE only for seconds: it cannot be lifted (docs/TESTING.md).
    comp_until = utc(30)
    gov_until = utc(3 * 86400)
    for k in gov:
        s3.put_object_retention(Bucket=b, Key=k, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": gov_until})
    for k in comp:
        s3.put_object_retention(Bucket=b, Key=k, Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": comp_until})
    d = s3batchd()
    try:
        # No bypass: GOVERNANCE cannot be shortened, COMPLIANCE not weakened.
        target = utc(86400)
        spec = job_spec({"S3PutObjectRetention": {"Retention": {
            "Mode": "GOVERNANCE", "RetainUntilDate": iso(target)}}},
            confirmation=False)
        m = tmp_path / "m1.csv"
        with open(m, "w") as f:
            for k in gov + comp + free + ["missing"]:
                f.write("%s,%s\n" % (b, urllib.parse.quote(k)))
            f.write("%s,p\n" % plain)
        job_id = create(d, tmp_path, spec, m)
        job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
        assert job["Status"] == "Complete", job
        rows = by_key(report_rows(d, job_id))
        for k in gov + comp:
            assert (rows[k]["TaskStatus"], rows[k]["HTTPStatusCode"],
                    rows[k]["ErrorCode"]) == ("failed", 403,
                                              "AccessDenied"), rows[k]
        for k in free:
            assert rows[k]["TaskStatus"] == "succeeded", rows[k]
            assert retention(s3, b, k) == ("GOVERNANCE", target)
        assert (rows["missing"]["HTTPStatusCode"],
                rows["missing"]["ErrorCode"]) == (404, "NoSuchKey")
        assert (rows["p"]["HTTPStatusCode"], rows["p"]["ErrorCode"]) == \
            (400, "InvalidRequest")
        for k in gov:
            assert retention(s3, b, k) == ("GOVERNANCE", gov_until)
        for k in comp:
            assert retention(s3, b, k) == ("COMPLIANCE", comp_until)
        ps = job["ProgressSummary"]
        assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) == \
            (3, 9)

        # With the bypass: GOVERNANCE shortens, COMPLIANCE still refuses
        # both a shorter date and a move to GOVERNANCE; extending is fine.
        shorter = utc(86400 - 60)
        job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
            "BypassGovernanceRetention": True,
            "Retention": {"Mode": "GOVERNANCE",
                          "RetainUntilDate": iso(shorter)}}},
            b, gov + comp)
        rows = by_key(report_rows(d, job_id))
        for k in gov:
            assert rows[k]["TaskStatus"] == "succeeded", rows[k]
            assert retention(s3, b, k) == ("GOVERNANCE", shorter)
        for k in comp:
            assert (rows[k]["HTTPStatusCode"], rows[k]["ErrorCode"]) == \
                (403, "AccessDenied"), rows[k]
        job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
            "BypassGovernanceRetention": True,
            "Retention": {"Mode": "COMPLIANCE",
                          "RetainUntilDate": iso(utc(5))}}}, b, comp)
        rows = report_rows(d, job_id)
        assert {(r["HTTPStatusCode"], r["ErrorCode"]) for r in rows} == \
            {(403, "AccessDenied")}, rows
        for k in comp:
            assert retention(s3, b, k) == ("COMPLIANCE", comp_until)
        comp_until = comp_until + datetime.timedelta(seconds=2)
        job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
            "Retention": {"Mode": "COMPLIANCE",
                          "RetainUntilDate": iso(comp_until)}}}, b, comp)
        assert_all_succeeded(d, job_id, job, len(comp))
        for k in comp:
            assert retention(s3, b, k) == ("COMPLIANCE", comp_until)
        # A date already past is S3's to refuse, task by task.
        job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
            "Retention": {"Mode": "GOVERNANCE",
                          "RetainUntilDate": "2001-01-01T00:00:00Z"}}},
            b, free[:1])
        rows = report_rows(d, job_id)
        assert [(r["HTTPStatusCode"], r["ErrorCode"]) for r in rows] == \
            [(400, "InvalidArgument")], rows
    finally:
        # Let COMPLIANCE run out, so that the bucket can be removed.
        left = (comp_until - utc(0)).total_seconds() + 1
        if left > 0:
            time.sleep(left)


def test_retention_removal_quirk(s3batchd, s3, locked_bucket, tmp_path):
    """Retention without Mode and RetainUntilDate is Amazon's 'remove the
    retention' (an empty <Retention/>, with the bypass for GOVERNANCE);
    this RGW answers 400 MalformedXML, which the report carries."""
    b = locked_bucket
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    until = utc(86400)
    s3.put_object_retention(Bucket=b, Key="k", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": until})
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
        "BypassGovernanceRetention": True, "Retention": {}}}, b, ["k"])
    rows = report_rows(d, job_id)
    assert [(r["HTTPStatusCode"], r["ErrorCode"]) for r in rows] == \
        [(400, "MalformedXML")], rows
    assert retention(s3, b, "k") == ("GOVERNANCE", until)


def test_retention_versions_and_pinned_etags(s3batchd, s3, locked_bucket,
                                             make_bucket, tmp_path):
    b = locked_bucket
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")["VersionId"]
    d = s3batchd()
    until = utc(86400)
    job_id, job = run_job(d, tmp_path, {"S3PutObjectRetention": {
        "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": iso(until)}}},
        b, ["doc"], versions=[v1])
    assert_all_succeeded(d, job_id, job, 1)
    assert retention(s3, b, "doc", VersionId=v1) == ("GOVERNANCE", until)
    assert retention(s3, b, "doc", VersionId=v2) is None

    # Pinned ETags (an inventory report): changed objects are not touched.
    keys = ["e%02d" % i for i in range(10)]
    etags = put_objects(s3, b, keys)
    inv = make_bucket()
    rows = [(b, k, etags[k].strip('"')) for k in keys]
    key, etag = inventory_manifest(s3, b, inv, rows, "Bucket, Key, ETag")
    for k in keys[:3]:
        s3.put_object(Bucket=b, Key=k, Body=b"changed")
    spec = job_spec({"S3PutObjectRetention": {"Retention": {
        "Mode": "GOVERNANCE", "RetainUntilDate": iso(until)}}},
        confirmation=False)
    spec["Manifest"] = inventory_location(inv, key, etag)
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    rows = by_key(report_rows(d, job_id))
    for k in keys[:3]:
        assert (rows[k]["HTTPStatusCode"], rows[k]["ErrorCode"]) == \
            (412, "PreconditionFailed"), rows[k]
        assert retention(s3, b, k) is None
    for k in keys[3:]:
        assert rows[k]["TaskStatus"] == "succeeded", rows[k]
        assert retention(s3, b, k) == ("GOVERNANCE", until)


# --------------------------------------------------------- S3PutObjectLegalHold

@pytest.mark.timeout(1200)
def test_legal_hold_2000_on_then_off(s3batchd, s3, locked2000, tmp_path):
    b, keys = locked2000
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, {"S3PutObjectLegalHold": {
        "LegalHold": {"Status": "ON"}}}, b, keys)
    assert_all_succeeded(d, job_id, job, N)
    got = pmap(lambda k: legal_hold(s3, b, k), keys)
    assert [k for k, s in zip(keys, got) if s != "ON"] == []
    # The hold holds: even a bypassing delete of the version is refused.
    vid = s3.head_object(Bucket=b, Key=keys[-1])["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=b, Key=keys[-1], VersionId=vid,
                         BypassGovernanceRetention=True)
    assert http_status(e.value) == 403

    job_id, job = run_job(d, tmp_path, {"S3PutObjectLegalHold": {
        "LegalHold": {"Status": "OFF"}}}, b, keys)
    assert_all_succeeded(d, job_id, job, N)
    got = pmap(lambda k: legal_hold(s3, b, k), keys)
    assert [k for k, s in zip(keys, got) if s != "OFF"] == []


def test_legal_hold_versions_and_failures(s3batchd, s3, locked_bucket,
                                          make_bucket, tmp_path):
    b = locked_bucket
    plain = make_bucket()
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")["VersionId"]
    s3.put_object(Bucket=plain, Key="p", Body=b"p")
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, {"S3PutObjectLegalHold": {
        "LegalHold": {"Status": "ON"}}}, b, ["doc"], versions=[v2])
    assert_all_succeeded(d, job_id, job, 1)
    assert legal_hold(s3, b, "doc", VersionId=v2) == "ON"
    assert legal_hold(s3, b, "doc", VersionId=v1) in (None, "OFF")

    spec = job_spec({"S3PutObjectLegalHold": {"LegalHold": {
        "Status": "ON"}}}, confirmation=False)
    m = tmp_path / "m.csv"
    m.write_text("%s,doc\n%s,missing\n%s,p\n" % (b, b, plain))
    job_id = create(d, tmp_path, spec, m)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    rows = by_key(report_rows(d, job_id))
    assert rows["doc"]["TaskStatus"] == "succeeded"
    assert (rows["missing"]["HTTPStatusCode"],
            rows["missing"]["ErrorCode"]) == (404, "NoSuchKey")
    assert (rows["p"]["HTTPStatusCode"], rows["p"]["ErrorCode"]) == \
        (400, "InvalidRequest")
    assert legal_hold(s3, b, "doc") == "ON"
