#!/usr/bin/env python3
"""Generate src/model-data.c from Amazon's S3 Control service model.

usage: tools/gen-model.py MODEL.json [OUTPUT]

MODEL.json is the service model (s3control-batch-jobs.json in the shared
reference tree); OUTPUT defaults to src/model-data.c beside this script.
The inventory shapes of the S3 service model (s3-inventory.json, beside
MODEL.json) are merged in first, under their own roots (INVENTORY_ROOTS):
a shape whose name the S3 Control model already uses for something else
(AccountId) is renamed with an "S3" prefix.
The output holds one table entry per shape reachable from the job-control
operations and from JobDescriptor/JobListDescriptor: members, required flags,
type, enum values, bounds and regex patterns (translated from the model's
Java syntax to POSIX extended regular expressions). Before that, the
EXTENSIONS below (operations s3batchd runs beyond Amazon's, such as
S3DeleteObject) are added to the model, and the output lists them in its
header comment. The project builds from the committed output, so run this
only when the model or the extensions change.
"""

import json
import os
import sys

OPERATIONS = [
    "CreateJob", "DescribeJob", "ListJobs", "UpdateJobPriority",
    "UpdateJobStatus", "GetJobTagging", "PutJobTagging", "DeleteJobTagging",
]
EXTRA_ROOTS = ["JobDescriptor", "JobListDescriptor"]

# The inventory configuration calls (issue 9, docs/INVENTORY.md), from the
# S3 service model's shapes in s3-inventory.json.
INVENTORY_MODEL = "s3-inventory.json"
INVENTORY_ROOTS = [
    "PutBucketInventoryConfigurationRequest",
    "GetBucketInventoryConfigurationRequest",
    "DeleteBucketInventoryConfigurationRequest",
    "ListBucketInventoryConfigurationsRequest",
    "ListBucketInventoryConfigurationsOutput",
]

# Amazon's documentation says a job has exactly one operation, but the model
# does not carry the union trait on JobOperation; the validator needs it.
FORCE_UNION = {"JobOperation"}

# Extensions: members and shapes that s3batchd accepts beyond Amazon's model
# (DESIGN.md section 11). They are added to the model here, in one explicit
# step before anything is generated, so that the validator checks them like
# any other shape and the output says which they are. Each entry names the
# structure it extends, the new member, and the new shape(s) it refers to.
EXTENSIONS = [
    {
        # docs/operations/S3DeleteObject.md: a version-pinned, ETag-guarded
        # delete of the listed objects, always created Suspended.
        "extends": "JobOperation",
        "member": "S3DeleteObject",
        "shape": "S3DeleteObjectOperation",
        "shapes": {
            "S3DeleteObjectOperation": {
                "type": "structure",
                "members": {
                    "BypassGovernanceRetention": {"shape": "Boolean"},
                },
            },
        },
    },
    {
        # docs/INVENTORY.md: a filter over an inventory report's rows, in
        # S3 Select's WHERE syntax (s._6 = 'DISABLED', or the column
        # names); only the rows it selects become tasks.
        "extends": "JobManifest",
        "member": "Filter",
        "shape": "ManifestFilterExpression",
        "shapes": {
            "ManifestFilterExpression": {
                "type": "string", "min": 1, "max": 4096,
            },
        },
    },
    # docs/INVENTORY.md: inventory schedules beyond Daily and Weekly, at a
    # time of day and on a day of the week (UTC), and the job an inventory
    # report feeds.
    {"extends": "InventoryFrequency", "enum": "Hourly"},
    {
        "extends": "InventorySchedule",
        "member": "TimeOfDay",
        "shape": "InventoryTimeOfDay",
        "shapes": {
            "InventoryTimeOfDay": {
                "type": "string",
                "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
            },
        },
    },
    {
        "extends": "InventorySchedule",
        "member": "DayOfWeek",
        "shape": "InventoryDayOfWeek",
        "shapes": {
            "InventoryDayOfWeek": {
                "type": "string",
                "enum": ["Sunday", "Monday", "Tuesday", "Wednesday",
                         "Thursday", "Friday", "Saturday"],
            },
        },
    },
    {
        # A CreateJob request without its Manifest: the report is the
        # manifest (the validator is told that Manifest may be absent).
        "extends": "InventoryConfiguration",
        "member": "JobTemplate",
        "shape": "CreateJobRequest",
        "shapes": {},
    },
    {
        "extends": "InventoryConfiguration",
        "member": "JobFilter",
        "shape": "ManifestFilterExpression",
        "shapes": {},
    },
]


def merge_inventory(model, inv):
    """Add the inventory shapes of the S3 model to the S3 Control model."""
    shapes = model["shapes"]
    rename = {}
    for name, shape in inv["shapes"].items():
        if name in shapes and strip_docs(shapes[name]) != strip_docs(shape):
            rename[name] = "S3" + name
    for name, shape in inv["shapes"].items():
        shape = json.loads(json.dumps(shape))
        for ref in list(shape.get("members", {}).values()) + \
                [shape[k] for k in ("member", "key", "value") if k in shape]:
            ref["shape"] = rename.get(ref["shape"], ref["shape"])
        new = rename.get(name, name)
        if new in shapes and strip_docs(shapes[new]) != strip_docs(shape):
            raise SystemExit("inventory shape %s clashes" % new)
        shapes[new] = shape


def strip_docs(shape):
    return json.dumps({k: v for k, v in shape.items()
                       if k != "documentation"}, sort_keys=True)


def apply_extensions(model):
    """Add EXTENSIONS to the model; returns the names of what was added."""
    shapes = model["shapes"]
    added = []
    for ext in EXTENSIONS:
        if "enum" in ext:
            # A value added to an enum shape.
            target = shapes[ext["extends"]]
            if ext["enum"] in target["enum"]:
                raise SystemExit("extension value %s of %s is already in "
                                 "the model" % (ext["enum"], ext["extends"]))
            target["enum"].append(ext["enum"])
            added.append("%s value %s" % (ext["extends"], ext["enum"]))
            continue
        for name, shape in ext["shapes"].items():
            if name in shapes:
                raise SystemExit("extension shape %s is already in the "
                                 "model" % name)
            shapes[name] = shape
            added.append(name)
        target = shapes[ext["extends"]]
        if ext["member"] in target.get("members", {}):
            raise SystemExit("extension member %s.%s is already in the "
                             "model" % (ext["extends"], ext["member"]))
        target.setdefault("members", {})[ext["member"]] = {
            "shape": ext["shape"]}
        added.append("%s.%s" % (ext["extends"], ext["member"]))
    return added

TYPES = {
    "structure": "MODEL_STRUCTURE", "list": "MODEL_LIST", "map": "MODEL_MAP",
    "string": "MODEL_STRING", "integer": "MODEL_INTEGER",
    "long": "MODEL_LONG", "boolean": "MODEL_BOOLEAN",
    "timestamp": "MODEL_TIMESTAMP",
}


class Untranslatable(Exception):
    pass


def relaxed_required(member):
    """Required members that the daemon does not insist on.

    The aws cli fills an idempotency token in itself when the input has none,
    and the daemon does the same (ClientRequestToken is handled by the job
    layer). AccountId is a host label for Amazon's endpoint routing; a
    self-hosted daemon accepts it and ignores it, so it may be left out.
    """
    if member.get("idempotencyToken"):
        return True
    if member.get("hostLabel") and member.get("location") == "header":
        return True
    return False


# Unicode property classes have no POSIX equivalent. Inside a bracket they
# are translated to their ASCII part, and the validator replaces each
# non-ASCII character with a letter before matching (MODEL_S_PATTERN_UNI):
# exact for ASCII, and it takes every non-ASCII character to be a letter.
UNI_CLASSES = {"L": ["A-Z", "a-z"], "N": ["0-9"], "Z": [" "]}
ERE_SPECIAL = set(".[]()*+?{}|^$\\")


def translate_bracket(pat, i):
    """Translate the bracket expression starting after '[' at pat[i]."""
    negate = False
    if i < len(pat) and pat[i] == "^":
        negate = True
        i += 1
    ranges, chars, uni = [], [], False
    first = True
    while True:
        if i >= len(pat):
            raise Untranslatable("unterminated bracket")
        c = pat[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "[":
            raise Untranslatable("nested bracket or class")
        if c == "\\":
            if i + 1 >= len(pat):
                raise Untranslatable("trailing backslash")
            e = pat[i + 1]
            if e == "d":
                ranges.append("0-9")
                i += 2
                continue
            if e == "p":
                end = pat.find("}", i)
                if pat[i + 2:i + 3] != "{" or end < 0:
                    raise Untranslatable("bad \\p")
                name = pat[i + 3:end]
                if name not in UNI_CLASSES:
                    raise Untranslatable("\\p{%s}" % name)
                for r in UNI_CLASSES[name]:
                    (ranges if len(r) == 3 else chars).append(r)
                uni = True
                i = end + 1
                continue
            if e.isalnum():
                raise Untranslatable("escape \\%s" % e)
            lit, escaped = e, True
            i += 2
        else:
            lit, escaped = c, False
            i += 1
        # A '-' between two single characters makes a range, as in Java.
        if (lit != "-" or escaped) and i + 1 < len(pat) and \
                pat[i] == "-" and pat[i + 1] != "]":
            hi = pat[i + 1]
            j = i + 2
            if hi == "\\":
                hi = pat[i + 2]
                if hi.isalnum():
                    raise Untranslatable("escape in range")
                j = i + 3
            if ord(hi) < ord(lit):
                raise Untranslatable("reversed range")
            if "]" in (lit, hi) or "-" in (lit, hi) or "^" in (lit, hi):
                raise Untranslatable("awkward range endpoint")
            ranges.append(lit + "-" + hi)
            i = j
            continue
        chars.append(lit)
    # POSIX has no escapes in brackets: ']' goes first, '^' anywhere but
    # first, '-' last.
    out = "["
    if negate:
        out += "^"
    body = ""
    if "]" in chars:
        body += "]"
    body += "".join(ranges)
    body += "".join(c for c in dict.fromkeys(chars) if c not in "]^-")
    if "^" in chars:
        if body == "":
            raise Untranslatable("lone ^ in bracket")
        body += "^"
    if "-" in chars:
        body += "-"
    if body == "":
        raise Untranslatable("empty bracket")
    return out + body + "]", i, uni


def translate(pat):
    """Java regex to POSIX ERE; returns (ere, uses_unicode_classes)."""
    out, uni, i = "", False, 0
    while i < len(pat):
        c = pat[i]
        if c == "[":
            b, i, u = translate_bracket(pat, i + 1)
            out += b
            uni = uni or u
            continue
        if c == "\\":
            if i + 1 >= len(pat):
                raise Untranslatable("trailing backslash")
            e = pat[i + 1]
            i += 2
            if e == "d":
                out += "[0-9]"
            elif e.isalnum():
                raise Untranslatable("escape \\%s" % e)
            elif e in ERE_SPECIAL:
                out += "\\" + e
            else:
                out += e
            continue
        if c == "(" and pat[i + 1:i + 2] == "?":
            raise Untranslatable("(? group")
        if c in "*+?}" and pat[i + 1:i + 2] in ("?", "+"):
            raise Untranslatable("lazy or possessive quantifier")
        out += c
        i += 1
    return out, uni


def cstr(s):
    out = '"'
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out += "\\" + ch
        elif 0x20 <= o < 0x7f:
            out += ch
        else:
            for b in ch.encode("utf-8"):
                out += "\\%03o" % b
    # Break "??" so that no trigraph can form.
    return out.replace("??", '?""?') + '"'


def reachable(model):
    shapes = model["shapes"]
    roots = []
    for op in OPERATIONS:
        o = model["operations"][op]
        for k in ("input", "output"):
            if k in o:
                roots.append(o[k]["shape"])
    roots += EXTRA_ROOTS + INVENTORY_ROOTS
    seen, todo = set(), list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        s = shapes[n]
        for m in s.get("members", {}).values():
            todo.append(m["shape"])
        for k in ("member", "key", "value"):
            if k in s:
                todo.append(s[k]["shape"])
    return sorted(seen)


def generate(model, source_name):
    extensions = apply_extensions(model)
    shapes = model["shapes"]
    names = reachable(model)
    index = {n: i for i, n in enumerate(names)}
    if len(names) > 65535:
        raise SystemExit("too many shapes")
    lines = []
    w = lines.append
    api = model.get("metadata", {}).get("apiVersion", "?")
    w("/*")
    w(" * Generated by tools/gen-model.py from %s" % source_name)
    w(" * (API version %s). Entries are sorted by name; members name their" % api)
    w(" * shape by its index in model_shapes, shown in each entry's comment.")
    w(" * Do not edit: change the generator or the model and run it again.")
    if extensions:
        w(" *")
        w(" * Extensions, not in Amazon's model (EXTENSIONS in the generator):")
        for e in extensions:
            w(" *   %s" % e)
    w(" */")
    w('#include <stddef.h>')
    w('#include <stdint.h>')
    w("")
    w('#include "model.h"')
    w("")
    skipped = []
    for n in names:
        s = shapes[n]
        if "enum" in s:
            w("static const char *const model_enum_%s[] = {" % n)
            for e in s["enum"]:
                w("\t%s," % cstr(e))
            w("\tNULL")
            w("};")
        if s["type"] == "structure" and s.get("members"):
            req = set(s.get("required", []))
            w("static const struct model_member model_members_%s[] = {" % n)
            for mn in sorted(s["members"]):
                m = s["members"][mn]
                flags = "0"
                if mn in req and not relaxed_required(m):
                    flags = "MODEL_M_REQUIRED"
                w("\t{ %s, %d, %s },\t/* %s */" %
                  (cstr(mn), index[m["shape"]], flags, m["shape"]))
            w("};")
    w("")
    w("const struct model_shape model_shapes[] = {")
    for n in names:
        s = shapes[n]
        t = s["type"]
        if t not in TYPES:
            raise SystemExit("%s: unsupported type %s" % (n, t))
        flags = []
        if s.get("union") or n in FORCE_UNION:
            flags.append("MODEL_S_UNION")
        if "min" in s:
            flags.append("MODEL_S_MIN")
        if "max" in s:
            flags.append("MODEL_S_MAX")
        pattern = regex = "NULL"
        if "pattern" in s:
            pattern = cstr(s["pattern"])
            try:
                ere, uni = translate(s["pattern"])
                regex = cstr(ere)
                if uni:
                    flags.append("MODEL_S_PATTERN_UNI")
            except Untranslatable as e:
                skipped.append((n, s["pattern"], str(e)))
        members, nmembers = "NULL", 0
        if t == "structure" and s.get("members"):
            members = "model_members_%s" % n
            nmembers = len(s["members"])
        member = key = 0
        if t == "list":
            member = index[s["member"]["shape"]]
        if t == "map":
            member = index[s["value"]["shape"]]
            key = index[s["key"]["shape"]]
        enums = "model_enum_%s" % n if "enum" in s else "NULL"
        w("\t/* %d */" % index[n])
        w("\t{ %s, %s, %s," % (cstr(n), TYPES[t],
                                " | ".join(flags) if flags else "0"))
        w("\t  INT64_C(%d), INT64_C(%d), %s, %s," %
          (s.get("min", 0), s.get("max", 0), pattern, regex))
        w("\t  %s, %s, %d, %d, %d }," % (enums, members, nmembers, member, key))
    w("};")
    w("const size_t model_nshapes = %d;" % len(names))
    w("")
    if skipped:
        w("/*")
        w(" * Patterns not checked (no POSIX translation):")
        for n, p, why in skipped:
            w(" *   %s: %s (%s)" % (n, p.replace("*/", "*\\/"), why))
        w(" */")
    else:
        w("/* Every pattern of these shapes has a POSIX translation; those")
        w(" * flagged MODEL_S_PATTERN_UNI stand for Unicode classes. */")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: gen-model.py MODEL.json [OUTPUT]\n")
        return 1
    with open(sys.argv[1], encoding="utf-8") as f:
        model = json.load(f)
    inv_path = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])),
                            INVENTORY_MODEL)
    with open(inv_path, encoding="utf-8") as f:
        merge_inventory(model, json.load(f))
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src",
        "model-data.c")
    text = generate(model, "%s and %s" % (os.path.basename(sys.argv[1]),
                                          INVENTORY_MODEL))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
