"""A ``[train] launcher`` for tests: runs the trl worker and dies hard (like a kill) right after the
checkpoint of step N.

    launcher = "python tests/_trl_abort.py N"   (the trainer appends: -m facttune_trl.worker job.json)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from facttune_trl import worker


def progress_with_abort(after: int) -> Any:
    make = worker.progress_callback

    def progress_callback(log_path: Path, total_hint: list[int]) -> Any:
        callback = make(log_path, total_hint)

        def on_save(args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step >= after:
                print(f"_trl_abort: stopping hard after step {state.global_step}", flush=True)
                os._exit(3)

        callback.on_save = on_save
        return callback

    return progress_callback


if __name__ == "__main__":
    worker.progress_callback = progress_with_abort(int(sys.argv[1]))
    sys.exit(worker.main([sys.argv[-1]]))
