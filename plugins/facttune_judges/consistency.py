"""``judges/consistency``: the claim's names, numbers, dates and roles, checked against the evidence.

Model-free. P(True) is the share of the claim's checkable items (``text.analyse``: names, numbers,
dates, occupations and titles) that the evidence has (dates: is consistent with); a claim with none is not contradicted and
gets ``neutral``. Supported iff every item is found. Useful alone as a cheap filter, or as a member of
``judges/ensemble`` beside an LM judge that cannot see a changed year or place.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import Claim, Context, Evidence, Verdict

from . import text


class Consistency:
    """Names, numbers and dates of the claim that the evidence lacks or contradicts (no model)."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        neutral: float = Field(1.0, ge=0.0, le=1.0, description="P(True) of a claim with no name, number or date")

    component = "judges/consistency"
    needs = ("evidence",)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        cache: dict[str, text.Evidence] = {}
        out = []
        for c, e in zip(claims, evidence, strict=True):
            t = text.evidence_text(e.passages) if e is not None else ""
            if not t.strip():
                out.append(Verdict(claim_id=c.id, supported=False, p_true=0.0, judge=self.component, raw="no evidence"))
                continue
            ev = cache.setdefault(t, text.Evidence.of(t))
            items = [w for w in text.analyse(c.text, c.topic, ev) if w.kind != "word"]
            if not items:
                out.append(Verdict(claim_id=c.id, supported=self.c.neutral >= 0.5, p_true=self.c.neutral,
                                   judge=self.component, raw="no name, number or date to check"))
                continue
            missing = [w.text for w in items if not w.found]
            p = 1 - len(missing) / len(items)
            out.append(Verdict(claim_id=c.id, supported=not missing, p_true=p, judge=self.component,
                               raw=("not in evidence: " + ", ".join(missing)) if missing else "all found"))
        return out
