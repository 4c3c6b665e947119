"""Inventory configurations (issue 9, Deliver 1): the four aws s3api verbs
through the real s3batchctl and the real daemon, with boto3-shaped JSON
(file:// and inline), errors that name the member, ORC and Parquet refused,
durability across a restart and a kill -9 right after the reply, and the
privilege the mutating verbs need.

No S3 server is needed: no configuration here is enabled, so nothing runs.
"""

import json
import time

import pytest

from s3b import write_json


def config(cid, enabled=False, fmt="CSV", **extra):
    """An InventoryConfiguration as boto3 writes it (ShapeName members)."""
    cfg = {
        "Destination": {"S3BucketDestination": {
            "AccountId": "123456789012",
            "Bucket": "arn:aws:s3:::reports",
            "Format": fmt,
            "Prefix": "inv",
            "Encryption": {"SSES3": {}},
        }},
        "IsEnabled": enabled,
        "Filter": {"Prefix": "logs/"},
        "Id": cid,
        "IncludedObjectVersions": "Current",
        "OptionalFields": ["Size", "ETag", "EncryptionStatus"],
        "Schedule": {"Frequency": "Daily"},
    }
    cfg.update(extra)
    return cfg


def put(d, tmp_path, bucket, cfg, cid=None, **kw):
    uri = write_json(tmp_path / ("c-%d.json" % time.monotonic_ns()), cfg)
    return d.ctl("put-bucket-inventory-configuration", "--bucket", bucket,
                 "--id", cid or cfg["Id"], "--inventory-configuration", uri,
                 **kw)


def test_put_get_list_delete(daemon, tmp_path):
    cfg = config("daily-1")
    r = put(daemon, tmp_path, "src", cfg)
    assert r.rc == 0, r
    assert r.out == ""   # aws s3api prints nothing either
    got = daemon.ok("get-bucket-inventory-configuration", "--bucket", "src",
                    "--id", "daily-1")
    assert got == {"InventoryConfiguration": cfg}
    # Inline JSON, as aws s3api takes it too; a second configuration.
    cfg2 = config("weekly", Schedule={"Frequency": "Weekly",
                                      "DayOfWeek": "Monday",
                                      "TimeOfDay": "04:30"})
    r = daemon.ctl("put-bucket-inventory-configuration", "--bucket", "src",
                   "--id", "weekly", "--inventory-configuration",
                   json.dumps(cfg2))
    assert r.rc == 0, r
    # Another bucket's is not listed with this one's.
    assert put(daemon, tmp_path, "other", config("x")).rc == 0
    lst = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                    "src")
    assert lst == {"IsTruncated": False,
                   "InventoryConfigurationList": [cfg, cfg2]}
    # Replacing keeps one entry.
    cfg["OptionalFields"] = ["Size"]
    assert put(daemon, tmp_path, "src", cfg).rc == 0
    lst = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                    "src")
    assert [c["OptionalFields"] for c in lst["InventoryConfigurationList"]] \
        == [["Size"], cfg2["OptionalFields"]]
    # Text output names them.
    out = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                    "src", output="text")
    assert "daily-1" in out and "weekly" in out and "04:30" in out

    assert daemon.ok("delete-bucket-inventory-configuration", "--bucket",
                     "src", "--id", "daily-1") is None
    r = daemon.ctl("get-bucket-inventory-configuration", "--bucket", "src",
                   "--id", "daily-1")
    assert r.rc == 1, r
    assert "NoSuchConfiguration" in r.err
    r = daemon.ctl("delete-bucket-inventory-configuration", "--bucket",
                   "src", "--id", "daily-1")
    assert r.rc == 1 and "NoSuchConfiguration" in r.err, r
    lst = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                    "src")
    assert [c["Id"] for c in lst["InventoryConfigurationList"]] == \
        ["weekly"]
    # An empty bucket: no list, as Amazon answers.
    assert daemon.ok("list-bucket-inventory-configurations", "--bucket",
                     "none") == {"IsTruncated": False}


def test_list_pages(daemon, tmp_path):
    ids = ["c%03d" % i for i in range(105)]
    for cid in ids:
        assert put(daemon, tmp_path, "many", config(cid)).rc == 0
    first = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                      "many")
    assert first["IsTruncated"] is True
    assert len(first["InventoryConfigurationList"]) == 100
    token = first["NextContinuationToken"]
    second = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                       "many", "--continuation-token", token)
    assert second["IsTruncated"] is False
    assert second["ContinuationToken"] == token
    assert "NextContinuationToken" not in second
    got = [c["Id"] for c in first["InventoryConfigurationList"] +
           second["InventoryConfigurationList"]]
    assert got == ids


@pytest.mark.parametrize("cfg,cid,want", [
    (config("a", fmt="ORC"), "a",
     "InventoryConfiguration.Destination.S3BucketDestination.Format: ORC is "
     "not supported: s3batchd writes CSV inventory reports"),
    (config("a", fmt="Parquet"), "a",
     "InventoryConfiguration.Destination.S3BucketDestination.Format: "
     "Parquet is not supported"),
    (config("a", IncludedObjectVersions="Some"), "a",
     "InventoryConfiguration.IncludedObjectVersions"),
    (config("a", Schedule={"Frequency": "Monthly"}), "a",
     "InventoryConfiguration.Schedule.Frequency"),
    (config("a", OptionalFields=["Size", "Colour"]), "a",
     "InventoryConfiguration.OptionalFields[1]"),
    (config("a", Schedule={"Frequency": "Daily", "TimeOfDay": "25:00"}), "a",
     "InventoryConfiguration.Schedule.TimeOfDay"),
    (config("a"), "b", "InventoryConfiguration.Id: \"a\" is not the --id"),
    (config("a/b"), "a/b", "InventoryConfiguration.Id"),
    (config("a", JobTemplate={"Operation": {"S3PutObjectTagging": {}},
                              "Priority": 1, "Report": {"Enabled": False}}),
     "a", "InventoryConfiguration.JobTemplate.RoleArn"),
    (config("a", JobTemplate={
        "Operation": {"S3PutObjectTagging": {}}, "Priority": 1,
        "RoleArn": "arn:aws:iam::123456789012:role/batch",
        "Report": {"Enabled": False}}, JobFilter="DROP TABLE x"), "a",
     "InventoryConfiguration.JobFilter"),
])
def test_errors_name_the_member(daemon, tmp_path, cfg, cid, want):
    r = put(daemon, tmp_path, "src", cfg, cid=cid)
    assert r.rc == 1, r
    assert "BadRequestException" in r.err, r
    assert want in r.err, r
    r = daemon.ctl("get-bucket-inventory-configuration", "--bucket", "src",
                   "--id", cid)
    assert r.rc == 1 and "NoSuchConfiguration" in r.err, r


def test_extensions_accepted(daemon, tmp_path):
    cfg = config("ext", Schedule={"Frequency": "Hourly",
                                  "TimeOfDay": "00:15"},
                 JobTemplate={
                     "Operation": {"S3PutObjectTagging": {"TagSet": [
                         {"Key": "k", "Value": "v"}]}},
                     "Priority": 5,
                     "RoleArn": "arn:aws:iam::123456789012:role/batch",
                     "Report": {"Enabled": False},
                     "ConfirmationRequired": True},
                 JobFilter="s._3 = 'DISABLED'")
    r = put(daemon, tmp_path, "src", cfg)
    assert r.rc == 0, r
    got = daemon.ok("get-bucket-inventory-configuration", "--bucket", "src",
                    "--id", "ext")
    assert got["InventoryConfiguration"] == cfg


def test_durable_across_restart_and_kill9(daemon, tmp_path):
    cfg = config("keep")
    assert put(daemon, tmp_path, "src", cfg).rc == 0
    daemon.restart()
    assert daemon.ok("get-bucket-inventory-configuration", "--bucket", "src",
                     "--id", "keep")["InventoryConfiguration"] == cfg
    # The reply went out after the commit: kill -9 at once loses nothing.
    cfg2 = config("right-after")
    assert put(daemon, tmp_path, "src", cfg2).rc == 0
    daemon.kill9()
    daemon.start()
    assert daemon.ok("get-bucket-inventory-configuration", "--bucket", "src",
                     "--id", "right-after")["InventoryConfiguration"] == cfg2
    assert daemon.ok("delete-bucket-inventory-configuration", "--bucket",
                     "src", "--id", "keep") is None
    daemon.kill9()
    daemon.start()
    lst = daemon.ok("list-bucket-inventory-configurations", "--bucket",
                    "src")
    assert [c["Id"] for c in lst["InventoryConfigurationList"]] == \
        ["right-after"]


def test_privileges_and_audit(daemon, tmp_path):
    cfg = config("priv")
    uri = write_json(tmp_path / "p.json", cfg)
    (tmp_path / "p.json").chmod(0o644)
    tmp_path.chmod(0o755)
    r = daemon.ctl("put-bucket-inventory-configuration", "--bucket", "src",
                   "--id", "priv", "--inventory-configuration",
                   json.dumps(cfg), user="nobody")
    assert r.rc == 1 and "AccessDenied" in r.err, r
    assert put(daemon, tmp_path, "src", cfg).rc == 0
    # Reading is open to all; changing is not.
    got = daemon.ctl("get-bucket-inventory-configuration", "--bucket", "src",
                     "--id", "priv", user="nobody")
    assert got.rc == 0 and got.json["InventoryConfiguration"] == cfg, got
    for verb in ("delete-bucket-inventory-configuration", "run-inventory"):
        r = daemon.ctl(verb, "--bucket", "src", "--id", "priv",
                       user="nobody")
        assert r.rc == 1 and "AccessDenied" in r.err, (verb, r)
    assert daemon.ok("list-inventory-runs", "--bucket", "src",
                     user="nobody") == {"Runs": []}
    del uri
    # The audit trail records who changed what.
    import sqlite3
    db = sqlite3.connect(str(daemon.state / "s3batchd.db"))
    rows = db.execute("SELECT job, uid, action FROM audit WHERE job LIKE "
                      "'inventory:%'").fetchall()
    db.close()
    assert ("inventory:src/priv", 0,
            "put-bucket-inventory-configuration") in rows, rows
