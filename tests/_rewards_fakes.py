"""Scripted stand-ins for the rewards tests: generators whose outputs a test dictates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from facttune_core import Claim, Context, Decoding, Prompt, Response, ScoredResponse, Verdict


class ScriptedGenerator:
    """``script(prompt_text, k) -> text``; records every call (prompts, n, decoding)."""

    def __init__(self, script: Callable[[str, int], str], model_name: str = "scripted") -> None:
        self.script = script
        self.model_name = model_name
        self.calls: list[tuple[list[str], int, Decoding | None]] = []

    def generate(self, prompts: Sequence[Prompt], n: int = 1, decoding: Decoding | None = None) -> list[list[Response]]:
        self.calls.append(([p.text for p in prompts], n, decoding))
        return [[Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=self.script(p.text, k), sample=k,
                          model=self.model_name) for k in range(n)] for p in prompts]


@dataclass
class ScriptedCtx(Context):
    """A Context whose ``build`` hands out prepared objects by config field (``question_generator``)
    instead of building the named component (names still have to exist: use ``fake/generator``)."""

    parts: dict[str, Any] = field(default_factory=dict)
    built: list[tuple[str, str, dict[str, Any], str | None]] = field(default_factory=list)

    def build(self, kind: str, name: str, args: dict[str, Any] | None = None, key: str | None = None) -> Any:
        self.built.append((kind, name, dict(args or {}), key))
        field = (key or "").removesuffix(".args").rsplit(".", 1)[-1]
        return self.parts[field]


def item(pid: str, rid: str, text: str, labels: Sequence[str | None] = (), prompt: str | None = None,
         topic: str | None = "Ada Quill", p_true: Sequence[float | None] | None = None, sample: int = 0,
         claim_texts: Sequence[str] | None = None, meta: dict[str, Any] | None = None,
         reference: str | None = None) -> ScoredResponse:
    """A scored response whose claims carry the given labels (S / NS / IR / None = undecided)."""
    claims, verdicts = [], []
    for i, lab in enumerate(labels):
        cid = f"{rid}/c{i}"
        ctext = claim_texts[i] if claim_texts else f"{topic} fact {i}."
        claims.append(Claim(id=cid, response_id=rid, prompt_id=pid, text=ctext, topic=topic))
        pt = p_true[i] if p_true is not None else None
        if lab is None:
            verdicts.append(Verdict(claim_id=cid, supported=None, p_true=pt))
        else:
            verdicts.append(Verdict(claim_id=cid, supported=lab == "S", label=lab, p_true=pt))
    p = Prompt(id=pid, text=prompt or f"Tell me a bio of {topic}.", topic=topic, meta=meta or {},
               reference=reference)
    r = Response(id=rid, prompt_id=pid, text=text, topic=topic, sample=sample)
    return ScoredResponse(prompt=p, response=r, claims=tuple(claims), verdicts=tuple(verdicts))
