"""The training worker's life: it dies with the facttune process that started it (kill -9 included),
so no worker is left writing to a stage folder that a rerun trains into again."""

from __future__ import annotations

import os
import signal
import sys
import time

PARENT_ENV = "FACTTUNE_PARENT_PID"  # the worker watches this process and exits when it is gone


def die_with_parent() -> None:
    """In the worker's process before it starts (Popen's preexec_fn): on Linux the kernel sends it
    SIGTERM when the facttune process dies, kill -9 included (PR_SET_PDEATHSIG). The worker also
    watches the parent itself (``watch_parent``), which covers launchers and other systems."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass


def watch_parent(interval: float = 1.0) -> None:
    """Exit when the facttune process that started this worker is gone (kill -9 of the parent must
    not leave a worker writing to the stage folder). A daemon thread polls the parent's pid."""
    import threading

    try:
        parent = int(os.environ.get(PARENT_ENV, "0"))
    except ValueError:
        return
    if parent <= 0:
        return
    direct = os.getppid()  # facttune itself, or a launcher it started; a dead parent's child is re-parented

    def alive() -> bool:
        if os.getppid() != direct:
            return False
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    def loop() -> None:
        while alive():
            time.sleep(interval)
        print(f"facttune_trl.worker: the facttune process {parent} is gone; stopping", flush=True)
        os._exit(143)

    if not alive():
        os._exit(143)
    threading.Thread(target=loop, name="watch-parent", daemon=True).start()
