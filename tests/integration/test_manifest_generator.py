"""ManifestGenerator (S3JobManifestGenerator) against a real Ceph RGW.

Each filter field of JobManifestGeneratorFilter runs as a real job
(S3PutObjectTagging with a tag naming the case); the objects the job
tagged, read back with boto3, must be exactly the objects boto3 selects
with the same rule over its own listing (and HEADs, for encryption and
replication status). The generated manifest written to
ManifestOutputLocation is read and checked with boto3 too.

RGW here has no replication (PutBucketReplication answers
MethodNotAllowed without multisite), so the EligibleForReplication test
puts replproxy.ReplProxy, a TEST STAND-IN, between the daemon and RGW: it
answers GetBucketReplication with a fixed configuration and forwards
every other request to RGW unchanged.
"""

import csv
import datetime
import gzip
import hashlib
import io
import json
import time
import urllib.parse

import botocore.exceptions
import pytest

from replproxy import ReplProxy
from s3b import (ROLE, bucket_conf, create_job as create, endpoint_conf,
                 http_status, put_objects, remove_bucket, wait_until,
                 write_json)

KMS_KEY = "testkey-1"
KMS_ARN = "arn:aws:kms:us-east-1:123456789012:key/" + KMS_KEY
SSEC_KEY = "0123456789abcdef0123456789abcdef"
FORMAT = "S3InventoryReport_CSV_20211130"


def gen_spec(bucket, tag, flt=None, output=None, confirmation=False):
    gen = {"SourceBucket": "arn:aws:s3:::%s" % bucket,
           "EnableManifestOutput": output is not None}
    if flt is not None:
        gen["Filter"] = flt
    if output is not None:
        gen["ManifestOutputLocation"] = output
    return {
        "Operation": {"S3PutObjectTagging": {
            "TagSet": [{"Key": "case", "Value": tag}]}},
        "ManifestGenerator": {"S3JobManifestGenerator": gen},
        "Report": {"Enabled": False},
        "Priority": 10,
        "RoleArn": ROLE,
        "ConfirmationRequired": confirmation,
    }


def run_job(d, tmp_path, spec, timeout=120):
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed", "Cancelled"),
                        timeout=timeout)
    return job_id, job


def head(s3, bucket, key, **kw):
    """HEAD headers, or None for an SSE-C object (400 without its key)."""
    try:
        return s3.head_object(Bucket=bucket, Key=key, **kw)
    except botocore.exceptions.ClientError as e:
        if http_status(e) == 400:
            return None
        raise


def tagged_with(s3, bucket, keys, tag):
    out = set()
    for k in keys:
        tags = {t["Key"]: t["Value"] for t in
                s3.get_object_tagging(Bucket=bucket, Key=k)["TagSet"]}
        if tags.get("case") == tag:
            out.add(k)
    return out


# ---------------------------------------------------------------------------
# The bucket every filter case reads: keys, sizes, classes, times and
# encryptions chosen so that each filter splits it.
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def source(rgw):
    s3 = rgw.client()
    name = "s3b-gen-%d" % int(time.time() * 1000)
    s3.create_bucket(Bucket=name)
    first = ["a/%02d.txt" % i for i in range(10)] + \
        ["b/x%02d.log" % i for i in range(6)] + \
        ["b/mid-%d.bin" % i for i in range(4)] + \
        ["sp ace/ü+%%.txt", "c/mid/deep.log"]
    for k in first:
        s3.put_object(Bucket=name, Key=k, Body=b"x" * (len(k) * 7 % 200))
    time.sleep(1.5)
    boundary = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(1.5)
    second = ["a/late-%d.txt" % i for i in range(5)]
    put_objects(s3, name, second, body=lambda k: b"y" * 150)
    classes = {"ia/%d" % i: "STANDARD_IA" for i in range(3)}
    classes.update({"gl/%d" % i: "GLACIER" for i in range(2)})
    for k, sc in classes.items():
        s3.put_object(Bucket=name, Key=k, Body=b"z" * 60, StorageClass=sc)
    kms = ["enc/kms-%d" % i for i in range(3)]
    for k in kms:
        s3.put_object(Bucket=name, Key=k, Body=b"k" * 10,
                      ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_KEY)
    ssec = ["enc/ssec-%d" % i for i in range(2)]
    for k in ssec:
        s3.put_object(Bucket=name, Key=k, Body=b"c" * 10,
                      SSECustomerAlgorithm="AES256", SSECustomerKey=SSEC_KEY)
    keys = first + second + list(classes) + kms + ssec
    listing = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            listing[o["Key"]] = o
    assert set(listing) == set(keys)
    heads = {k: head(s3, name, k) for k in keys}
    yield {"bucket": name, "keys": keys, "listing": listing,
           "heads": heads, "boundary": boundary, "ssec": set(ssec)}
    remove_bucket(s3, name)


def sse_kind(h):
    if h is None:
        return "SSEC"
    v = h.get("ServerSideEncryption")
    return {"AES256": "SSES3", "aws:kms": "SSEKMS",
            "aws:kms:dsse": "DSSEKMS"}.get(v, "NOTSSE")


# (case name, Filter, boto3 rule over (key, listing entry, HEAD))
CASES = [
    ("all", None, lambda k, o, h: True),
    ("prefix", {"KeyNameConstraint": {"MatchAnyPrefix": ["a/"]}},
     lambda k, o, h: k.startswith("a/")),
    ("prefixes", {"KeyNameConstraint": {"MatchAnyPrefix": ["a/0", "b/x"]}},
     lambda k, o, h: k.startswith("a/0") or k.startswith("b/x")),
    ("suffix", {"KeyNameConstraint": {"MatchAnySuffix": [".log"]}},
     lambda k, o, h: k.endswith(".log")),
    ("substring", {"KeyNameConstraint": {"MatchAnySubstring": ["mid"]}},
     lambda k, o, h: "mid" in k),
    ("key-and", {"KeyNameConstraint": {"MatchAnyPrefix": ["b/"],
                                       "MatchAnySuffix": [".log", ".bin"],
                                       "MatchAnySubstring": ["x0"]}},
     lambda k, o, h: k.startswith("b/") and
     (k.endswith(".log") or k.endswith(".bin")) and "x0" in k),
    ("special-key", {"KeyNameConstraint": {"MatchAnyPrefix": ["sp ace/"]}},
     lambda k, o, h: k.startswith("sp ace/")),
    ("larger", {"ObjectSizeGreaterThanBytes": 100},
     lambda k, o, h: o["Size"] > 100),
    ("smaller", {"ObjectSizeLessThanBytes": 60},
     lambda k, o, h: o["Size"] < 60),
    ("size-range", {"ObjectSizeGreaterThanBytes": 10,
                    "ObjectSizeLessThanBytes": 150},
     lambda k, o, h: 10 < o["Size"] < 150),
    ("class", {"MatchAnyStorageClass": ["STANDARD_IA", "GLACIER"]},
     lambda k, o, h: o.get("StorageClass", "STANDARD") in
     ("STANDARD_IA", "GLACIER")),
    ("standard", {"MatchAnyStorageClass": ["STANDARD"]},
     lambda k, o, h: o.get("StorageClass", "STANDARD") == "STANDARD"),
    ("sse-kms", {"MatchAnyObjectEncryption": [{"SSEKMS": {}}]},
     lambda k, o, h: sse_kind(h) == "SSEKMS"),
    ("sse-kms-key", {"MatchAnyObjectEncryption": [
        {"SSEKMS": {"KmsKeyArn": KMS_ARN}}]},
     lambda k, o, h: sse_kind(h) == "SSEKMS" and
     h.get("SSEKMSKeyId") in (KMS_KEY, KMS_ARN)),
    ("sse-kms-other-key", {"MatchAnyObjectEncryption": [
        {"SSEKMS": {"KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/nope"}}]},
     lambda k, o, h: False),
    ("not-sse", {"MatchAnyObjectEncryption": [{"NOTSSE": {}}]},
     lambda k, o, h: sse_kind(h) == "NOTSSE"),
    ("sse-c", {"MatchAnyObjectEncryption": [{"SSEC": {}}]},
     lambda k, o, h: sse_kind(h) == "SSEC"),
    ("repl-none", {"ObjectReplicationStatuses": ["NONE"]},
     lambda k, o, h: h is None or
     h.get("ReplicationStatus", "NONE") == "NONE"),
    ("repl-completed", {"ObjectReplicationStatuses": ["COMPLETED", "FAILED"]},
     lambda k, o, h: h is not None and
     h.get("ReplicationStatus") in ("COMPLETED", "COMPLETE", "FAILED")),
    ("combined", {"KeyNameConstraint": {"MatchAnyPrefix": ["a/", "enc/"]},
                  "ObjectSizeLessThanBytes": 100,
                  "MatchAnyObjectEncryption": [{"NOTSSE": {}}]},
     lambda k, o, h: (k.startswith("a/") or k.startswith("enc/")) and
     o["Size"] < 100 and sse_kind(h) == "NOTSSE"),
]


def test_each_filter_selects_what_boto3_selects(s3batchd, s3, source,
                                                tmp_path):
    d = s3batchd()
    bucket = source["bucket"]
    readable = [k for k in source["keys"] if k not in source["ssec"]]
    for name, flt, rule in CASES:
        want = {k for k in source["keys"]
                if rule(k, source["listing"][k], source["heads"][k])}
        job_id, job = run_job(d, tmp_path, gen_spec(bucket, name, flt))
        assert job["Status"] == "Complete", (name, job)
        ps = job["ProgressSummary"]
        assert ps["TotalNumberOfTasks"] == len(want), (name, ps)
        # S3 cannot tag an SSE-C object without its key: those fail.
        assert ps["NumberOfTasksFailed"] == len(want & source["ssec"]), name
        got = tagged_with(s3, bucket, readable, name)
        assert got == want - source["ssec"], name


def test_created_after_and_before(s3batchd, s3, make_bucket, tmp_path):
    # RGW moves LastModified on PutObjectTagging: each case gets its own
    # bucket, listed by boto3 just before the job.
    d = s3batchd()

    def populate():
        bucket = make_bucket()
        put_objects(s3, bucket, ["early/%d" % i for i in range(6)])
        time.sleep(1.2)
        t = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(1.2)
        put_objects(s3, bucket, ["late/%d" % i for i in range(4)])
        listing = {}
        for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket):
            for o in page.get("Contents", []):
                listing[o["Key"]] = o["LastModified"]
        return bucket, t, listing

    for name, flt, pick in [
            ("after", lambda t: {"CreatedAfter": t.isoformat()},
             lambda m, t: m > t),
            ("before", lambda t: {"CreatedBefore":
                                  t.strftime("%Y-%m-%dT%H:%M:%SZ")},
             lambda m, t: m < t.replace(microsecond=0)),
            ("window", lambda t: {"CreatedAfter": int(t.timestamp()) - 3600,
                                  "CreatedBefore": t.isoformat()},
             lambda m, t: m < t)]:
        bucket, t, listing = populate()
        want = {k for k, m in listing.items() if pick(m, t)}
        assert want and want != set(listing), name
        job_id, job = run_job(d, tmp_path, gen_spec(bucket, name, flt(t)))
        assert job["Status"] == "Complete", (name, job)
        assert tagged_with(s3, bucket, listing, name) == want, name


def read_generated(s3, out_bucket, manifest_key):
    """The generated manifest, as boto3 reads it: manifest.json and the
    rows of every data file (size and MD5 checked)."""
    m = json.loads(s3.get_object(Bucket=out_bucket,
                                 Key=manifest_key)["Body"].read())
    rows = []
    cols = [c.strip() for c in m["fileSchema"].split(",")]
    for f in m["files"]:
        data = s3.get_object(Bucket=out_bucket, Key=f["key"])["Body"].read()
        assert len(data) == f["size"]
        assert hashlib.md5(data).hexdigest() == f["MD5checksum"]
        text = gzip.decompress(data).decode()
        for rec in csv.reader(io.StringIO(text)):
            rows.append(dict(zip(cols, rec)))
    return m, rows


def test_manifest_output(s3batchd, s3, source, make_bucket, tmp_path):
    d = s3batchd()
    bucket = source["bucket"]
    out = make_bucket()
    flt = {"KeyNameConstraint": {"MatchAnyPrefix": ["a/", "sp ace/"]}}
    spec = gen_spec(bucket, "output", flt, output={
        "Bucket": "arn:aws:s3:::%s" % out,
        "ManifestPrefix": "generated/",
        "ManifestFormat": FORMAT,
        "ManifestEncryption": {"SSES3": {}}})
    job_id, job = run_job(d, tmp_path, spec)
    assert job["Status"] == "Complete", job
    want = {k for k in source["keys"]
            if k.startswith("a/") or k.startswith("sp ace/")}

    key = "generated/job-%s/manifest.json" % job_id
    desc = job["GeneratedManifestDescriptor"]
    assert desc["Format"] == FORMAT
    assert desc["Location"]["ObjectArn"] == "arn:aws:s3:::%s/%s" % (out, key)
    etag = s3.head_object(Bucket=out, Key=key)["ETag"].strip('"')
    assert desc["Location"]["ETag"].strip('"') == etag

    m, rows = read_generated(s3, out, key)
    assert m["sourceBucket"] == bucket
    assert m["destinationBucket"] == "arn:aws:s3:::%s" % out
    assert m["version"] == "2021-11-30"
    assert m["fileFormat"] == "CSV"
    for f in m["files"]:
        assert f["key"].startswith("generated/job-%s/data/" % job_id)
        assert f["key"].endswith(".csv.gz")
    got = {urllib.parse.unquote_plus(r["Key"]) for r in rows}
    assert got == want
    for r in rows:
        k = urllib.parse.unquote_plus(r["Key"])
        o = source["listing"][k]
        assert r["Bucket"] == bucket
        assert r["ETag"] == o["ETag"].strip('"')
        assert int(r["Size"]) == o["Size"]
        assert r["IsLatest"] == "true" and r["IsDeleteMarker"] == "false"
        assert r["VersionId"] == ""
        assert r["StorageClass"] == o.get("StorageClass", "STANDARD")

    # The generated manifest is a manifest like any other: a job reads it.
    spec2 = {
        "Operation": {"S3PutObjectTagging": {
            "TagSet": [{"Key": "case", "Value": "reread"}]}},
        "Manifest": {"Spec": {"Format": "S3InventoryReport_CSV_20161130"},
                     "Location": {"ObjectArn": desc["Location"]["ObjectArn"],
                                  "ETag": desc["Location"]["ETag"]}},
        "Report": {"Enabled": False}, "Priority": 10, "RoleArn": ROLE,
        "ConfirmationRequired": False}
    job2 = create(d, tmp_path, spec2)
    j2 = d.wait_status(job2, ("Complete", "Failed"), timeout=60)
    assert j2["Status"] == "Complete", j2
    assert tagged_with(s3, bucket, sorted(want), "reread") == want


def test_versioned_bucket_pins_current_versions(s3batchd, s3, make_bucket,
                                                tmp_path):
    d = s3batchd()
    bucket = make_bucket(versioned=True)
    out = make_bucket()
    for k in ["v/one", "v/two", "v/gone", "w/other"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"old")
    cur = {}
    for k in ["v/one", "v/two"]:
        cur[k] = s3.put_object(Bucket=bucket, Key=k, Body=b"new")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="v/gone")     # a delete marker
    spec = gen_spec(bucket, "versions",
                    {"KeyNameConstraint": {"MatchAnyPrefix": ["v/"]}},
                    output={"Bucket": "arn:aws:s3:::%s" % out,
                            "ManifestFormat": FORMAT})
    job_id, job = run_job(d, tmp_path, spec)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 2
    _, rows = read_generated(s3, out, "job-%s/manifest.json" % job_id)
    assert {urllib.parse.unquote_plus(r["Key"]): r["VersionId"]
            for r in rows} == cur
    vers = s3.list_object_versions(Bucket=bucket, Prefix="v/")["Versions"]
    for v in vers:
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(
            Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["TagSet"]}
        assert (tags.get("case") == "versions") == (
            cur.get(v["Key"]) == v["VersionId"]), v


def test_bad_filters_fail_create_job(s3batchd, source, tmp_path):
    d = s3batchd()
    bucket = source["bucket"]
    for flt, words in [
            ({"CreatedAfter": "yesterday"}, "CreatedAfter"),
            ({"ObjectReplicationStatuses": ["DONE"]},
             "ObjectReplicationStatuses"),
            ({"MatchAnyStorageClass": ["COLD"]}, "MatchAnyStorageClass"),
            ({"KeyNameConstraint": {"MatchAnyPrefix": [""]}},
             "MatchAnyPrefix")]:
        uri = write_json(tmp_path / "bad.json", gen_spec(bucket, "bad", flt))
        r = d.ctl("create-job", "--cli-input-json", uri)
        assert r.rc != 0, (flt, r)
        assert words in r.err + r.out, (flt, r)
    spec = gen_spec(bucket, "bad")
    spec["ManifestGenerator"]["S3JobManifestGenerator"][
        "EnableManifestOutput"] = True
    uri = write_json(tmp_path / "bad.json", spec)
    r = d.ctl("create-job", "--cli-input-json", uri)
    assert r.rc != 0 and "ManifestOutputLocation" in r.err + r.out, r


def test_missing_bucket_fails_the_job(s3batchd, tmp_path):
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, gen_spec("s3b-no-such-bucket-x",
                                                "none"))
    assert job["Status"] == "Failed", job
    reason = job["FailureReasons"][0]["FailureReason"]
    assert "NoSuchBucket" in reason and "s3b-no-such-bucket-x" in reason


# The EligibleForReplication and slow-listing tests put replproxy.ReplProxy,
# a TEST STAND-IN for what this RGW lacks (bucket replication), between the
# daemon and RGW: it answers GET /<bucket>?replication with REPLICATION_XML,
# can hold listings back, and forwards everything else to RGW unchanged.
REPLICATION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Role>arn:aws:iam::123456789012:role/repl</Role>
  <Rule><ID>plain</ID><Priority>1</Priority><Status>Enabled</Status>
    <Filter><Prefix>a/</Prefix></Filter>
    <Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>
    <DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>
  </Rule>
  <Rule><ID>tagged</ID><Priority>2</Priority><Status>Enabled</Status>
    <Filter><And><Prefix>b/</Prefix>
      <Tag><Key>team</Key><Value>x</Value></Tag></And></Filter>
    <Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>
    <DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>
  </Rule>
  <Rule><ID>off</ID><Priority>3</Priority><Status>Disabled</Status>
    <Filter><Prefix>c/</Prefix></Filter>
    <Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>
    <DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>
  </Rule>
</ReplicationConfiguration>
"""


def test_eligible_for_replication(s3batchd, s3, rgw, make_bucket, tmp_path):
    bucket = make_bucket()
    keys = ["a/1", "a/2", "b/tagged-1", "b/tagged-2", "b/other", "c/off",
            "d/none"]
    put_objects(s3, bucket, keys)
    for k in ["b/tagged-1", "b/tagged-2"]:
        s3.put_object_tagging(Bucket=bucket, Key=k, Tagging={"TagSet": [
            {"Key": "team", "Value": "x"}, {"Key": "more", "Value": "y"}]})
    s3.put_object_tagging(Bucket=bucket, Key="b/other", Tagging={"TagSet": [
        {"Key": "team", "Value": "z"}]})
    with ReplProxy(rgw.endpoint, REPLICATION_XML) as proxy:
        d = s3batchd(extra_conf=endpoint_conf(proxy.endpoint, name="repl") +
                     bucket_conf(bucket, "repl"))
        # boto3's rule over the same configuration: enabled rules, prefix,
        # and every tag of the rule among the object's tags.
        want = set()
        for k in keys:
            tags = {t["Key"]: t["Value"] for t in
                    s3.get_object_tagging(Bucket=bucket, Key=k)["TagSet"]}
            if k.startswith("a/") or (k.startswith("b/") and
                                      tags.get("team") == "x"):
                want.add(k)
        job_id, job = run_job(d, tmp_path, gen_spec(
            bucket, "eligible", {"EligibleForReplication": True}))
        assert job["Status"] == "Complete", job
        assert job["ProgressSummary"]["TotalNumberOfTasks"] == len(want)
        got = {k for k in keys if {t["Key"]: t["Value"] for t in
               s3.get_object_tagging(Bucket=bucket, Key=k)["TagSet"]}.get(
                   "case") == "eligible"}
        assert got == want == {"a/1", "a/2", "b/tagged-1", "b/tagged-2"}


def test_new_generator_job_lists_again_after_restart(s3batchd, s3, rgw,
                                                     make_bucket, tmp_path):
    bucket = make_bucket()
    keys = ["r/%04d" % i for i in range(2500)]
    put_objects(s3, bucket, keys, workers=32)
    with ReplProxy(rgw.endpoint, REPLICATION_XML, list_delay=1.0) as proxy:
        d = s3batchd(extra_conf=endpoint_conf(proxy.endpoint, name="slow") +
                     bucket_conf(bucket, "slow"))
        job_id = create(d, tmp_path, gen_spec(bucket, "restart"))
        # Mid-listing: the second page of three asked for.
        wait_until("the second listing request",
                   lambda: proxy.lists >= 2, timeout=60)
        job = d.describe(job_id)
        assert job["Status"] == "New", job
        assert "Generating the manifest" in job["StatusUpdateReason"]
        d.kill9()
        proxy.list_delay = 0.0
        d.start()
        job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
        assert job["Status"] == "Complete", job
        ps = job["ProgressSummary"]
        assert ps["TotalNumberOfTasks"] == len(keys)
        assert ps["NumberOfTasksSucceeded"] == len(keys)


def test_cancel_while_listing(s3batchd, s3, rgw, make_bucket, tmp_path):
    bucket = make_bucket()
    put_objects(s3, bucket, ["k/%04d" % i for i in range(2100)], workers=32)
    with ReplProxy(rgw.endpoint, REPLICATION_XML, list_delay=0.5) as proxy:
        d = s3batchd(extra_conf=endpoint_conf(proxy.endpoint, name="slow") +
                     bucket_conf(bucket, "slow"))
        job_id = create(d, tmp_path, gen_spec(bucket, "cancel"))
        wait_until("the first listing request", lambda: proxy.lists >= 1,
                   timeout=60)
        assert d.describe(job_id)["Status"] == "New"
        d.ok("update-job-status", "--job-id", job_id,
             "--requested-job-status", "Cancelled")
        job = d.wait_status(job_id, ("Cancelled",), timeout=30)
        # A listing request already sent may still end (0.5 s each); after
        # that, none: the count stays put for 1.5 s.
        time.sleep(2.0)
        lists = proxy.lists
        time.sleep(1.5)
        assert proxy.lists == lists     # the listing stopped
        assert d.describe(job_id)["Status"] == "Cancelled"
        assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0
