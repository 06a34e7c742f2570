"""Build a `GoogleAdsClient` from the environment only: `GOOGLE_ADS_*` variables, else google-ads.yaml.

Why here and not in okr_defs: credentials never live in the analysts' files. The library's own loaders are
used (`load_from_env` when any `GOOGLE_ADS_*` variable is set — `GOOGLE_ADS_CONFIGURATION_FILE_PATH` points
it at a YAML file — else `load_from_storage`, i.e. ~/google-ads.yaml). Note they refresh the OAuth token while
loading, so a bad refresh token fails here, before any query. Tests pass a ready client to `read_google_ads`
instead, or point a service-account key's `token_uri` at a local token endpoint.
"""

from __future__ import annotations

import os

from google.ads.googleads.client import GoogleAdsClient
from google.auth.exceptions import GoogleAuthError

from connectors.errors import SourceApiError
from connectors.google_ads_errors import API_VERSION

ENV_PREFIX = "GOOGLE_ADS_"
_SECRET_KEYS = ("DEVELOPER_TOKEN", "CLIENT_SECRET", "REFRESH_TOKEN", "CLIENT_ID")


def load_google_ads_client(source: str, login_customer_id: str | None, endpoint: str | None) -> GoogleAdsClient:
    """A client for API `API_VERSION` with the source's login customer id and endpoint applied over the file/env."""
    try:
        if any(name.startswith(ENV_PREFIX) for name in os.environ):
            client = GoogleAdsClient.load_from_env(version=API_VERSION)
        else:
            client = GoogleAdsClient.load_from_storage(version=API_VERSION)
    except (OSError, ValueError, GoogleAuthError) as exc:
        detail = _redact(f"{type(exc).__name__}: {exc}")
        raise SourceApiError(
            source,
            "cannot build a Google Ads client from the GOOGLE_ADS_* environment variables or google-ads.yaml "
            f"({detail})",
        ) from None
    client.use_proto_plus = True
    if login_customer_id:
        client.login_customer_id = login_customer_id
    if endpoint:
        client.endpoint = endpoint
    return client


def _redact(text: str) -> str:
    """Blank out any secret value from the environment that a library message might echo."""
    for key in _SECRET_KEYS:
        secret = os.environ.get(ENV_PREFIX + key)
        if secret:
            text = text.replace(secret, "***")
    return text
