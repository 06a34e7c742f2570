"""A fake Meta Graph API (Marketing API Insights) on 127.0.0.1 over plain HTTP, speaking Graph's JSON.

What it does like the real one: checks the access token (error 190 "Malformed access token <token>", which
echoes the token as Meta does), answers `act_<id>` with the account's timezone_name and currency, serves
`act_<id>/insights` filtered by `time_range` and projected to the requested `fields`, pages with
`paging.cursors.after` and a `paging.next` URL (carrying the token in its query, as Meta's do) on every page
but the last, runs async report jobs (POST → report_run_id, `async_status` after N polls, paged results), and
returns scripted errors (HTTP 400 + `error.code`, optional usage headers) before the next answers.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ALWAYS = ("date_start", "date_stop")


@dataclass
class FakeAdAccount:
    timezone_name: str
    currency: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class ScriptedError:
    code: int
    message: str
    subcode: int | None = None
    http_status: int = 400
    kind: str = "OAuthException"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeGraph:
    token: str
    version: str = "v26.0"
    accounts: dict[str, FakeAdAccount] = field(default_factory=dict)
    errors: list[ScriptedError] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    polls_before_complete: int = 2
    job_outcome: str = "Job Completed"
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_url: str = ""

    def answer(self, method: str, path: str, params: dict[str, str], headers: dict[str, str]):
        """(status, body, extra headers) for one request."""
        self.received.append(Received(method, path, params, headers))
        given = headers.get("authorization", "").removeprefix("Bearer ") or params.get("access_token", "")
        if given != self.token:
            return _error(ScriptedError(190, f"Malformed access token {given}"))
        if self.errors:
            return _error(self.errors.pop(0))
        parts = path.strip("/").split("/")
        if not parts or parts[0] != self.version:
            return _error(ScriptedError(2635, f"Unsupported version in {path}", kind="GraphMethodException"))
        return self._route(method, parts[1:], params)

    def _route(self, method: str, parts: list[str], params: dict[str, str]):
        node, edge = parts[0], (parts[1] if len(parts) > 1 else None)
        if node.startswith("act_") and node[4:] in self.accounts:
            account = self.accounts[node[4:]]
            if edge is None and method == "GET":
                info = {"id": node, "account_id": node[4:], "timezone_name": account.timezone_name}
                return 200, {**info, "currency": account.currency}, {}
            if edge == "insights" and method == "GET":
                return 200, self._page(node, account, params, params), {}
            if edge == "insights" and method == "POST":
                run_id = str(6_000_000_000_001 + len(self.jobs))
                self.jobs[run_id] = {"account": node, "params": params, "polls": 0}
                return 200, {"report_run_id": run_id}, {}
        if node in self.jobs:
            job = self.jobs[node]
            if edge is None:
                job["polls"] += 1
                done = job["polls"] > self.polls_before_complete
                status = self.job_outcome if done else ("Job Not Started" if job["polls"] == 1 else "Job Running")
                run = {"id": node, "async_status": status, "async_percent_completion": 100 if done else 50}
                if status == "Job Failed":
                    run |= {"error_code": 2490547, "error_message": "Async report failed, please retry"}
                return 200, run, {}
            if edge == "insights":
                account = self.accounts[job["account"][4:]]
                return 200, self._page(f"{node}", account, job["params"], params), {}
        return _error(
            ScriptedError(100, f"Unsupported request: {method} {'/'.join(parts)}", kind="GraphMethodException")
        )

    def _page(self, node: str, account: FakeAdAccount, query: dict[str, str], paging: dict[str, str]) -> dict:
        span = json.loads(query["time_range"])
        wanted = set(query["fields"].split(",")) | set(ALWAYS)
        rows = [r for r in account.rows if span["since"] <= r["date_start"] <= span["until"]]
        rows = [{k: v for k, v in r.items() if k in wanted} for r in rows]
        limit = int(paging.get("limit") or query.get("limit") or 25)
        offset = int(base64.b64decode(paging["after"]).decode()) if paging.get("after") else 0
        chunk = rows[offset : offset + limit]
        after = base64.b64encode(str(offset + len(chunk)).encode()).decode()
        body: dict[str, Any] = {"data": chunk, "paging": {"cursors": {"before": "MAZDZD", "after": after}}}
        if offset + limit < len(rows):
            query_string = urllib.parse.urlencode({"access_token": self.token, "limit": limit, "after": after})
            body["paging"]["next"] = f"{self.base_url}/{self.version}/{node}/insights?{query_string}"
        return body


def _error(error: ScriptedError):
    body = {"error": {"message": error.message, "type": error.kind, "code": error.code, "fbtrace_id": "AbCdEfG123"}}
    if error.subcode is not None:
        body["error"]["error_subcode"] = error.subcode
    return error.http_status, body, error.headers


def usage_header(account_id: str, minutes: int, kind: str = "ads_insights") -> dict[str, str]:
    """`x-business-use-case-usage` as Meta sends it when an account is throttled."""
    usage = {"type": kind, "call_count": 100, "total_cputime": 28, "total_time": 31}
    return {
        "x-business-use-case-usage": json.dumps({account_id: [{**usage, "estimated_time_to_regain_access": minutes}]})
    }


@contextmanager
def serve_graph(fake: FakeGraph) -> Iterator[str]:
    """Run the fake on 127.0.0.1; yields its base URL (for MetaAdsConfig.base_url)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if method == "POST":
                length = int(self.headers.get("Content-Length", 0))
                params |= dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = fake.answer(method, url.path.rstrip("/"), params, headers)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake.base_url
    finally:
        server.shutdown()
        server.server_close()
