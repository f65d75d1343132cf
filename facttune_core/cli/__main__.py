"""``python -m facttune_core.cli``: the ``facttune`` command."""

from .main import main

main()
