#!/usr/bin/env python3
"""A STAND-IN for AWS Lambda, for tests only: no real Lambda service runs
on loopback, so this small stdlib HTTP server plays both the Lambda Invoke
REST call (POST /2015-03-31/functions/FUNCTION/invocations, whose SigV4
signature for service "lambda" it verifies with its own code, independent
of the project's signer) and a plain http URL taking the same JSON (the
s3batchd extension). It speaks Amazon's S3 Batch Operations contract
(invocation schemas 1.0 and 2.0; results Succeeded, TemporaryFailure,
PermanentFailure; treatMissingKeysAs).

What it does for a task comes from job.userArguments["mode"] (schema 2.0)
or else from the first path component of the decoded key:

  ok        Succeeded, resultString "ok KEY"
  tag       tags the object (boto3, through `tagger`) to prove it ran, then
            Succeeded, resultString "tagged KEY"
  tempN     TemporaryFailure for the first N invocations of the task, then
            as "tag"
  fnerrN    X-Amz-Function-Error: Unhandled for the first N, then as "tag"
  httpNNNxN status NNN (Lambda-style error) for the first N, then as "tag"
  perm      PermanentFailure, resultString "refused KEY"
  missing   results without the task; treatMissingKeysAs from
            userArguments["missing_as"], absent when not given
  garbage   a 200 whose body is not JSON
  slowMS    sleeps MS milliseconds, then as "tag"

It counts invocations per task and per object (delivery is at least once)
and keeps a log of every invocation; GET /stats returns them as JSON.

Run alone: lambda_function.py --port 9000 [--s3-endpoint URL --access-key
AK --secret-key SK] [--lambda-key AK:SK ...]
"""

import argparse
import hashlib
import hmac
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse

LAMBDA_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/"
    r"aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$")


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_check(method, raw_path, headers, body, keys):
    """Verify a generic (non-S3) SigV4 request; return (ok, why, scope)."""
    auth = headers.get("Authorization", "")
    m = AUTH_RE.match(auth)
    if not m:
        return False, "no or malformed Authorization", None
    ak, date, region, service, signed, signature = m.groups()
    if ak not in keys:
        return False, "unknown access key", None
    amz_date = headers.get("X-Amz-Date", "")
    if not amz_date.startswith(date):
        return False, "X-Amz-Date does not match the scope", None
    path, _, query = raw_path.partition("?")
    # Generic rules: each segment of the path as sent, encoded once more.
    canon_path = "/".join(urllib.parse.quote(s, safe="-_.~")
                          for s in path.split("/"))
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canon_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                      urllib.parse.quote(v, safe="-_.~"))
                           for k, v in pairs)
    names = signed.split(";")
    if "host" not in names:
        return False, "host is not signed", None
    canon_headers = ""
    for n in names:
        v = headers.get(n)
        if v is None:
            return False, "signed header %s is missing" % n, None
        canon_headers += "%s:%s\n" % (n, " ".join(v.split()))
    creq = "\n".join([method, canon_path, canon_query, canon_headers, signed,
                      hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _sign(("AWS4" + keys[ak]).encode(), date)
    k = _sign(k, region)
    k = _sign(k, service)
    k = _sign(k, "aws4_request")
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        return False, "signature mismatch", None
    return True, "", {"region": region, "service": service,
                      "access_key": ak}


class FunctionState:
    """Counters and the invocation log, shared by the handler threads."""

    def __init__(self, tagger=None, keys=None):
        self.lock = threading.Lock()
        self.tagger = tagger
        self.keys = dict(keys or {})
        self.reset()

    def reset(self):
        with self.lock:
            self.total = 0
            self.per_task = {}
            self.per_object = {}
            self.log = []

    def count(self, task_id, obj):
        with self.lock:
            self.total += 1
            self.per_task[task_id] = self.per_task.get(task_id, 0) + 1
            self.per_object[obj] = self.per_object.get(obj, 0) + 1
            return self.per_task[task_id]

    def stats(self):
        with self.lock:
            return {"invocations": self.total,
                    "per_task": dict(self.per_task),
                    "per_object": dict(self.per_object),
                    "log": list(self.log)}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lambda-stand-in/1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, obj=None, raw=None, headers=()):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/stats":
            self.send(200, self.server.state.stats())
        else:
            self.send(404, {"message": "no such path"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        state = self.server.state
        if self.path == "/reset":
            state.reset()
            self.send(200, {})
            return
        m = LAMBDA_PATH.match(self.path.partition("?")[0])
        entry = {"path": self.path, "lambda": bool(m),
                 "authorization": "Authorization" in self.headers}
        if m:
            # self.headers looks names up case-insensitively.
            ok, why, scope = sigv4_check("POST", self.path, self.headers,
                                         body, state.keys)
            if not ok:
                self.send(403, {"Type": "User", "message": why},
                          headers=[("x-amzn-ErrorType",
                                    "InvalidSignatureException")])
                return
            entry["scope"] = scope
            entry["function"] = urllib.parse.unquote(m.group(1))
            entry["invocation_type"] = self.headers.get(
                "X-Amz-Invocation-Type")
        try:
            event = json.loads(body)
            task = event["tasks"][0]
            version = event["invocationSchemaVersion"]
        except (ValueError, KeyError, IndexError, TypeError):
            self.send(400, {"message": "not a Batch Operations event"})
            return
        args = event.get("job", {}).get("userArguments") or {}
        key = urllib.parse.unquote(task["s3Key"])
        if version == "2.0":
            bucket = task["s3Bucket"]
        else:
            bucket = task["s3BucketArn"].rsplit(":", 1)[1]
        vid = task.get("s3VersionId")
        obj = "%s/%s%s" % (bucket, key, "" if vid is None else "?" + vid)
        nth = state.count(task["taskId"], obj)
        entry.update({"event": event, "key": key, "bucket": bucket,
                      "version_id": vid, "nth": nth})
        with state.lock:
            state.log.append(entry)
        mode = args.get("mode") or key.split("/", 1)[0]
        self.answer(event, task, mode, args, bucket, key, vid, nth)

    def result(self, event, task, code, string, missing_as=None):
        r = {"invocationSchemaVersion": event["invocationSchemaVersion"],
             "invocationId": event["invocationId"],
             "results": [{"taskId": task["taskId"], "resultCode": code,
                          "resultString": string}]}
        if missing_as is not None:
            r["treatMissingKeysAs"] = missing_as
        self.send(200, r)

    def answer(self, event, task, mode, args, bucket, key, vid, nth):
        m = re.match(r"^(temp|fnerr|slow)(\d+)$", mode)
        h = re.match(r"^http(\d{3})x(\d+)$", mode)
        if mode == "ok":
            self.result(event, task, "Succeeded", "ok " + key)
        elif mode == "perm":
            self.result(event, task, "PermanentFailure", "refused " + key)
        elif mode == "missing":
            r = {"invocationSchemaVersion": event["invocationSchemaVersion"],
                 "invocationId": event["invocationId"], "results": []}
            if "missing_as" in args:
                r["treatMissingKeysAs"] = args["missing_as"]
            self.send(200, r)
        elif mode == "garbage":
            self.send(200, raw=b"<html>not json</html>")
        elif m and m.group(1) == "temp" and nth <= int(m.group(2)):
            self.result(event, task, "TemporaryFailure",
                        "busy %d %s" % (nth, key))
        elif m and m.group(1) == "fnerr" and nth <= int(m.group(2)):
            self.send(200, {"errorMessage": "boom %d" % nth,
                            "errorType": "RuntimeError"},
                      headers=[("X-Amz-Function-Error", "Unhandled")])
        elif h and nth <= int(h.group(2)):
            status = int(h.group(1))
            self.send(status, {"Type": "Service", "message": "stand-in %d"
                               % status},
                      headers=[("x-amzn-ErrorType", "ServiceException")])
        else:
            if m and m.group(1) == "slow":
                time.sleep(int(m.group(2)) / 1000.0)
            tagger = self.server.state.tagger
            if tagger is not None:
                tagger(bucket, key, vid, {
                    "lambda": "ran",
                    "schema": event["invocationSchemaVersion"]})
            self.result(event, task, "Succeeded", "tagged " + key)


class FunctionServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, port=0, tagger=None, keys=None):
        super().__init__(("127.0.0.1", port), Handler)
        self.state = FunctionState(tagger, keys)

    def handle_error(self, request, client_address):
        # A client killed mid-answer (the kill -9 test) is no error here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError,
                                          ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def start(self):
        t = threading.Thread(target=self.serve_forever, daemon=True)
        t.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


def boto3_tagger(client):
    """A tagger that puts the tags on the object (the version, if any)."""
    def tag(bucket, key, version_id, tags):
        kw = {"VersionId": version_id} if version_id is not None else {}
        client.put_object_tagging(
            Bucket=bucket, Key=key,
            Tagging={"TagSet": [{"Key": k, "Value": v}
                                for k, v in tags.items()]}, **kw)
    return tag


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--s3-endpoint")
    ap.add_argument("--access-key")
    ap.add_argument("--secret-key")
    ap.add_argument("--lambda-key", action="append", default=[],
                    help="AK:SK accepted on the Lambda path")
    a = ap.parse_args()
    tagger = None
    if a.s3_endpoint:
        import boto3
        tagger = boto3_tagger(boto3.client(
            "s3", endpoint_url=a.s3_endpoint, region_name="us-east-1",
            aws_access_key_id=a.access_key,
            aws_secret_access_key=a.secret_key))
    keys = dict(k.split(":", 1) for k in a.lambda_key)
    srv = FunctionServer(a.port, tagger, keys)
    print(srv.url, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
