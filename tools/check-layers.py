#!/usr/bin/env python3
"""Check that every file in src/ includes only headers of its own layer or
of the layers below it (docs/ARCHITECTURE.md).

    check-layers.py [--report] [SRCDIR]     check SRCDIR (default: src/)
    check-layers.py --self-test [SRCDIR]    prove that the check can fail

Each violation prints "src/FILE:LINE: includes HEADER: LAYER may not
include LAYER". Exit status: 1 if any file includes upward or is missing
from the table, 0 otherwise; --report prints the same but always exits 0.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# The layers, low to high. A name matches a file's stem ("server" matches
# server.c and server.h), a stem with its extension ("s3batchd.h"), or a
# prefix ending in "*" ("op-*"). Names of files not written yet are listed
# so that they land in the right layer the day they appear.
LAYERS = [
    ("common", ["s3batchd.h", "protocol.h", "xmalloc", "log", "buf", "util",
                "urlenc", "cfg", "window", "checksum", "sdnotify",
                "json"]),
    ("transport", ["http", "sigv4", "s3", "s3xml", "s3-*"]),
    ("store", ["job", "store", "store_sqlite"]),
    ("formats", ["model", "model-data", "jobspec", "manifest", "report",
                 "inventory", "invfilter", "invreport"]),
    ("operations", ["op", "op-*", "jobcheck", "jobcaps"]),
    ("daemon core", ["core", "lifecycle", "spool", "stage", "stage-*",
                     "bulk", "sched", "worker", "fetch", "generator",
                     "server", "invsched", "lister"]),
    ("front ends", ["control", "control-*", "metrics"]),
    ("programs", ["s3batchd.c", "s3batchctl.c"]),
]

# The client is beside the daemon's layers, not above them: it may include
# its own headers and those of the common layer, and no one but s3batchctl
# includes it.
CLIENT = ("client", ["client", "client-*"])
CLIENT_MAY_INCLUDE = {"client", "common"}
CLIENT_USERS = {"client", "programs"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(name):
    """(layer name, rank) of a file name; rank None for the client."""
    stem, ext = os.path.splitext(name)
    for rank, (layer, names) in enumerate(LAYERS, 1):
        for n in names:
            if n == name or n == stem or (n.endswith("*") and
                                          stem.startswith(n[:-1])):
                return layer, rank
    for n in CLIENT[1]:
        if n == stem or (n.endswith("*") and stem.startswith(n[:-1])):
            return CLIENT[0], None
    return None, None


def allowed(src, dst):
    """May a file of layer src include a header of layer dst?"""
    (sl, sr), (dl, dr) = src, dst
    if dl == CLIENT[0]:
        return sl in CLIENT_USERS
    if sl == CLIENT[0]:
        return dl in CLIENT_MAY_INCLUDE
    return dr <= sr


def describe(layer):
    name, rank = layer
    return name if rank is None else "%s (%d)" % (name, rank)


def check(srcdir, out):
    """Print every violation in srcdir; return their number."""
    bad = 0
    for name in sorted(os.listdir(srcdir)):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(srcdir, name)
        src = layer_of(name)
        if src[0] is None:
            out.write("src/%s: not in any layer: add it to the layer table "
                      "in tools/check-layers.py\n" % name)
            bad += 1
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m is None:
                    continue
                header = os.path.basename(m.group(1))
                dst = layer_of(header)
                if dst[0] is None:
                    out.write("src/%s:%d: includes %s, which is in no "
                              "layer: add it to the layer table in "
                              "tools/check-layers.py\n" %
                              (name, lineno, header))
                    bad += 1
                elif not allowed(src, dst):
                    out.write("src/%s:%d: includes %s: %s may not include "
                              "%s\n" % (name, lineno, header, describe(src),
                                        describe(dst)))
                    bad += 1
    return bad


def self_test(srcdir):
    """Run the check on copies of srcdir with one upward include and with
    one unknown file: both must fail, naming the line or the file."""
    me = os.path.abspath(__file__)
    failed = 0
    cases = [
        ("util.c", '#include "control.h"\n',
         "src/util.c:1: includes control.h: common (1) may not include "
         "front ends (7)"),
        ("json.c", '#include "client.h"\n',
         "src/json.c:1: includes client.h: common (1) may not include "
         "client"),
        ("client.c", '#include "http.h"\n',
         "src/client.c:1: includes http.h: client may not include "
         "transport (2)"),
        ("no-such-layer.c", "",
         "src/no-such-layer.c: not in any layer: add it to the layer table"),
    ]
    for victim, line, expect in cases:
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "src")
            shutil.copytree(srcdir, copy, ignore=lambda d, names: [
                n for n in names if not n.endswith((".c", ".h"))])
            path = os.path.join(copy, victim)
            old = ""
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    old = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(line + old)
            p = subprocess.run([sys.executable, me, copy],
                               stdout=subprocess.PIPE, text=True)
            if p.returncode != 1 or expect not in p.stdout:
                sys.stdout.write("self-test FAILED: %s with %r: exit %d, "
                                 "expected a line with %r; got:\n%s" %
                                 (victim, line.strip(), p.returncode, expect,
                                  p.stdout))
                failed += 1
            else:
                sys.stdout.write("self-test ok: %s\n" % expect)
    return failed


def main(argv):
    report = "--report" in argv
    test = "--self-test" in argv
    args = [a for a in argv if not a.startswith("--")]
    here = os.path.dirname(os.path.abspath(__file__))
    srcdir = args[0] if args else os.path.join(here, os.pardir, "src")
    if test:
        return 1 if self_test(srcdir) else 0
    bad = check(srcdir, sys.stdout)
    if bad:
        sys.stdout.write("%d include(s) against the layers "
                         "(docs/ARCHITECTURE.md)\n" % bad)
    return 0 if report or bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
