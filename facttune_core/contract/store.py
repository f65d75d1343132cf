"""Run directories and artifacts: atomic writes, append-only partial files, manifests."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import DataError
from .records import RECORD_TYPES, Record

MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
PARTIAL = "records.partial.jsonl"


def make_dir(path: Path) -> Path:
    """``mkdir -p``, or a DataError naming the folder (a file in the way, no permission)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataError("is a file, not a folder", where=str(path)) from None
    except NotADirectoryError:
        bad = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), path.parent)
        raise DataError(f"cannot make this folder: {bad} is a file", where=str(path)) from None
    except OSError as err:
        raise DataError(f"cannot make this folder: {err.strerror or err}", where=str(path)) from None
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file whole (a temp file, fsync, rename): a reader sees the old or the new one. An OS
    error (read-only folder, disk full) is a DataError naming the file."""
    make_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise DataError(f"cannot write: {err.strerror or err}", where=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artifacts are ordinary files
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"cannot write: {err.strerror or err}", where=str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def record_line(rec: Record | dict[str, Any]) -> str:
    d = rec.to_dict() if isinstance(rec, Record) else rec
    if isinstance(rec, Record):
        d = {"_kind": rec.kind, **d}
    return json.dumps(d, ensure_ascii=False, allow_nan=False)


def write_records(path: Path, records: Iterable[Record | dict[str, Any]]) -> int:
    lines = [record_line(r) for r in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def parse_record(d: dict[str, Any]) -> Record | dict[str, Any]:
    kind = d.get("_kind")
    if kind is None:
        return d
    cls = RECORD_TYPES[kind]
    return cls.from_dict({k: v for k, v in d.items() if k != "_kind"})


def iter_jsonl(path: Path, *, tolerate_torn_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-empty line. A torn last line (a kill mid-write) is skipped
    when ``tolerate_torn_tail``; anything else malformed is a DataError naming file and line."""
    raw = read_bytes_file(path).split(b"\n")
    lines: list[str] = []
    for i, b in enumerate(raw, start=1):
        try:
            lines.append(b.decode("utf-8") + ("\n" if i < len(raw) else ""))
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text (byte {exc.start + 1} of the line)", where=str(path),
                            key=f"line {i}") from None
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if tolerate_torn_tail and i == len(lines) and not line.endswith("\n"):
                return
            raise DataError(f"not valid JSON ({exc.msg})", where=str(path), key=f"line {i}") from None
        if not isinstance(obj, dict):
            raise DataError("expected a JSON object", where=str(path), key=f"line {i}")
        yield i, obj


def read_records(path: Path, *, tolerate_torn_tail: bool = False) -> list[Any]:
    out = []
    for i, d in iter_jsonl(path, tolerate_torn_tail=tolerate_torn_tail):
        try:
            out.append(parse_record(d))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"bad record: {exc}", where=str(path), key=f"line {i}") from None
    return out


class PartialWriter:
    """Appends finished records to ``records.partial.jsonl`` (fsync per chunk) so a killed stage
    resumes where it stopped. A torn last line is dropped on resume and its work redone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        make_dir(path.parent)
        try:
            if path.exists():
                # truncate a torn tail so appends start on a fresh line
                data = path.read_bytes()
                if data and not data.endswith(b"\n"):
                    cut = data.rfind(b"\n") + 1
                    with path.open("r+b") as f:
                        f.truncate(cut)
            self._f = path.open("a", encoding="utf-8")
        except OSError as err:
            raise DataError(f"cannot write: {err.strerror or err}", where=str(path)) from None

    def write(self, records: Iterable[Record | dict[str, Any]]) -> None:
        text = "".join(record_line(r) + "\n" for r in records)
        if text:
            self._f.write(text)
            self._f.flush()
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()


def refuse_overwrite(path: Path, ours: Callable[[Path], bool], command: str, force: bool,
                     option: str = "--out") -> None:
    """No command overwrites a file it did not write: ``path`` may be (re)written when it does not
    exist, when ``ours(path)`` recognises it as this command's own output, or with ``--force``.
    Else a DataError naming the file."""
    if force or (not path.exists() and not path.is_symlink()):
        return
    if path.is_dir():
        raise DataError(f"is a folder; {command} writes a file here", where=str(path))
    try:
        mine = ours(path)
    except (DataError, OSError, ValueError):
        mine = False
    if not mine:
        raise DataError(f"exists and was not written by {command}: pass --force to overwrite it, or choose another "
                        f"{option}", where=str(path))


def json_object_with(path: Path, *keys: str) -> bool:
    """Whether ``path`` holds a JSON object with every key in ``keys`` (how a command knows its own file)."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(obj, dict) and all(k in obj for k in keys)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (a DataError naming it when it cannot be read)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as err:
        raise DataError(_os_reason(err), where=str(path)) from None
    return h.hexdigest()


def check_digest(path: Path, records: int, want_records: Any, want_sha: Any, fix: str, owner: str) -> None:
    """A file read back must be what its owner (a manifest, score.json) recorded: the same number of
    records and the same sha256. Else a DataError naming the file and saying what to do."""
    digest = file_sha256(path)
    if (isinstance(want_records, int) and want_records != records) or (want_sha and want_sha != digest):
        raise DataError(f"does not match {owner} ({want_records} records, sha256 {str(want_sha)[:12]}…; the file has "
                        f"{records}, sha256 {digest[:12]}…): it changed after it was written. {fix}", where=str(path))


def read_stage_records(stage_dir: Path, fix: str) -> tuple[dict[str, Any], list[Any]]:
    """A finished stage's manifest and its records, checked against the manifest's count and sha256
    (as a run reuses a stage: every reader of a finished folder reads it this way). ``fix`` says
    what to do when they differ. A stage without a manifest is not finished: a DataError."""
    manifest = read_manifest(stage_dir)
    if manifest is None:
        raise DataError("this stage has not finished (no manifest.json)", where=str(stage_dir))
    path = stage_dir / RECORDS
    records = read_records(path)
    check_digest(path, len(records), manifest.get("records"), manifest.get("sha256"), fix, "its manifest")
    return manifest, records


def read_manifest(stage_dir: Path) -> dict[str, Any] | None:
    """A stage's manifest, or None when the stage has none yet. A manifest is written whole (temp
    file + rename), so one that does not parse was changed by something else: a DataError."""
    p = stage_dir / MANIFEST
    if not p.exists() and not p.is_symlink():
        return None
    return read_json_file(p, fix=f"delete the folder {stage_dir.name} to recompute that stage")


# ---------------------------------------------------------------- the one place files are read
# Every OS, decode and parse error of a file the pipeline reads becomes one DataError naming the file
# (and the line where there is one); nothing else escapes these functions.

def _os_reason(err: OSError) -> str:
    return {IsADirectoryError: "is a folder, not a file", NotADirectoryError: "a part of the path is not a folder",
            FileNotFoundError: "file not found", PermissionError: "permission denied"}.get(
        type(err), f"cannot read: {err.strerror or err}")


def read_bytes_file(path: Path) -> bytes:
    """A file's bytes, or a DataError naming it (missing, a folder, unreadable)."""
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise DataError(_os_reason(err), where=str(path)) from None


def read_text_file(path: Path, *, fix: str = "") -> str:
    """A UTF-8 text file, or a DataError naming the file (and the line of a bad byte)."""
    data = read_bytes_file(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (a binary or damaged file){'; ' + fix if fix else ''}", where=str(path),
                        key=f"line {line}") from None


def read_json_file(path: Path, *, expect: type = dict, fix: str = "") -> Any:
    """A JSON file holding a ``expect`` (an object by default), or a DataError naming the file
    and the line; ``fix`` says what the user can do about a damaged file."""
    text = read_text_file(path, fix=fix)
    tail = f"; {fix}" if fix else ""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg}){tail}", where=str(path), key=f"line {exc.lineno}") from None
    if not isinstance(obj, expect):
        want = {dict: "a JSON object", list: "a JSON list"}.get(expect, expect.__name__)
        raise DataError(f"expected {want}, found {type(obj).__name__}{tail}", where=str(path))
    return obj
