"""``facttune kb build`` / ``kb search`` / ``kb info``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from facttune_core import Claim, Context, FacttuneError

kb_app = typer.Typer(help="Knowledge sources: build a passage db, search it.", no_args_is_help=True, rich_markup_mode=None)


def _fail(err: FacttuneError) -> None:
    typer.echo(str(err), err=True)
    raise typer.Exit(1)


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int | None], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, disable=not sys.stderr.isatty()) as prog:
        task = prog.add_task(label, total=None)

        def advance(n: int, total: int | None) -> None:
            prog.update(task, advance=n, total=total)

        yield advance


@kb_app.command("build")
def build(
    source: str = typer.Argument(..., help="'wiki-vital', a FActScore/facttune .db, .jsonl, .parquet, a datasets "
                                 "folder or 'hf:<name>[:<config>]'"),
    out: Path | None = typer.Option(None, "--out", "-o", help="the db to write (default: in the facttune cache)"),
    title_field: str = typer.Option("title", help="title column (jsonl / parquet / HF)"),
    text_field: str = typer.Option("text", help="text column (jsonl / parquet / HF)"),
    split: str = typer.Option("train", help="HF dataset split"),
    max_tokens: int = typer.Option(256, help="passage size (approximate tokens)"),
    force: bool = typer.Option(False, help="rebuild when the db exists"),
) -> None:
    """Build a passage db (FActScore's format) from a knowledge source."""
    from .kb import build_db, default_db_path, open_docs
    from .sources import SourceSpec

    spec = SourceSpec(title_field, text_field, split, max_tokens)
    try:
        target = out or default_db_path(source, spec)
        if target.exists() and not force:
            typer.echo(f"{target} exists (use --force to rebuild)")
            return
        docs, total = open_docs(source, spec)
        with _bar(f"building {target.name}") as advance:
            stats = build_db(docs, target, source=source, max_tokens=max_tokens, progress=advance, total=total)
    except FacttuneError as err:
        _fail(err)
        return
    typer.echo(f"{stats.path}: {stats.documents} documents, {stats.passages} passages"
               + (f", {stats.skipped} skipped (duplicate title or empty text)" if stats.skipped else ""))


@kb_app.command("search")
def search(
    db: str = typer.Argument(..., help="a db, or any source 'kb build' accepts ('wiki-vital')"),
    query: str = typer.Argument(..., help="the claim or question"),
    topic: str | None = typer.Option(None, "--topic", "-t", help="search only this article (FActScore's rule)"),
    k: int = typer.Option(5, "-k", "--k", min=1, help="passages to show"),
    retriever: str = typer.Option("bm25", "--retriever", "-r", help="bm25 or dense"),
) -> None:
    """Print the top passages for QUERY (best first), optionally within the article TOPIC."""
    from .retrievers import BM25Retriever, DenseRetriever

    classes: dict[str, Any] = {"bm25": BM25Retriever, "dense": DenseRetriever}
    if retriever not in classes:
        typer.echo(f"--retriever: unknown retriever '{retriever}' (bm25 or dense)", err=True)
        raise typer.Exit(2)
    cls = classes[retriever]
    try:
        r = cls(cls.Config(source=db, k=k, topic_only=topic is not None), Context())
        if topic is not None:  # resolve first so the error names the option, not a recipe key
            title = r.resolve_topic(topic)
            if title is None:
                typer.echo(f"--topic: {r.kb.unknown_topic_message(topic)}", err=True)
                raise typer.Exit(1)
        ev = r.retrieve([Claim(id="q", response_id="q", prompt_id="q", text=query, topic=topic)])[0]
    except FacttuneError as err:
        _fail(err)
        return
    if not ev.passages:
        typer.echo("no passages")
        return
    for rank, p in enumerate(reversed(ev.passages), start=1):
        typer.echo(f"[{rank}] {p.title}  (score {p.score:.3f})")
        typer.echo(p.text)
        typer.echo("")


@kb_app.command("info")
def info(db: str = typer.Argument(..., help="a db, or any source 'kb build' accepts")) -> None:
    """Show a db's path, size and build metadata."""
    from .kb import KnowledgeBase, resolve_db

    try:
        path = resolve_db(db)
        kb = KnowledgeBase(path)
    except FacttuneError as err:
        _fail(err)
        return
    typer.echo(f"path: {path}")
    typer.echo(f"documents: {len(kb)}")
    for key, value in sorted(kb.meta.items()):
        typer.echo(f"{key}: {value}")
    if not kb.meta:
        typer.echo("format: FActScore (no facttune metadata)")


def _synth_file(path: Path) -> bool:
    """Whether ``path`` is labelled claims an earlier ``judge synth`` wrote (its ids start with synth/)."""
    import json

    with path.open(encoding="utf-8") as f:
        first = f.readline()
    row = json.loads(first) if first.strip() else {}
    return isinstance(row, dict) and str(row.get("id", "")).startswith("synth/")


def synth(
    source: str = typer.Argument(..., help="a knowledge source: 'wiki-vital', a FActScore/facttune .db, .jsonl, "
                                 ".parquet, a datasets folder or 'hf:<name>'"),
    out: Path = typer.Option(..., "--out", "-o", help="labelled claims to write (JSONL)"),
    topics: int = typer.Option(100, min=1, help="documents (topics) to draw, at random"),
    per_topic: int = typer.Option(4, min=1, help="supported and as many unsupported claims per topic, at most"),
    seed: int = typer.Option(0, help="which topics and which claims"),
    exclude: list[Path] = typer.Option([], help="labelled JSONL whose topics must not be drawn (keep the people you "
                                       "report on out of what you fit on)"),
    category: str | None = typer.Option(None, help="wiki-vital only: draw from this category (e.g. People)"),
    force: bool = typer.Option(False, "--force", help="overwrite --out when it is not a file judge synth wrote"),
) -> None:
    """Make labelled claims (S / NS) from a knowledge source with no human labels: facts the source states,
    cut to one fact, and hallucination-like changes of them (another entity's fact, a moved date, a swapped
    name or role). For comparing and fitting judges; see docs/judges.md for what it cannot tell you."""
    import json
    import random

    from facttune_core import atomic_write_text, iter_jsonl, refuse_overwrite

    from .kb import KnowledgeBase, normalize_title, resolve_db, wiki_vital_entries
    from .synth import synthesize

    try:
        if any(p.exists() and out.exists() and p.resolve() == out.resolve() for p in exclude):
            raise FacttuneError("is also given to --exclude: write the new claims to a file of their own",
                                where=str(out), key="--out")
        refuse_overwrite(out, _synth_file, "facttune judge synth", force)
        kb = KnowledgeBase(resolve_db(source))
        titles = kb.titles()
        if category is not None:
            if source != "wiki-vital":
                raise FacttuneError("--category applies to the packaged 'wiki-vital' source only", key="--category")
            keep = {r["title"] for r in wiki_vital_entries() if r.get("topic") == category}
            if not keep:
                raise FacttuneError(f"no wiki-vital category '{category}' (e.g. People, Arts, History)",
                                    key="--category")
            titles = [t for t in titles if t in keep]
        banned: set[str] = set()
        for path in exclude:
            for _, row in iter_jsonl(path):
                banned.add(normalize_title(str(row.get("topic") or "")))
        titles = [t for t in titles if normalize_title(t) not in banned]
        titles = random.Random(seed).sample(titles, min(topics, len(titles)))
        rows = synthesize(kb, sorted(titles), per_topic, seed)
        if not rows:
            raise FacttuneError(f"no labelled claims could be made from {len(titles)} topics: their texts hold no "
                                "sentence about their subject to cut a fact from (nothing written)", where=source)
        atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    except FacttuneError as err:
        _fail(err)
        return
    except OSError as err:
        _fail(FacttuneError(f"cannot write: {err.strerror or err}", where=str(out)))
        return
    n_s = sum(r["label"] == "S" for r in rows)
    typer.echo(f"{out}: {len(rows)} claims ({n_s} S, {len(rows) - n_s} NS) about {len({r['topic'] for r in rows})} "
               f"topics" + (f", {len(banned)} topics excluded" if banned else ""))


def register(cli: Any) -> None:
    cli.add_typer(kb_app, name="kb")
    for group in getattr(cli, "registered_groups", []):  # the core's `facttune judge` group
        if group.name == "judge" and group.typer_instance is not None:
            group.typer_instance.command("synth")(synth)
