"""facttune plugin 'drugcheck': checks the doses a drug claim states against the drug's label."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import Claim, Context, Evidence, Register, Verdict, hookimpl

PLUGIN_NAME = "drugcheck"  # the prefix under FACTTUNE_PLUGINS; once installed, the entry-point name rules


class LabelVerifier:
    """Supported iff every dose the claim states (e.g. "400 mg") appears in its evidence (the label)."""

    needs = ("evidence",)  # `facttune validate` asks for a [retrieve] table

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")  # a typo in the recipe is an error, with a suggestion
        units: list[str] = Field(["mg", "g", "ml"], description="dose units to look for")

    def __init__(self, config: Config, ctx: Context) -> None:
        units = "|".join(re.escape(u) for u in config.units)
        self.dose = re.compile(rf"(\d+(?:\.\d+)?)\s*({units})\b", re.IGNORECASE)

    def doses(self, text: str) -> set[str]:
        return {f"{n} {u.lower()}" for n, u in self.dose.findall(text)}

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        out = []
        for claim, ev in zip(claims, evidence, strict=True):
            stated = self.doses(claim.text)
            label = self.doses(" ".join(p.text for p in ev.passages)) if ev else set()
            if not stated:  # no dose: nothing this verifier can check
                out.append(Verdict(claim_id=claim.id, supported=None, label="IR", raw="no dose stated"))
                continue
            missing = sorted(stated - label)
            out.append(Verdict(claim_id=claim.id, supported=not missing, p_true=0.0 if missing else 1.0,
                               judge="drugcheck/label",
                               raw=f"not on the label: {', '.join(missing)}" if missing else "on the label"))
        return out


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("label", LabelVerifier)
