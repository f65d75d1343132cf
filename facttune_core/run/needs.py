"""What a component needs from the rest of its recipe, checked by ``facttune validate``.
Which stage satisfies a need is derived from the stages' declarations (run/stages.py).

A component class declares it with a class attribute::

    class DoseVerifier:
        needs = ("evidence",)

and a prompt source may declare what its data can already carry (``provides = ("responses",)``), so
a recipe whose data brings those records does not need the stage that would make them.

| need | satisfied by |
|---|---|
| ``responses`` | a ``[generate]`` table, or data that provides responses |
| ``claims`` | an ``[extract]`` table, or data that provides claims |
| ``evidence`` | a ``[retrieve]`` table (``evaluate.retrieve`` for the evaluate stage's verifier), or data that provides evidence |
| ``verdicts`` | a ``[verify]`` table, or data that provides verdicts |
| ``generator`` | a ``[generate]`` table (the component works on the policy's own samples) |
"""

from __future__ import annotations

from typing import Any

from ..contract.errors import ConfigError, FacttuneError, did_you_mean
from .stages import BY_NAME, GIVEN, STAGES

# need -> (the stage table that satisfies it, the data record kind that can stand in for it): the
# records of each stage whose output data may carry, then what a stage serves (run/stages.py)
NEEDS: dict[str, tuple[str, str | None]] = {
    **{record: (stage, record) for record, stage in GIVEN},
    **{need: (s.name, None) for s in STAGES for need in s.serves},
}


def declared(factory: Any, attr: str = "needs") -> tuple[str, ...]:
    """A component's ``needs`` (or a prompt source's ``provides``) as a tuple of strings."""
    value = getattr(factory, attr, ()) or ()
    return (value,) if isinstance(value, str) else tuple(value)


def check_needs(resolved: Any, where: str) -> list[FacttuneError]:
    """One problem per unmet or unknown need of the recipe's components (``resolved``: a
    ``recipe.Resolved``), keyed ``<stage>.component``."""
    recipe = resolved.recipe
    data_spec = resolved.specs.get("data")
    provided = set(declared(data_spec.factory, "provides")) if data_spec is not None else set()
    problems: list[FacttuneError] = []
    for stage, spec in resolved.specs.items():
        key = f"{stage}.component"
        for need in declared(spec.factory):
            if need not in NEEDS:
                problems.append(ConfigError(
                    f"'{spec.name}' declares an unknown need '{need}'.{did_you_mean(need, list(NEEDS))} "
                    f"Known: {', '.join(NEEDS)}", where=where, key=key))
                continue
            table, record = NEEDS[need]
            if stage.startswith("evaluate.") and BY_NAME[table].claim_chain:
                has_table = resolved.scoring_table(table) is not None
                add = f"a [{table}] table or evaluate.{table}"
            else:
                has_table = getattr(recipe, table, None) is not None
                add = f"a [{table}] table"
            if has_table or (record is not None and record in provided):
                continue
            problems.append(ConfigError(f"'{spec.name}' needs {need}: add {add}", where=where, key=key))
    return problems
