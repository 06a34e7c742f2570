"""Secrets stay secret: credentials come from the environment, and no output, log, table, report or error
message ever holds one; credentials written into okr_defs are refused by `okr validate`.

The sentinels below are real credentials as far as the clients are concerned (the fakes accept them and the
clients sign with the key), so the test proves they were used, then looks for them everywhere a run leaves text.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
from pathlib import Path

import grpc
import pytest
from google.ads.googleads.v26.errors.types import errors as err_types

from pipelines.cli.runner import run_pipeline
from tests.conftest import write_defs
from tests.fakes.ga4_server import FakeGa4Server, FakeProperty, Fault
from tests.fakes.google_ads_server import (
    FakeGoogleAds,
    FakeTokenEndpoint,
    ScriptedFailure,
    serve_google_ads,
    serve_oauth_token,
    service_account_key,
    trust_test_certificate,
)
from tests.fakes.meta_server import FakeAdAccount, FakeGraph, serve_graph
from tests.pipelines.test_ads_end_to_end import ACCOUNT, CUSTOMER, DAYS, METRICS, OBJECTIVES, ga4_rows
from tests.reliability_kit import okr, table_rows

trust_test_certificate()  # gRPC reads its trusted roots once per process

DEVELOPER_TOKEN = "SENTINEL-DEVTOKEN-5f1c2a9e"
META_TOKEN = "EAABSENTINELMETA7d41c0b2"
WRONG_META_TOKEN = "EAABSENTINELEXPIRED93ab"
ACCESS_TOKEN = "ya29.SENTINEL-ACCESS-0c8d11"
KEY_ID = "SENTINEL-KEYID-4be0"
PROPERTY = "412345678"


def _sources(ads_endpoint: str, graph_url: str, ga4_endpoint: str) -> str:
    return f"""
sources:
  google_ads:
    type: google_ads
    customer_ids: ["555-000-1234"]
    endpoint: "{ads_endpoint}"
  meta_ads:
    type: meta_ads
    account_ids: [act_{ACCOUNT}]
    endpoint: "{graph_url}"
  ga4_web:
    type: ga4
    property_id: "{PROPERTY}"
    metrics: {{sessions: sessions, revenue: purchaseRevenue}}
    endpoint: "{ga4_endpoint}"
"""


@pytest.fixture
def sentinel_platforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The three platform fakes, the okr_defs that read them, and an environment holding sentinel credentials.

    One service-account key (its private key and key id are sentinels) serves Google Ads (exchanged at the
    local token endpoint for a sentinel access token) and GA4 (which signs its own JWT with it).
    """
    from tests.connectors.test_google_ads import row
    from tests.connectors.test_meta_ads import insight, purchase

    for name in [n for n in os.environ if n.startswith("GOOGLE_ADS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/google-ads.yaml, no gcloud default credentials
    ads = FakeGoogleAds()
    ads.rows[CUSTOMER] = [
        row(d.isoformat(), 111, 10**12, clicks=200, impressions=10_000, conversions=5.0, value=6e6, currency="VND")
        for d in DAYS
    ]
    graph = FakeGraph(token=META_TOKEN, accounts={ACCOUNT: FakeAdAccount("Asia/Ho_Chi_Minh", "VND")})
    graph.accounts[ACCOUNT].rows = [
        insight(d.isoformat(), "1202", spend="500000", actions=[purchase("2", click="2")], currency="VND") for d in DAYS
    ]
    ga4 = FakeGa4Server(properties={PROPERTY: FakeProperty(ga4_rows(), "VND", "Asia/Ho_Chi_Minh")})
    token = FakeTokenEndpoint(access_token=ACCESS_TOKEN)
    with serve_google_ads(ads) as endpoint, serve_graph(graph), serve_oauth_token(token) as token_uri, ga4:
        key = service_account_key(token_uri) | {"private_key_id": KEY_ID}
        key_file = tmp_path / "secrets" / "sa.json"
        key_file.parent.mkdir()
        key_file.write_text(json.dumps(key), encoding="utf-8")
        env = {
            "GOOGLE_ADS_DEVELOPER_TOKEN": DEVELOPER_TOKEN,
            "GOOGLE_ADS_JSON_KEY_FILE_PATH": str(key_file),
            "GOOGLE_ADS_USE_PROTO_PLUS": "true",
            "META_ACCESS_TOKEN": META_TOKEN,
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "HOME": str(tmp_path),
        }
        defs = write_defs(
            tmp_path / "okr_defs",
            {
                "sources.yaml": _sources(endpoint, graph.base_url, ga4.endpoint),
                "metrics.yaml": METRICS,
                "objectives/paid.yaml": OBJECTIVES,
            },
        )
        pem_lines = [line for line in key["private_key"].splitlines() if "PRIVATE KEY" not in line]
        yield {
            "defs": defs,
            "env": env,
            "ads": ads,
            "graph": graph,
            "ga4": ga4,
            "token": token,
            "secrets": [DEVELOPER_TOKEN, META_TOKEN, ACCESS_TOKEN, KEY_ID, *pem_lines],
        }


def _everything_a_run_leaves(root: Path) -> list[tuple[str, bytes]]:
    """(where, bytes) of every file under `root` except the key file itself: database, WAL, report, event logs."""
    return [
        (str(path), path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and "secrets" not in path.parts and path.suffix != ".csv"
    ]


def _leaks(secrets: list[str], texts: list[tuple[str, bytes]]) -> list[str]:
    return [f"{secret[:12]}… in {where}" for secret in secrets for where, data in texts if secret.encode() in data]


def test_sentinel_credentials_appear_nowhere_a_run_writes(tmp_path: Path, sentinel_platforms: dict) -> None:
    s = sentinel_platforms
    home = tmp_path / "dagster_home"
    home.mkdir()
    database = tmp_path / "warehouse" / "okr.duckdb"
    env = s["env"] | {"DAGSTER_HOME": str(home)}  # a persistent instance: every event of the run is kept on disk
    run = okr("run", "--defs", str(s["defs"]), "--db", str(database), "--as-of", "2026-01-10", env=env, timeout=300)
    assert run.returncode == 0, run.stderr

    # The sentinels were really used: the fakes saw them, and the run produced the numbers.
    ads_call = s["ads"].requests[0].metadata
    assert (ads_call["developer-token"], ads_call["authorization"]) == (DEVELOPER_TOKEN, f"Bearer {ACCESS_TOKEN}")
    assert s["graph"].received[0].headers["authorization"] == f"Bearer {META_TOKEN}"
    jwt = s["ga4"].received[0].authorization.removeprefix("Bearer ")
    claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert claims["iss"] == "okr-test@okr-autoscore-test.iam.gserviceaccount.com"
    assert len(s["token"].grants) == 1  # the key's JWT was exchanged once for the access token
    assert (database.parent / "report.html").exists() and any(home.rglob("*.db"))
    tables = table_rows(database)
    assert len(tables["raw.google_ads_campaign_daily"]) == 10 * 5 and len(tables["okr.score_history"]) == 5

    texts = [("stdout", run.stdout.encode()), ("stderr", run.stderr.encode()), ("tables", repr(tables).encode())]
    texts += _everything_a_run_leaves(tmp_path)
    assert _leaks([*s["secrets"], jwt], texts) == []


def test_rejected_credentials_fail_each_source_without_echoing_them(
    tmp_path: Path, sentinel_platforms: dict, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Meta echoes a bad token in its error (as the real Graph API does), GA4 answers 401, Google Ads
    UNAUTHENTICATED: each source fails at once with a message naming the problem, never the credential."""
    s = sentinel_platforms
    for name, value in (s["env"] | {"META_ACCESS_TOKEN": WRONG_META_TOKEN}).items():
        monkeypatch.setenv(name, value)
    rejected = Fault(401, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
    s["ga4"].faults.update(dict.fromkeys(range(1, 10), rejected))
    expired = err_types.GoogleAdsError(
        error_code=err_types.ErrorCode(authentication_error="OAUTH_TOKEN_EXPIRED"),
        message="Authentication of the request failed: the OAuth token has expired.",
    )
    s["ads"].failures = [
        ScriptedFailure(
            grpc.StatusCode.UNAUTHENTICATED,
            "Request is missing required authentication credential.",
            err_types.GoogleAdsFailure(errors=[expired], request_id="req-auth-1"),
            "req-auth-1",
        )
    ]
    caplog.set_level(logging.DEBUG)
    database = tmp_path / "okr.duckdb"

    outcome = run_pipeline(s["defs"], database, dt.date(2026, 1, 10), log_level="DEBUG")

    assert not outcome.success
    failures = dict(f.split(": ", 1) for f in outcome.failures)
    assert set(failures) == {"raw__google_ads", "raw__meta_ads", "raw__ga4_web"}
    assert "authentication_error.OAUTH_TOKEN_EXPIRED" in failures["raw__google_ads"]
    assert "request id req-auth-1" in failures["raw__google_ads"]
    assert "Graph API error 190 (OAuthException, HTTP 400): Malformed access token ***" in failures["raw__meta_ads"]
    assert "the Google credentials were rejected (expired or revoked?)" in failures["raw__ga4_web"]
    # No retries of ours; google-auth itself refreshes the credentials and re-sends a 401 twice.
    assert [len(s["ads"].requests), len(s["graph"].received), len(s["ga4"].received)] == [1, 1, 3]
    assert all(rows == [] for name, rows in table_rows(database).items() if name.startswith("raw."))

    jwt = s["ga4"].received[0].authorization.removeprefix("Bearer ")
    secrets = [*s["secrets"], WRONG_META_TOKEN, jwt]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.__dict__}" for r in caplog.records)
    texts = [("failures", "\n".join(outcome.failures).encode()), ("logs", logged.encode())]
    texts += _everything_a_run_leaves(tmp_path)
    assert _leaks(secrets, texts) == []


CREDENTIALS_IN_DEFS = """
sources:
  google_ads:
    type: google_ads
    customer_ids: ["555-000-1234"]
    developer_token: SENTINEL-DEVTOKEN-5f1c2a9e
    client_secret: GOCSPX-SENTINELclientsecret0000
    refresh_token: "1//0gSENTINELrefreshtoken000000000"
  meta_ads:
    type: meta_ads
    account_ids: [act_1029384756]
    endpoint: "https://graph.facebook.com/?access_token=EAABSENTINELMETA7d41c0b2"
  ga4_web:
    type: ga4
    property_id: "412345678"
    metrics: {sessions: sessions}
    private_key: "-----BEGIN PRIVATE KEY-----\\nMIIEvSENTINEL\\n-----END PRIVATE KEY-----\\n"
  export:
    type: file
    path: exports/*.csv
    platform: meta_ads
    account_id: EAABwSENTINELpastedMetaToken0123456789abcdefZDZD
    date: {column: day}
    campaign_id: campaign
    metrics: {sessions: sessions}
"""


def test_validate_refuses_credentials_written_into_okr_defs(tmp_path: Path) -> None:
    defs = write_defs(
        tmp_path / "okr_defs",
        {
            "sources.yaml": CREDENTIALS_IN_DEFS,
            "metrics.yaml": "metrics:\n  sessions: {agg: sum}\n",
            "objectives/o.yaml": """
objectives:
  - id: o
    title: Traffic
    period: {start: 2026-01-01, end: 2026-03-31}
    key_results:
      - {id: s, metric: sessions, baseline: 0, target: 10}
""",
        },
    )
    result = okr("validate", "--defs", str(defs))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    src = defs / "sources.yaml"
    env = "credentials come from environment variables, never from okr_defs"
    credential = [line for line in result.stderr.splitlines() if "credential" in line]
    assert credential == [
        f"{src}:5:5: developer_token is a credential: remove it and set GOOGLE_ADS_DEVELOPER_TOKEN; {env}",
        f"{src}:6:5: client_secret is a credential: remove it and set GOOGLE_ADS_CLIENT_SECRET; {env}",
        f"{src}:6:20: this value looks like a Google OAuth client secret: {env}",
        f"{src}:7:5: refresh_token is a credential: remove it and set GOOGLE_ADS_REFRESH_TOKEN; {env}",
        f"{src}:7:20: this value looks like a Google OAuth refresh token: {env}",
        f"{src}:11:15: this value looks like a token in a URL: {env}",
        f"{src}:16:5: private_key is a credential: remove it and keep it in the key file "
        f"GOOGLE_APPLICATION_CREDENTIALS (GA4) or GOOGLE_ADS_JSON_KEY_FILE_PATH names; {env}",
        f"{src}:16:18: this value looks like a private key: {env}",
        f"{src}:21:17: this value looks like a Meta access token: {env}",
    ]
    assert "SENTINEL" not in result.stderr + result.stdout  # the values themselves are never repeated
