"""``judges/ensemble``: several verifiers by name, one verdict.

``combine``:
- ``all``: supported only if every member says so (FActScore's best open estimator: an LM's verdict
  AND a nonparametric support score); P(True) = the smallest member P(True);
- ``mean``: the (weighted) mean of the members' P(True), supported iff >= ``threshold``;
- ``logistic``: a logistic model over the members' P(True), from a file that ``facttune judge fit``
  writes (``fitted``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facttune_core import Calibration, Claim, ClaimVerifier, ConfigError, Context, Evidence, Verdict

from .fitting import FittedFile, load_fitted


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component: str = Field(description="a claim verifier, e.g. 'judges/support' or 'hf/true-false'")
    args: dict[str, Any] = Field(default_factory=dict)


class Ensemble:
    """Combine other claim verifiers: all-of, weighted mean, or a fitted logistic model."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        members: list[Member] = Field(min_length=1, description="verifiers to combine: [{component, args}, ...]")
        combine: Literal["all", "mean", "logistic"] = "all"
        weights: list[float] | None = Field(None, description="mean: one weight per member (default equal)")
        fitted: FittedFile | None = Field(None, description="logistic: file written by `facttune judge fit`")
        threshold: float = Field(0.5, ge=0.0, le=1.0, description="mean / logistic: supported iff P(True) >= this")

        @model_validator(mode="after")
        def _check(self) -> Ensemble.Config:
            if self.weights is not None and len(self.weights) != len(self.members):
                raise ValueError(f"weights: {len(self.weights)} given for {len(self.members)} members")
            return self

    component = "judges/ensemble"

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.members = [ctx.build(ClaimVerifier, m.component, m.args, key=f"{ctx.key}.members[{i}].args")
                        for i, m in enumerate(config.members)]
        self.calibration: Calibration | None = None
        if config.fitted:
            self.calibration = Calibration.from_dict(load_fitted(config.fitted, ctx), where=config.fitted)
            if len(self.calibration.weights) != len(self.members):
                raise ConfigError(f"the calibration has {len(self.calibration.weights)} weights for "
                                  f"{len(self.members)} members", key=f"{ctx.key}.fitted")
        elif config.combine == "logistic":
            raise ConfigError("combine = 'logistic' needs a fitted file (facttune judge fit)", key=f"{ctx.key}.fitted")

    def _member_verdicts(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[list[Verdict]]:
        return [m.verify(claims, evidence) for m in self.members]

    def features(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[list[float]]:
        per = self._member_verdicts(claims, evidence)
        return [[_p(v) for v in col] for col in zip(*per, strict=True)]

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        per = self._member_verdicts(claims, evidence)
        out = []
        for k, c in enumerate(claims):
            vs = [col[k] for col in per]
            ps = [_p(v) for v in vs]
            if self.c.combine == "all" and self.calibration is None:
                p, ok = min(ps), all(bool(v.supported) for v in vs)
            elif self.calibration is not None:
                p = self.calibration.p_true(*ps)
                ok = p >= self.c.threshold
            else:
                w = self.c.weights or [1.0] * len(ps)
                p = sum(a * b for a, b in zip(w, ps, strict=True)) / sum(w)
                ok = p >= self.c.threshold
            raw = "; ".join(f"{m.component}: {'S' if v.supported else 'NS'} p={_p(v):.2f}"
                            for m, v in zip(self.c.members, vs, strict=True))
            out.append(Verdict(claim_id=c.id, supported=ok, p_true=p, judge=self.component, raw=raw))
        return out


def _p(v: Verdict) -> float:
    return float(v.p_true) if v.p_true is not None else (1.0 if v.supported else 0.0)
