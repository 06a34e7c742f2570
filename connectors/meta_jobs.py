"""Meta async Insights report jobs: start one, poll it to completion, hand back its report_run_id.

Why async: a synchronous insights call over a long range can time out (error 1504018/1504038); Meta's best
practice for large ranges is `POST act_<id>/insights` and polling the AdReportRun. Polling is bounded
(`max_polls` × `interval`) and waits through the injectable sleep of the retry policy, so tests run instantly.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.meta_graph import GraphClient

COMPLETED = "Job Completed"
FAILED = frozenset({"Job Failed", "Job Skipped"})
log = logging.getLogger(__name__)


class JobFailed(Exception):
    """The report run failed, was skipped, or did not finish within the allowed polls."""


def run_async_report(graph: GraphClient, edge: str, params: dict[str, Any], interval: float, max_polls: int) -> str:
    """Start a report run on `edge` (e.g. act_42/insights) and wait until it completes; returns its id."""
    started = graph.post(edge, params)
    run_id = str(started.get("report_run_id") or "")
    if not run_id.isdigit():
        raise JobFailed(f"starting an async report returned no report_run_id: {sorted(started)}")
    for poll in range(1, max_polls + 1):
        run = graph.get(run_id, {"fields": "id,async_status,async_percent_completion"})
        status = str(run.get("async_status") or "")
        if status == COMPLETED:
            return run_id
        if status in FAILED:
            raise JobFailed(graph.redact(_failure(run_id, status, run)))
        log.info(
            "report run %s: %s (%s%%), poll %d/%d", run_id, status, run.get("async_percent_completion"), poll, max_polls
        )
        if poll < max_polls:
            graph.retry.sleep(interval)
    raise JobFailed(f"report run {run_id} did not complete after {max_polls} polls")


def _failure(run_id: str, status: str, run: dict[str, Any]) -> str:
    """Since v25.0 a failed run carries error_code / error_message / error_user_msg: show them."""
    details = [f"{k}={run[k]}" for k in ("error_code", "error_subcode", "error_message", "error_user_msg") if k in run]
    return f"report run {run_id}: {status}" + (f" ({', '.join(details)})" if details else "")
