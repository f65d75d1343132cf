"""One writer per folder: an exclusive lock (``flock``) on a file in the folder, held while a run (or a
training worker) writes there. The OS drops the lock when its holder dies, kill -9 included, so a
stale lock never blocks a rerun. A second process either waits (``wait`` seconds) or gets a one-line
DataError naming the folder and who holds it (pid, since when, what command).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import DataError
from .store import make_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock (one run per folder is the user's job there)
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".facttune.lock"


class FolderLock:
    """``with FolderLock(run_dir): ...``: only one holder at a time. ``what`` names the holder kind in
    the message ("facttune run", "training worker"); ``wait``: seconds to wait for the holder to go."""

    def __init__(self, folder: Path, *, name: str = LOCK_NAME, what: str = "facttune run", wait: float = 0.0) -> None:
        self.folder = Path(folder)
        self.path = self.folder / name
        self.what = what
        self.wait = wait
        self._fd: int | None = None

    def holder(self) -> dict[str, Any]:
        """Who holds the lock, as it wrote itself down (empty when unknown)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def acquire(self) -> FolderLock:
        if fcntl is None:
            return self
        make_dir(self.folder)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise DataError(f"cannot lock this folder: {err.strerror or err}", where=str(self.folder)) from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    h = self.holder()
                    who = f"pid {h.get('pid', '?')}" + (f", since {h['since']}" if h.get("since") else "") + \
                        (f": {h['command']}" if h.get("command") else "")
                    raise DataError(f"in use by another {self.what} ({who}); wait for it to finish or stop it "
                                    "(one writer per folder)", where=str(self.folder)) from None
                time.sleep(0.2)
            except OSError:  # a file system without locks (some network mounts): go on unlocked
                os.close(fd)
                return self
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                                 "command": " ".join(sys.argv)[:300]}).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
