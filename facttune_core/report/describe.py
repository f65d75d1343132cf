"""``facttune describe``: a component's recipe args (types, defaults, descriptions) from its Config.

The same text, for every bundled component, is generated into ``docs/components.md``::

    python -m facttune_core.report.describe --write docs/components.md

(``tests/test_core_describe.py`` fails when the file is out of date).
"""

from __future__ import annotations

import inspect
import json
import sys
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_jsonable_python

from ..contract.errors import ConfigError, did_you_mean
from ..contract.hookspecs import KINDS
from ..contract.registry import ComponentSpec, Registry
from ..run.needs import declared
from ..run.stages import STAGES
from ..run.tomlout import toml_value

# component kind -> its recipe table (the stage that builds it), in run order
TABLES = {k.name: s.name for s in STAGES for k in KINDS if k.protocol is s.kind}
KIND_HOOKS = {k.name: k.hook for k in KINDS}
KIND_LABELS = {k.name: k.label for k in KINDS}

# Fields named like these mean the same in every component; shown when a Config gives no description.
COMMON_FIELDS = {
    "temperature": "sampling temperature (0 = greedy)",
    "top_p": "nucleus sampling: keep the smallest set of tokens whose probability reaches top_p",
    "max_new_tokens": "at most this many generated tokens per response",
    "max_tokens": "at most this many generated tokens per call",
    "stop": "stop strings: generation ends at the first one",
    "batch_size": "items per model call",
    "trust_remote_code": "let transformers run the model repository's own code",
    "top_logprobs": "alternatives per token whose log-probabilities the API returns",
}


@dataclass(frozen=True)
class Option:
    """One recipe arg: ``key`` is dotted below ``args`` (``model.lora_r`` for a nested table)."""

    key: str
    type: str
    default: Any  # JSON-able; PydanticUndefined-free; REQUIRED when required
    required: bool
    description: str
    runtime: bool

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "default": None if self.required else self.default,
                "required": self.required, "description": self.description, "runtime": self.runtime}


@dataclass(frozen=True)
class ComponentDoc:
    name: str
    kind: str
    plugin: str
    version: str
    summary: str
    details: str
    factory: str
    options: list[Option] = field(default_factory=list)
    needs: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    file: str | None = None  # the module's file: shows which copy of a plugin is imported

    @property
    def table(self) -> str:
        return TABLES[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "kind_label": KIND_LABELS[self.kind], "hook": KIND_HOOKS[self.kind],
                "table": self.table, "plugin": self.plugin, "version": self.version, "summary": self.summary,
                "details": self.details, "factory": self.factory, "needs": list(self.needs),
                "provides": list(self.provides), "file": self.file, "options": [o.as_dict() for o in self.options]}


# ---------------------------------------------------------------------------- rendering values and types

def type_name(t: Any) -> str:
    """``int``, ``str | None``, ``"a" | "b"``, ``list[str]``, ``dict[str, list[str]]``."""
    if t is type(None):
        return "None"
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin is Annotated:
        return PATH_TYPE if any(_is_existing_path(m) for m in args[1:]) else type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) if isinstance(a, str) else toml_value(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(a) for a in args)}]" if args else name
    if t is Any:
        return "any"
    if inspect.isclass(t):
        return t.__name__
    return str(t).replace("typing.", "")


def _constraints(info: Any) -> str:
    out = []
    for m in info.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "min length"),
                          ("max_length", "max length")):
            val = getattr(m, attr, None)
            if val is not None:
                out.append(f"{sym} {val}")
    return ", ".join(out)


PATH_TYPE = "path (must exist; relative to the recipe's folder)"


def _is_existing_path(m: Any) -> bool:
    return getattr(getattr(m, "func", None), "__name__", "") == "_check_exists"


def _is_model(t: Any) -> bool:
    return inspect.isclass(t) and issubclass(t, BaseModel)


def options_of(config: type[BaseModel], prefix: str = "", defaults: dict[str, Any] | None = None) -> list[Option]:
    """Every field of ``config``; a field whose type is itself a pydantic model is listed with its
    own fields as dotted keys below it (``defaults``: the enclosing field's default, if any)."""
    out: list[Option] = []
    for name, info in config.model_fields.items():
        key = f"{prefix}{name}"
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        required = info.is_required()
        default: Any = None
        if defaults is not None and name in defaults:
            required, default = False, defaults[name]
        elif not required:
            try:
                raw = info.get_default(call_default_factory=True)
            except Exception:  # a factory that needs validated data: say so rather than guess
                raw = "(computed)"
            default = None if raw is PydanticUndefined else to_jsonable_python(raw, fallback=str)
        tname = PATH_TYPE if any(_is_existing_path(m) for m in info.metadata) else type_name(info.annotation)
        cons = _constraints(info)
        desc = info.description or COMMON_FIELDS.get(name, "")
        nested = _is_model(info.annotation) and bool(info.annotation.model_fields)
        if nested:  # its fields follow as dotted keys, each with its own default
            tname, sub_defaults, default = "table", default if isinstance(default, dict) else None, {}
        out.append(Option(key=key, type=f"{tname} ({cons})" if cons else tname, default=default,
                          required=required, description=" ".join(desc.split()),
                          runtime=bool(extra.get("facttune_runtime"))))
        if nested:
            out += options_of(info.annotation, f"{key}.", sub_defaults)
    return out


def describe_spec(spec: ComponentSpec) -> ComponentDoc:
    doc = inspect.getdoc(spec.factory) or ""
    summary = spec.description or (doc.strip().splitlines()[0] if doc.strip() else "")
    details = doc.strip()
    if details.startswith(summary):
        details = details[len(summary):].strip()
    factory = f"{getattr(spec.factory, '__module__', '?')}.{getattr(spec.factory, '__qualname__', spec.factory)}"
    module = sys.modules.get(getattr(spec.factory, "__module__", "") or "")
    return ComponentDoc(name=spec.name, kind=spec.kind.name, plugin=spec.plugin, version=spec.version, summary=summary,
                        details=details, factory=factory, options=options_of(spec.config),
                        needs=declared(spec.factory), provides=declared(spec.factory, "provides"),
                        file=getattr(module, "__file__", None))


def find(registry: Registry, names: Iterable[str], kind: str | None = None) -> list[ComponentSpec]:
    """Specs for component names (``plugin/name``) or plugin names (all their components)."""
    table = {n: s for k, t in registry.components.items() if kind in (None, k) for n, s in t.items()}
    plugins = {s.plugin for s in table.values()}
    out: list[ComponentSpec] = []
    for name in names:
        if name in table:
            out.append(table[name])
        elif name in plugins:
            out += sorted((s for s in table.values() if s.plugin == name), key=lambda s: (s.kind.name, s.name))
        else:
            what = f"{KIND_LABELS[kind]} " if kind else "component or plugin "
            raise ConfigError(f"unknown {what}'{name}'.{did_you_mean(name, [*table, *plugins])} "
                              "List them with: facttune describe")
    return out


# ---------------------------------------------------------------------------- text and markdown

def _default_text(o: Option) -> str:
    if o.type == "table":
        return "(see below)"
    return "required" if o.required else toml_value(o.default)


def render_markdown(docs: list[ComponentDoc], heading: str = "###") -> str:
    parts: list[str] = []
    for d in docs:
        parts.append(f"{heading} `{d.name}`\n")
        parts.append(f"{KIND_LABELS[d.kind]} (`{d.kind}`, hook `{KIND_HOOKS[d.kind]}`), recipe table "
                     f"`[{d.table}]`, plugin `{d.plugin}`. {d.summary}\n")
        if d.details:
            parts.append(d.details + "\n")
        if d.needs:
            parts.append(f"Needs: {', '.join(d.needs)}.\n")
        if d.provides:
            parts.append(f"Its data can provide: {', '.join(d.provides)}.\n")
        if d.options:
            where = "keys of `[train.args]` / `[train.model]`" if d.kind == "trainer" else f"`[{d.table}] args`"
            parts.append(f"| {where} | type | default | description |\n|---|---|---|---|")
            for o in d.options:
                desc = o.description + (" *(runtime: not part of the stage key)*" if o.runtime else "")
                cells = [f"`{o.key}`", o.type, f"`{_default_text(o)}`", desc]
                parts.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
            parts.append("")
        else:
            parts.append("No args.\n")
    return "\n".join(parts).rstrip() + "\n"


def print_doc(d: ComponentDoc, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    def say(text: str, style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    say(f"{d.name}  ({KIND_LABELS[d.kind]}, recipe table [{d.table}], plugin {d.plugin} {d.version})", "bold")
    for line in (d.summary, d.details):
        if line:
            say(line)
    if d.needs:
        say(f"needs: {', '.join(d.needs)}")
    if d.provides:
        say(f"its data can provide: {', '.join(d.provides)}")
    say(f"defined in {d.factory}" + (f" ({d.file})" if d.file else ""), "dim")
    if not d.options:
        say("no args")
        console.print()
        return
    where = "[train.args] / [train.model]" if d.kind == "trainer" else f"[{d.table}] args"
    t = Table(title=Text(where), title_justify="left")
    for col in ("arg", "type", "default", "description"):
        t.add_column(col, overflow="fold")
    for o in d.options:
        desc = o.description + (" (runtime: not part of the stage key)" if o.runtime else "")
        t.add_row(Text(o.key), Text(o.type), Text(_default_text(o)), Text(desc))
    console.print(t)
    console.print()


def bundled_registry() -> Registry:
    """A registry of the core and the plugins facttune itself ships: those its source checkout's
    pyproject.toml declares (so a stale install cannot hide a new one), else those of the installed
    ``facttune`` distribution. Other installed plugins are left out."""
    import importlib
    import importlib.metadata as md

    import pluggy

    from ..contract import hookspecs
    from ..run.recipe import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    entry_points: dict[str, str] = {}
    if pyproject.exists():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "facttune":
            entry_points = dict(project.get("entry-points", {}).get(hookspecs.PROJECT, {}))
    if not entry_points:
        entry_points = {ep.name: ep.value for ep in md.distribution("facttune").entry_points
                        if ep.group == hookspecs.PROJECT}
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, module in sorted(entry_points.items()):
        pm.register(importlib.import_module(module), name=name)
    return Registry(pm)


def bundled_docs(registry: Registry) -> list[ComponentDoc]:
    """Every component of ``registry`` (see ``bundled_registry``), sorted by kind, then name."""
    specs = [s for t in registry.components.values() for s in t.values()]
    order = list(TABLES)
    return [describe_spec(s) for s in sorted(specs, key=lambda s: (order.index(s.kind.name), s.name))]


PAGE_HEAD = """# Component reference

Every component the core and the bundled plugins register, with its recipe args: type, default and
description, read from each component's `Config`. Generated by
`python -m facttune_core.report.describe --write docs/components.md`; do not edit by hand
(`tests/test_core_describe.py` fails when this page and the code disagree). For any installed
component, yours included, `facttune describe NAME` prints the same table.

A *runtime* arg (throughput: batch size, concurrency, timeouts) is left out of the stage key, so
changing it never recomputes a finished stage. A *needs* line is checked by `facttune validate`.

"""


def reference_page(registry: Registry | None = None) -> str:
    reg = registry or bundled_registry()
    docs = bundled_docs(reg)
    toc = []
    body = []
    for kind in TABLES:
        ds = [d for d in docs if d.kind == kind]
        if not ds:
            continue
        toc.append(f"- `[{TABLES[kind]}]` ({KIND_LABELS[kind]}s): " + ", ".join(f"`{d.name}`" for d in ds))
        body.append(f"## {KIND_LABELS[kind].capitalize()}s (`[{TABLES[kind]}]`)\n")
        body.append(render_markdown(ds))
    return PAGE_HEAD + "\n".join(toc) + "\n\n" + "\n".join(body)


def main(argv: list[str] | None = None) -> None:
    """``python -m facttune_core.report.describe --write docs/components.md`` (or ``--check``)."""
    import argparse

    ap = argparse.ArgumentParser(description="Generate the component reference (docs/components.md).")
    ap.add_argument("--write", type=Path, help="write the page here")
    ap.add_argument("--check", type=Path, help="exit 1 when this file differs from the generated page")
    a = ap.parse_args(argv)
    page = reference_page()
    if a.check is not None:
        ok = a.check.exists() and a.check.read_text(encoding="utf-8") == page
        if not ok:
            sys.stderr.write(f"{a.check}: out of date; run: python -m facttune_core.report.describe --write {a.check}\n")
        raise SystemExit(0 if ok else 1)
    if a.write is not None:
        a.write.write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)


if __name__ == "__main__":  # pragma: no cover
    main()
