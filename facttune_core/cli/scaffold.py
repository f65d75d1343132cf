"""``facttune new-plugin NAME``: a working, tested plugin package to start from (like llm's template).

It writes ``facttune-NAME/`` with a pyproject (the ``facttune`` entry point), a module with a claim
verifier, tests that use :mod:`facttune_core.testing`, and a README. The templates are the files in
``facttune_core/templates/plugin/``; ``{{name}}``, ``{{module}}`` and ``{{dist}}`` are filled in.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Annotated

import typer

from ..contract.errors import ConfigError, FacttuneError

TEMPLATES = Path(__file__).parents[1] / "templates" / "plugin"
# template file -> path in the new package ({module} is the import name)
LAYOUT = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "{module}/__init__.py",
    "conftest.py.tmpl": "tests/conftest.py",
    "test_plugin.py.tmpl": "tests/test_{name}.py",
}
NAME = re.compile(r"[a-z][a-z0-9_]*")


def check_name(name: str) -> None:
    """A plugin name is the ``name/`` prefix of its components: lowercase, digits and ``_``."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ConfigError(f"'{name}' is not a valid plugin name: use lowercase letters, digits and _, starting "
                          "with a letter (it becomes the 'name/' prefix of your components)", where="new-plugin", key="NAME")
    from ..contract.plugins import get_plugin_manager

    if get_plugin_manager().get_plugin(name) is not None or name in ("core", "fake"):
        raise ConfigError(f"a plugin named '{name}' is already installed (facttune plugins); pick another name",
                          where="new-plugin", key="NAME")


def new_plugin(name: str, parent: Path) -> Path:
    """Write the package ``parent/facttune-<name>/`` and return its folder."""
    check_name(name)
    module, dist = f"facttune_{name}", f"facttune-{name.replace('_', '-')}"
    root = parent / dist
    if root.exists():
        raise ConfigError("already exists; pick another name or folder", where=str(root))
    files = {LAYOUT[t].format(module=module, name=name): (TEMPLATES / t).read_text(encoding="utf-8")
             for t in LAYOUT}
    for rel, text in files.items():
        out = root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text.replace("{{name}}", name).replace("{{module}}", module).replace("{{dist}}", dist),
                       encoding="utf-8")
    return root


def new_plugin_command(
    name: Annotated[str, typer.Argument(help="Plugin name: the 'name/' prefix of its components")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create facttune-NAME/")] = Path("."),
) -> None:
    """Write a working, tested plugin package facttune-NAME/ (a claim verifier) to start from."""
    from rich.console import Console

    try:
        root = new_plugin(name, directory)
    except FacttuneError as err:
        Console(stderr=True, highlight=False).print(err.render(), markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    con = Console(highlight=False)
    con.print(f"wrote {root}/ ({', '.join(sorted(LAYOUT[t].format(module=f'facttune_{name}', name=name) for t in LAYOUT))})",
              markup=False, soft_wrap=True)
    con.print(f"next: cd {root} && pip install -e \".[test]\" && facttune plugins && python -m pytest",
              markup=False, soft_wrap=True)
