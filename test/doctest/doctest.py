#!/usr/bin/env python3
"""Runs the SQL examples of the documentation (docs/architecture.md,
"Writing docs") against a running server and compares them with the output
the documents show.

    doctest.py [--list] [DOCUMENT...]

Without documents: README.md, then docs/*.md in the order of
test/doctest/order (documents it does not name follow in alphabetical
order).  Every ```sql block runs with psql, in document order, in one
database, so that a document builds on the ones before it.  The server is
the one PGHOST/PGPORT/PGUSER/PGDATABASE name; MOCK_API_PORT is the bundled
mock API's port, substituted for the documents' 127.0.0.1:8080; PSQL is the
psql to use.

Markers:
  ```sql norun      not run (Jinja, illustrative hosts); counted
  ```sql error      must fail with an ERROR
  a ``` or ```text fence right after a sql block: the output of the
                    block's last statement, as psql prints it (the
                    "(N rows)" footer aside); a cell written "..." matches
                    any value; ```text illustrative is not compared
                    (a state the examples do not produce)
  <!-- doctest: requires EXTENSION -->   (a line of its own)
                    the whole document is skipped (and counted) unless
                    the extension can be created on the server

Prints one line per document ("doctest NAME ... ok" or "... FAILED"), each
failure with the document, block number, line, SQL and diff, and a total.
Exits 1 when a block failed.
"""

import difflib
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from build_upgrade import statements  # noqa: E402

FENCE = re.compile(r"^(\s*)(```+)\s*([^`]*)$")
REQUIRES = re.compile(r"^<!--\s*doctest:\s*requires\s+([A-Za-z0-9_]+)\s*-->\s*$", re.M)
PSQL_PREFIX = re.compile(r"^psql:[^:]*:\d+: ")
MOCK = "127.0.0.1:8080"
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/\s'\"?#]+)")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Block:
    def __init__(self, doc, number, line, info, text):
        self.doc, self.number, self.line = doc, number, line
        words = info.split()
        self.lang = words[0] if words else ""
        self.flags = set(words[1:])
        self.text = text
        self.expected = None   # the output fence that follows, if any
        self.expected_line = None


def parse(doc, text):
    """The fenced blocks of a markdown text, with each sql block's output
    fence attached."""
    lines = text.split("\n")
    blocks = []
    i = 0
    last_sql = None
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                last_sql = None
            i += 1
            continue
        indent, ticks, info = len(m.group(1)), m.group(2), m.group(3).strip()
        body = []
        j = i + 1
        while j < len(lines):
            m2 = FENCE.match(lines[j])
            if m2 and m2.group(2) == ticks and not m2.group(3).strip():
                break
            if indent and lines[j][:indent].isspace():
                body.append(lines[j][indent:])
            else:
                body.append(lines[j].lstrip() if indent else lines[j])
            j += 1
        content = "\n".join(body)
        words = info.split()
        lang = words[0] if words else ""
        if lang in ("", "text") and "illustrative" in words[1:]:
            last_sql = None
        elif lang in ("", "text") and last_sql is not None and last_sql.expected is None:
            last_sql.expected = content
            last_sql.expected_line = i + 1
            last_sql = None
        elif lang == "sql":
            b = Block(doc, sum(1 for x in blocks if x.lang == "sql") + 1, i + 1, info, content)
            blocks.append(b)
            last_sql = b
        else:
            last_sql = None
        i = j + 1
        if last_sql is not None:
            # only blank lines may separate a block from its output
            k = i
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k < len(lines) and not FENCE.match(lines[k]):
                last_sql = None
    return [b for b in blocks if b.lang == "sql"]


def documents():
    docs = ["README.md"]
    order_file = os.path.join(ROOT, "test", "doctest", "order")
    named = []
    with open(order_file) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                named.append(line)
    present = sorted("docs/" + n for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md"))
    docs += [d for d in named if d in present]
    docs += [d for d in present if d not in named]
    return docs


def psql(script, on_error_stop=True):
    cmd = [os.environ.get("PSQL", "psql"), "-X", "-q", "-P", "pager=off", "-P", "footer=off",
           "-v", "ON_ERROR_STOP=%d" % (1 if on_error_stop else 0), "-v", "VERBOSITY=default", "-v", "SHOW_CONTEXT=never"]
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        p = subprocess.run(cmd + ["-f", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=600)
    finally:
        os.unlink(path)
    out = "\n".join(PSQL_PREFIX.sub("", l) for l in p.stdout.split("\n"))
    return p.returncode, out


def cells(line):
    return [c.strip() for c in line.split("|")]


def matches(expected, actual):
    """Compares an output fence with psql's output: lines without trailing
    blanks, table cells without their padding, "..." matching any cell."""
    e = [l.rstrip() for l in expected.strip("\n").split("\n")]
    a = [l.rstrip() for l in actual.strip("\n").split("\n")]
    if len(e) != len(a):
        return False
    for el, al in zip(e, a):
        if re.match(r"^-+(\+-+)*$", el.strip()) and re.match(r"^-+(\+-+)*$", al.strip()):
            continue
        ec, ac = cells(el), cells(al)
        if len(ec) != len(ac):
            return False
        for x, y in zip(ec, ac):
            if x != y and x not in ("...", "…"):
                return False
    return True


def foreign_hosts(sql):
    """Hosts of the URLs of a block that are not loopback: such a block is
    never run (not even a DNS look-up may leave the machine)."""
    hosts = []
    for m in URL.finditer(sql):
        if m.group(0).lower().startswith("s3://"):
            # a bucket, not a host: the store is the block's "endpoint" (a
            # URL checked like the others), or else AWS itself
            if '"endpoint"' not in sql:
                hosts.append("s3.amazonaws.com")
            continue
        host = m.group(1).rsplit("@", 1)[-1]
        host = host[1:host.index("]")] if host.startswith("[") else host.split(":")[0]
        if host.lower() not in LOOPBACK:
            hosts.append(host)
    return hosts


def run_block(b, port):
    foreign = foreign_hosts(b.text)
    if foreign:
        return ("the block names a host that is not loopback (%s): use the mock API at %s, "
                "or mark the block norun" % (", ".join(sorted(set(foreign))), MOCK)), ""
    sql = b.text.replace(MOCK, "127.0.0.1:%s" % port)
    expect_error = "error" in b.flags
    if b.expected is not None:
        stmts = [s for _, s in statements(sql)]
        if not stmts:
            return "an output is shown but the block has no statement", ""
        head = sql[:sql.rindex(stmts[-1])]
        script = "\\o /dev/null\n" + head + "\n\\o\n" + stmts[-1] + "\n"
    else:
        script = sql + "\n"
    rc, out = psql(script, on_error_stop=not expect_error)
    has_error = re.search(r"^(ERROR|FATAL):", out, re.M) is not None
    if expect_error and not has_error:
        return "the block is marked error but raised none", out
    if not expect_error and (rc != 0 or has_error):
        return "the block failed (psql exited with %d)" % rc, out
    if b.expected is not None:
        want = b.expected.replace(MOCK, "127.0.0.1:%s" % port)
        got = out
        if not expect_error:
            # notices and warnings are shown only when the document shows them
            if not re.search(r"^(NOTICE|WARNING|INFO):", want, re.M):
                got = "\n".join(l for l in out.split("\n")
                                if not re.match(r"^(NOTICE|WARNING|INFO|DETAIL|HINT|CONTEXT):", l))
        if not matches(want, got):
            diff = "\n".join(difflib.unified_diff(
                [l.rstrip() for l in want.strip("\n").split("\n")],
                [l.rstrip() for l in got.strip("\n").split("\n")],
                "shown in %s at line %d" % (b.doc, b.expected_line), "psql output", lineterm=""))
            return "the output differs from the document's", diff
    return None, out


def available(ext):
    """Whether the extension can be created here (installed, and preloaded
    when it must be): tried in a transaction that is rolled back."""
    rc, out = psql('BEGIN;\nCREATE EXTENSION IF NOT EXISTS "%s" CASCADE;\nROLLBACK;\n' % ext)
    return rc == 0 and not re.search(r"^(ERROR|FATAL):", out, re.M)


def main(argv):
    listing = "--list" in argv
    argv = [a for a in argv if a != "--list"]
    port = os.environ.get("MOCK_API_PORT", "8080")
    docs = argv or documents()
    total_run = total_failed = total_norun = total_skipped = 0
    failed_docs = 0
    for doc in docs:
        with open(os.path.join(ROOT, doc)) as f:
            text = f.read()
        blocks = parse(doc, text)
        if listing:
            for b in blocks:
                print("%s block %d line %d %s%s" % (doc, b.number, b.line, " ".join(sorted(b.flags)) or "run",
                                                    " (output shown)" if b.expected is not None else ""))
            continue
        req = [e for e in REQUIRES.findall(text) if not available(e)]
        if req:
            total_skipped += len(blocks)
            print("doctest %-24s ... skipped (%d blocks: needs extension %s)" % (doc, len(blocks), ", ".join(req)))
            continue
        failures = []
        run = norun = 0
        for b in blocks:
            if "norun" in b.flags:
                norun += 1
                continue
            run += 1
            why, detail = run_block(b, port)
            if why:
                failures.append((b, why, detail))
        total_run += run
        total_norun += norun
        total_failed += len(failures)
        status = "ok" if not failures else "FAILED"
        failed_docs += bool(failures)
        print("doctest %-24s ... %s (%d blocks run%s%s)" % (
            doc, status, run, ", %d failed" % len(failures) if failures else "",
            ", %d not runnable" % norun if norun else ""))
        for b, why, detail in failures:
            print("---- %s, block %d (line %d): %s" % (b.doc, b.number, b.line, why))
            print("\n".join("    | " + l for l in b.text.split("\n")))
            print("\n".join("    " + l for l in detail.strip("\n").split("\n")))
        sys.stdout.flush()
    if listing:
        return 0
    print("doctest: %d blocks run, %d failed; %d not runnable (marked norun); %d skipped (needs an extension not available here)"
          % (total_run, total_failed, total_norun, total_skipped))
    return 1 if failed_docs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
