"""Credentials never live in okr_defs: a key named like one, or a value shaped like one, is an error.

Why a separate pass over the YAML text: okr_defs is committed to git and read by everyone with the
repository, so a token pasted into it is leaked the moment it is pushed. The models would report a
`developer_token:` key only as an unknown field, and a token pasted into an allowed field (an endpoint
URL, an account id) not at all. Messages name the key and where the credential belongs, never the value.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipelines.lib.spec.errors import DefsError
from pipelines.lib.spec.yaml_lines import load_yaml

# Setting names that hold a credential, and what to do instead.
_KEY_FILE = "keep it in the key file GOOGLE_APPLICATION_CREDENTIALS (GA4) or GOOGLE_ADS_JSON_KEY_FILE_PATH names"
_ENV = "set it in an environment variable"
INSTEAD = {
    "developer_token": "set GOOGLE_ADS_DEVELOPER_TOKEN",
    "client_id": "set GOOGLE_ADS_CLIENT_ID",
    "client_secret": "set GOOGLE_ADS_CLIENT_SECRET",
    "refresh_token": "set GOOGLE_ADS_REFRESH_TOKEN",
    "json_key_file_path": "set GOOGLE_ADS_JSON_KEY_FILE_PATH",
    "access_token": "set META_ACCESS_TOKEN",
    "private_key": _KEY_FILE,
    "private_key_id": _KEY_FILE,
    "app_secret": _ENV,
    "api_key": _ENV,
    "password": _ENV,
    "secret": _ENV,
    "token": _ENV,
}
# Values whose shape gives them away, whatever key holds them.
SHAPES = [
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a Google OAuth access token", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}")),
    ("a Google OAuth refresh token", re.compile(r"(?<![\w/])1//0[0-9A-Za-z_-]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a Google OAuth client secret", re.compile(r"\bGOCSPX-[0-9A-Za-z_-]{20,}")),
    ("a Meta access token", re.compile(r"\bEAA[0-9A-Za-z]{30,}")),
    ("a token in a URL", re.compile(r"[?&](access_token|client_secret|refresh_token|developer_token|api_key)=")),
]
WHERE = "credentials come from environment variables, never from okr_defs"


def check_credentials(root: Path) -> list[DefsError]:
    """Every credential-like key or value in the folder's YAML files, as file:line:column errors."""
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml"))
    files += sorted((root / "objectives").glob("*.yaml")) + sorted((root / "objectives").glob("*.yml"))
    errors: list[DefsError] = []
    for path in files:
        try:
            doc = load_yaml(path)
        except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError, ValueError):
            continue  # the loader reports a file it cannot read
        if doc.root is not None:
            errors += _scan(path, doc.root, check_keys=path.name == "sources.yaml")
    return errors


def _scan(path: Path, root: yaml.Node, check_keys: bool) -> list[DefsError]:
    """Walk the node tree (iteratively: a deep file must not exhaust the stack)."""
    errors = []
    stack: list[tuple[yaml.Node, str | None]] = [(root, None)]
    seen: set[int] = set()  # an alias may point back at its own anchor (`a: &x [*x]`): visit each node once
    while stack:
        node, parent_key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value).strip().lower().replace("-", "_") if isinstance(key, yaml.ScalarNode) else ""
                # source names and the metric names a file source maps are the analyst's own words, not settings
                if check_keys and parent_key not in ("sources", "metrics") and name in INSTEAD:
                    message = f"{key.value!s} is a credential: remove it and {INSTEAD[name]}; {WHERE}"
                    errors.append(_error(path, key, message))
                stack.append((value, name))
                stack.append((key, None))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, parent_key) for item in node.value)
        elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
            shape = next((label for label, pattern in SHAPES if pattern.search(node.value)), None)
            if shape:
                errors.append(_error(path, node, f"this value looks like {shape}: {WHERE}"))
    return errors


def _error(path: Path, node: yaml.Node, message: str) -> DefsError:
    return DefsError(path, node.start_mark.line + 1, node.start_mark.column + 1, message)
