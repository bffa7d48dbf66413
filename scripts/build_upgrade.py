#!/usr/bin/env python3
"""Assembles an upgrade script pg_elt--FROM--TO.sql (docs/architecture.md,
"Upgrades").

    build_upgrade.py TO HAND_WRITTEN.sql PART.sql...

The script is the hand-written part (tables, columns, indexes, policies,
types, sequences, and the DROPs a change needs: what cannot be replayed),
followed by every statement of the current extension SQL (src/sql/*.sql, in
order) that can be replayed over the previous version's objects:

  - CREATE FUNCTION / PROCEDURE / VIEW / TRIGGER, turned into
    CREATE OR REPLACE ...;
  - COMMENT ON ..., GRANT ..., REVOKE ...

so that a function changed in src/sql needs nothing more.  A line
"-- new part: NN_name.sql" in the hand-written part stands for everything of
that part (new in this release) that cannot be replayed: its tables,
indexes, policies, config dumps, in its own order.  The statements
are split with SQL's lexical rules (strings, quoted names, dollar quotes,
comments).
"""

import os
import re
import sys

REPLAYABLE = re.compile(
    r"^(CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|AGGREGATE|VIEW|TRIGGER)\b"
    r"|COMMENT\s+ON\b|GRANT\b|REVOKE\b)", re.I)
CREATE = re.compile(r"^CREATE\s+(?!OR\s+REPLACE\b)", re.I)
NEW_PART = re.compile(r"^--\s*new part:\s*(\S+)\s*$")
DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def statements(text):
    """Yields (line, statement) for each SQL statement of text, without its
    leading comments and blank lines; psql meta-command lines are skipped."""
    i, n = 0, len(text)
    start = None
    line = 1
    start_line = 1
    while i < n:
        c = text[i]
        if start is None:
            if c in " \t\r\n":
                if c == "\n":
                    line += 1
                i += 1
                continue
            if text.startswith("--", i):
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if c == "\\":
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            start, start_line = i, line
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    line += text[i] == "\n"
                    i += 1
        elif c == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            i += 1
            while i < n:
                if escapes and text[i] == "\\":
                    i += 2
                    continue
                if text[i] == "'":
                    if text.startswith("''", i):
                        i += 2
                        continue
                    break
                line += text[i] == "\n"
                i += 1
            i += 1
        elif c == '"':
            j = text.find('"', i + 1)
            line += text.count("\n", i, j)
            i = j + 1
        elif c == "$" and DOLLAR.match(text, i) and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
            tag = DOLLAR.match(text, i).group(0)
            j = text.find(tag, i + len(tag))
            if j < 0:
                raise SystemExit("unterminated dollar quote %s at line %d" % (tag, line))
            line += text.count("\n", i, j)
            i = j + len(tag)
        elif c == ";":
            yield start_line, text[start:i + 1]
            start = None
            i += 1
        else:
            line += c == "\n"
            i += 1
    if start is not None and text[start:].strip():
        raise SystemExit("statement without a final semicolon at line %d" % start_line)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    to_version, hand_written, parts = argv[0], argv[1], argv[2:]
    out = sys.stdout
    out.write("-- pg_elt upgrade to %s.  Built by scripts/build_upgrade.py from %s\n"
              "-- and the replayable statements of src/sql/*.sql: do not edit.\n\n"
              % (to_version, hand_written))
    out.write('\\echo Use "ALTER EXTENSION pg_elt UPDATE TO \'%s\'" to load this file. \\quit\n\n'
              % to_version)
    by_name = {os.path.basename(p): p for p in parts}
    with open(hand_written) as f:
        for text_line in f.read().rstrip("\n").split("\n"):
            m = NEW_PART.match(text_line)
            if not m:
                out.write(text_line + "\n")
                continue
            # A part that is new in this release: its tables, indexes,
            # policies and the rest that cannot be replayed, here; its
            # functions come with the replay below.
            name = m.group(1)
            if name not in by_name:
                raise SystemExit("%s: no part %s among the SQL parts" % (hand_written, name))
            with open(by_name[name]) as part:
                out.write("-- the new part %s, what cannot be replayed\n" % name)
                for line, stmt in statements(part.read()):
                    if not REPLAYABLE.match(stmt):
                        out.write(stmt + "\n")
    out.write("\n-- Replayed from the current extension SQL.\n")
    for part in parts:
        with open(part) as f:
            text = f.read()
        out.write("\n-- %s\n" % part)
        for line, stmt in statements(text):
            if not REPLAYABLE.match(stmt):
                continue
            if stmt[:6].upper() == "CREATE":
                stmt = CREATE.sub("CREATE OR REPLACE ", stmt, count=1)
            out.write(stmt + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
