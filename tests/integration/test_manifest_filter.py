"""Manifest.Filter (docs/FILTERS.md): a WHERE filter over the rows of an
inventory report given to create-job. The real daemon and s3batchctl run
the jobs on RGW; boto3 checks that exactly the selected objects changed.
The inventory reports are written by the test (s3b.inventory_manifest) in
Amazon's format, their encryption columns made-up values since what is
checked is which rows the filter selects, not what RGW reports; one case
reads the manifest the daemon's own ManifestGenerator writes."""

import json
import urllib.parse

from s3b import (AWKWARD, inventory_location, inventory_manifest, job_spec,
                 manifest_csv, put_objects, report_rows, taggings, write_json)
from s3b import create_job as create

# Amazon's Bucket Key example: the 6th column is BucketKeyStatus.
SCHEMA = ("Bucket, Key, Size, LastModifiedDate, EncryptionStatus, "
          "BucketKeyStatus")
TAG = {"S3PutObjectTagging": {"TagSet": [{"Key": "picked", "Value": "1"}]}}


def inventory(s3, bucket, inv, keys, prefix="inv"):
    """A report of keys: every third row has BucketKeyStatus DISABLED;
    Size is the row's index; EncryptionStatus NOT-SSE for even rows.
    Returns (manifest key, ETag, {key: row})."""
    rows = {}
    for i, k in enumerate(keys):
        rows[k] = (bucket, urllib.parse.quote(k, safe="/"), str(i),
                   "2024-01-%02dT00:00:00.000Z" % (1 + i % 28),
                   "NOT-SSE" if i % 2 == 0 else "SSE-S3",
                   "DISABLED" if i % 3 == 0 else "ENABLED")
    key, etag = inventory_manifest(s3, bucket, inv, list(rows.values()),
                                   SCHEMA, prefix=prefix)
    return key, etag, rows


def inventoried(s3, make_bucket, keys):
    """A bucket of keys and another holding its report (inventory above).
    Returns (bucket, report's bucket, manifest key, ETag, {key: row})."""
    b = make_bucket()
    inv = make_bucket()
    put_objects(s3, b, keys)
    key, etag, rows = inventory(s3, b, inv, keys)
    return b, inv, key, etag, rows


def run_filtered(d, tmp_path, inv, key, etag, where):
    spec = job_spec(TAG, confirmation=False)
    spec["Manifest"] = inventory_location(inv, key, etag)
    spec["Manifest"]["Filter"] = where
    job_id = create(d, tmp_path, spec)
    return job_id, d.wait_status(job_id, ("Complete", "Failed"), timeout=120)


def picked(s3, bucket, keys):
    """The keys whose object carries the job's tag, read by boto3."""
    tags = taggings(s3, bucket, keys)
    return sorted(k for k in keys if tags[k].get("picked") == "1")


def test_filter_selects_rows(s3batchd, s3, make_bucket, tmp_path):
    """Only the rows the filter selects become tasks; the job's counts and
    its report show them, and boto3 sees only their objects tagged."""
    keys = ["obj/%02d" % i for i in range(30)] + AWKWARD
    b, inv, key, etag, rows = inventoried(s3, make_bucket, keys)
    d = s3batchd()

    # By position: the Bucket Key example.
    want = sorted(k for k, r in rows.items() if r[5] == "DISABLED")
    assert 0 < len(want) < len(keys)
    job_id, job = run_filtered(d, tmp_path, inv, key, etag,
                               "s._6 = 'DISABLED'")
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert ps["TotalNumberOfTasks"] == len(want)
    assert ps["NumberOfTasksSucceeded"] == len(want)
    assert sorted(urllib.parse.unquote(r["Key"])
                  for r in report_rows(d, job_id)) == want
    assert picked(s3, b, keys) == want

    # By name, CAST for a number, LIKE on the report's (URL-encoded) Key.
    for k in want:
        s3.delete_object_tagging(Bucket=b, Key=k)
    want = sorted(k for k, r in rows.items()
                  if r[4] == "NOT-SSE" and int(r[2]) >= 10 and
                  r[1].startswith("obj/"))
    assert want
    job_id, job = run_filtered(
        d, tmp_path, inv, key, etag,
        "EncryptionStatus = 'NOT-SSE' AND CAST(s.Size AS INT) >= 10 "
        "AND s.Key LIKE 'obj/%'")
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == len(want)
    assert picked(s3, b, keys) == want

    # Keys as the report writes them: a space is %20 to the filter.
    for k in want:
        s3.delete_object_tagging(Bucket=b, Key=k)
    assert "sp ace/a+b%c.txt" in keys
    job_id, job = run_filtered(d, tmp_path, inv, key, etag,
                               "s.Key = 'sp%20ace/a%2Bb%25c.txt'")
    assert job["Status"] == "Complete", job
    assert picked(s3, b, keys) == ["sp ace/a+b%c.txt"]


def test_filter_selecting_nothing(s3batchd, s3, make_bucket, tmp_path):
    keys = ["n%02d" % i for i in range(10)]
    b, inv, key, etag, _ = inventoried(s3, make_bucket, keys)
    d = s3batchd()
    _, job = run_filtered(d, tmp_path, inv, key, etag,
                          "s.BucketKeyStatus = 'UNKNOWN'")
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0
    assert picked(s3, b, keys) == []


def test_bad_filters_refused_at_create_job(s3batchd, s3, make_bucket,
                                           tmp_path):
    """Nothing is created: a filter that does not compile, one that tries
    to leave the row, and a filter on a plain CSV manifest."""
    b, inv, key, etag, _ = inventoried(s3, make_bucket, ["a"])
    d = s3batchd()
    cases = [
        ("s.Foo = 'x'", "Manifest.Filter: no such column: s.Foo"),
        ("s._6 = = 'x'", "syntax error"),
        ("1) UNION SELECT name FROM sqlite_master --", "Manifest.Filter:"),
        ("s._1 IN (SELECT name FROM sqlite_master)",
         "reading sqlite_master is not allowed"),
        ("load_extension('/tmp/x.so') IS NULL",
         "load_extension() is not allowed"),
        ("s._6 = 'DISABLED'; DROP TABLE inventory",
         "Manifest.Filter:"),
        ("s._6 = 'DISABLED", "not closed"),
    ]
    for where, want in cases:
        spec = job_spec(TAG, confirmation=False)
        spec["Manifest"] = inventory_location(inv, key, etag)
        spec["Manifest"]["Filter"] = where
        r = d.ctl("create-job", "--cli-input-json",
                  write_json(tmp_path / "bad.json", spec))
        assert r.rc != 0, (where, r)
        assert want in r.err + r.out, (where, r)

    # A CSV manifest lists exactly the objects to act on.
    spec = job_spec(TAG, confirmation=False)
    spec["Manifest"]["Filter"] = "s._2 = 'a'"
    r = d.ctl("create-job", "--cli-input-json",
              write_json(tmp_path / "csv.json", spec), "--manifest-file",
              str(manifest_csv(tmp_path / "m.csv", b, ["a"])))
    assert r.rc != 0, r
    assert "Manifest.Filter: only for S3InventoryReport_CSV_20161130" in \
        r.err + r.out, r
    assert d.ok("list-jobs")["Jobs"] == []
    assert picked(s3, b, ["a"]) == []


def test_filter_on_a_column_the_report_lacks(s3batchd, s3, make_bucket,
                                             tmp_path):
    """Amazon's column names pass at create-job; the report's fileSchema
    decides at prepare, and a column it lacks fails the job, no task run."""
    keys = ["m%02d" % i for i in range(5)]
    b, inv, key, etag, _ = inventoried(s3, make_bucket, keys)
    d = s3batchd()
    _, job = run_filtered(d, tmp_path, inv, key, etag,
                          "s.ObjectOwner = 'me' OR s._6 = 'DISABLED'")
    assert job["Status"] == "Failed", job
    reason = job["FailureReasons"][0]
    assert "Manifest.Filter: no such column: s.ObjectOwner" in \
        reason["FailureReason"], reason
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0
    assert picked(s3, b, keys) == []


def test_filter_on_the_daemons_own_report(s3batchd, s3, make_bucket,
                                          tmp_path):
    """The daemon's ManifestGenerator writes an inventory-format manifest
    (EnableManifestOutput); a second job reads it with a filter on its
    Size column, and boto3 sees only the large objects tagged."""
    b = make_bucket()
    out = make_bucket()
    small = ["small/%02d" % i for i in range(8)]
    large = ["large/%02d" % i for i in range(6)]
    put_objects(s3, b, small, body=b"x" * 10)
    put_objects(s3, b, large, body=b"y" * 2000)
    d = s3batchd()
    gen = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "listed", "Value": "1"}]}}, confirmation=False)
    del gen["Manifest"]
    gen["ManifestGenerator"] = {"S3JobManifestGenerator": {
        "SourceBucket": "arn:aws:s3:::%s" % b,
        "EnableManifestOutput": True,
        "ManifestOutputLocation": {
            "Bucket": "arn:aws:s3:::%s" % out, "ManifestPrefix": "gen/",
            "ManifestFormat": "S3InventoryReport_CSV_20211130"}}}
    job_id = create(d, tmp_path, gen)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    loc = job["GeneratedManifestDescriptor"]["Location"]
    key = loc["ObjectArn"].split(":::", 1)[1].split("/", 1)[1]
    schema = json.loads(s3.get_object(Bucket=out, Key=key)["Body"].read())[
        "fileSchema"]
    assert "Size" in [c.strip() for c in schema.split(",")], schema

    _, job = run_filtered(d, tmp_path, out, key, loc["ETag"].strip('"'),
                          "CAST(s.Size AS INT) > 1000")
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == len(large)
    assert picked(s3, b, small + large) == sorted(large)
