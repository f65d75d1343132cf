"""Prompt topics checked against the retriever's knowledge source before anything expensive runs.

A retriever may offer the optional ``check_topics(topics) -> list[str | None]`` (the bundled ones do:
docs/plugins.md): per topic, the message ``retrieve`` would fail with, else None. ``facttune run``
and ``facttune score`` ask it right after the data stage, and ``facttune validate`` asks it when the
recipe's prompt source reads local files quickly (``cheap_load = True`` on its class), so a
misspelt topic is one line naming the prompts file and its line, not a failure after generation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..contract.context import Context
from ..contract.errors import DataError
from ..contract.records import Prompt
from .stages import ORDER

if TYPE_CHECKING:
    from ..contract.cache import CallCache
    from .recipe import Resolved



def _reaches(until: str | None, stage: str) -> bool:
    return until is None or ORDER.index(until) >= ORDER.index(stage)


def topic_groups(resolved: Resolved, prompts: Sequence[Prompt], responded: Iterable[str] = (),
                 until: str | None = None) -> list[tuple[str, list[Prompt]]]:
    """Which retrieve table sees which prompts' topics: the main one the prompts the run samples
    (the generate split, or the prompts with given responses), the evaluate stage's scoring one
    the held-out prompts."""
    recipe = resolved.recipe
    out: list[tuple[str, list[Prompt]]] = []
    if "retrieve" in resolved.specs and _reaches(until, "retrieve"):
        if recipe.generate is not None:
            main = [p for p in prompts if p.split == recipe.generate.split]
        else:
            ids = set(responded)
            main = [p for p in prompts if p.id in ids] if ids else list(prompts)
        out.append(("retrieve", main))
    ev = recipe.evaluate
    table = resolved.scoring_table("retrieve")
    if ev is not None and table is not None and _reaches(until, "evaluate"):
        held = [p for p in prompts if p.split == ev.split]
        out.append((table, held[: ev.limit] if ev.limit else held))
    return out


def check_prompt_topics(resolved: Resolved, prompts: Sequence[Prompt], *, data_path: str | None,
                        cache: CallCache | None = None, responded: Iterable[str] = (),
                        until: str | None = None) -> None:
    """Raise one DataError for the first prompt whose topic a retriever cannot find, naming the
    prompts file and line (``Prompt.meta["line"]``) when the prompt source gives them, else the
    recipe's data table and the prompt's id; how many more there are is said in the same line."""
    from ..contract.cache import CallCache
    from ..contract.registry import instantiate

    where = str(resolved.path)
    for table, group in topic_groups(resolved, prompts, responded, until):
        spec = resolved.specs[table]
        if not callable(getattr(spec.factory, "check_topics", None)) or not group:
            continue
        ctx = Context(cache=cache or CallCache(None), key=f"{table}.args", recipe_path=resolved.path)
        retriever = instantiate(spec, resolved.configs[table], ctx, where)
        first: dict[str, Prompt] = {}
        for p in group:
            first.setdefault(p.topic or "", p)
        topics = list(first)
        problems = retriever.check_topics([t or None for t in topics])
        bad = [(first[t], msg) for t, msg in zip(topics, problems, strict=True) if msg]
        if not bad:
            continue
        bad.sort(key=lambda b: (_line(b[0]) or 0, b[0].id))
        prompt, msg = bad[0]
        line = _line(prompt)
        unit = "line" if data_path and line is not None else "prompt"
        more = (f" ({len(bad) - 1} more {unit}{'s' if len(bad) > 2 else ''} with topics the retriever cannot find)"
                if len(bad) > 1 else "")
        text = f"{msg} (in [{table}] {spec.name}'s knowledge source){more}"
        if data_path and line is not None:
            raise DataError(text, where=data_path, key=f"line {line}")
        raise DataError(f"prompt '{prompt.id}': {text}", where=data_path or where, key=None if data_path else "data")


def _line(p: Prompt) -> int | None:
    line: Any = (p.meta or {}).get("line")
    return line if isinstance(line, int) and not isinstance(line, bool) else None


def check_recipe_topics(resolved: Resolved) -> None:
    """``facttune validate``: load the prompts when the prompt source says that is cheap
    (``cheap_load = True``), and check their topics as ``run`` will."""
    spec = resolved.specs.get("data")
    if spec is None or not getattr(spec.factory, "cheap_load", False):
        return
    if not any(callable(getattr(resolved.specs[t].factory, "check_topics", None))
               for t, _ in topic_groups(resolved, [])):
        return
    from ..contract.cache import CallCache
    from ..contract.errors import FacttuneError
    from ..contract.registry import instantiate

    ctx = Context(cache=CallCache(None), key="data.args", recipe_path=resolved.path)
    source = instantiate(spec, resolved.configs["data"], ctx, str(resolved.path))
    try:
        bundle = source.load()
    except FacttuneError as err:
        raise err.located(str(resolved.path), "data.args") from None
    path = bundle.info.get("path") if isinstance(bundle.info, dict) else None
    check_prompt_topics(resolved, bundle.prompts, data_path=str(path) if path else None,
                        responded={r.prompt_id for r in bundle.responses or []})
