"""The run folder: one folder per stage, ``NN-stage-<key>/`` with ``records.jsonl`` and
``manifest.json``, both written to a temporary name and renamed; a stage is done when its manifest
exists. The key hashes the upstream key, the stage, the component's name and version and the
output-relevant config (HF datasets' fingerprint chain), so a changed recipe gets new folders and an
unchanged one reuses finished work.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cache import stable_json
from ..contract.errors import ConfigError, DataError
from ..contract.records import Verdict
from ..contract.registry import ComponentSpec
from ..fingerprint import component_version
from ..judging import guard_warning
from ..store import (
    MANIFEST,
    RECORDS,
    atomic_write_json,
    read_json_file,
    read_manifest,
    read_records,
    write_records,
)


def stage_key(upstream: str | None, stage: str, component: str | None, version: str | None,
              config: Any) -> str:
    blob = stable_json({"up": upstream, "stage": stage, "component": component, "version": version,
                        "config": config})
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class StageResult:
    stage: str
    key: str
    dir: Path
    status: str  # ran | resumed | done
    records: list[Any] = field(default_factory=list)
    items: int = 0
    seconds: float = 0.0
    hits: int = 0
    misses: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def stage_dir(root: Path, index: int, stage: str, key: str) -> Path:
    return root / f"{index:02d}-{stage}-{key}"


def finished(stage: str, key: str, sdir: Path) -> StageResult | None:
    """The stage's result when its folder holds a manifest for this key (``--force-from`` has
    removed the folders it recomputes), else None."""
    manifest = read_manifest(sdir)
    if manifest is None or manifest.get("key") != key:
        return None
    path = sdir / RECORDS
    records = read_records(path)
    want, digest = manifest.get("records"), manifest.get("sha256")
    if (isinstance(want, int) and want != len(records)) or (digest and digest != file_sha256(path)):
        raise DataError(f"does not match its manifest ({want} records, sha256 {str(digest)[:12]}…; the file has "
                        f"{len(records)}): it changed after the stage finished. Delete {sdir.name} (or rerun with "
                        f"--force-from {stage}) to recompute it", where=str(path))
    return StageResult(stage, key, sdir, "done", records, items=manifest.get("items", 0),
                       counts=manifest.get("counts", {}), manifest=manifest)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def finish(res: StageResult, spec: ComponentSpec | None, config: Any, extra: dict[str, Any]) -> None:
    """Write the records, then the manifest (last: it marks the stage done). A stage whose records
    hold verdicts records their supported share, with the guard rail's warning when a judge calls
    (almost) everything one way."""
    write_records(res.dir / RECORDS, res.records)
    verdicts = [r for r in res.records if isinstance(r, Verdict)]
    if verdicts:
        share = sum(1 for v in verdicts if v.supported) / len(verdicts)
        extra = {**extra, "verdicts": {"claims": len(verdicts), "supported_share": share,
                                       "warning": guard_warning(share, len(verdicts))}}
    res.manifest = {
        "stage": res.stage, "key": res.key, "component": spec.name if spec else None,
        "plugin": spec.plugin if spec else None, "version": component_version(spec) if spec else None,
        "config": unnested(config), "status": res.status, "items": res.items, "records": len(res.records),
        "sha256": file_sha256(res.dir / RECORDS), "seconds": round(res.seconds, 3),
        "cache": {"hits": res.hits, "misses": res.misses}, "counts": res.counts,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra,
    }
    atomic_write_json(res.dir / MANIFEST, res.manifest)


def unnested(config: Any) -> Any:
    """A manifest's settings: the component's args themselves, not ``{"config": args}``."""
    return config["config"] if isinstance(config, dict) and list(config) == ["config"] else config


def clear_from(run_dir: Path, order: Sequence[str], first: str) -> None:
    """Remove the folders of ``first`` and of every stage after it (``--force-from``)."""
    later = set(order[order.index(first):])
    for d in sorted(run_dir.glob("[0-9][0-9]-*-*")):
        if d.name.split("-")[1] in later:
            shutil.rmtree(d, ignore_errors=True)


def write_run_json(run_dir: Path, recipe: Path, name: str, results: dict[str, StageResult], finished: bool) -> None:
    """``run.json``: which folder holds each stage of this run (the report reads it)."""
    atomic_write_json(run_dir / "run.json", {
        "recipe": str(recipe), "name": name,
        "stages": {s: {"dir": r.dir.name, "key": r.key, "status": r.status} for s, r in results.items()},
        "finished": finished,
    })


def trained_adapter(value: str | Path, key: str | None = None) -> Path:
    """An adapter named in a recipe: a LoRA folder as it is, or a run folder (one with ``run.json``),
    which stands for the adapter its train stage wrote (FLAME: DPO starts from an SFT run)."""
    path = Path(value).expanduser()
    if not (path / "run.json").is_file():
        return path
    train = (read_json_file(path / "run.json").get("stages") or {}).get("train") or {}
    manifest = read_manifest(path / str(train.get("dir"))) if train.get("dir") else None
    rel = (manifest or {}).get("adapter_dir")
    if not rel:
        raise ConfigError(f"run folder {path} has no trained adapter yet: run its recipe to the end first", key=key)
    adapter = Path(str(rel))
    return adapter if adapter.is_absolute() else (path / str(train["dir"]) / adapter).resolve()
