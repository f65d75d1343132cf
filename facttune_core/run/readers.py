"""What ``compare`` and ``report`` read from a run or score folder, checked the way a run checks what it
reuses: the folder's job and status (run.json), each stage's records against the count and sha256
in its manifest, and a score folder's ``scores.jsonl`` / ``claims.jsonl`` against the count and
sha256 in ``score.json``. An unfinished folder (killed, failed, still running) is named as such;
a file edited after it was written is named with what to do. Never a silent stale or edited number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.errors import DataError
from ..contract.store import check_digest, iter_jsonl, read_json_file, read_stage_records
from ..scoring.claim_scores import FactScoreRule
from .folders import COMMAND, folder_kind, read_run_json, redo_hint, stage_folders

SCORE_META = "score.json"
SCORES = "scores.jsonl"
CLAIMS = "claims.jsonl"


@dataclass
class Folder:
    """A run or score folder as run.json describes it."""

    path: Path
    kind: str  # "run" | "score"
    status: str  # "running" | "finished" | "stopped"
    stages: dict[str, Path] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    def unfinished(self) -> str:
        """The one line that says this folder is not finished, and what to do."""
        cmd = COMMAND[self.kind]
        return (f"an unfinished {cmd} folder (the last {cmd} here did not finish: it was killed, failed or is "
                f"still running): run the same {cmd} command again to finish it")

    def stage_records(self, stage: str, sdir: Path | None = None) -> tuple[dict[str, Any], list[Any]]:
        """A stage's manifest and records (or one inside it: evaluate's before/after chains), checked."""
        d = sdir or self.stages[stage]
        return read_stage_records(d, redo_hint(stage, d, self.kind))


def open_folder(path: Path) -> Folder:
    """A facttune run or score folder; a one-line DataError for anything else."""
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise DataError("no such folder", where=where)
    if not path.is_dir():
        raise DataError("not a folder (give a run or score folder)", where=where)
    info = read_run_json(path)
    if info is None:
        kind = folder_kind(path)
        if kind is None:
            raise DataError("not a facttune run or score folder (no run.json, no score.json)", where=where)
        # stage folders but no run.json: a run from before run.json was written first, killed
        return Folder(path, kind, "running", {d.name.split("-")[1]: d for d in stage_folders(path)
                                               if (d / "manifest.json").exists()})
    stages = {s: path / v["dir"] for s, v in info["stages"].items() if (path / v["dir"] / "manifest.json").exists()}
    return Folder(path, str(info["kind"]), str(info["status"]), stages)


def score_outputs(folder: Folder) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished score folder's score.json and scores.jsonl rows, checked: the folder finished, its
    score.json belongs to the stages run.json names, and scores.jsonl / claims.jsonl are what
    score.json recorded (count and sha256)."""
    path = folder.path
    meta_path = path / SCORE_META
    if not folder.finished or not meta_path.is_file():
        raise DataError(folder.unfinished(), where=str(path))
    meta = read_json_file(meta_path, fix="run the same facttune score command again (it reuses every finished "
                                         "stage)")
    stages = meta.get("stages")
    if not isinstance(stages, dict) or {s: d for s, d in stages.items()} != {s: p.name for s, p in
                                                                            folder.stages.items()}:
        raise DataError(folder.unfinished(), where=str(path))
    files = meta.get("files")
    if not isinstance(files, dict) or not all(isinstance(files.get(n), dict) for n in (SCORES, CLAIMS)):
        raise DataError("made by an older facttune score (score.json has no checksums of its outputs): run the same "
                        "facttune score command again (it reuses every finished stage)", where=str(meta_path))
    fix = (f"Run the same facttune score command again to write it anew (or delete {SCORE_META} and the stage "
           "folders to recompute everything)")
    rows: list[dict[str, Any]] = []
    for name in (SCORES, CLAIMS):
        got = [row for _, row in iter_jsonl(path / name)]
        want = files[name]
        check_digest(path / name, len(got), want.get("records"), want.get("sha256"), fix, SCORE_META)
        if name == SCORES:
            rows = got
    return meta, rows


def evaluate_rows(folder: Folder) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished run's evaluate stage: its manifest and rows, checked against the manifest."""
    if folder.status == "running":
        raise DataError(folder.unfinished(), where=str(folder.path))
    if "evaluate" not in folder.stages:
        raise DataError("a run folder without a finished evaluate stage: nothing to compare (finish the run, or "
                        "score its responses with facttune score)", where=str(folder.path))
    manifest, records = folder.stage_records("evaluate")
    return manifest, [r for r in records if isinstance(r, dict)]


def rule_of(recorded: Any, where: Path) -> FactScoreRule:
    """The FActScore rule a manifest or score.json recorded (none: FActScore's default)."""
    try:
        return FactScoreRule.from_dict(recorded)
    except ValueError as err:
        raise DataError(f"factscore_rule: {err}; run the command that made this folder again",
                        where=str(where)) from None

