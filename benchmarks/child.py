"""Run one benchmark phase in a fresh child process and follow it from the parent's progress display.

Why a child per phase: `ru_maxrss` only ever grows, so in one process the generator's or the engine's peak
would hide the next phase's. Why an address-space cap: an implementation that outgrows the machine must
fail alone with a MemoryError, not push the OOM killer onto whatever else runs here. The child talks back
through a queue: ("total", n) and ("advance", 1) for progress, then ("result", value) or ("error", text).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.progress import Progress, TaskID

MEMORY_CAP_SHARE = 0.85  # of physical memory, per child
POLL_SECONDS = 0.2


@dataclass
class ChildOutcome:
    """A phase's return value, or why it has none (an exception's last line, or how the process died)."""

    value: Any = None
    error: str | None = None
    died: bool = False  # killed from outside (e.g. the OOM killer), as opposed to raising


def memory_cap_bytes() -> int:
    """The address-space limit each child runs under: a share of this machine's physical memory."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * MEMORY_CAP_SHARE)


def _child_main(messages: mp.Queue, func: Callable[..., Any], args: tuple) -> None:
    """Entry point in the child: cap memory, run the phase, report its value or its error."""
    cap = memory_cap_bytes()
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        messages.put(("result", func(messages, *args)))
    except BaseException as exc:  # every failure is reported to the parent, which decides what it means
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        messages.put(("error", last.splitlines()[0][:300]))


def run_in_child(func: Callable[..., Any], args: tuple, progress: Progress, task: TaskID) -> ChildOutcome:
    """Start `func(messages, *args)` in a spawned process; update `task` from its messages until it ends."""
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    process = ctx.Process(target=_child_main, args=(messages, func, args), daemon=True)
    process.start()
    outcome: ChildOutcome | None = None
    while outcome is None:
        try:
            kind, payload = messages.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not process.is_alive():
                outcome = ChildOutcome(error=f"child process died (exit code {process.exitcode})", died=True)
            continue
        if kind == "total":
            progress.update(task, total=payload)
        elif kind == "advance":
            progress.advance(task, payload)
        else:
            outcome = ChildOutcome(value=payload) if kind == "result" else ChildOutcome(error=payload)
    process.join()
    return outcome
