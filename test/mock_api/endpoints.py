"""The mock API's endpoints, as mixins of the App: users under every
pagination style, orders, authentication, utilities and control.  Each
handler takes a Req and returns a Resp or raises HTTPError.
"""

import base64
import json
import secrets
import threading
import time
from urllib.parse import parse_qsl, unquote

from data import (DEFAULT_SEED, JSON_TYPE, MAX_MEMBER_CHANGES, MAX_MEMBERS,
                  NDJSON_TYPE, b64_cursor, gen_user, jbytes, jdump,
                  parse_timestamp, records_body, un_b64_cursor, users)
from messages import VERSION, HTTPError, Resp, json_resp


DEFAULT_PAGE_SIZE = 10
MAX_RESULTS = 5000              # /api results per request unless nolimit=1
MAX_PAGE_SIZE = 100000          # per_page / limit on the paged endpoints
MAX_RESULTS_NOLIMIT = 1000000
HANG_LIMIT_S = 300

# Fixed credentials (documented in README.md).
BEARER_TOKEN = "test-token"
API_KEY = "test-key"
BASIC_USER = "alice"
BASIC_PASSWORD = "s3cret"
OAUTH_CLIENT_ID = "client"
OAUTH_CLIENT_SECRET = "client-secret"
OAUTH_DEFAULT_EXPIRES = 3600
REALM = "pg_elt-mock"


class UserEndpoints:
    """Users under every pagination style."""

    def h_index(self, req):
        return json_resp({"service": "pg_elt mock API", "version": VERSION,
                          "endpoints": sorted(self.routes)})

    def h_api(self, req):
        n = req.int("results", 1, 0, MAX_RESULTS_NOLIMIT)
        if n > MAX_RESULTS and not req.flag("nolimit"):
            n = MAX_RESULTS
        page = req.int("page", 1, 1, 10 ** 9)
        seed = req.params.get("seed") or DEFAULT_SEED
        fmt = req.fmt()
        req.gate(page)

        def build():
            recs = users(seed.encode("utf-8"), (page - 1) * n, page * n, fmt)
            if fmt != "json":
                return Resp(200, *records_body(recs, fmt))
            body = b'{"results":[%s],"info":%s}' % (
                b",".join(r[0] for r in recs),
                jbytes({"seed": seed, "results": n, "page": page,
                        "version": "1.4"}))
            return Resp(200, body)
        return self.cached(req, build)

    def _page_body(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        fmt = req.fmt()
        req.gate(page)

        def build():
            start = (page - 1) * per
            recs = users(seedb, start, min(start + per, total), fmt) \
                if start < total else []
            if fmt != "json":
                return Resp(200, *records_body(recs, fmt))
            body = b'{"data":[%s],"page":%d,"per_page":%d,"total":%d,' \
                   b'"total_pages":%d}' % (
                       b",".join(r[0] for r in recs), page, per,
                       total, (total + per - 1) // per)
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_page(self, req):
        return self._page_body(req)

    def h_users_offset(self, req):
        seed, seedb, total = req.dataset()
        offset = req.int("offset", 0, 0, 10 ** 12)
        limit = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        fmt = req.fmt()
        req.gate(offset // limit + 1)

        def build():
            recs = users(seedb, offset, min(offset + limit, total), fmt) \
                if offset < total else []
            if fmt != "json":
                return Resp(200, *records_body(recs, fmt))
            body = b'{"items":[%s],"offset":%d,"limit":%d,"total":%d}' % (
                b",".join(r[0] for r in recs), offset, limit, total)
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_cursor(self, req):
        seed, seedb, total = req.dataset()
        limit = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        cur = req.params.get("cursor")
        offset = 0
        if cur:
            c = un_b64_cursor(cur)
            if c is None or c.get("k") != "users" or not isinstance(
                    c.get("o"), int) or c["o"] < 0:
                raise HTTPError(400, "invalid cursor", cursor=cur)
            offset = c["o"]
        req.gate(offset // limit + 1)

        def build():
            end = min(offset + limit, total)
            recs = users(seedb, offset, end) if offset < total else []
            nxt = None
            if end < total:
                nxt = b64_cursor({"v": 1, "k": "users", "o": end,
                                  "q": carried_params(req)})
            body = b'{"records":[%s],"next_cursor":%s}' % (
                b",".join(r[0] for r in recs), jbytes(nxt))
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_next(self, req):
        seed, seedb, total = req.dataset()
        start = req.int("start", 0, 0, 10 ** 12)
        limit = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        req.gate(start // limit + 1)

        def build():
            end = min(start + limit, total)
            recs = users(seedb, start, end) if start < total else []
            nxt = req.url({"start": end, "limit": limit}) \
                if end < total else None
            body = b'{"results":[%s],"next":%s}' % (
                b",".join(r[0] for r in recs), jbytes(nxt))
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_link(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        fmt = req.fmt()
        req.gate(page)

        def build():
            start = (page - 1) * per
            recs = users(seedb, start, min(start + per, total), fmt) \
                if start < total else []
            body, ctype = records_body(recs, fmt)
            pages = (total + per - 1) // per
            links = [("first", 1)]
            if 1 < page <= pages:
                links.append(("prev", page - 1))
            if page < pages:
                links.append(("next", page + 1))
            links.append(("last", max(pages, 1)))
            rot = page % len(links)
            links = links[rot:] + links[:rot]
            value = ", ".join(
                '<%s>; rel="%s"' % (req.url({"page": p, "per_page": per}), rel)
                for rel, p in links)
            return Resp(200, body, ctype, [("Link", value)])
        return self.cached(req, build)

    def h_endless(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        req.gate(page)
        cur = req.params.get("cursor") or "endless"
        rec = gen_user(seedb, (page - 1) % max(total, 1))[0]
        body = b'{"results":[%s],"next":%s,"next_cursor":%s}' % (
            rec, jbytes(self_url(req)), jbytes(cur))
        return Resp(200, body)

    def h_endless_link(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        req.gate(page)
        rec = gen_user(seedb, (page - 1) % max(total, 1))[0]
        return Resp(200, b"[" + rec + b"]", JSON_TYPE,
                    [("Link", '<%s>; rel="next"' % self_url(req))])


class OrderEndpoints:
    """The orders feed, for incremental loads."""

    def _since(self, req):
        v = req.params.get("updated_since")
        if v is None or v == "":
            return None
        us = parse_timestamp(v)
        if us is None:
            raise HTTPError(400, "invalid updated_since", value=v)
        return us

    def h_orders(self, req):
        since = self._since(req)
        limit = req.int("limit", 100, 1, MAX_PAGE_SIZE)
        cur = req.params.get("cursor")
        after = None
        page = 1
        if cur:
            c = un_b64_cursor(cur)
            if c is None or c.get("k") != "orders" or not isinstance(
                    c.get("a"), list) or len(c["a"]) != 2 or not all(
                    isinstance(x, int) for x in c["a"] + [c.get("p", 1)]):
                raise HTTPError(400, "invalid cursor", cursor=cur)
            after = c["a"]
            page = c.get("p", 1)
        req.gate(page)
        recs, last, more = self.orders.after(since, after, limit)
        nxt = None
        if more and last is not None:
            nxt = b64_cursor({"v": 1, "k": "orders", "a": last, "p": page + 1,
                              "q": carried_params(req)})
        body = '{"orders":[%s],"next_cursor":%s}' % (",".join(recs), jdump(nxt))
        return Resp(200, body.encode("utf-8"))

    def h_orders_page(self, req):
        since = self._since(req)
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        req.gate(page)
        recs, total = self.orders.page(since, page, per)
        body = '{"orders":[%s],"page":%d,"per_page":%d,"total":%d,' \
               '"total_pages":%d}' % (",".join(recs), page, per, total,
                                      (total + per - 1) // per)
        return Resp(200, body.encode("utf-8"))


class MemberEndpoints:
    """The member change feed, for extract -> dimension pipelines."""

    def h_member_changes(self, req):
        cur = req.params.get("cursor")
        carried = {}
        after = None
        page = 1
        if cur:
            c = un_b64_cursor(cur)
            if c is None or c.get("k") != "members" or not isinstance(
                    c.get("a"), int) or c["a"] < 0 or not isinstance(
                    c.get("p", 1), int) or not isinstance(c.get("q"), list):
                raise HTTPError(400, "invalid cursor", cursor=cur)
            after = c["a"]
            page = c.get("p", 1)
            carried = {kv[0]: kv[1] for kv in c["q"]
                       if isinstance(kv, list) and len(kv) == 2}
        for k, v in carried.items():
            if k not in req.params:
                req.params[k] = v
        members = req.int("members", 1000, 1, MAX_MEMBERS)
        limit = req.int("limit", 1000, 1, MAX_PAGE_SIZE)
        since = req.int("after", 0, 0, MAX_MEMBER_CHANGES)
        if after is None or after < since:
            after = since
        req.gate(page)
        recs, last, more = self.members.after(members, after, limit)
        nxt = None
        if more:
            nxt = b64_cursor({"v": 1, "k": "members", "a": last,
                              "p": page + 1, "q": carried_params(req)})
        body = '{"members":[%s],"next_cursor":%s}' % (",".join(recs),
                                                      jdump(nxt))
        return Resp(200, body.encode("utf-8"))


class AuthEndpoints:
    """Authenticated variants of the user listing, and the OAuth token endpoint."""

    def _unauthorized(self, scheme, error="unauthorized", extra=""):
        return HTTPError(401, error, headers=[(
            "WWW-Authenticate", '%s realm="%s"%s' % (scheme, REALM, extra))])

    @staticmethod
    def _bearer(req):
        a = req.headers.get("authorization", "")
        parts = a.split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return parts[1].strip()
        return None

    @staticmethod
    def _basic(req):
        a = req.headers.get("authorization", "")
        parts = a.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "basic":
            return None
        try:
            raw = base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        if ":" not in raw:
            return None
        return tuple(raw.split(":", 1))

    def h_auth_bearer(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        if self._bearer(req) != BEARER_TOKEN:
            raise self._unauthorized("Bearer")
        return self._page_body(req)

    def h_auth_api_key(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        if req.headers.get("x-api-key") != API_KEY and \
                req.params.get("api_key") != API_KEY:
            raise self._unauthorized("ApiKey")
        return self._page_body(req)

    def h_auth_basic(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        if self._basic(req) != (BASIC_USER, BASIC_PASSWORD):
            raise self._unauthorized("Basic")
        return self._page_body(req)

    def h_auth_oauth(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        tok = self._bearer(req)
        with self.token_lock:
            exp = self.tokens.get(tok) if tok else None
        if exp is None or exp <= time.time():
            raise self._unauthorized("Bearer", "invalid_token",
                                     ', error="invalid_token"')
        return self._page_body(req)

    def h_oauth_token(self, req):
        ctype = req.headers.get("content-type", "")
        text = req.body.decode("utf-8", "replace")
        form = {}
        if "json" in ctype:
            try:
                doc = json.loads(text or "{}")
                if isinstance(doc, dict):
                    form = {k: str(v) for k, v in doc.items()}
            except ValueError:
                raise HTTPError(400, "invalid_request")
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
        cid = form.get("client_id")
        secret = form.get("client_secret")
        basic = self._basic(req)
        if basic is not None:
            cid, secret = unquote(basic[0].replace("+", " ")), \
                unquote(basic[1].replace("+", " "))
        if (cid, secret) != (OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET):
            raise self._unauthorized("Basic", "invalid_client")
        gt = form.get("grant_type")
        if not gt:
            raise HTTPError(400, "invalid_request",
                            error_description="grant_type is required")
        if gt != "client_credentials":
            raise HTTPError(400, "unsupported_grant_type")
        expires = req.int("expires_in", OAUTH_DEFAULT_EXPIRES, 0, 10 ** 9)
        tok = secrets.token_urlsafe(24)
        with self.token_lock:
            now = time.time()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            self.tokens[tok] = now + expires
            self.tokens_issued += 1
        doc = {"access_token": tok, "token_type": "Bearer",
               "expires_in": expires}
        if form.get("scope"):
            doc["scope"] = form["scope"]
        return json_resp(doc, 200, [("Cache-Control", "no-store"),
                                    ("Pragma", "no-cache")])


class UtilityEndpoints:
    """Echo, status, small documents, redirects, compression, a hanging
    endpoint and huge streamed bodies."""

    def h_echo(self, req):
        q = {}
        for k, v in req.query:
            if k in q:
                if not isinstance(q[k], list):
                    q[k] = [q[k]]
                q[k].append(v)
            else:
                q[k] = v
        return json_resp({"method": req.method, "path": req.path, "query": q,
                          "headers": req.headers,
                          "body": req.body.decode("utf-8", "replace"),
                          "connection": {"client_port": req.conn_port,
                                         "request": req.conn_requests}})

    def h_status(self, req):
        try:
            code = int(req.npath[len("/status/"):])
        except ValueError:
            raise HTTPError(404, "not found", path=req.path)
        if not 200 <= code <= 599:
            raise HTTPError(400, "status out of range", value=code)
        return json_resp({"status": code}, code)

    @staticmethod
    def _small(n):
        return jbytes({
            "n": n, "name": "small", "ok": True, "version": VERSION,
            "values": [1, 2, 3, 4, 5], "tags": ["pg_elt", "mock", "bench"],
            "created_at": "2024-01-01T00:00:00Z",
            "description": "A small fixed JSON document for request-rate "
                           "benchmarks."})

    def h_small(self, req):
        if req.npath == "/small":
            return Resp(200, self.small)
        tail = req.npath[len("/small/"):]
        if not tail.isdigit() or len(tail) > 18:
            raise HTTPError(404, "not found", path=req.path)
        return Resp(200, self._small(int(tail)))

    def h_redirect(self, req):
        to = req.params.get("to")
        if not to:
            raise HTTPError(400, "missing to")
        code = req.int("code", 302)
        if code not in (301, 302, 303, 307, 308):
            raise HTTPError(400, "unsupported redirect code", value=code)
        return json_resp({"redirect": to, "status": code}, code,
                         [("Location", to)])

    def h_redirect_chain(self, req):
        n = req.int("n", 1, 0, 1000)
        code = req.int("code", 302)
        if code not in (301, 302, 303, 307, 308):
            raise HTTPError(400, "unsupported redirect code", value=code)
        if n == 0:
            return Resp(200, self.small)
        if n == 1:
            to = "http://%s/small" % req.host
        else:
            to = req.url({"n": n - 1})
        return json_resp({"redirect": to, "status": code, "remaining": n},
                         code, [("Location", to)])

    def _compressed_api(self, req, enc):
        resp = self.h_api(req)
        resp.encode = enc
        return resp

    def h_gzip(self, req):
        return self._compressed_api(req, "gzip")

    def h_deflate(self, req):
        return self._compressed_api(req, "deflate")

    def h_hang(self, req):
        resp = Resp(200)
        resp.hang = float(req.int("max", HANG_LIMIT_S, 0, HANG_LIMIT_S))
        return resp

    # -- /huge ----------------------------------------------------------------

    HUGE_BLOCK = 1000

    def huge_block(self, seed, fmt):
        """Pre-encoded records with a %012x slot for the uuid's last group."""
        key = (seed, fmt)
        with self.huge_lock:
            blk = self.huge_blocks.get(key)
            if blk is not None:
                return blk
        recs = []
        for gi in range(self.HUGE_BLOCK):
            js = gen_user(seed.encode("utf-8"), gi)[0]
            i = js.index(b'"uuid":"') + 8 + 24
            recs.append(js[:i].replace(b"%", b"%%") + b"%012x"
                        + js[i + 12:].replace(b"%", b"%%"))
        if fmt == "ndjson":
            singles = [r + b"\n" for r in recs]
            first = b"".join(singles)
            rest = first
        else:
            singles = recs
            first = b",".join(recs)
            rest = b"," + first
        sizes = [len(r % 0) for r in singles]
        blk = (first, rest, singles, sizes, len(first % tuple(range(len(recs)))))
        with self.huge_lock:
            self.huge_blocks[key] = blk
        return blk

    def h_huge(self, req):
        seed = req.params.get("seed") or DEFAULT_SEED
        fmt = req.fmt(("json", "ndjson"))
        nrec = req.int("records", None, 0, 10 ** 12)
        nbytes = req.int("bytes", None, 0, 1 << 50)
        if nrec is not None and nbytes is not None:
            raise HTTPError(400, "give records or bytes, not both")
        if nrec is None and nbytes is None:
            nrec = 1000
        first, rest, singles, sizes, block_size = self.huge_block(seed, fmt)
        K = self.HUGE_BLOCK
        if fmt == "json":
            head = ('{"info":%s,"results":[' % jdump({
                "seed": seed, "records": nrec, "bytes": nbytes,
                "version": "1.4"})).encode("utf-8")
            tail = b"]}"
            sep = 1
        else:
            head = b""
            tail = b""
            sep = 0

        def gen():
            yield head
            sent = len(head)
            n = 0
            while True:
                if nrec is not None:
                    left = nrec - n
                    if left <= 0:
                        break
                    if left >= K:
                        yield (first if n == 0 else rest) % tuple(range(n, n + K))
                        n += K
                        continue
                    take = left
                else:
                    bsz = block_size + (sep if n else 0)
                    if sent + bsz + len(tail) < nbytes:
                        yield (first if n == 0 else rest) % tuple(range(n, n + K))
                        sent += bsz
                        n += K
                        continue
                    take = 0
                    acc = sent
                    while acc + len(tail) < nbytes and take < K:
                        acc += sizes[take] + (sep if n + take else 0)
                        take += 1
                    if take == 0:
                        break
                parts = []
                for j in range(take):
                    if sep and n + j:
                        parts.append(b",")
                    parts.append(singles[j] % (n + j))
                chunk = b"".join(parts)
                sent += len(chunk)
                n += take
                yield chunk
                if nrec is None:
                    break
            if tail:
                yield tail

        resp = Resp(200, b"", NDJSON_TYPE if fmt == "ndjson" else JSON_TYPE)
        resp.stream = gen()
        return resp


class ControlEndpoints:
    """The /_control/ endpoints: statistics, resets, orders, tokens, shutdown."""

    def c_stats(self, req):
        with self.stats_lock:
            doc = {"requests": dict(self.requests), "total": self.total,
                   "responses": {str(k): v for k, v in self.responses.items()}}
        with self.token_lock:
            doc["tokens_issued"] = self.tokens_issued
        return json_resp(doc)

    def c_reset(self, req):
        with self.stats_lock:
            self.requests.clear()
            self.responses.clear()
            self.total = 0
        with self.fail_lock:
            self.fail_counts.clear()
            self.buckets.clear()
        with self.token_lock:
            self.tokens_issued = 0
        return json_resp({"ok": True})

    def c_health(self, req):
        return json_resp({"ok": True})

    def c_orders_advance(self, req):
        u = req.int("updated", 0, 0, 1000000)
        k = req.int("new", 0, 0, 1000000)
        return json_resp(self.orders.advance(u, k))

    def c_orders_reset(self, req):
        self.orders.reset()
        return json_resp(self.orders.counts())

    def c_orders(self, req):
        return json_resp(self.orders.counts())

    def c_members_advance(self, req):
        k = req.int("changes", 0, 0, 1000000)
        return json_resp(self.members.advance(k))

    def c_members_reset(self, req):
        return json_resp(self.members.reset())

    def c_members(self, req):
        return json_resp(self.members.counts())

    def c_oauth(self, req):
        with self.token_lock:
            now = time.time()
            return json_resp({"tokens_issued": self.tokens_issued,
                              "active": sum(1 for e in self.tokens.values()
                                            if e > now)})

    def c_oauth_revoke(self, req):
        with self.token_lock:
            n = len(self.tokens)
            self.tokens.clear()
        return json_resp({"revoked": n})

    def c_hooks(self, req):
        """POST records a webhook call (its JSON body and headers), GET
        returns the calls recorded so far, DELETE forgets them."""
        if req.method == "POST":
            try:
                body = json.loads(req.body.decode("utf-8"))
            except ValueError:
                raise HTTPError(400, "body is not JSON")
            with self.hooks_lock:
                self.hooks.append({"body": body, "headers": req.headers,
                                   "query": dict(req.query)})
                n = len(self.hooks)
            return json_resp({"ok": True, "recorded": n})
        with self.hooks_lock:
            if req.method == "DELETE":
                self.hooks = []
            doc = list(self.hooks)
        return json_resp(doc)

    def c_shutdown(self, req):
        resp = json_resp({"ok": True})
        server = self.server

        def stop():
            if server is not None:
                threading.Thread(target=server.shutdown, daemon=True).start()
        resp.after = stop
        return resp


def self_url(req):
    """The absolute URL of this request, exactly as the client asked for it."""
    t = req.target
    if "://" in t:
        return t
    return "http://%s%s" % (req.host, t)


def carried_params(req):
    """Query parameters a cursor carries to the next page (all but cursor)."""
    return [[k, v] for k, v in req.params.items() if k != "cursor"]


class FanoutEndpoints:
    """Parent/child routes (a user's orders, paged), a POST search paging
    by a body field and a GraphQL-style endpoint paging by a cursor
    variable: the requests of fan-out streams and of request bodies."""

    def h_user_orders(self, req):
        """/users/<id>/orders: `count` orders per user (default: 1 + id mod
        5), paged by page/per_page; each names its user."""
        try:
            uid = int(req.npath.split("/")[2])
        except ValueError:
            raise HTTPError(404, "no such user", path=req.path)
        count = req.int("count", 1 + uid % 5, 0, MAX_PAGE_SIZE)
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        req.gate(page)
        start = (page - 1) * per
        recs = [{"order_id": "%d-%d" % (uid, n), "user_id": uid, "n": n,
                 "amount": (uid * 31 + n * 7) % 1000 / 10.0,
                 "updated_at": "2024-01-%02dT00:00:00Z" % (1 + n % 28)}
                for n in range(start + 1, min(start + per, count) + 1)]
        return json_resp({"orders": recs, "page": page, "per_page": per,
                          "total": count})

    def _json_body(self, req):
        try:
            doc = json.loads(req.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise HTTPError(400, "body is not JSON")
        if not isinstance(doc, dict):
            raise HTTPError(400, "body must be a JSON object")
        if "json" not in req.headers.get("content-type", ""):
            raise HTTPError(415, "content type must be JSON")
        return doc

    def h_search(self, req):
        """POST /search {"query": q, "page": p, "per_page": n, "total": t}:
        t matches, paged by the body's page."""
        doc = self._json_body(req)
        try:
            page = int(doc.get("page", 1))
            per = int(doc.get("per_page", DEFAULT_PAGE_SIZE))
            total = int(doc.get("total", 25))
        except (TypeError, ValueError):
            raise HTTPError(400, "page, per_page and total must be integers")
        if page < 1 or per < 1 or total < 0:
            raise HTTPError(400, "page and per_page must be positive")
        req.gate(page)
        q = str(doc.get("query", ""))
        start = (page - 1) * per
        hits = [{"id": i, "query": q, "title": "%s #%d" % (q, i)}
                for i in range(start + 1, min(start + per, total) + 1)]
        return json_resp({"results": hits, "page": page, "total": total})

    def h_graphql(self, req):
        """POST /graphql {"query": ..., "variables": {"first": n, "after":
        cursor, "total": t}}: users(first, after) with pageInfo."""
        doc = self._json_body(req)
        v = doc.get("variables") or {}
        if not isinstance(v, dict) or not isinstance(doc.get("query"), str):
            raise HTTPError(400, "a GraphQL request has a query and variables")
        try:
            first = int(v.get("first", 10))
            total = int(v.get("total", 25))
        except (TypeError, ValueError):
            raise HTTPError(400, "first and total must be integers")
        after = v.get("after")
        pos = 0
        if after is not None:
            if not (isinstance(after, str) and after.startswith("c") and
                    after[1:].isdigit()):
                return json_resp({"errors": [{"message": "invalid cursor"}]}, 400)
            pos = int(after[1:])
        req.gate(1 + pos // max(first, 1))
        nodes = [{"id": i, "name": "user %d" % i}
                 for i in range(pos + 1, min(pos + first, total) + 1)]
        end = pos + len(nodes)
        more = end < total
        return json_resp({"data": {"users": {
            "nodes": nodes,
            "pageInfo": {"hasNextPage": more,
                         "endCursor": "c%d" % end if more else None}}}})


class PagingQuirkEndpoints:
    """Paging habits of real servers that a client easily gets wrong:
    json-server 1.x (clamps a page past the end to the last page, refuses
    a parameter sent twice), json-server 0.17 (totals in headers only),
    Link fields sent one per header line, and a token paging that a
    client configures itself (param or header)."""

    def _single_params(self, req, names):
        for name in names:
            n = sum(1 for k, _ in req.query if k == name)
            if n > 1:
                raise HTTPError(400, "repeated parameter", name=name, count=n)

    def h_quirks_clamp(self, req):
        self._single_params(req, ("_page", "_per_page"))
        seed, seedb, total = req.dataset()
        per = req.int("_per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        pages = max((total + per - 1) // per, 1)
        page = min(req.int("_page", 1, 1, 10 ** 9), pages)
        req.gate(page)
        start = (page - 1) * per
        recs = users(seedb, start, min(start + per, total))
        body = b'{"first":1,"prev":%s,"next":%s,"last":%d,"pages":%d,' \
               b'"data":[%s]}' % (
                   jbytes(page - 1 if page > 1 else None),
                   jbytes(page + 1 if page < pages else None), pages, pages,
                   b",".join(r[0] for r in recs))
        return Resp(200, body)

    def h_quirks_v017(self, req):
        """_page and _limit, or _start and _limit (offset paging)."""
        self._single_params(req, ("_page", "_limit", "_start"))
        seed, seedb, total = req.dataset()
        per = req.int("_limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        pages = (total + per - 1) // per
        if req.params.get("_start") is not None:
            start = req.int("_start", 0, 0, 10 ** 12)
            page = start // per + 1
        else:
            page = req.int("_page", 1, 1, 10 ** 9)
            start = (page - 1) * per
        req.gate(page)
        recs = users(seedb, start, min(start + per, total)) \
            if start < total else []
        links = [("first", 1)]
        if page > 1:
            links.append(("prev", page - 1))
        if page < pages:
            links.append(("next", page + 1))
        links.append(("last", max(pages, 1)))
        value = ", ".join('<%s>; rel="%s"' % (
            req.url({"_page": p, "_limit": per}), rel) for rel, p in links)
        return Resp(200, b"[" + b",".join(r[0] for r in recs) + b"]",
                    JSON_TYPE, [("X-Total-Count", str(total)),
                                ("X-Total-Pages", str(pages)),
                                ("Link", value)])

    def h_quirks_split_links(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        req.gate(page)
        start = (page - 1) * per
        recs = users(seedb, start, min(start + per, total)) \
            if start < total else []
        pages = (total + per - 1) // per
        headers = []
        if page > 1:
            headers.append(("Link", '<%s>; rel="prev"' % req.url(
                {"page": page - 1, "per_page": per})))
        if page < pages:
            # a decoy parameter before rel, then the real one
            headers.append(("Link", '<%s>;\ttitle="rel=next is below";'
                            '\trel="next"' % req.url(
                                {"page": page + 1, "per_page": per})))
        headers.append(("Link", '<%s>; rel="last"' % req.url(
            {"page": max(pages, 1), "per_page": per})))
        return Resp(200, b"[" + b",".join(r[0] for r in recs) + b"]",
                    JSON_TYPE, headers)

    def h_quirks_token(self, req):
        seed, seedb, total = req.dataset()
        per = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        via = req.params.get("via") or "param"
        if via not in ("param", "header"):
            raise HTTPError(400, "via must be param or header", value=via)
        in_param = req.params.get("token")
        in_header = req.headers.get("x-page-token")
        if (in_param if via == "header" else in_header) is not None:
            raise HTTPError(400, "token sent in the wrong place", via=via)
        tok = in_param if via == "param" else in_header
        start = 0
        if tok is not None:
            cur = un_b64_cursor(tok)
            if not isinstance(cur, dict) or not isinstance(cur.get("s"), int):
                raise HTTPError(400, "invalid token", value=tok)
            start = cur["s"]
        req.gate(start // per + 1)
        end = min(start + per, total)
        recs = users(seedb, start, end) if start < total else []
        nxt = b64_cursor({"v": 1, "s": end}) if end < total else None
        body = b'{"items":[%s],"meta":{"next_token":%s}}' % (
            b",".join(r[0] for r in recs), jbytes(nxt))
        return Resp(200, body)

    def h_quirks_token_search(self, req):
        """POST /quirks/token_search {"query": q, "limit": n, "total": t,
        "page": {"token": tok}}: a search paged by a token the client sends
        back in the body (absent or null on the first request).  A token
        in the query string or an X-Page-Token header, a malformed token or
        one this search did not hand out is refused (400)."""
        doc = self._json_body(req)
        if "token" in req.params or "x-page-token" in req.headers:
            raise HTTPError(400, "token sent in the wrong place", via="body")
        seed, seedb, _ = req.dataset()
        try:
            per = int(doc.get("limit", DEFAULT_PAGE_SIZE))
            total = int(doc.get("total", 25))
        except (TypeError, ValueError):
            raise HTTPError(400, "limit and total must be integers")
        if per < 1 or per > MAX_PAGE_SIZE or total < 0:
            raise HTTPError(400, "limit or total out of range")
        q = str(doc.get("query", ""))
        page = doc.get("page")
        if not isinstance(page, dict):
            raise HTTPError(400, "the body's page must be an object")
        tok = page.get("token")
        start = 0
        if tok is not None:
            cur = un_b64_cursor(tok) if isinstance(tok, str) else None
            if (not isinstance(cur, dict) or not isinstance(cur.get("s"), int)
                    or cur.get("q") != q or not 0 < cur["s"] < total):
                raise HTTPError(400, "invalid token", value=tok)
            start = cur["s"]
        req.gate(start // per + 1)
        end = min(start + per, total)
        recs = users(seedb, start, end) if start < total else []
        nxt = b64_cursor({"v": 1, "s": end, "q": q}) if end < total else None
        body = b'{"items":[%s],"meta":{"next_token":%s}}' % (
            b",".join(r[0] for r in recs), jbytes(nxt))
        return Resp(200, body)

    def h_quirks_bytes(self, req):
        """A body of exactly the bytes asked for (urlsafe base64 in b64),
        for bodies no well-behaved endpoint sends: empty, a lone byte
        order mark, invalid UTF-8, CSV of other dialects."""
        raw = req.params.get("b64") or ""
        try:
            body = base64.b64decode(raw + "=" * (-len(raw) % 4),
                                    altchars=b"-_", validate=True)
        except ValueError:
            raise HTTPError(400, "b64 is not base64", value=raw)
        ctype = req.params.get("type") or JSON_TYPE
        return Resp(200, body, ctype)
