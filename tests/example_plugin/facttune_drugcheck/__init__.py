"""An example third-party plugin: a domain verifier in ~20 lines (see docs/writing-a-plugin.md)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from facttune_core import Claim, Context, Evidence, Register, Verdict, hookimpl


class LabelVerifier:
    """Supported iff the claim names a drug together with a dose listed on its label."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        labels: dict[str, list[str]] = {"aspirin": ["75 mg", "300 mg"], "ibuprofen": ["200 mg", "400 mg"]}

    def __init__(self, config: Config, ctx: Context) -> None:
        self.labels = {k.lower(): v for k, v in config.labels.items()}

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        out = []
        for c in claims:
            text = c.text.lower()
            ok = any(drug in text and any(d in text for d in doses) for drug, doses in self.labels.items())
            out.append(Verdict(claim_id=c.id, supported=ok, p_true=1.0 if ok else 0.0, judge="drugcheck/label"))
        return out


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("label", LabelVerifier)
