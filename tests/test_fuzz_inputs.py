"""Broken recipes, data files and run-folder states thrown at the CLI (issue #11).

Each case builds one broken state and runs the real entry point (``facttune_core.cli.main``) in
process, with the fake components registered. Every case must end either in a clean exit with a
correct recovery, or with exit != 0 and exactly one error line on stderr that names the file
(and the key or line where there is one) -- never a traceback. An exception escaping ``main``
fails the test by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from facttune_core.cli.main import main
from facttune_core.testing import fake_recipe_text

ROOT = Path(__file__).resolve().parents[1]

PROMPTS = [{"id": f"p{i}", "topic": f"Person {i}", "prompt": f"Tell me about Person {i}.",
            "split": "test" if i >= 4 else "train"} for i in range(6)]


def jsonl_recipe(tmp: Path, extra: str = "", path: str = "prompts.jsonl") -> Path:
    """The fake recipe with its prompts read by core/jsonl from ``tmp/prompts.jsonl``."""
    text = fake_recipe_text().replace(
        'component = "fake/prompts"\nargs = { n_train = 4, n_test = 2 }',
        f'component = "core/jsonl"\nargs = {{ path = "{path}"{extra} }}')
    assert "core/jsonl" in text
    (tmp / "recipe.toml").write_text(text, encoding="utf-8")
    if not (tmp / path).exists() and path == "prompts.jsonl":
        write_jsonl(tmp / path, PROMPTS)
    return tmp / "recipe.toml"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Outcome:
    monkeypatch.setattr(sys, "argv", ["facttune", *[str(a) for a in args]])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    got = capsys.readouterr()
    return Outcome(code, got.out, got.err)


def finished_run(tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    recipe = jsonl_recipe(tmp)
    run_dir = tmp / "run"
    res = cli(["run", recipe, "--run-dir", run_dir, "--no-report"], monkeypatch, capsys)
    assert res.code == 0, res.err
    return recipe, run_dir


def stage(run_dir: Path, name: str) -> Path:
    (d,) = sorted(run_dir.glob(f"[0-9][0-9]-{name}-*"))
    return d


# ---------------------------------------------------------------- the cases
# each returns (argv, what the one error line must contain); None = must recover (exit 0)
Case = Callable[[Path, pytest.MonkeyPatch, pytest.CaptureFixture[str]], tuple[list, list[str] | None]]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


@case
def recipe_missing(tmp, mp, cs):
    return ["run", tmp / "nope.toml"], ["nope.toml"]


@case
def recipe_is_a_folder(tmp, mp, cs):
    (tmp / "r.toml").mkdir()
    return ["run", tmp / "r.toml"], ["r.toml"]


@case
def recipe_not_utf8(tmp, mp, cs):
    (tmp / "r.toml").write_bytes(b'[run]\nname = "\xff\xfe"\n')
    return ["validate", tmp / "r.toml"], ["r.toml"]


@case
def recipe_toml_syntax(tmp, mp, cs):
    (tmp / "r.toml").write_text('[run\nname = "x"\n', encoding="utf-8")
    return ["run", tmp / "r.toml"], ["r.toml", "line"]


@case
def recipe_binary_garbage(tmp, mp, cs):
    (tmp / "r.toml").write_bytes(bytes(range(256)) * 4)
    return ["validate", tmp / "r.toml"], ["r.toml"]


@case
def recipe_unknown_component(tmp, mp, cs):
    r = jsonl_recipe(tmp)
    r.write_text(r.read_text().replace('"fake/verifier"', '"fake/verifyer"'), encoding="utf-8")
    return ["run", r], ["recipe.toml", "verify.component"]


@case
def recipe_unknown_arg(tmp, mp, cs):
    return ["run", jsonl_recipe(tmp, ", nonsense = 3")], ["recipe.toml", "data.args.nonsense"]


@case
def recipe_wrong_arg_type(tmp, mp, cs):
    return ["run", jsonl_recipe(tmp, ", limit = \"three\"")], ["recipe.toml", "data.args.limit"]


@case
def recipe_train_args_wrong_type(tmp, mp, cs):
    return (["validate", ROOT / "recipes" / "bio.toml", "--set", "train.args.max_steps=eight"],
            ["bio.toml", "train.args.max_steps"])


@case
def recipe_train_args_unknown(tmp, mp, cs):
    return (["validate", ROOT / "recipes" / "bio.toml", "--set", "train.args.max_stepz=8"],
            ["bio.toml", "train.args.max_stepz"])


@case
def recipe_sft_args_wrong_type(tmp, mp, cs):
    return (["validate", ROOT / "recipes" / "beliefs.toml", "--set", "train.args.learning_rate=fast"],
            ["beliefs.toml", "train.args.learning_rate"])


@case
def set_without_equals(tmp, mp, cs):
    return ["run", jsonl_recipe(tmp), "--set", "data.args.limit"], ["data.args.limit"]


@case
def set_unknown_stage(tmp, mp, cs):
    return ["run", jsonl_recipe(tmp), "--set", "verfy.args.x=1"], ["verfy"]


@case
def until_unknown_stage(tmp, mp, cs):
    return ["run", jsonl_recipe(tmp), "--until", "verfy", "--run-dir", tmp / "run"], ["verfy"]


@case
def data_missing(tmp, mp, cs):
    return ["run", jsonl_recipe(tmp, path="missing.jsonl")], ["missing.jsonl"]


@case
def data_is_a_folder(tmp, mp, cs):
    (tmp / "dir.jsonl").mkdir()
    return ["run", jsonl_recipe(tmp, path="dir.jsonl"), "--run-dir", tmp / "run"], ["dir.jsonl"]


@case
def data_not_utf8(tmp, mp, cs):
    (tmp / "bad.jsonl").write_bytes(b'{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "\xff"}\n')
    return ["run", jsonl_recipe(tmp, path="bad.jsonl"), "--run-dir", tmp / "run"], ["bad.jsonl", "line 2"]


@case
def data_bad_json(tmp, mp, cs):
    (tmp / "bad.jsonl").write_text('{"id": "a", "prompt": "x"}\n{"id": "b", prompt}\n', encoding="utf-8")
    return ["run", jsonl_recipe(tmp, path="bad.jsonl"), "--run-dir", tmp / "run"], ["bad.jsonl", "line 2"]


@case
def data_line_not_object(tmp, mp, cs):
    (tmp / "bad.jsonl").write_text('{"id": "a", "prompt": "x"}\n[1, 2]\n', encoding="utf-8")
    return ["run", jsonl_recipe(tmp, path="bad.jsonl"), "--run-dir", tmp / "run"], ["bad.jsonl", "line 2"]


@case
def data_template_missing_column(tmp, mp, cs):
    r = jsonl_recipe(tmp, ', template = "Bio of {nme}."')
    return ["run", r, "--run-dir", tmp / "run"], ["prompts.jsonl", "line 1", "nme"]


@case
def data_topic_not_string(tmp, mp, cs):
    write_jsonl(tmp / "prompts.jsonl", [*PROMPTS[:2], {"id": "x", "topic": 7, "prompt": "Who?"}])
    return ["run", jsonl_recipe(tmp), "--run-dir", tmp / "run"], ["prompts.jsonl", "line 3"]


@case
def data_duplicate_id(tmp, mp, cs):
    write_jsonl(tmp / "prompts.jsonl", [*PROMPTS[:3], PROMPTS[1]])
    return ["run", jsonl_recipe(tmp), "--run-dir", tmp / "run"], ["prompts.jsonl", "line 4", "line 2", "p1"]


@case
def data_empty_file(tmp, mp, cs):
    (tmp / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    return ["run", jsonl_recipe(tmp, path="empty.jsonl"), "--run-dir", tmp / "run"], ["empty.jsonl"]


@case
def run_dir_is_a_file(tmp, mp, cs):
    (tmp / "run").write_text("x", encoding="utf-8")
    return ["run", jsonl_recipe(tmp), "--run-dir", tmp / "run"], ["run"]


@case
def run_dir_under_a_file(tmp, mp, cs):
    (tmp / "afile").write_text("x", encoding="utf-8")
    return ["run", jsonl_recipe(tmp), "--run-dir", tmp / "afile" / "run"], ["afile"]


HELD: list = []  # locks a case holds for the length of its test
AFTER: list = []  # checks a case asks for after the command (what must still be there)


@case
def run_folder_in_use(tmp, mp, cs):
    """Another process writes to the run folder: one line saying who, nothing touched."""
    from facttune_core import FolderLock

    (tmp / "run").mkdir()
    HELD.append(FolderLock(tmp / "run").acquire())  # a lock is per open file: this one blocks the CLI's
    return ["run", jsonl_recipe(tmp), "--run-dir", tmp / "run"], ["run", "in use by another facttune run",
                                                                   f"pid {os.getpid()}"]


@case
def manifest_binary(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (stage(run_dir, "verify") / "manifest.json").write_bytes(b"\x00\xff\xfe garbage \x80")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["manifest.json"]


@case
def manifest_not_an_object(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (stage(run_dir, "reward") / "manifest.json").write_text("[1, 2, 3]\n", encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["manifest.json"]


@case
def manifest_truncated_json(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    m = stage(run_dir, "extract") / "manifest.json"
    m.write_text(m.read_text()[:40], encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["manifest.json"]


@case
def manifest_is_a_folder(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    m = stage(run_dir, "pairs") / "manifest.json"
    m.unlink()
    m.mkdir()
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["manifest.json"]


@case
def records_lost_a_line(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    p = stage(run_dir, "pairs") / "records.jsonl"
    p.write_text("".join(p.read_text().splitlines(keepends=True)[:-1]), encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["records.jsonl", "manifest"]


@case
def records_garbled(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (stage(run_dir, "generate") / "records.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["records.jsonl"]


@case
def records_deleted(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (stage(run_dir, "retrieve") / "records.jsonl").unlink()
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["records.jsonl"]


@case
def records_emptied(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (stage(run_dir, "verify") / "records.jsonl").write_text("", encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["records.jsonl"]


@case
def partial_records_garbled(tmp, mp, cs):
    """A partial file (a killed stage) with garbage in the middle: one line naming it."""
    recipe, run_dir = finished_run(tmp, mp, cs)
    d = stage(run_dir, "verify")
    (d / "manifest.json").unlink()
    (d / "records.partial.jsonl").write_text('not json at all\n{"b": 2}\n', encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["records.partial.jsonl", "line 1"]


@case
def partial_records_foreign(tmp, mp, cs):
    """Valid JSON that is not a record of the stage (a file copied over it)."""
    recipe, run_dir = finished_run(tmp, mp, cs)
    d = stage(run_dir, "extract")
    (d / "manifest.json").unlink()
    (d / "records.partial.jsonl").write_text('{"_item": "p0/r0", "out": [{"_kind": "claim"}]}\n{"a": 1}\n',
                                             encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], ["records.partial.jsonl", "line 1"]


@case
def adapter_deleted_then_evaluate_again(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    shutil.rmtree(stage(run_dir, "train") / "work" / "adapter")
    return ["run", recipe, "--run-dir", run_dir, "--no-report", "--force-from", "evaluate"], ["adapter", "missing"]


@case
def manifest_key_edited(tmp, mp, cs):
    """A manifest whose key is not its folder's: the stage is recomputed (a correct recovery)."""
    recipe, run_dir = finished_run(tmp, mp, cs)
    m = stage(run_dir, "reward") / "manifest.json"
    m.write_text(m.read_text().replace('"key": "', '"key": "x'), encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], None


@case
def stage_folder_is_a_file(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    d = stage(run_dir, "reward")
    shutil.rmtree(d)
    d.write_text("oops", encoding="utf-8")
    return ["run", recipe, "--run-dir", run_dir, "--no-report"], [d.name]


@case
def call_cache_garbage(tmp, mp, cs):
    """The call cache is an optimisation: a broken one is set aside and the run goes on."""
    recipe = jsonl_recipe(tmp)
    (tmp / "calls.sqlite").write_bytes(b"this is not a database" * 100)
    return ["run", recipe, "--run-dir", tmp / "run", "--no-report", "--set", f"run.cache={tmp / 'calls.sqlite'}"], None


@case
def call_cache_is_a_folder(tmp, mp, cs):
    """A folder named as the cache is the user's: one line, and it is left where it is."""
    (tmp / "cache").mkdir()
    (tmp / "cache" / "keep.txt").write_text("mine", encoding="utf-8")
    AFTER.append(lambda: (tmp / "cache" / "keep.txt").exists())
    return (["run", jsonl_recipe(tmp), "--run-dir", tmp / "run", "--set", f"run.cache={tmp / 'cache'}"],
            ["cache", "is a folder"])


@case
def call_cache_under_a_file(tmp, mp, cs):
    (tmp / "afile").write_text("x", encoding="utf-8")
    return (["run", jsonl_recipe(tmp), "--run-dir", tmp / "run", "--set", f"run.cache={tmp / 'afile' / 'c.sqlite'}"],
            ["afile"])


@case
def run_json_garbled_report(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (run_dir / "run.json").write_text('{"stages": {', encoding="utf-8")
    return ["report", run_dir], ["run.json"]


@case
def run_json_not_an_object_report(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (run_dir / "run.json").write_text('"hello"', encoding="utf-8")
    return ["report", run_dir], ["run.json"]


@case
def run_json_binary_report(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (run_dir / "run.json").write_bytes(b"\xff\xfe\x00\x01")
    return ["report", run_dir], ["run.json"]


@case
def report_manifest_binary(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    (stage(run_dir, "evaluate") / "manifest.json").write_bytes(b"\xff\xfe\x00\x01")
    return ["report", run_dir], ["manifest.json"]


@case
def report_missing_folder(tmp, mp, cs):
    return ["report", tmp / "nowhere"], ["nowhere"]


@case
def report_on_a_file(tmp, mp, cs):
    (tmp / "f.txt").write_text("x", encoding="utf-8")
    return ["report", tmp / "f.txt"], ["f.txt"]


@case
def score_line_without_output(tmp, mp, cs):
    (tmp / "x.jsonl").write_text('{"topic": "Ada Lovelace", "output": "She was a mathematician."}\n'
                                 '{"topic": "Ada Lovelace"}\n', encoding="utf-8")
    return ["score", tmp / "x.jsonl", "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out"], \
        ["x.jsonl", "line 2"]


@case
def score_file_not_utf8(tmp, mp, cs):
    (tmp / "x.jsonl").write_bytes(b'{"topic": "Ada Lovelace", "output": "\xff"}\n')
    return ["score", tmp / "x.jsonl", "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out"], \
        ["x.jsonl", "line 1"]


@case
def compare_missing_folder(tmp, mp, cs):
    return ["compare", tmp / "a", tmp / "b"], ["a"]


@case
def compare_foreign_folder(tmp, mp, cs):
    (tmp / "a").mkdir()
    (tmp / "a" / "notes.txt").write_text("x", encoding="utf-8")
    (tmp / "b").mkdir()
    return ["compare", tmp / "a", tmp / "b"], ["a"]


@case
def judge_eval_bad_line(tmp, mp, cs):
    (tmp / "labels.jsonl").write_text('{"claim": "x", "label": "S"}\n{"claim": \n', encoding="utf-8")
    return ["judge", "eval", tmp / "labels.jsonl", "--recipe", ROOT / "recipes" / "bio.toml"], \
        ["labels.jsonl", "line 2"]


@case
def judge_eval_missing_file(tmp, mp, cs):
    return ["judge", "eval", tmp / "labels.jsonl", "--recipe", ROOT / "recipes" / "bio.toml"], ["labels.jsonl"]


@case
def fitted_calibration_garbled(tmp, mp, cs):
    (tmp / "cal.json").write_text("{not json", encoding="utf-8")
    return (["validate", ROOT / "recipes" / "bio.toml", "--set", f"verify.args.fitted={tmp / 'cal.json'}"],
            ["cal.json"])


@case
def responses_unknown_prompt(tmp, mp, cs):
    write_jsonl(tmp / "resp.jsonl", [{"prompt_id": "p0", "text": "A. B."}, {"prompt_id": "zz", "text": "C."}])
    return ["run", jsonl_recipe(tmp, ', responses = "resp.jsonl"'), "--run-dir", tmp / "run"], \
        ["resp.jsonl", "line 2", "zz"]


def _score_ok(tmp: Path) -> Path:
    (tmp / "x.jsonl").write_text('{"topic": "Ada Lovelace", "output": "She was a mathematician."}\n', encoding="utf-8")
    return tmp / "x.jsonl"


@case
def knowledge_source_title_not_a_string(tmp, mp, cs):
    write_jsonl(tmp / "kb.jsonl", [{"title": "Ada Lovelace", "text": "A mathematician."}, {"title": 7, "text": "x"}])
    return (["score", _score_ok(tmp), "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out",
             "--set", f"retrieve.args.source={tmp / 'kb.jsonl'}"], ["kb.jsonl", "line 2", "title"])


@case
def knowledge_source_text_not_strings(tmp, mp, cs):
    write_jsonl(tmp / "kb.jsonl", [{"title": "Ada Lovelace", "text": [1, 2]}])
    return (["score", _score_ok(tmp), "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out",
             "--set", f"retrieve.args.source={tmp / 'kb.jsonl'}"], ["kb.jsonl", "line 1", "text"])


@case
def knowledge_source_missing(tmp, mp, cs):
    return (["score", _score_ok(tmp), "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out",
             "--set", f"retrieve.args.source={tmp / 'nowhere.jsonl'}"], ["nowhere.jsonl"])


@case
def score_file_is_a_folder(tmp, mp, cs):
    (tmp / "x.jsonl").mkdir()
    return ["score", tmp / "x.jsonl", "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out"], ["x.jsonl"]


@case
def score_out_is_a_file(tmp, mp, cs):
    (tmp / "out").write_text("x", encoding="utf-8")
    return ["score", _score_ok(tmp), "--recipe", ROOT / "recipes" / "bio.toml", "--out", tmp / "out"], ["out"]


@case
def compare_file_not_folder(tmp, mp, cs):
    (tmp / "a.txt").write_text("x", encoding="utf-8")
    return ["compare", tmp / "a.txt", tmp / "a.txt"], ["a.txt"]


@case
def judge_eval_file_is_a_folder(tmp, mp, cs):
    (tmp / "labels.jsonl").mkdir()
    return ["judge", "eval", tmp / "labels.jsonl", "--recipe", ROOT / "recipes" / "bio.toml"], ["labels.jsonl"]


def _read_only(mp: pytest.MonkeyPatch, folder: Path) -> None:
    """A read-only folder, also for root (whom chmod does not stop): writes under it are refused."""
    import tempfile

    import matplotlib.figure

    real_mkstemp, real_save = tempfile.mkstemp, matplotlib.figure.Figure.savefig

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir).resolve().is_relative_to(folder.resolve()):
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkstemp(*a, dir=dir, **k)

    def savefig(self, fname, *a, **k):
        if Path(fname).resolve().is_relative_to(folder.resolve()):
            raise PermissionError(13, "Permission denied", str(fname))
        return real_save(self, fname, *a, **k)

    mp.setattr(tempfile, "mkstemp", mkstemp)
    mp.setattr(matplotlib.figure.Figure, "savefig", savefig)


@case
def run_folder_read_only(tmp, mp, cs):
    (tmp / "run").mkdir()
    _read_only(mp, tmp / "run")
    return ["run", jsonl_recipe(tmp), "--run-dir", tmp / "run"], ["run", "Permission denied"]


@case
def report_into_read_only_folder(tmp, mp, cs):
    recipe, run_dir = finished_run(tmp, mp, cs)
    _read_only(mp, run_dir)
    return ["report", run_dir], [str(run_dir), "Permission denied"]


def test_there_are_at_least_thirty_kinds_of_breakage():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_input_ends_in_one_line_or_recovers(name, tmp_path, monkeypatch, capsys, fake_registry):
    monkeypatch.chdir(tmp_path)
    argv, needles = CASES[name](tmp_path, monkeypatch, capsys)
    try:
        res = cli(argv, monkeypatch, capsys)
    finally:
        while HELD:
            HELD.pop().release()
    assert "Traceback" not in res.out + res.err
    if needles is None:
        assert res.code == 0, res.err
        return
    lines = [ln for ln in res.err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert res.code != 0, f"exit 0 for a broken input:\n{res.out[-2000:]}"
    assert len(lines) == 1, f"expected one error line, got:\n{res.err}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in: {lines[0]}"
    while AFTER:
        assert AFTER.pop()(), "a file the user owns was moved or removed"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_run_folder(tmp_path, monkeypatch, capsys, fake_registry):
    recipe, run_dir = finished_run(tmp_path, monkeypatch, capsys)
    run_dir.chmod(0o555)
    try:
        for argv in (["run", recipe, "--run-dir", run_dir, "--force-from", "reward"], ["report", run_dir]):
            res = cli(argv, monkeypatch, capsys)
            lines = [ln for ln in res.err.splitlines() if ln.strip()]
            assert res.code != 0 and len(lines) == 1 and str(run_dir) in lines[0], res.err
    finally:
        run_dir.chmod(0o755)


def test_a_broken_call_cache_is_set_aside_with_a_warning(tmp_path, monkeypatch, capsys, fake_registry):
    recipe = jsonl_recipe(tmp_path)
    cache = tmp_path / "calls.sqlite"
    cache.write_bytes(b"garbage" * 100)
    res = cli(["run", recipe, "--run-dir", tmp_path / "run", "--no-report", "--set", f"run.cache={cache}"],
              monkeypatch, capsys)
    assert res.code == 0
    assert "calls.sqlite" in res.out + res.err
    sqlite3.connect(cache).execute("select count(*) from sqlite_master").fetchone()  # a fresh, working one
    assert any(p.name.startswith("calls.sqlite.broken") for p in tmp_path.iterdir())
