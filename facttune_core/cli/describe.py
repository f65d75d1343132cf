"""``facttune describe``: a component's recipe args, needs and home (report/describe.py renders)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ..contract.errors import ConfigError, FacttuneError, did_you_mean
from ..contract.registry import get_registry
from ..report.describe import KIND_LABELS, TABLES, describe_spec, find, print_doc, render_markdown


def describe_command(
    names: Annotated[list[str] | None, typer.Argument(help="Components (plugin/name) or plugins; none: list all")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (claim_verifier, generator, ...)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown, as in docs/components.md")] = False,
) -> None:
    """Show a component's recipe args (type, default, description), what it needs, where it lives."""
    from rich.console import Console

    console = Console(markup=False)
    err = Console(stderr=True, highlight=False, markup=False)
    try:
        if kind is not None and kind not in KIND_LABELS:
            raise ConfigError(f"unknown kind '{kind}'.{did_you_mean(kind, list(KIND_LABELS))} "
                              f"Known: {', '.join(KIND_LABELS)}", key="--kind")
        reg = get_registry()
        if names:
            specs = find(reg, names, kind)
        else:
            specs = [s for k, t in reg.components.items() if kind in (None, k) for s in t.values()]
            specs.sort(key=lambda s: (list(TABLES).index(s.kind.name), s.name))
    except FacttuneError as e:
        err.print(e.render(), markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    docs = [describe_spec(s) for s in specs]
    if as_json:
        sys.stdout.write(json.dumps([d.as_dict() for d in docs], indent=2, ensure_ascii=False) + "\n")
    elif markdown:
        sys.stdout.write(render_markdown(docs))
    elif not names:
        from rich.table import Table
        from rich.text import Text

        t = Table(title="components (facttune describe NAME for its args)")
        for col in ("component", "table", "plugin", "description"):
            t.add_column(col, overflow="fold")
        for d in docs:
            t.add_row(Text(d.name), Text(f"[{d.table}]"), Text(d.plugin), Text(d.summary))
        console.print(t)
    else:
        for d in docs:
            print_doc(d, console)


