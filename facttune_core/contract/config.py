"""Component configs: runtime fields, what a stage key hashes, validation into one-line errors, paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo

from .errors import ConfigError, FacttuneError, did_you_mean


def runtime_field(default: Any = None, **kw: Any) -> Any:
    """A config field that does not change outputs (concurrency, timeouts, batch size): left out
    of the stage key, so changing it does not invalidate finished stages."""
    from pydantic import Field

    extra = dict(kw.pop("json_schema_extra", None) or {})
    extra["facttune_runtime"] = True
    return Field(default, json_schema_extra=extra, **kw)


def output_config(config: BaseModel) -> dict[str, Any]:
    """The config's output-relevant fields (what a stage key hashes)."""
    data = config.model_dump(mode="json")
    for name, f in type(config).model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if extra.get("facttune_runtime"):
            data.pop(name, None)
    return data


def validation_problems(err: ValidationError, key_prefix: str, config: type[BaseModel],
                        where: str | None = None) -> list[FacttuneError]:
    problems: list[FacttuneError] = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        key = f"{key_prefix}.{loc}" if loc else key_prefix
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            field_name = str(e["loc"][-1])
            known = list(config.model_fields)
            if len(e["loc"]) > 1:  # nested model: look its fields up
                known = _nested_fields(config, e["loc"][:-1]) or known
            msg = f"unknown key.{did_you_mean(field_name, known)} Known: {', '.join(known) or 'none'}"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] in ("value_error", "assertion_error"):
            msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        else:
            msg = f"{msg} (got {e.get('input')!r})"
        problems.append(ConfigError(msg, where=where, key=key))
    return problems


def _nested_fields(config: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    model: Any = config
    for part in loc:
        f = getattr(model, "model_fields", {}).get(part)
        if f is None:
            return []
        model = f.annotation
    return list(getattr(model, "model_fields", {}) or [])


def _check_exists(value: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir") if info.context else None
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    if not p.exists():
        raise ValueError(f"file not found: {p}")
    return str(p.resolve())


ExistingPath = Annotated[str, AfterValidator(_check_exists)]
"""A config field naming a file that must exist; relative paths resolve against the recipe's folder
(``facttune validate`` reports a missing file with its key)."""
