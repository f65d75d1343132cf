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

from ..contract.cache import stable_json
from ..contract.errors import ConfigError, DataError
from ..contract.records import Verdict
from ..contract.registry import ComponentSpec
from ..contract.store import (
    MANIFEST,
    RECORDS,
    atomic_write_json,
    file_sha256,
    read_json_file,
    read_manifest,
    read_stage_records,
    write_records,
)
from ..scoring.judging import guard_warning
from .fingerprint import component_version


def stage_key(upstream: str | None, stage: str, component: str | None, version: str | None,
              config: Any, core: dict[str, str] | None = None) -> str:
    """The hash of what a stage's result depends on: the upstream key, the stage, its component's name
    and version, its output-relevant config and (when any) the core code it depends on."""
    fields = {"up": upstream, "stage": stage, "component": component, "version": version, "config": config}
    blob = stable_json({**fields, "core": core} if core else fields)
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


def redo_hint(stage: str, sdir: Path, kind: str = "run") -> str:
    """What to do about a stage folder whose records changed after it finished."""
    if kind == "score":
        return f"Delete {sdir.name} and run the same facttune score command again to recompute it"
    return f"Delete {sdir.name} (or rerun with --force-from {stage}) to recompute it"


def finished(stage: str, key: str, sdir: Path, kind: str = "run", part_of: str = "") -> StageResult | None:
    """The stage's result when its folder holds a manifest for this key (``--force-from`` has
    removed the folders it recomputes), else None. Its records are checked against the manifest's
    count and sha256 (``part_of``: the main stage it runs inside, named by the error)."""
    manifest = read_manifest(sdir)
    if manifest is None or manifest.get("key") != key:
        return None
    manifest, records = read_stage_records(sdir, redo_hint(part_of or stage, sdir, kind))
    return StageResult(stage, key, sdir, "done", records, items=manifest.get("items", 0),
                       counts=manifest.get("counts", {}), manifest=manifest)


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


# ---------------------------------------------------------------- run.json: what a folder is, and whether it is done

RUN_JSON = "run.json"
KINDS = ("run", "score")  # the job a folder belongs to: facttune run, or facttune score
# what each kind writes at the top of its folder, besides its NN-stage-<key>/ folders
WRITES = {"run": ("run.json", "recipe.toml", "report.html", "plots"),
          "score": ("run.json", "recipe.toml", "report.html", "plots", "scores.jsonl", "claims.jsonl", "score.json")}
COMMAND = {"run": "facttune run", "score": "facttune score"}
OPTION = {"run": "--run-dir", "score": "--out"}


def write_run_json(run_dir: Path, recipe: Path, name: str, results: dict[str, StageResult], status: str,
                   kind: str = "run", overrides: list[str] | None = None) -> None:
    """``run.json``: the job the folder belongs to (``kind``), which folder holds each stage so far,
    and ``status``: running (written first, and after each stage), finished, or stopped (``--until``).
    A reader trusts the stages only when the status is finished."""
    atomic_write_json(run_dir / RUN_JSON, {
        "kind": kind, "recipe": str(recipe), "overrides": list(overrides or []), "name": name, "status": status,
        "stages": {s: {"dir": r.dir.name, "key": r.key, "status": r.status} for s, r in results.items()},
        "finished": status == "finished",
    })


def recipe_copy(recipe: Path, overrides: list[str]) -> str:
    """The run folder's recipe.toml: the recipe file as it was, headed by the ``--set`` overrides the
    run applied on top of it (as comments), so the folder says what ran."""
    text = recipe.read_text(encoding="utf-8")
    if not overrides:
        return text
    head = "".join(f"#   --set {o}\n" for o in overrides)
    return f"# run with these overrides on top of this file ({recipe}):\n{head}\n{text}"


def read_run_json(run_dir: Path) -> dict[str, Any] | None:
    """A folder's run.json, checked (None when it has none). One written before ``status`` existed
    is finished or stopped by its ``finished`` flag; one without ``kind`` is a score folder when it
    has score.json or its data are given responses."""
    path = run_dir / RUN_JSON
    if not path.exists() and not path.is_symlink():
        return None
    fix = "delete it, and run the command that made this folder again"
    info = read_json_file(path, fix=fix)
    stages = info.get("stages", {})
    if not isinstance(stages, dict) or not all(isinstance(s, dict) and isinstance(s.get("dir"), str)
                                               and "/" not in s["dir"] for s in stages.values()):
        raise DataError(f"'stages' is not a table of stage folders; {fix}", where=str(path), key="stages")
    status = info.get("status")
    if status is None:
        status = "finished" if info.get("finished") is True else "stopped"
    if status not in ("running", "finished", "stopped"):
        raise DataError(f"unknown status {status!r}; {fix}", where=str(path), key="status")
    kind = info.get("kind")
    if kind is None:
        given = _data_component(run_dir, stages) == "core/responses"
        kind = "score" if (run_dir / "score.json").exists() or given else "run"
    if kind not in KINDS:
        raise DataError(f"unknown kind {kind!r}; {fix}", where=str(path), key="kind")
    return {**info, "status": status, "kind": kind, "stages": stages}


def _data_component(run_dir: Path, stages: dict[str, Any]) -> Any:
    d = stages.get("data", {}).get("dir")
    m = read_manifest(run_dir / d) if d and (run_dir / d).is_dir() else None
    return (m or {}).get("component")


def stage_folders(run_dir: Path) -> list[Path]:
    return sorted(d for d in run_dir.glob("[0-9][0-9]-*-*") if d.is_dir())


def folder_kind(run_dir: Path) -> str | None:
    """The job a folder belongs to: "run", "score", or None (not a facttune folder). A damaged
    run.json is judged by what else the folder holds (a run rewrites it)."""
    try:
        info = read_run_json(run_dir)
    except DataError:
        info = None
    if info is not None:
        return str(info["kind"])
    if (run_dir / "score.json").is_file():
        return "score"
    dirs = stage_folders(run_dir)
    if not dirs:
        return None
    data = next((d for d in dirs if d.name.split("-")[1] == "data"), None)
    m = read_manifest(data) if data is not None else None
    return "score" if (m or {}).get("component") == "core/responses" else "run"


def claim_folder(run_dir: Path, kind: str) -> None:
    """Refuse a folder that belongs to another kind of job (``facttune score --out`` a run folder,
    ``facttune run --run-dir`` a score folder), or that holds files this job would overwrite but did
    not write: a DataError naming it. A missing or empty folder, or one of this kind, is fine."""
    if not run_dir.is_dir():
        return
    have = folder_kind(run_dir)
    if have == kind:
        return
    if have is not None:
        what = ("a facttune run folder (a training run's stages and report)" if have == "run" else
                "a facttune score folder (its scores and report)")
        raise DataError(f"{what}: {COMMAND[kind]} writes a folder of its own; choose another {OPTION[kind]}",
                        where=str(run_dir))
    clash = [n for n in WRITES[kind] if (run_dir / n).exists()]
    if clash:
        raise DataError(f"holds {', '.join(clash)}, which {COMMAND[kind]} would overwrite, and is not a facttune "
                        f"folder (no run.json): choose another {OPTION[kind]}, or move {clash[0]} away",
                        where=str(run_dir))


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
