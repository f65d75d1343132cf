"""FActScore's human-labelled biographies read as scored responses (Min et al. 2023).

Format (one JSON object per line): ``input``, ``output``, ``topic``, ``annotations`` (null when the
model abstained; else per sentence ``text``, ``is-relevant``, ``model-atomic-facts`` [{text}],
``human-atomic-facts`` [{text, label: S | NS | IR}]). The paper's human FActScore counts IR as
unsupported, and a sentence marked not relevant contributes its model atomic facts as unsupported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from facttune_core import (
    Claim,
    Context,
    DataBundle,
    DataError,
    PairsConfig,
    Prompt,
    Response,
    Reward,
    ScoredResponse,
    Selection,
    Verdict,
    build_pairs,
    iter_jsonl,
    slug,
)
from facttune_core import scored_responses as join_scored

LABELS = ("S", "NS", "IR")
ClaimSource = Literal["human", "model"]


@dataclass(frozen=True)
class LabeledFact:
    text: str
    label: str | None  # S / NS / IR; None for model facts (no human label)
    sentence: str
    sentence_index: int


@dataclass(frozen=True)
class LabeledResponse:
    topic: str
    input: str
    output: str
    facts: tuple[LabeledFact, ...] | None  # None: abstained (annotations null)
    line: int


def read_labeled(path: Path, claims: ClaimSource = "human") -> list[LabeledResponse]:
    """Parse one labelled file. ``claims="human"``: the human atomic facts of relevant sentences with
    their labels, plus the model atomic facts of not-relevant sentences labelled IR (unsupported);
    ``claims="model"``: the model atomic facts of every sentence, unlabelled."""
    where = str(path)
    out: list[LabeledResponse] = []
    for i, row in iter_jsonl(path):
        topic, output = row.get("topic"), row.get("output")
        if not isinstance(topic, str) or not topic.strip():
            raise DataError("missing 'topic'" if topic is None else f"'topic' must be a non-empty string (got {topic!r:.40})",
                            where=where, key=f"line {i}")
        if not isinstance(output, str):
            raise DataError("missing 'output'", where=where, key=f"line {i}")
        ann = row.get("annotations")
        facts: tuple[LabeledFact, ...] | None = None
        if ann is not None:
            if not isinstance(ann, list):
                raise DataError("'annotations' must be a list or null", where=where, key=f"line {i}")
            facts = tuple(_facts(ann, claims, where, i))
        inp = row.get("input")
        if inp is not None and (not isinstance(inp, str) or not inp.strip()):
            raise DataError(f"'input' (the prompt) must be a non-empty string (got {inp!r:.40}); leave it out for "
                            "FActScore's own question", where=where, key=f"line {i}")
        out.append(LabeledResponse(topic=topic.strip(), input=inp if inp is not None
                                   else f"Tell me a bio of {topic.strip()}.", output=output, facts=facts,
                                   line=i))
    if not out:
        raise DataError("no labelled responses", where=where)
    return out


def _facts(ann: list[Any], claims: ClaimSource, where: str, line: int) -> list[LabeledFact]:
    facts = []
    for si, sent in enumerate(ann):
        if not isinstance(sent, dict):
            raise DataError(f"annotation {si} is not an object", where=where, key=f"line {line}")
        text = str(sent.get("text") or "")
        model = sent.get("model-atomic-facts") or []
        human = sent.get("human-atomic-facts") or []
        if claims == "model":
            facts += [LabeledFact(_text(f, where, line), None, text, si) for f in model]
        elif sent.get("is-relevant", True) is False:
            facts += [LabeledFact(_text(f, where, line), "IR", text, si) for f in model]
        else:
            for f in human:
                label = f.get("label") if isinstance(f, dict) else None
                if label not in LABELS:
                    raise DataError(f"sentence {si}: human fact label {label!r} is not S, NS or IR",
                                    where=where, key=f"line {line}")
                facts.append(LabeledFact(_text(f, where, line), label, text, si))
    return facts


def _text(f: Any, where: str, line: int) -> str:
    if not isinstance(f, dict) or not isinstance(f.get("text"), str):
        raise DataError("an atomic fact has no 'text'", where=where, key=f"line {line}")
    return f["text"]


def load_labeled(paths: Sequence[Path], claims: ClaimSource = "human", split: str = "train",
                 limit: int | None = None) -> DataBundle:
    """One prompt per topic; file k gives response ``<prompt>/r<k>`` (sample k, model = file stem).
    With human claims the bundle carries verdicts (so the pipeline starts at the reward stage)."""
    prompts: dict[str, Prompt] = {}
    topic_id: dict[str, str] = {}
    responses: list[Response] = []
    all_claims: list[Claim] = []
    verdicts: list[Verdict] = []
    info: dict[str, Any] = {"files": {}}
    for k, path in enumerate(paths):
        rows = read_labeled(path, claims)
        seen: set[str] = set()
        for r in rows:
            if r.topic in seen:
                raise DataError(f"topic '{r.topic}' appears twice", where=str(path), key=f"line {r.line}")
            seen.add(r.topic)
            if r.topic not in topic_id:
                if limit is not None and len(prompts) >= limit:
                    continue
                pid = base = slug(r.topic)
                j = 2
                while pid in prompts:
                    pid, j = f"{base}-{j}", j + 1
                topic_id[r.topic] = pid
                prompts[pid] = Prompt(id=pid, text=r.input, topic=r.topic, split=split)
            pid = topic_id[r.topic]
            rid = f"{pid}/r{k}"
            responses.append(Response(id=rid, prompt_id=pid, text=r.output, topic=r.topic, sample=k,
                                      model=path.stem, meta={"source": str(path.name), "line": r.line,
                                                             "abstained": r.facts is None}))
            for ci, f in enumerate(r.facts or ()):
                cid = f"{rid}/c{ci}"
                all_claims.append(Claim(id=cid, response_id=rid, prompt_id=pid, text=f.text, topic=r.topic,
                                        sentence=f.sentence, sentence_index=f.sentence_index))
                if f.label is not None:
                    verdicts.append(Verdict(claim_id=cid, supported=f.label == "S", label=f.label, judge="human"))
        info["files"][str(path)] = {"model": path.stem, "responses": len(rows)}
    return DataBundle(prompts=list(prompts.values()), responses=responses, claims=all_claims,
                      verdicts=verdicts if claims == "human" else None, info=info)


def scored_responses(bundle: DataBundle) -> list[ScoredResponse]:
    """Join a bundle's records into what reward combiners see (the core's one join)."""
    return join_scored(bundle.prompts, bundle.responses or [], bundle.claims or [], (), bundle.verdicts or [])


def human_rewards(bundle: DataBundle, gamma: float = 0.0, ctx: Context | None = None) -> list[Reward]:
    """The human FActScore of every response (rewards/factscore on the human verdicts)."""
    from .factscore import FactScoreReward

    reward = FactScoreReward(FactScoreReward.Config(gamma=gamma), ctx or Context())
    return [r for row in reward.score(scored_responses(bundle)) for r in row]


def summarize_file(path: Path, gamma: float = 0.0) -> dict[str, Any]:
    """Responses, response rate, human FActScore (%) of one labelled file."""
    rows = read_labeled(path, "human")
    bundle = load_labeled([path])
    ctx = Context()
    values = [r.value for r in human_rewards(bundle, gamma, ctx) if r.value is not None]
    responded = sum(1 for r in rows if r.facts is not None)
    n_claims = sum(len(r.facts) for r in rows if r.facts)
    return {
        "file": str(path), "model": path.stem, "responses": len(rows), "responded": responded,
        "response_rate": 100.0 * responded / len(rows), "scored": len(values),
        "factscore": 100.0 * sum(values) / len(values) if values else None,
        "claims_per_response": n_claims / responded if responded else None, "gamma": gamma,
    }


def labeled_pairs(paths: Sequence[Path], min_margin: float = 0.0, gamma: float = 0.0) -> Selection:
    """What recipes/factscore-labeled.toml computes: one prompt per topic, a response per file, the
    human FActScore as reward, FactTune's all_pairs rule."""
    bundle = load_labeled(paths)
    rewards = human_rewards(bundle, gamma)
    return build_pairs(PairsConfig(mode="all_pairs", reward="factscore", min_margin=min_margin), bundle.prompts,
                 bundle.responses or [], rewards)


class FactScoreLabeled:
    """FActScore's human-labelled biographies (input/output/topic/annotations JSONL) as scored data."""

    provides = ("responses", "claims", "verdicts")

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        paths: list[str] = Field(min_length=1, description="labelled JSONL files, one per model "
                                                           "(relative to the recipe)")
        claims: ClaimSource = Field("human", description="human: human facts + labels (verdicts included); "
                                                         "model: the model's atomic facts, unlabelled")
        split: str = "train"
        limit: int | None = Field(None, ge=1, description="at most this many topics")

        @field_validator("paths")
        @classmethod
        def _exist(cls, v: list[str], info: ValidationInfo) -> list[str]:
            base = (info.context or {}).get("base_dir")
            for p in v:
                path = Path(p).expanduser()
                if not path.is_absolute() and base is not None:
                    path = Path(base) / path
                if base is not None and not path.is_file():
                    raise ValueError(f"file not found: {path}")
            return v

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.base = ctx.recipe_path.parent if ctx.recipe_path else Path.cwd()

    def paths(self) -> list[Path]:
        out = []
        for p in self.c.paths:
            path = Path(p).expanduser()
            out.append(path if path.is_absolute() else self.base / path)
        return out

    def load(self) -> DataBundle:
        return load_labeled(self.paths(), self.c.claims, self.c.split, self.c.limit)
