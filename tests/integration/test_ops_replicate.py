"""S3ReplicateObject against RGW. RGW refuses PutBucketReplication, so the
source bucket's configuration comes from tests/integration/replproxy.py, a
stand-in that answers GET ?replication and forwards everything else to the
real RGW. The daemon's default endpoint is that proxy (user tester); the
bucket "far" belongs to the user other, reached as [endpoint other] on the
RGW itself, so copies to it are cross-endpoint. Effects are checked with
boto3 on the RGW directly."""

import os

import pytest

from replproxy import ReplProxy
from s3b import (Daemon, by_key, endpoint_conf, job_spec, manifest_csv,
                 owner_id, report_rows, run_job, tagging)

MIB = 1024 * 1024


def endpoint(name, url, user):
    return endpoint_conf(url, name, user, max_connections=16)


@pytest.fixture
def proxy(rgw):
    with ReplProxy(rgw.endpoint) as p:
        yield p


@pytest.fixture
def daemon(proxy, rgw):
    started = []

    def start(extra=""):
        d = Daemon(daemon_conf="multipart_threshold = 5MiB\n"
                   "multipart_part_size = 5MiB\n",
                   extra_conf=endpoint("default", proxy.endpoint, "tester") +
                   endpoint("other", rgw.endpoint, "other") + extra)
        os.chmod(d.conf, 0o600)
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.stop()
        d.remove()


def rule(rid, dest, priority=None, prefix=None, tags=(), status="Enabled",
         storage_class=None, delete_markers=None, owner=None):
    x = "<Rule><ID>%s</ID>" % rid
    if priority is not None:
        x += "<Priority>%d</Priority>" % priority
    x += "<Status>%s</Status>" % status
    if tags:
        x += "<Filter><And>"
        if prefix is not None:
            x += "<Prefix>%s</Prefix>" % prefix
        x += "".join("<Tag><Key>%s</Key><Value>%s</Value></Tag>" % t
                     for t in tags)
        x += "</And></Filter>"
    elif priority is not None:
        x += "<Filter><Prefix>%s</Prefix></Filter>" % (prefix or "")
    else:
        x += "<Prefix>%s</Prefix>" % (prefix or "")    # a V1 rule
    if delete_markers is not None:
        x += ("<DeleteMarkerReplication><Status>%s</Status>"
              "</DeleteMarkerReplication>" % delete_markers)
    x += "<Destination><Bucket>arn:aws:s3:::%s</Bucket>" % dest
    if storage_class:
        x += "<StorageClass>%s</StorageClass>" % storage_class
    if owner:
        x += ("<Account>123456789012</Account><AccessControlTranslation>"
              "<Owner>%s</Owner></AccessControlTranslation>" % owner)
    return x + "</Destination></Rule>"


def config(*rules):
    return ('<?xml version="1.0" encoding="UTF-8"?><ReplicationConfiguration '
            'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Role>'
            'arn:aws:iam::123456789012:role/repl</Role>%s'
            '</ReplicationConfiguration>' % "".join(rules))


def run(d, tmp_path, bucket, keys, versions):
    spec = job_spec({"S3ReplicateObject": {}}, confirmation=False)
    spec["Manifest"]["Spec"]["Fields"].append("VersionId")
    job_id, job = run_job(d, tmp_path, spec, manifest_csv(
        tmp_path / ("m-%d.csv" % len(keys)), bucket, keys, versions),
        timeout=180)
    assert job["Status"] == "Complete", job
    return by_key(report_rows(d, job_id))


def grants_of(client, bucket, key):
    acl = client.get_object_acl(Bucket=bucket, Key=key)
    return {(g["Grantee"].get("ID") or g["Grantee"].get("URI"),
             g["Permission"]) for g in acl["Grants"]}


def test_replicate_rules_priorities_tags_acl_delete_markers(
        rgw, s3, make_bucket, proxy, daemon, tmp_path):
    other = rgw.client("other")
    src = make_bucket(versioned=True)
    near = make_bucket(versioned=True)
    far = make_bucket(client=other)
    never = make_bucket()
    other_id = owner_id(other)
    proxy.configs[src] = config(
        rule("docs", near, priority=1, prefix="docs/",
             storage_class="STANDARD_IA", delete_markers="Enabled"),
        rule("docs-important", near, priority=5, prefix="docs/important/",
             storage_class="REDUCED_REDUNDANCY"),
        rule("team", far, priority=2, prefix="",
             tags=[("team", "storage")], delete_markers="Disabled"),
        rule("off", never, priority=9, prefix="", status="Disabled"),
    )
    big = os.urandom(11 * MIB + 5)
    put = {
        "docs/a.txt": dict(Body=b"alpha", ContentType="text/x-a",
                           Metadata={"m": "1"}, Tagging="x=y",
                           GrantRead="id=%s" % other_id,
                           GrantFullControl="id=%s" % owner_id(s3)),
        "docs/important/b": dict(Body=b"bravo"),
        "docs/both": dict(Body=b"both", Tagging="team=storage"),
        "misc/big": dict(Body=big, Tagging="team=storage&k=v",
                         Metadata={"size": "big"}),
        "misc/untagged": dict(Body=b"nothing matches"),
        "docs/gone": dict(Body=b"to be deleted"),
        "misc/gone": dict(Body=b"tagged, deleted", Tagging="team=storage"),
    }
    versions = {}
    for k, kw in put.items():
        versions[k] = s3.put_object(Bucket=src, Key=k, **kw)["VersionId"]
    # An older version is what the manifest names for docs/a.txt.
    s3.put_object(Bucket=src, Key="docs/a.txt", Body=b"alpha, newer")
    for k in ("docs/gone", "misc/gone"):
        versions[k] = s3.delete_object(Bucket=src, Key=k)["VersionId"]
    d = daemon("[bucket %s]\nendpoint = other\n" % far)
    keys = list(put)
    rows = run(d, tmp_path, src, keys, [versions[k] for k in keys])
    assert all(r["TaskStatus"] == "succeeded" for r in rows.values()), \
        [r for r in rows.values() if r["TaskStatus"] != "succeeded"]
    # Read once for the job, and once by the capability probe before it
    # runs (GET ?replication, src/s3-probe.c).
    assert proxy.hits.count(src) == 2

    a = s3.get_object(Bucket=near, Key="docs/a.txt")
    assert a["Body"].read() == b"alpha"
    assert a["ContentType"] == "text/x-a" and a["Metadata"] == {"m": "1"}
    assert a["StorageClass"] == "STANDARD_IA"
    assert tagging(s3, near, "docs/a.txt") == {"x": "y"}
    assert grants_of(s3, near, "docs/a.txt") == {
        (other_id, "READ"), (owner_id(s3), "FULL_CONTROL")}

    b = s3.get_object(Bucket=near, Key="docs/important/b")
    assert b["StorageClass"] == "REDUCED_REDUNDANCY"     # priority 5 wins

    assert s3.get_object(Bucket=near, Key="docs/both")["Body"].read() == \
        b"both"
    assert other.get_object(Bucket=far, Key="docs/both")["Body"].read() == \
        b"both"
    assert near in rows["docs/both"]["ResultMessage"]
    assert far in rows["docs/both"]["ResultMessage"]

    g = other.get_object(Bucket=far, Key="misc/big")
    assert g["Body"].read() == big and g["Metadata"] == {"size": "big"}
    assert tagging(other, far, "misc/big") == {"team": "storage", "k": "v"}

    assert "Not replicated" in rows["misc/untagged"]["ResultMessage"]
    # Delete markers: docs/ replicates them, the tag rule does not.
    vs = s3.list_object_versions(Bucket=near, Prefix="docs/gone")
    assert [m["Key"] for m in vs.get("DeleteMarkers", [])] == ["docs/gone"]
    far_keys = [o["Key"] for o in
                other.list_objects_v2(Bucket=far).get("Contents", [])]
    assert sorted(far_keys) == ["docs/both", "misc/big"]
    assert "Not replicated" in rows["misc/gone"]["ResultMessage"]
    assert s3.list_objects_v2(Bucket=never).get("KeyCount", 0) == 0


def test_replicate_without_configuration_fails(rgw, s3, make_bucket, proxy,
                                               daemon, tmp_path):
    src = make_bucket(versioned=True)
    v = s3.put_object(Bucket=src, Key="k", Body=b"x")["VersionId"]
    d = daemon()
    rows = run(d, tmp_path, src, ["k"], [v])
    assert rows["k"]["TaskStatus"] == "failed"
    assert rows["k"]["ErrorCode"] == "ReplicationConfigurationNotFoundError"


def test_replicate_owner_translation_drops_grants(rgw, s3, make_bucket,
                                                  proxy, daemon, tmp_path):
    other = rgw.client("other")
    src = make_bucket(versioned=True)
    dst = make_bucket()
    other_id = owner_id(other)
    proxy.configs[src] = config(rule("all", dst, priority=1,
                                     owner="Destination"))
    v = s3.put_object(Bucket=src, Key="k", Body=b"x",
                      GrantRead="id=%s" % other_id,
                      GrantFullControl="id=%s" % owner_id(s3))["VersionId"]
    d = daemon()
    rows = run(d, tmp_path, src, ["k"], [v])
    assert rows["k"]["TaskStatus"] == "succeeded", rows
    assert (other_id, "READ") not in grants_of(s3, dst, "k")
