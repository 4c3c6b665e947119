"""S3ComputeObjectChecksum against a real Ceph RGW: every value the daemon
reports is compared with one computed here, independently, in Python
(zlib, hashlib, and CRC32C / CRC64NVME written below from their published
parameters), over the bytes boto3 uploaded."""

import base64
import csv
import hashlib
import http.server
import io
import json
import os
import threading
import urllib.parse
import zlib

import pytest

from s3b import (bucket_conf, create_job as create, endpoint_conf, job_spec,
                 manifest_csv, remove_bucket, report_rows, rows_by_key,
                 write_json)

MIB = 1024 * 1024


# --- independent reference checksums

def _table(poly, width):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


class RefCRC:
    """A reflected CRC with all-ones init and xorout, a byte at a time."""

    def __init__(self, poly, width):
        self.table = _table(poly, width)
        self.mask = (1 << width) - 1
        self.nbytes = width // 8

    def update(self, state, data):
        t = self.table
        c = state
        for b in data:
            c = t[(c ^ b) & 0xff] ^ (c >> 8)
        return c

    def value(self, data):
        c = self.update(self.mask, data) ^ self.mask
        return c.to_bytes(self.nbytes, "big")


CRC32C = RefCRC(0x82F63B78, 32)         # Castagnoli 0x1EDC6F41, reflected
CRC64NVME = RefCRC(0x9A6C9329AC4BC9B5, 64)   # 0xAD93D23594C93659, reflected
assert CRC32C.value(b"123456789").hex() == "e3069283"
assert CRC64NVME.value(b"123456789").hex() == "ae8b14860a799888"


def ref_value(alg, data):
    if alg == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if alg == "CRC32C":
        return CRC32C.value(data)
    if alg == "CRC64NVME":
        return CRC64NVME.value(data)
    return hashlib.new(alg.lower(), data).digest()


def ref_composite(alg, parts):
    """S3's composite checksum: over the part values, with -N; a
    single-part (non-multipart) object has its plain value."""
    if parts is None:
        return None
    inner = b"".join(ref_value(alg, p) for p in parts)
    return ref_value(alg, inner), len(parts)


def expect(alg, ctype, data, parts):
    if ctype == "COMPOSITE" and parts is not None:
        v, n = ref_composite(alg, parts)
        return base64.b64encode(v).decode() + "-%d" % n, v.hex()
    v = ref_value(alg, data)
    return base64.b64encode(v).decode(), v.hex()


# --- objects

def upload_multipart(s3, bucket, key, parts):
    mp = s3.create_multipart_upload(Bucket=bucket, Key=key)
    done = []
    for i, p in enumerate(parts):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=mp["UploadId"],
                           PartNumber=i + 1, Body=p)
        done.append({"ETag": r["ETag"], "PartNumber": i + 1})
    s3.complete_multipart_upload(Bucket=bucket, Key=key,
                                 UploadId=mp["UploadId"],
                                 MultipartUpload={"Parts": done})


@pytest.fixture(scope="module")
def objects(rgw):
    """A bucket of objects of various sizes; key -> (data, parts or None)."""
    s3 = rgw.client()
    name = "s3b-cksum-%d" % os.getpid()
    s3.create_bucket(Bucket=name)
    rnd = os.urandom
    objs = {
        "empty": (b"", None),
        "one": (b"x", None),
        "check value": (b"123456789", None),
        "dir/üñí +%.bin": (rnd(100 * 1024 + 3), None),
        "big single": (rnd(3 * MIB + 11), None),
    }
    # Multipart: 5 MiB parts (a size the daemon tries), and one part only.
    parts = [rnd(5 * MIB), rnd(5 * MIB), rnd(1234)]
    objs["mp 5MiB x3"] = (b"".join(parts), parts)
    one = [rnd(777)]
    objs["mp one part"] = (one[0], one)
    for k, (data, ps) in objs.items():
        if ps is None:
            s3.put_object(Bucket=name, Key=k, Body=data)
        else:
            upload_multipart(s3, name, k, ps)
    yield name, objs
    remove_bucket(s3, name)


def run_job(d, tmp_path, bucket, keys, params, report_bucket=None):
    spec = job_spec({"S3ComputeObjectChecksum": params}, confirmation=False)
    if report_bucket is not None:
        spec["Report"] = {"Enabled": True,
                          "Bucket": "arn:aws:s3:::%s" % report_bucket,
                          "Format": "Report_CSV_20180820", "Prefix": "r",
                          "ReportScope": "AllTasks"}
    m = manifest_csv(tmp_path / ("m-%s-%s.csv" % (
        params.get("ChecksumAlgorithm"), params.get("ChecksumType"))),
        bucket, keys)
    return create(d, tmp_path, spec, m)


def check_rows(rows, objs, alg, ctype):
    for k, (data, parts) in objs.items():
        r = rows[k]
        assert r["TaskStatus"] == "succeeded", (k, r)
        msg = json.loads(r["ResultMessage"])
        b64, hx = expect(alg, ctype, data, parts)
        assert msg == {"checksum_base64": b64, "checksum_hex": hx,
                       "checksumAlgorithm": alg,
                       "checksumType": ctype}, (k, alg, ctype)


FULL = ["CRC32", "CRC32C", "CRC64NVME", "MD5"]
COMPOSITE = ["CRC32", "CRC32C", "SHA1", "SHA256", "SHA512", "MD5"]


def test_full_object(s3batchd, objects, tmp_path):
    bucket, objs = objects
    d = s3batchd()
    jobs = {alg: run_job(d, tmp_path, bucket, list(objs),
                         {"ChecksumAlgorithm": alg,
                          "ChecksumType": "FULL_OBJECT"})
            for alg in FULL}
    for alg, job_id in jobs.items():
        job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
        assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == \
            len(objs), report_rows(d, job_id)
        check_rows(rows_by_key(d, job_id), objs, alg, "FULL_OBJECT")


def test_composite(s3batchd, objects, tmp_path):
    """RGW ignores partNumber=: the part boundaries are found by trying
    part sizes against the multipart ETag."""
    bucket, objs = objects
    d = s3batchd()
    jobs = {alg: run_job(d, tmp_path, bucket, list(objs),
                         {"ChecksumAlgorithm": alg,
                          "ChecksumType": "COMPOSITE"})
            for alg in COMPOSITE}
    for alg, job_id in jobs.items():
        job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
        assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == \
            len(objs), report_rows(d, job_id)
        check_rows(rows_by_key(d, job_id), objs, alg, "COMPOSITE")


def test_defaults_and_report_in_bucket(s3batchd, s3, objects, make_bucket,
                                       tmp_path):
    """No parameters: CRC64NVME, FULL_OBJECT. The CSV in the report bucket
    carries the JSON ResultMessage quoted (RFC 4180)."""
    bucket, objs = objects
    rep = make_bucket()
    d = s3batchd()
    keys = ["check value", "mp 5MiB x3", "missing"]
    job_id = run_job(d, tmp_path, bucket, keys, {}, report_bucket=rep)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    man = json.loads(s3.get_object(
        Bucket=rep, Key="r/job-%s/manifest.json" % job_id)["Body"].read())
    got = {}
    for res in man["Results"]:
        body = s3.get_object(Bucket=rep, Key=res["Key"])["Body"].read()
        for row in csv.reader(io.StringIO(body.decode())):
            got[urllib.parse.unquote(row[1])] = row
    for k in keys[:2]:
        row = got[k]
        assert row[3] == "succeeded"
        msg = json.loads(row[6])
        data = objs[k][0]
        v = CRC64NVME.value(data)
        assert msg == {"checksum_base64": base64.b64encode(v).decode(),
                       "checksum_hex": v.hex(),
                       "checksumAlgorithm": "CRC64NVME",
                       "checksumType": "FULL_OBJECT"}
    assert got["missing"][3:6] == ["failed", "404", "NoSuchKey"], \
        got["missing"]


def test_retry_mid_stream_starts_over(s3batchd, s3, make_bucket, tmp_path,
                                      fault_proxy):
    """A GET cut short (the fault proxy, a test stand-in, truncates it) is
    retried from the start; the checksum starts over with it."""
    b = make_bucket()
    data = os.urandom(2 * MIB + 5)
    s3.put_object(Bucket=b, Key="cut", Body=data)
    d = s3batchd(extra_conf=endpoint_conf(fault_proxy.endpoint, "proxied") +
                 bucket_conf(b, "proxied"))
    for alg, ctype in (("CRC32C", "FULL_OBJECT"), ("SHA256", "COMPOSITE")):
        fault_proxy.set_rules(["truncate method=GET path=/cut limit=1"],
                              reset=True)
        job_id = run_job(d, tmp_path, b, ["cut"], {
            "ChecksumAlgorithm": alg, "ChecksumType": ctype})
        d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
        rows = rows_by_key(d, job_id)
        check_rows(rows, {"cut": (data, None)}, alg, ctype)
        assert fault_proxy.stats()["injected"]["truncate"] == 1
        assert rows["cut"]["Attempts"] >= 2


def test_unknown_part_size(s3batchd, s3, make_bucket, tmp_path):
    """Parts of 6 MiB are no usual size: without partNumber support the
    task fails with a clear message, FULL_OBJECT still works, and the
    configured multipart_part_size is tried first."""
    b = make_bucket()
    parts = [os.urandom(6 * MIB), os.urandom(6 * MIB), os.urandom(100)]
    upload_multipart(s3, b, "six", parts)
    data = b"".join(parts)
    d = s3batchd()
    job_id = run_job(d, tmp_path, b, ["six"], {
        "ChecksumAlgorithm": "CRC32C", "ChecksumType": "COMPOSITE"})
    d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    row = report_rows(d, job_id)[0]
    assert row["TaskStatus"] == "failed"
    assert "part" in row["ResultMessage"] and \
        "FULL_OBJECT" in row["ResultMessage"], row
    d.stop()
    d = s3batchd(daemon_conf="multipart_part_size = 6MiB")
    job_id = run_job(d, tmp_path, b, ["six"], {
        "ChecksumAlgorithm": "CRC32C", "ChecksumType": "COMPOSITE"})
    job2 = run_job(d, tmp_path, b, ["six"], {
        "ChecksumAlgorithm": "CRC32C", "ChecksumType": "FULL_OBJECT"})
    for j, ctype in ((job_id, "COMPOSITE"), (job2, "FULL_OBJECT")):
        d.wait_status(j, ("Complete", "Failed"), timeout=120)
        check_rows(rows_by_key(d, j), {"six": (data, parts)}, "CRC32C",
                   ctype)


def test_versions_pinned(s3batchd, s3, versioned_bucket, tmp_path):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"first")["VersionId"]
    s3.put_object(Bucket=b, Key="doc", Body=b"second, longer")
    d = s3batchd()
    spec = job_spec({"S3ComputeObjectChecksum": {
        "ChecksumAlgorithm": "SHA256", "ChecksumType": "COMPOSITE"}},
        confirmation=False)
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id = create(d, tmp_path, spec, manifest_csv(
        tmp_path / "m.csv", b, ["doc"], versions=[v1]))
    d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    check_rows(rows_by_key(d, job_id), {"doc": (b"first", None)}, "SHA256",
               "COMPOSITE")


@pytest.mark.parametrize("params,field", [
    ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"},
     "ChecksumType"),
    ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"},
     "ChecksumType"),
    ({"ChecksumAlgorithm": "XXHASH3"}, "ChecksumAlgorithm"),
    ({"ChecksumAlgorithm": "crc32"}, "ChecksumAlgorithm"),
])
def test_create_job_rejects(s3batchd, bucket, tmp_path, params, field):
    d = s3batchd()
    spec = job_spec({"S3ComputeObjectChecksum": params}, confirmation=False)
    uri = write_json(tmp_path / "job.json", spec)
    r = d.ctl("create-job", "--cli-input-json", uri, "--manifest-file",
              str(manifest_csv(tmp_path / "m.csv", bucket, ["k"])))
    assert r.rc != 0, r
    assert ("S3ComputeObjectChecksum.%s" % field) in (r.out + r.err), r


class PartServer:
    """A TEST STAND-IN, not S3: a tiny in-memory HTTP server that answers
    HEAD and GET of multipart objects with partNumber= the way AWS S3 does
    (x-amz-mp-parts-count, the part's bytes, If-Match, the multipart ETag),
    because the Ceph RGW on this machine ignores partNumber. It checks no
    signature. It exists only to drive the daemon's partNumber path."""

    def __init__(self, objects):
        self.objects = objects          # key -> [part bytes, ...]
        self.requests = []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.answer(False)

            def do_GET(self):
                self.answer(True)

            def answer(self, body):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query)
                key = urllib.parse.unquote(u.path.split("/", 2)[2])
                srv.requests.append((self.command, key,
                                     q.get("partNumber", [None])[0]))
                parts = srv.objects.get(key)
                if parts is None:
                    return self.reply(404, {}, b"")
                etag = '"%s-%d"' % (hashlib.md5(b"".join(
                    hashlib.md5(p).digest() for p in parts)).hexdigest(),
                    len(parts))
                im = self.headers.get("If-Match")
                if im is not None and im != etag:
                    return self.reply(412, {}, b"")
                hdrs = {"ETag": etag}
                if "partNumber" in q:
                    n = int(q["partNumber"][0])
                    if n < 1 or n > len(parts):
                        return self.reply(416, {}, b"")
                    data = parts[n - 1]
                    first = sum(len(p) for p in parts[:n - 1])
                    total = sum(len(p) for p in parts)
                    hdrs["x-amz-mp-parts-count"] = str(len(parts))
                    hdrs["Content-Range"] = "bytes %d-%d/%d" % (
                        first, first + len(data) - 1, total)
                    status = 206
                else:
                    data = b"".join(parts)
                    status = 200
                self.reply(status, hdrs, data if body else b"",
                           length=len(data))

            def reply(self, status, hdrs, data, length=None):
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(
                    length if length is not None else len(data)))
                self.end_headers()
                if data:
                    self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.endpoint = "http://127.0.0.1:%d" % self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_composite_by_part_number(s3batchd, tmp_path):
    """Where the server gives parts (partNumber=), each part is read with
    its own GET: irregular part sizes need no guessing."""
    parts = [os.urandom(3 * MIB + 1), os.urandom(2 * MIB + 7),
             os.urandom(10)]
    srv = PartServer({"odd parts": parts})
    try:
        d = s3batchd(extra_conf=endpoint_conf(srv.endpoint, "parts") +
                     bucket_conf("partsrv", "parts"))
        jobs = {alg: run_job(d, tmp_path, "partsrv", ["odd parts"], {
            "ChecksumAlgorithm": alg, "ChecksumType": "COMPOSITE"})
            for alg in ("CRC32", "SHA1")}
        for alg, job_id in jobs.items():
            d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
            check_rows(rows_by_key(d, job_id),
                       {"odd parts": (b"".join(parts), parts)}, alg,
                       "COMPOSITE")
        gets = sorted(int(p) for m, k, p in srv.requests
                      if m == "GET" and p is not None)
        assert gets == [1, 1, 2, 2, 3, 3], srv.requests
    finally:
        srv.stop()
