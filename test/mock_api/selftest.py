#!/usr/bin/env python3
"""Self-test of the mock API: starts server.py on a free port and exercises
every endpoint and fault, then prints a few benchmark figures.

Usage: python3 test/mock_api/selftest.py [--no-bench] [--huge-mb N]
Exits non-zero when a check fails; the last line is "N passed, M failed".
"""

import argparse
import base64
import csv
import email.utils
import gzip
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from urllib.parse import parse_qs, quote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"
PORT = None

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def call(method, path, headers=None, body=None, timeout=30, conn=None):
    c = conn or http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return Resp(r.status, r.getheaders(), data)
    finally:
        if conn is None:
            c.close()


def get(path, headers=None, **kw):
    return call("GET", path, headers, **kw)


def post(path, body=None, headers=None, **kw):
    return call("POST", path, headers, body, **kw)


def ok_json(path, headers=None):
    r = get(path, headers)
    assert r.status == 200, (path, r.status, r.body[:300])
    return r.json()


def path_of(url):
    """Path and query of an absolute URL on this server."""
    u = urlsplit(url)
    assert u.scheme == "http" and u.netloc == "%s:%d" % (HOST, PORT), url
    return u.path + ("?" + u.query if u.query else "")


def parse_link(value):
    out = {}
    for part in value.split(","):
        url, _, params = part.strip().partition(";")
        rel = params.strip()
        assert rel.startswith("rel="), value
        out[rel[4:].strip('"')] = url.strip()[1:-1]
    return out


def uuid_index(u):
    return int(u["login"]["uuid"].rsplit("-", 1)[1], 16)


def reset():
    assert post("/_control/reset").status == 200


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------

USER_KEYS = ["gender", "name", "location", "email", "login", "dob",
             "registered", "phone", "cell", "id", "picture", "nat"]


@test
def health():
    assert ok_json("/_control/health") == {"ok": True}


@test
def api_shape():
    d = ok_json("/api/?results=3&page=1&seed=abc")
    assert d["info"] == {"seed": "abc", "results": 3, "page": 1, "version": "1.4"}
    assert len(d["results"]) == 3
    for u in d["results"]:
        assert list(u) == USER_KEYS, list(u)
        assert set(u["name"]) == {"title", "first", "last"}
        loc = u["location"]
        assert set(loc["street"]) == {"number", "name"}
        assert isinstance(loc["coordinates"]["latitude"], str)
        assert isinstance(loc["coordinates"]["longitude"], str)
        assert set(loc["timezone"]) == {"offset", "description"}
        assert set(u["login"]) == {"uuid", "username", "password", "salt",
                                   "md5", "sha1", "sha256"}
        assert u["dob"]["date"].endswith("Z") and len(u["dob"]["date"]) == 24
        assert isinstance(u["dob"]["age"], int)
        assert set(u["picture"]) == {"large", "medium", "thumbnail"}
    assert [uuid_index(u) for u in d["results"]] == [0, 1, 2]


@test
def api_deterministic_and_paged():
    a = get("/api/?results=5&page=2")
    b = get("/api?results=5&page=2")
    assert a.status == b.status == 200 and a.body == b.body
    d = a.json()
    assert d["info"]["seed"] == "pgelt" and d["info"]["page"] == 2
    assert [uuid_index(u) for u in d["results"]] == [5, 6, 7, 8, 9]
    # Same users whatever the page size.
    e = ok_json("/api/?results=10&page=1")
    assert e["results"][5:] == d["results"]
    other = ok_json("/api/?results=5&page=2&seed=zzz")
    assert other["results"] != d["results"]


@test
def api_quirks():
    us = ok_json("/users/page?per_page=100&total=100")["data"]
    pcs = [u["location"]["postcode"] for u in us]
    assert any(isinstance(p, int) for p in pcs)
    assert any(isinstance(p, str) for p in pcs)
    assert any(u["id"]["value"] is None and u["id"]["name"] == "" for u in us)
    names = [u["name"]["first"] + u["name"]["last"] for u in us]
    assert any("'" in n for n in names)
    assert any(any(ord(c) > 127 for c in n) for n in names)
    assert '"' in us[11]["name"]["first"] and "," in us[11]["location"]["city"]
    assert "'" in us[24]["name"]["last"]
    assert "\n" in us[36]["location"]["city"]
    assert len({u["login"]["uuid"] for u in us}) == 100


@test
def api_ndjson():
    r = get("/api/?results=7&format=ndjson")
    assert r.status == 200 and r.header("Content-Type") == "application/x-ndjson"
    lines = r.body.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 8
    us = [json.loads(x) for x in lines[:-1]]
    assert us == ok_json("/api/?results=7")["results"]


@test
def api_csv():
    r = get("/api/?results=60&format=csv")
    assert r.status == 200 and r.header("Content-Type").startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
    assert rows[0] == ["uuid", "gender", "title", "first", "last", "email",
                       "city", "country", "postcode", "dob", "phone", "nat"]
    assert len(rows) == 61
    us = ok_json("/api/?results=60")["results"]
    for row, u in zip(rows[1:], us):
        assert row[0] == u["login"]["uuid"]
        assert row[3] == u["name"]["first"] and row[4] == u["name"]["last"]
        assert row[6] == u["location"]["city"]
        assert row[8] == str(u["location"]["postcode"])
    assert b'"Robert ""Bobby"""' in r.body
    assert b'"Washington, D.C."' in r.body
    assert b'"Newcastle upon\nTyne"' in r.body


@test
def api_limit():
    d = ok_json("/api/?results=6000")
    assert len(d["results"]) == 5000 and d["info"]["results"] == 5000
    d = ok_json("/api/?results=5001&nolimit=1")
    assert len(d["results"]) == 5001


def walk_page(extra=""):
    out = []
    page = 1
    while True:
        d = ok_json("/users/page?page=%d&per_page=10&total=25%s" % (page, extra))
        assert d["total"] == 25 and d["per_page"] == 10 and d["total_pages"] == 3
        if not d["data"]:
            break
        out += d["data"]
        page += 1
    assert page == 4
    return out


@test
def users_all_paginations_agree():
    by_page = walk_page()
    assert len(by_page) == 25
    assert [uuid_index(u) for u in by_page] == list(range(25))

    by_offset = []
    off = 0
    while True:
        d = ok_json("/users/offset?offset=%d&limit=7&total=25" % off)
        assert d["offset"] == off and d["limit"] == 7 and d["total"] == 25
        if not d["items"]:
            break
        by_offset += d["items"]
        off += 7
    assert by_offset == by_page

    by_cursor = []
    path = "/users/cursor?limit=6&total=25"
    pages = 0
    while True:
        d = ok_json(path)
        by_cursor += d["records"]
        pages += 1
        if d["next_cursor"] is None:
            break
        assert isinstance(d["next_cursor"], str)
        path = "/users/cursor?limit=6&total=25&cursor=" + quote(d["next_cursor"])
    assert pages == 5 and by_cursor == by_page

    by_next = []
    url = "/users/next?limit=8&total=25"
    while url:
        d = ok_json(url)
        by_next += d["results"]
        url = d["next"] and path_of(d["next"])
    assert by_next == by_page

    by_link = []
    url = "/users/link?page=1&per_page=4&total=25"
    orders = set()
    while url:
        r = get(url)
        assert r.status == 200
        by_link += r.json()
        links = parse_link(r.header("Link"))
        orders.add(tuple(links))
        assert "first" in links and "last" in links
        assert path_of(links["last"]).find("page=7") > 0
        url = links.get("next") and path_of(links["next"])
    assert by_link == by_page
    assert len(orders) > 1, "Link header order never varies"


@test
def users_page_beyond_end_and_formats():
    d = ok_json("/users/page?page=99&per_page=10&total=25")
    assert d["data"] == [] and d["total_pages"] == 3
    r = get("/users/page?page=2&per_page=10&total=25&format=ndjson")
    assert r.status == 200 and len(r.body.decode().splitlines()) == 10
    r = get("/users/page?page=4&per_page=10&total=25&format=ndjson")
    assert r.status == 200 and r.body == b""
    r = get("/users/offset?offset=20&limit=10&total=25&format=csv")
    assert r.status == 200 and len(list(csv.reader(io.StringIO(r.body.decode(), newline="")))) == 6
    r = get("/users/link?page=3&per_page=10&total=25")
    assert "next" not in parse_link(r.header("Link")) and len(r.json()) == 5
    assert get("/users/page?page=0").status == 400
    assert get("/users/page?per_page=abc").status == 400
    assert get("/users/cursor?cursor=notacursor").status == 400


@test
def users_next_uses_host_header_and_passes_params():
    d = ok_json("/users/next?limit=5&total=20&seed=s1&fail_page=9",
                {"Host": "api.example.test:8080"})
    u = urlsplit(d["next"])
    assert u.scheme == "http" and u.netloc == "api.example.test:8080", d["next"]
    q = parse_qs(u.query)
    assert q["seed"] == ["s1"] and q["total"] == ["20"] and q["fail_page"] == ["9"]
    assert q["start"] == ["5"] and q["limit"] == ["5"]
    r = get("/users/link?page=1&per_page=5&total=20&seed=s1",
            {"Host": "h.test:1"})
    links = parse_link(r.header("Link"))
    assert links["next"].startswith("http://h.test:1/users/link?")
    assert "seed=s1" in links["next"]


@test
def users_cursor_carries_params():
    reset()
    d = ok_json("/users/cursor?limit=5&total=30&seed=carry&fail_page=2&fail_times=1")
    cur = d["next_cursor"]
    # Only the cursor: seed, total and faults come from it.
    r = get("/users/cursor?cursor=" + quote(cur))
    assert r.status == 500, r.status
    r = get("/users/cursor?cursor=" + quote(cur))
    assert r.status == 200
    d2 = r.json()
    assert [uuid_index(u) for u in d2["records"]] == [5, 6, 7, 8, 9]
    assert d2["records"][0] == ok_json("/users/offset?offset=5&limit=1&seed=carry")["items"][0]


@test
def users_endless():
    path = "/users/endless?page=3&seed=e"
    d = ok_json(path)
    assert len(d["results"]) == 1
    assert path_of(d["next"]) == path
    assert d["next_cursor"] == "endless"
    d = ok_json("/users/endless?cursor=abc")
    assert d["next_cursor"] == "abc"
    r = get("/users/endless_link?page=2")
    assert r.status == 200 and len(r.json()) == 1
    assert parse_link(r.header("Link"))["next"] == "http://%s:%d/users/endless_link?page=2" % (HOST, PORT)


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------

def all_orders(since=None, limit=37):
    out = []
    base = "/orders?limit=%d" % limit
    if since is not None:
        base += "&updated_since=" + quote(since)
    path = base
    while True:
        d = ok_json(path)
        out += d["orders"]
        if d["next_cursor"] is None:
            return out
        path = base + "&cursor=" + quote(d["next_cursor"])


@test
def orders_feed():
    assert post("/_control/orders/reset").json()["orders"] == 200
    os_ = all_orders()
    assert len(os_) == 200 and len({o["order_id"] for o in os_}) == 200
    keys = [(o["updated_at"], o["order_id"]) for o in os_]
    assert keys == sorted(keys)
    assert len({o["updated_at"] for o in os_}) < 200, "no ties on updated_at"
    users = {u["login"]["uuid"] for u in ok_json("/users/page?per_page=100")["data"]}
    for o in os_:
        assert o["customer_uuid"] in users
        assert o["status"] in ("placed", "shipped", "delivered", "cancelled")
        assert isinstance(o["amount"], (int, float)) and o["currency"] == "EUR"
        assert o["ordered_at"].startswith("2024-") and o["updated_at"].startswith("2024-")
        assert o["updated_at"] >= o["ordered_at"]
        assert o["items"] and all(set(i) == {"sku", "qty"} for i in o["items"])
    # Strictly greater than updated_since, in either spelling.
    mid = os_[100]["updated_at"]
    later = [o for o in os_ if o["updated_at"] > mid]
    a = all_orders(mid)
    b = all_orders(mid.replace("T", " ").replace("Z", "+00"))
    assert a == later and b == later
    # '+' not URL-encoded arrives as a space.
    d = ok_json("/orders?limit=1000&updated_since=" + mid.replace("T", "%20").replace("Z", "+00"))
    assert d["orders"] == later
    assert get("/orders?updated_since=yesterday").status == 400
    # Page paging with the same filter.
    p = ok_json("/orders/page?page=1&per_page=1000&updated_since=" + quote(mid))
    assert p["orders"] == later and p["total"] == len(later)


def all_member_changes(path):
    out, pages, nxt = [], 0, path
    while True:
        d = ok_json(nxt)
        pages += 1
        out += d["members"]
        if d["next_cursor"] is None:
            return out, pages
        nxt = "/members/changes?cursor=" + quote(d["next_cursor"])


@test
def member_changes_feed():
    assert post("/_control/members/reset").json() == {"changes": 0}
    assert ok_json("/members/changes?members=10") == {"members": [], "next_cursor": None}
    assert post("/_control/members/advance?changes=25").json() == {"changes": 25}
    assert ok_json("/_control/members") == {"changes": 25}
    recs, pages = all_member_changes("/members/changes?members=10&limit=4")
    assert pages == 7 and [r["seq"] for r in recs] == list(range(1, 26))
    # every 10 consecutive changes touch each of the 10 members once
    for lo in (0, 10):
        assert sorted(r["member_id"] for r in recs[lo:lo + 10]) == list(range(1, 11))
    for r in recs:
        assert r["version"] == (r["seq"] - 1) // 10 + 1 and r["deleted"] is False
        assert r["name"] == "member %d" % r["member_id"]
        assert r["updated_at"].startswith("2025-01-01T00:00:")
    assert recs[0]["member_id"] == 1 and recs[1]["member_id"] == 1 + 7919 % 10
    # incremental: only the changes after the cursor, the same records
    later, _ = all_member_changes("/members/changes?members=10&limit=4&after=20")
    assert later == recs[20:]
    post("/_control/members/advance?changes=3")
    more, _ = all_member_changes("/members/changes?members=10&after=25")
    assert [r["seq"] for r in more] == [26, 27, 28]
    assert get("/members/changes?cursor=bogus").status == 400
    assert get("/members/changes?members=0").status == 400
    assert get("/members/changes?after=-1").status == 400
    assert post("/_control/members/reset").json() == {"changes": 0}


@test
def orders_advance_and_reset():
    post("/_control/orders/reset")
    before = all_orders()
    high = max(o["updated_at"] for o in before)
    r = post("/_control/orders/advance?updated=5&new=3").json()
    assert r["orders"] == 203 and r["updated"] == 5 and r["new"] == 3
    assert r["clock"] == "2025-01-01T00:00:00Z"
    changed = all_orders(high)
    assert len(changed) == 8
    assert len([o for o in changed if o["order_id"] > 200]) == 3
    old = {o["order_id"]: o for o in before}
    for o in changed:
        if o["order_id"] <= 200:
            assert o["status"] != old[o["order_id"]]["status"]
            assert o["updated_at"].startswith("2025-01-01")
    r = post("/_control/orders/advance?updated=2&new=0").json()
    assert r["clock"] == "2025-01-02T00:00:00Z" and r["orders"] == 203
    assert len(all_orders("2025-01-01T12:00:00Z")) == 2
    assert post("/_control/orders/reset").json()["orders"] == 200
    assert all_orders() == before


# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------

def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


@test
def auth_bearer():
    r = get("/auth/bearer/users?per_page=3")
    assert r.status == 401 and r.json() == {"error": "unauthorized"}
    assert r.header("WWW-Authenticate", "").startswith("Bearer")
    assert get("/auth/bearer/users", {"Authorization": "Bearer nope"}).status == 401
    d = ok_json("/auth/bearer/users?page=2&per_page=3", {"Authorization": "Bearer test-token"})
    assert d["page"] == 2 and len(d["data"]) == 3 and d["total"] == 100


@test
def auth_api_key():
    assert get("/auth/api_key/users").status == 401
    assert get("/auth/api_key/users", {"X-Api-Key": "bad"}).status == 401
    assert ok_json("/auth/api_key/users", {"X-Api-Key": "test-key"})["data"]
    assert ok_json("/auth/api_key/users?api_key=test-key")["data"]


@test
def auth_basic():
    r = get("/auth/basic/users")
    assert r.status == 401 and r.header("WWW-Authenticate", "").startswith("Basic")
    assert get("/auth/basic/users", {"Authorization": basic("alice", "x")}).status == 401
    assert ok_json("/auth/basic/users", {"Authorization": basic("alice", "s3cret")})["data"]


def token(extra="", body=None, headers=None):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    form.update(headers or {})
    return post("/oauth/token" + extra, body if body is not None else
                "grant_type=client_credentials&client_id=client&client_secret=client-secret",
                form)


@test
def auth_oauth():
    reset()
    r = token()
    assert r.status == 200
    t = r.json()
    assert t["token_type"] == "Bearer" and t["expires_in"] == 3600 and t["access_token"]
    r2 = token(body="grant_type=client_credentials",
               headers={"Authorization": basic("client", "client-secret")})
    assert r2.status == 200 and r2.json()["access_token"] != t["access_token"]
    bad = token(body="grant_type=client_credentials&client_id=client&client_secret=x")
    assert bad.status == 401 and bad.json()["error"] == "invalid_client"
    assert token(body="grant_type=password&client_id=client&client_secret=client-secret").status == 400
    assert get("/auth/oauth/users").status == 401
    h = {"Authorization": "Bearer " + t["access_token"]}
    assert ok_json("/auth/oauth/users?per_page=2", h)["per_page"] == 2
    assert post("/_control/oauth/revoke").status == 200
    assert get("/auth/oauth/users", h).status == 401
    t3 = token().json()
    assert get("/auth/oauth/users", {"Authorization": "Bearer " + t3["access_token"]}).status == 200
    t0 = token("?expires_in=0").json()
    assert t0["expires_in"] == 0
    assert get("/auth/oauth/users", {"Authorization": "Bearer " + t0["access_token"]}).status == 401
    assert ok_json("/_control/stats")["tokens_issued"] == 4
    assert ok_json("/_control/oauth")["tokens_issued"] == 4


# ---------------------------------------------------------------------------
# Utilities
# ---------------------------------------------------------------------------

@test
def echo():
    for m in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        body = "payload é" if m != "GET" else None
        r = call(m, "/echo/?a=1&b=two&a=3", {"X-Custom": "Yes"},
                 body.encode() if body else None)
        assert r.status == 200, (m, r.status)
        d = r.json()
        assert d["method"] == m and d["path"] == "/echo/"
        assert d["query"] == {"a": ["1", "3"], "b": "two"}
        assert d["headers"]["x-custom"] == "Yes"
        assert d["body"] == (body or "")
    r = call("HEAD", "/echo")
    assert r.status == 200 and r.body == b"" and int(r.header("Content-Length")) > 0


@test
def status_codes():
    for code in (200, 201, 400, 404, 418, 500, 503):
        r = get("/status/%d" % code)
        assert r.status == code and r.json() == {"status": code}
    for code in (204, 304):
        r = get("/status/%d" % code)
        assert r.status == code and r.body == b""
    assert call("DELETE", "/status/202").status == 202


@test
def small():
    r = get("/small")
    d = r.json()
    assert r.status == 200 and 150 <= len(r.body) <= 260 and d["n"] == 0
    d = ok_json("/small/42")
    assert d["n"] == 42
    assert get("/small/x").status == 404


@test
def redirects():
    for code in (301, 302, 303, 307, 308):
        r = get("/redirect?to=%s&code=%d" % (quote("/small/7"), code))
        assert r.status == code and r.header("Location") == "/small/7"
    assert get("/redirect?to=/small").status == 302
    assert get("/redirect?to=/small&code=200").status == 400
    path = "/redirect/chain?n=3"
    hops = 0
    while True:
        r = get(path)
        if r.status != 302:
            break
        hops += 1
        path = path_of(r.header("Location"))
    assert hops == 3 and path == "/small" and r.json()["n"] == 0


@test
def compression():
    plain = get("/gzip?results=5")
    assert plain.status == 200 and plain.header("Content-Encoding") is None
    r = get("/gzip?results=5", {"Accept-Encoding": "gzip, deflate"})
    assert r.header("Content-Encoding") == "gzip"
    assert gzip.decompress(r.body) == plain.body
    assert json.loads(plain.body)["results"] == ok_json("/api/?results=5")["results"]
    r = get("/deflate?results=5", {"Accept-Encoding": "deflate"})
    assert r.header("Content-Encoding") == "deflate"
    assert zlib.decompress(r.body) == get("/deflate?results=5").body
    r = get("/gzip?results=5", {"Accept-Encoding": "gzip;q=0, identity"})
    assert r.header("Content-Encoding") is None
    r = get("/small?compress=gzip", {"Accept-Encoding": "gzip"})
    assert r.header("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(r.body))["name"] == "small"


@test
def huge():
    r = get("/huge?records=2500")
    assert r.status == 200 and r.header("Transfer-Encoding") == "chunked"
    d = r.json()
    assert d["info"]["records"] == 2500 and len(d["results"]) == 2500
    assert len({u["login"]["uuid"] for u in d["results"]}) == 2500
    assert list(d["results"][1500]) == USER_KEYS
    r = get("/huge?bytes=300000")
    assert r.status == 200 and 300000 <= len(r.body) < 305000
    json.loads(r.body)
    r = get("/huge?records=1234&format=ndjson")
    lines = r.body.decode().splitlines()
    assert len(lines) == 1234 and all(json.loads(x)["nat"] for x in lines)
    d = ok_json("/huge?records=0")
    assert d["results"] == []


@test
def hang():
    c = http.client.HTTPConnection(HOST, PORT, timeout=0.5)
    t = time.time()
    try:
        c.request("GET", "/hang")
        c.getresponse()
        raise AssertionError("hang answered")
    except socket.timeout:
        pass
    finally:
        c.close()
    assert 0.4 < time.time() - t < 2
    assert ok_json("/_control/health")["ok"]


@test
def stats_and_reset():
    reset()
    get("/small")
    get("/small")
    get("/small?fail=500")
    get("/status/404")
    s = ok_json("/_control/stats")
    assert s["requests"] == {"/small": 3, "/status/404": 1} and s["total"] == 4
    assert s["responses"] == {"200": 2, "500": 1, "404": 1}
    reset()
    s = ok_json("/_control/stats")
    assert s["requests"] == {} and s["total"] == 0


@test
def errors():
    assert get("/nope").status == 404
    r = post("/small", b"x")
    assert r.status == 405 and "GET" in r.header("Allow")
    assert get("/oauth/token").status == 405


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

@test
def fault_delay():
    t = time.time()
    assert get("/small?delay=300").status == 200
    assert time.time() - t >= 0.3
    t = time.time()
    assert get("/small", {"X-Mock-Delay": "200"}).status == 200
    assert time.time() - t >= 0.2


@test
def fault_delay_body():
    c = http.client.HTTPConnection(HOST, PORT, timeout=5)
    t = time.time()
    c.request("GET", "/small?delay_body=400")
    r = c.getresponse()
    t_headers = time.time() - t
    body = r.read()
    t_body = time.time() - t
    c.close()
    assert r.status == 200 and json.loads(body)["name"] == "small"
    assert t_headers < 0.3 and t_body >= 0.4, (t_headers, t_body)


@test
def fault_fail_and_retry_after():
    r = get("/small?fail=500")
    assert r.status == 500 and r.json()["status"] == 500
    r = get("/api/?fail=429")
    assert r.status == 429 and r.header("Retry-After") == "1"
    r = get("/small?fail=503&retry_after=7")
    assert r.status == 503 and r.header("Retry-After") == "7"
    r = get("/small?fail=429&retry_after=5&retry_after_date=1")
    when = email.utils.parsedate_to_datetime(r.header("Retry-After")).timestamp()
    assert 3 <= when - time.time() <= 7
    # Header wins over query.
    r = get("/small?fail=500", {"X-Mock-Fail": "502"})
    assert r.status == 502
    assert get("/small?fail=abc").status == 400


@test
def fault_fail_times():
    reset()
    p = "/users/page?page=1&fail=503&fail_times=2"
    assert [get(p).status for _ in range(4)] == [503, 503, 200, 200]
    # The default key is the path and non-fault query: other pages count apart.
    p2 = "/users/page?page=2&fail=503&fail_times=2"
    assert get(p2).status == 503
    # fail_times alone means 500.
    assert [get("/small/5?fail_times=1").status for _ in range(2)] == [500, 200]
    # A shared key spans paths.
    assert get("/small/1?fail_times=1&fail_key=k1").status == 500
    assert get("/small/2?fail_times=1&fail_key=k1").status == 200
    reset()
    assert get(p).status == 503
    # Headers work too.
    reset()
    h = {"X-Mock-Fail": "500", "X-Mock-Fail-Times": "1"}
    assert [get("/small", h).status for _ in range(2)] == [500, 200]
    s = ok_json("/_control/stats")
    assert s["requests"]["/small"] == 2 and s["responses"]["500"] == 1


@test
def fault_fail_page():
    reset()
    got = []
    for page in range(1, 5):
        got.append(get("/users/page?page=%d&per_page=10&total=25&fail_page=2" % page).status)
    assert got == [200, 500, 200, 200], got
    # next URLs carry the fault: page 2 fails once, then succeeds.
    d = ok_json("/users/next?limit=5&total=15&fail_page=2&fail_times=1&fail=502")
    nxt = path_of(d["next"])
    assert get(nxt).status == 502
    d2 = get(nxt).json()
    assert [uuid_index(u) for u in d2["results"]] == [5, 6, 7, 8, 9]
    assert get(path_of(d2["next"])).status == 200
    # offset endpoints count pages as offset / limit + 1
    assert get("/users/offset?offset=10&limit=5&fail_page=3").status == 500
    assert get("/users/offset?offset=5&limit=5&fail_page=3").status == 200


@test
def fault_drop():
    c = http.client.HTTPConnection(HOST, PORT, timeout=5)
    c.request("GET", "/api/?results=20&drop=100")
    r = c.getresponse()
    assert r.status == 200
    full = int(r.getheader("Content-Length"))
    assert full > 100
    try:
        r.read()
        raise AssertionError("drop did not cut the body")
    except http.client.IncompleteRead as e:
        assert len(e.partial) == 100
    c.close()
    # Server keeps going; drop once then fine.
    reset()
    c = http.client.HTTPConnection(HOST, PORT, timeout=5)
    c.request("GET", "/small?drop=10&fail_times=1")
    r = c.getresponse()
    try:
        r.read()
        raise AssertionError("drop did not cut the body")
    except http.client.IncompleteRead:
        pass
    c.close()
    assert get("/small?drop=10&fail_times=1").status == 200
    assert len(get("/small?drop=10&fail_times=1").body) > 100
    # Chunked bodies too.
    c = http.client.HTTPConnection(HOST, PORT, timeout=5)
    c.request("GET", "/huge?records=3000&drop=50000")
    r = c.getresponse()
    try:
        r.read()
        raise AssertionError("drop did not cut the chunked body")
    except http.client.IncompleteRead as e:
        assert len(e.partial) == 50000
    c.close()


@test
def fault_malformed():
    r = get("/api/?results=20&malformed=2000")
    assert r.status == 200 and int(r.header("Content-Length")) == len(r.body)
    try:
        json.loads(r.body)
        raise AssertionError("malformed body parsed")
    except ValueError as e:
        assert 1990 <= e.pos <= 2020, e.pos
    assert r.body[:2000] == get("/api/?results=20").body[:2000]
    # Only on one page.
    assert get("/users/page?page=1&malformed=10&malformed_page=2").json()
    try:
        get("/users/page?page=2&malformed=10&malformed_page=2").json()
        raise AssertionError("malformed page parsed")
    except ValueError:
        pass
    r = get("/huge?records=2000&malformed=100000")
    try:
        json.loads(r.body)
        raise AssertionError("malformed huge body parsed")
    except ValueError:
        pass


@test
def fault_rate_limit():
    reset()
    codes = [get("/small?rate_limit=5").status for _ in range(20)]
    assert codes.count(200) >= 5 and codes.count(429) >= 10, codes
    r = get("/small?rate_limit=5")
    assert r.status == 429 and int(r.header("Retry-After")) >= 1
    time.sleep(1.1)
    assert get("/small?rate_limit=5").status == 200


@test
def fault_content_type():
    r = get("/small?content_type=text/plain")
    assert r.header("Content-Type") == "text/plain"
    r = get("/small", {"X-Mock-Content-Type": "text/html; charset=utf-8"})
    assert r.header("Content-Type") == "text/html; charset=utf-8"


@test
def keep_alive():
    c = http.client.HTTPConnection(HOST, PORT, timeout=5)
    for p in ("/small", "/status/404", "/small?fail=500", "/api/?results=2",
              "/status/204", "/echo"):
        r = call("GET", p, conn=c)
        assert r.status in (200, 204, 404, 500)
    r = call("POST", "/echo", {"Content-Type": "text/plain"}, b"abc", conn=c)
    assert r.json()["body"] == "abc"
    c.close()


@test
def concurrent_clients():
    import threading
    errors = []

    def worker(k):
        try:
            c = http.client.HTTPConnection(HOST, PORT, timeout=30)
            for i in range(100):
                p = ("/small/%d" % i, "/users/page?page=%d&per_page=50&total=1000" % (i % 25 + 1),
                     "/orders?limit=50", "/echo?k=%d" % k)[i % 4]
                r = call("GET", p, conn=c)
                if r.status != 200:
                    errors.append((p, r.status))
                r.json()
            c.close()
        except Exception as e:      # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]


# ---------------------------------------------------------------------------
# Benchmarks (printed, not asserted)
# ---------------------------------------------------------------------------

@test
def quirks_clamp_repeats_last_page_and_refuses_repeated_params():
    a = ok_json("/quirks/clamp?_page=3&_per_page=10&total=25")
    b = ok_json("/quirks/clamp?_page=9&_per_page=10&total=25")
    assert a == b and len(a["data"]) == 5 and a["next"] is None, a
    assert a["pages"] == 3 and a["prev"] == 2, a
    first = ok_json("/quirks/clamp?_page=1&_per_page=10&total=25")
    assert first["next"] == 2 and len(first["data"]) == 10, first
    r = get("/quirks/clamp?_page=1&_per_page=10&_page=2")
    assert r.status == 400 and r.json()["name"] == "_page", r.body


@test
def quirks_v017_totals_in_headers():
    r = get("/quirks/v017?_page=2&_limit=10&total=25")
    assert r.status == 200 and len(r.json()) == 10
    assert r.header("X-Total-Count") == "25", r.headers
    assert r.header("X-Total-Pages") == "3", r.headers
    links = parse_link(r.header("Link"))
    assert path_of(links["next"]).startswith("/quirks/v017?"), links
    assert "_page=3" in links["next"] and "_page=1" in links["prev"], links
    r = get("/quirks/v017?_page=4&_limit=10&total=25")
    assert r.status == 200 and r.json() == [], r.body
    assert get("/quirks/v017?_limit=1&_limit=2").status == 400
    r = get("/quirks/v017?_start=20&_limit=10&total=25")
    assert len(r.json()) == 5 and r.header("X-Total-Count") == "25", r.body


@test
def quirks_split_links_one_field_per_link():
    r = get("/quirks/split_links?page=2&per_page=10&total=25")
    fields = [v for k, v in r.headers if k.lower() == "link"]
    assert len(fields) == 3, fields
    assert 'rel="prev"' in fields[0] and 'rel="next"' in fields[1], fields
    assert "\t" in fields[1] and "page=3" in fields[1], fields
    r = get("/quirks/split_links?page=3&per_page=10&total=25")
    assert len(r.json()) == 5
    assert not any('rel="next"' in v for k, v in r.headers
                   if k.lower() == "link"), r.headers


@test
def quirks_token_in_param_or_header():
    seen = []
    tok = None
    while True:
        q = "/quirks/token?total=25&limit=10" + ("&token=" + tok if tok else "")
        d = ok_json(q)
        seen += d["items"]
        tok = d["meta"]["next_token"]
        if tok is None:
            break
    assert len(seen) == 25, len(seen)
    d = ok_json("/quirks/token?total=25&limit=10&via=header")
    tok = d["meta"]["next_token"]
    r = get("/quirks/token?total=25&limit=10&via=header",
            headers={"X-Page-Token": tok})
    assert r.status == 200 and len(r.json()["items"]) == 10, r.body
    assert get("/quirks/token?via=header&token=" + tok).status == 400
    assert get("/quirks/token?token=bad").status == 400


@test
def quirks_token_in_body():
    h = {"Content-Type": "application/json"}

    def search(tok, query="lamp", **kw):
        body = {"query": query, "limit": 10, "total": 25, "page": {"token": tok}}
        return post("/quirks/token_search" + kw.get("qs", ""),
                    json.dumps(body), dict(h, **kw.get("headers", {})))

    seen = []
    tok = None
    while True:
        r = search(tok)
        assert r.status == 200, r.body
        d = r.json()
        seen += d["items"]
        tok = d["meta"]["next_token"]
        if tok is None:
            break
    assert len(seen) == 25 and len({u["login"]["uuid"] for u in seen}) == 25
    tok = search(None).json()["meta"]["next_token"]
    assert search(tok).status == 200
    assert search("bad").status == 400
    assert search(tok, query="other").status == 400
    assert search(tok, qs="?token=" + tok).status == 400
    assert search(tok, headers={"X-Page-Token": tok}).status == 400
    assert post("/quirks/token_search", '{"query": "lamp"}', h).status == 400
    assert get("/quirks/token_search").status == 405


@test
def quirks_bytes_as_asked():
    for raw in (b"", b"\xef\xbb\xbf", b"\xff[1]", b"a;b\r\n1;2"):
        q = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        r = get("/quirks/bytes?type=text/csv&b64=" + q)
        assert r.status == 200 and r.body == raw, (raw, r.body)
        assert r.header("Content-Type").startswith("text/csv"), r.headers
    assert get("/quirks/bytes?b64=%%%").status == 400



@test
def fanout_user_orders_paged():
    seen = []
    page = 1
    while True:
        d = ok_json("/users/7/orders?per_page=2&page=%d" % page)
        if not d["orders"]:
            break
        seen += [o["order_id"] for o in d["orders"]]
        assert all(o["user_id"] == 7 for o in d["orders"])
        page += 1
    assert seen == ["7-%d" % n for n in range(1, 1 + 7 % 5 + 1)], seen
    assert ok_json("/users/3/orders?count=0")["orders"] == []
    assert get("/users/x/orders").status == 404
    t = time.time()
    ok_json("/users/1/orders?delay=50")
    assert time.time() - t >= 0.05


@test
def search_pages_by_body():
    h = {"Content-Type": "application/json"}
    ids = []
    for page in (1, 2, 3, 4):
        r = post("/search", json.dumps({"query": "ab", "page": page,
                                        "per_page": 10, "total": 25}), h)
        assert r.status == 200, r.body
        ids += [x["id"] for x in r.json()["results"]]
    assert ids == list(range(1, 26)), ids
    assert post("/search", "{", h).status == 400
    assert post("/search", "{}", {"Content-Type": "text/plain"}).status == 415
    assert get("/search").status == 405


@test
def graphql_cursor_variables():
    h = {"Content-Type": "application/json"}
    after, ids = None, []
    while True:
        r = post("/graphql", json.dumps({"query": "{users{nodes{id}}}",
                                         "variables": {"first": 10,
                                                       "after": after}}), h)
        assert r.status == 200, r.body
        u = r.json()["data"]["users"]
        ids += [n["id"] for n in u["nodes"]]
        after = u["pageInfo"]["endCursor"]
        if not u["pageInfo"]["hasNextPage"]:
            assert after is None
            break
    assert ids == list(range(1, 26)), ids
    assert post("/graphql", json.dumps({"query": "q", "variables":
                                        {"after": "zz"}}), h).status == 400

def bench(huge_mb):
    c = http.client.HTTPConnection(HOST, PORT, timeout=60)
    n = 1000
    t = time.perf_counter()
    for _ in range(n):
        c.request("GET", "/small")
        r = c.getresponse()
        r.read()
    dt = time.perf_counter() - t
    print("bench: /small x%d on one connection: %.2fs, %.0f req/s" % (n, dt, n / dt))

    for label in ("cold", "cached"):
        t = time.perf_counter()
        size = 0
        for page in (1, 2, 3):
            c.request("GET", "/api/?results=5000&page=%d&seed=bench" % page)
            size += len(c.getresponse().read())
        dt = time.perf_counter() - t
        print("bench: /api/?results=5000 x3 pages (%s): %.3fs, %.1f MB" % (label, dt, size / 1e6))

    for label in ("cold", "cached"):
        t = time.perf_counter()
        size = 0
        records = 0
        page = 1
        while True:
            c.request("GET", "/users/page?per_page=5000&total=200000&page=%d" % page)
            body = c.getresponse().read()
            size += len(body)
            got = body.count(b'"gender":')
            if got == 0:
                break
            records += got
            page += 1
        dt = time.perf_counter() - t
        print("bench: 200,000 users via /users/page?per_page=5000 (%s): %.2fs, %d records, %.0f MB"
              % (label, dt, records, size / 1e6))
    c.close()

    if huge_mb:
        c = http.client.HTTPConnection(HOST, PORT, timeout=60)
        t = time.perf_counter()
        c.request("GET", "/huge?bytes=%d" % (huge_mb << 20))
        r = c.getresponse()
        size = 0
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            size += len(b)
        dt = time.perf_counter() - t
        c.close()
        print("bench: /huge %d MB: %.2fs, %.0f MB/s" % (size >> 20, dt, size / dt / 1e6))


@test
def s3_sigv4_known_answers():
    """The signature check gives the signatures of AWS's own examples
    (S3 "Authenticating Requests: Using the Authorization Header")."""
    sys.path.insert(0, HERE)
    import hashlib
    import hmac
    import s3
    key = s3.signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                         "20130524", "us-east-1", "s3")

    def sign(method, path, headers, signed):
        creq = s3.canonical_request(method, path, "", headers, signed,
                                    headers["x-amz-content-sha256"])
        sts = "\n".join(["AWS4-HMAC-SHA256", "20130524T000000Z",
                         "20130524/us-east-1/s3/aws4_request",
                         hashlib.sha256(creq.encode()).hexdigest()])
        return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h = {"host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9",
         "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
         "x-amz-date": "20130524T000000Z"}
    assert sign("GET", "/test.txt", h,
                ["host", "range", "x-amz-content-sha256", "x-amz-date"]) == \
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    body = b"Welcome to Amazon S3."
    h = {"date": "Fri, 24 May 2013 00:00:00 GMT",
         "host": "examplebucket.s3.amazonaws.com",
         "x-amz-date": "20130524T000000Z",
         "x-amz-storage-class": "REDUCED_REDUNDANCY",
         "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    assert sign("PUT", "/test%24file.text", h,
                ["date", "host", "x-amz-content-sha256", "x-amz-date",
                 "x-amz-storage-class"]) == \
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


def s3_signed(method, path, body=b"", secret=None, query=""):
    """A request to the mock store signed as a client would sign it."""
    import datetime
    import hashlib
    import hmac
    import s3
    now = datetime.datetime.now(datetime.timezone.utc)
    amz = now.strftime("%Y%m%dT%H%M%SZ")
    h = {"host": "%s:%d" % (HOST, PORT), "x-amz-date": amz,
         "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    signed = sorted(h)
    creq = s3.canonical_request(method, path, query, h, signed,
                                h["x-amz-content-sha256"])
    scope = "%s/us-east-1/s3/aws4_request" % amz[:8]
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = s3.signing_key(secret or s3.SECRET_KEY, amz[:8], "us-east-1", "s3")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                          "Signature=%s" % (s3.ACCESS_KEY, scope, ";".join(signed), sig))
    del h["host"]
    return call(method, path + ("?" + query if query else ""), h, body)


@test
def s3_store():
    sys.path.insert(0, HERE)
    assert post("/_control/s3/reset").status == 200
    r = s3_signed("PUT", "/s3/b/dir/a%20b.txt", b"hello")
    assert r.status == 200 and r.header("ETag"), (r.status, r.body)
    assert get("/s3/b/dir/a%20b.txt").body == b"hello"
    r = s3_signed("PUT", "/s3/b/x.txt", b"hello", secret="wrong")
    assert r.status == 403 and b"SignatureDoesNotMatch" in r.body, r.body
    r = call("PUT", "/s3/b/x.txt", {}, b"hello")
    assert r.status == 403 and b"AccessDenied" in r.body, r.body
    r = s3_signed("POST", "/s3/b/m.bin", query="uploads=")
    uid = r.body.decode().split("<UploadId>")[1].split("<")[0]
    e1 = s3_signed("PUT", "/s3/b/m.bin", b"a" * 10,
                   query="partNumber=1&uploadId=" + uid).header("ETag")
    e2 = s3_signed("PUT", "/s3/b/m.bin", b"b" * 3,
                   query="partNumber=2&uploadId=" + uid).header("ETag")
    done = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s"
            "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part>"
            "</CompleteMultipartUpload>" % (e1, e2)).encode()
    r = s3_signed("POST", "/s3/b/m.bin", done, query="uploadId=" + uid)
    assert r.status == 200 and b"-2&quot;" in r.body, r.body
    assert get("/s3/b/m.bin").body == b"a" * 10 + b"b" * 3
    r = s3_signed("POST", "/s3/b/n.bin", query="uploads=")
    uid = r.body.decode().split("<UploadId>")[1].split("<")[0]
    assert s3_signed("DELETE", "/s3/b/n.bin", query="uploadId=" + uid).status == 204
    st = ok_json("/_control/s3")
    assert st["open_uploads"] == 0 and st["aborted_uploads"] == 1, st
    assert st["refused"] == {"SignatureDoesNotMatch": 1, "AccessDenied": 1}, st
    assert post("/_control/s3/reset").status == 200


@test
def fault_drop_request():
    before = ok_json("/_control/s3")["dropped_requests"]
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"PUT /upload/dropped?drop_request=5 HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: 100000\r\n\r\n" + b"x" * 20)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionError:
        pass
    s.close()
    assert got == b"", got[:200]
    assert get("/upload/dropped").status == 404
    assert ok_json("/_control/s3")["dropped_requests"] == before + 1


def main():
    global PORT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--huge-mb", type=int, default=256)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mock_api_selftest.")
    port_file = os.path.join(tmp, "port")
    pid_file = os.path.join(tmp, "pid")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", "0",
         "--port-file", port_file, "--pid-file", pid_file],
        stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    PORT = int(text)
                    break
            if proc.poll() is not None:
                print("server exited with %d" % proc.returncode)
                return 1
            time.sleep(0.05)
        if PORT is None:
            print("server did not write its port file")
            return 1
        with open(pid_file) as f:
            assert int(f.read()) == proc.pid

        passed = failed = 0
        for fn in TESTS:
            try:
                fn()
                passed += 1
                print("ok   %s" % fn.__name__)
            except Exception:
                failed += 1
                print("FAIL %s" % fn.__name__)
                traceback.print_exc(file=sys.stdout)
        if not args.no_bench:
            try:
                bench(args.huge_mb)
            except Exception:
                failed += 1
                print("FAIL bench")
                traceback.print_exc(file=sys.stdout)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.returncode not in (0, -15):
        print("FAIL server exit status %s" % proc.returncode)
        failed += 1
    elif os.path.exists(port_file) or os.path.exists(pid_file):
        print("FAIL server left its port or pid file behind")
        failed += 1
    try:
        os.rmdir(tmp)
    except OSError:
        pass
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
