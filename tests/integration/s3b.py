"""Drive the real s3batchd and the real s3batchctl from tests.

A Daemon runs the built s3batchd in the foreground (-d) with a config file
in its own temporary directory; ctl() runs the built s3batchctl against its
socket and returns (exit code, parsed JSON or text, stderr). Binaries come
from $S3B_BUILDDIR (the build directory), default: the top of the tree.
"""

import json
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parents[2]


def builddir():
    return pathlib.Path(os.environ.get("S3B_BUILDDIR", TOP))


def binary(name):
    d = builddir()
    for cand in (d / name, d / "src" / name):
        if cand.exists():
            return str(cand)
    raise FileNotFoundError("%s not built in %s (set S3B_BUILDDIR)" %
                            (name, d))


class CtlResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        try:
            self.json = json.loads(proc.stdout) if proc.stdout.strip() else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "CtlResult(rc=%d, out=%r, err=%r)" % (self.rc, self.out[:400],
                                                     self.err[:400])


class Daemon:
    """One s3batchd with its own state directory, socket and config."""

    def __init__(self, tmpdir=None, daemon_conf="", extra_conf=""):
        self.dir = pathlib.Path(tmpdir or tempfile.mkdtemp(prefix="s3b-"))
        os.chmod(self.dir, 0o755)   # other uids must reach the socket
        self.state = self.dir / "state"
        self.socket = self.dir / "ctl.sock"
        self.conf = self.dir / "s3batchd.conf"
        self.log = self.dir / "s3batchd.log"
        self.proc = None
        self.write_conf(daemon_conf, extra_conf)

    def write_conf(self, daemon_conf="", extra_conf=""):
        self.conf.write_text(
            "[daemon]\n"
            "state_dir = %s\n"
            "control_socket = %s\n"
            "timer_interval = 200ms\n"
            "%s\n%s\n" % (self.state, self.socket, daemon_conf, extra_conf))

    def start(self, wait=True, env=None):
        logf = open(self.log, "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(
            [binary("s3batchd"), "-d", "-f", str(self.conf)],
            stdout=logf, stderr=subprocess.STDOUT, env=e)
        logf.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("s3batchd exited with %d:\n%s" %
                                   (self.proc.returncode, self.logtext()))
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(str(self.socket))
                s.close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("s3batchd did not start:\n" + self.logtext())

    def logtext(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            self.check_sanitizers()
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.check_sanitizers()
        return rc

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:", "WARNING: ThreadSanitizer")

    def check_sanitizers(self):
        """A sanitizer build reports to the daemon's stderr (its log): any
        report fails the test that ran it."""
        text = self.logtext()
        for mark in self.SANITIZER_MARKS:
            if mark in text:
                at = text.index(mark)
                raise AssertionError("s3batchd sanitizer report:\n" +
                                     text[max(0, at - 200):at + 3000])

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def remove(self):
        """Delete the daemon's directory (after stop)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self):
        self.stop()
        return self.start()

    @property
    def pid(self):
        return self.proc.pid

    def ctl(self, *args, output="json", user=None, input=None, timeout=120):
        cmd = [binary("s3batchctl"), "-s", str(self.socket)]
        if output:
            cmd += ["--output", output]
        cmd += [str(a) for a in args]
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid,
                   "--regid=%d" % pw.pw_gid, "--init-groups"] + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              input=input, timeout=timeout)
        return CtlResult(proc)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        assert r.rc == 0, r
        return r.json if kw.get("output", "json") == "json" else r.out

    def describe(self, job_id):
        return self.ok("describe-job", "--job-id", job_id)["Job"]

    def wait_status(self, job_id, statuses, timeout=60):
        if isinstance(statuses, str):
            statuses = (statuses,)
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.describe(job_id)
            if last["Status"] in statuses:
                return last
            time.sleep(0.1)
        raise AssertionError("job %s is %s, not %s" %
                             (job_id, last and last["Status"], statuses))

    def raw(self, data, read=True, timeout=10):
        """Send raw bytes on the socket; return the reply lines."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(str(self.socket))
        try:
            s.sendall(data)
        except OSError:
            pass
        out = b""
        if read:
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
                    if out.endswith(b"\n") and not data.endswith(b"\n\n"):
                        # one reply per request line sent
                        if out.count(b"\n") >= max(1, data.count(b"\n")):
                            break
            except socket.timeout:
                pass
        s.close()
        return [json.loads(l) for l in out.splitlines() if l.strip()]


def job_spec(operation=None, confirmation=True, priority=10, **extra):
    """A CreateJob request for a local CSV manifest of Bucket,Key."""
    spec = {
        "Operation": operation or {
            "S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "Manifest": {"Spec": {"Format": "S3BatchOperations_CSV_20180820",
                              "Fields": ["Bucket", "Key"]}},
        "Report": {"Enabled": False},
        "Priority": priority,
        "RoleArn": "arn:aws:iam::123456789012:role/batch",
        "ConfirmationRequired": confirmation,
    }
    spec.update(extra)
    return spec


def write_json(path, obj):
    pathlib.Path(path).write_text(json.dumps(obj))
    return "file://%s" % path
