"""The records that flow between stages.

Small frozen dataclasses, JSON round-trippable (``to_dict`` / ``from_dict``). Ids tie each record
to its parent: a response ``p/r3`` belongs to prompt ``p``; a claim ``p/r3/c2`` to that response.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Record")


class Record:
    """Mixin: JSON (de)serialisation for the dataclasses below."""

    kind: ClassVar[str] = "record"

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown field(s) for {cls.__name__}: {', '.join(sorted(unknown))}")
        return cls(**data)  # type: ignore[call-arg]


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


@dataclass(frozen=True)
class Prompt(Record):
    """An instruction to the policy. ``topic`` is the entity it is about (a person's name)."""

    kind: ClassVar[str] = "prompt"
    id: str
    text: str
    topic: str | None = None
    split: str = "train"
    reference: str | None = None  # a human/gold response, when the data has one (FLAME SFT)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Response(Record):
    kind: ClassVar[str] = "response"
    id: str
    prompt_id: str
    text: str
    topic: str | None = None
    sample: int = 0
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim(Record):
    """One atomic fact stated by a response."""

    kind: ClassVar[str] = "claim"
    id: str
    response_id: str
    prompt_id: str
    text: str
    topic: str | None = None
    sentence: str | None = None
    sentence_index: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage(Record):
    kind: ClassVar[str] = "passage"
    title: str
    text: str
    score: float | None = None
    id: str | None = None


@dataclass(frozen=True)
class Evidence(Record):
    """The passages retrieved for one claim, best LAST (the verifier prompt's order)."""

    kind: ClassVar[str] = "evidence"
    claim_id: str
    passages: tuple[Passage, ...] = ()
    query: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        d = dict(data)
        d["passages"] = tuple(Passage.from_dict(p) for p in d.get("passages", ()))
        return super().from_dict.__func__(cls, d)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Verdict(Record):
    """A judgement of one claim. ``label``: S (supported), NS (not supported), IR (irrelevant)."""

    kind: ClassVar[str] = "verdict"
    claim_id: str
    supported: bool | None
    p_true: float | None = None
    label: str | None = None
    judge: str | None = None
    raw: str | None = None

    def __post_init__(self) -> None:
        if self.label is None and self.supported is not None:
            object.__setattr__(self, "label", "S" if self.supported else "NS")


@dataclass(frozen=True)
class Reward(Record):
    """A named scalar reward for one response; ``value`` None means "no score" (e.g. abstained)."""

    kind: ClassVar[str] = "reward"
    response_id: str
    prompt_id: str
    name: str
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pair(Record):
    """A DPO preference pair (TRL's prompt / chosen / rejected)."""

    kind: ClassVar[str] = "pair"
    id: str
    prompt_id: str
    prompt: str
    chosen: str
    rejected: str
    chosen_id: str
    rejected_id: str
    reward: str
    chosen_reward: float
    rejected_reward: float

    @property
    def margin(self) -> float:
        return self.chosen_reward - self.rejected_reward

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["margin"] = self.margin
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pair:
        d = {k: v for k, v in data.items() if k != "margin"}
        return super().from_dict.__func__(cls, d)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SFTExample(Record):
    """A supervised example (TRL's prompt / completion), e.g. a belief-filtered own generation."""

    kind: ClassVar[str] = "sft"
    id: str
    prompt_id: str
    prompt: str
    completion: str
    source: str = "model"
    score: float | None = None


@dataclass(frozen=True)
class ScoredResponse:
    """What a reward combiner sees: a response with its prompt, claims, evidence and verdicts."""

    prompt: Prompt
    response: Response
    claims: tuple[Claim, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    evidence: tuple[Evidence | None, ...] = ()


@dataclass(frozen=True)
class Decoding:
    """Decoding settings; a caller may override a generator's defaults per call.

    ``chat``: None = use the model's chat template when it has one; False = continue the raw text
    (few-shot prompts, prefixes); True = require a chat template.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int | None = None
    chat: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["stop"] = list(self.stop)
        return d


RECORD_TYPES: dict[str, type[Record]] = {
    c.kind: c for c in (Prompt, Response, Claim, Passage, Evidence, Verdict, Reward, Pair, SFTExample)
}
