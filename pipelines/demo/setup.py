"""`okr demo`: put the demo team's okr_defs in place, generate their exports, return the demo as-of day."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from rich.console import Console

import pipelines

SHIPPED_DEFS = Path(pipelines.__file__).resolve().parent.parent / "okr_defs"
DATA_FROM_DEFS = Path("..") / "data" / "demo"  # where the demo sources.yaml expects its exports


def prepare_demo(defs_dir: Path, console: Console) -> dt.date:
    """Copy the shipped defs into an empty --defs folder, then write the seeded exports beside it."""
    from pipelines.demo.generator import DEMO_AS_OF, write_demo_exports

    if not (defs_dir / "sources.yaml").exists():
        if not SHIPPED_DEFS.is_dir():
            raise FileNotFoundError(f"the shipped okr_defs folder is missing ({SHIPPED_DEFS})")
        shutil.copytree(SHIPPED_DEFS, defs_dir, dirs_exist_ok=True)
        console.print(f"Copied the demo team's okr_defs to {defs_dir}", highlight=False)
    out_dir = (defs_dir / DATA_FROM_DEFS).resolve()
    with console.status("Generating 18 months of demo exports …"):
        files = write_demo_exports(out_dir)
    for name, path in files.items():
        console.print(f"  wrote {name} export {path}", highlight=False, soft_wrap=True)
    return DEMO_AS_OF
