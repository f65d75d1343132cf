"""The ``core/*`` components: prompts from JSONL, given responses to score, sentences as claims.
Model-free; used by tests, by ``facttune score`` and as baselines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, computed_field

from facttune_core import (
    Claim,
    Context,
    DataBundle,
    DataError,
    ExistingPath,
    Prompt,
    Response,
    file_sha256,
    iter_jsonl,
    read_score_input,
    runtime_field,
    sentence_claims,
)


class JsonlPrompts:
    """Prompts (and optionally given responses) from JSONL files."""

    provides = ("responses",)  # with `responses` set, the run starts after the generate stage
    cheap_load = True  # local files: `facttune validate` loads the prompts to check their topics

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        path: ExistingPath = Field(description="JSONL with one prompt per line (a JSON object per line)")
        text_field: str = Field("prompt", description="field holding the prompt's text")
        id_field: str | None = Field("id", description="field holding the prompt's id (missing: p00001, ...)")
        topic_field: str | None = Field("topic", description="field holding the entity the prompt is about "
                                        "(retrievers look its article up)")
        split_field: str | None = Field("split", description="field holding the split (train / test / ...)")
        reference_field: str | None = Field(None, description="field holding a human reference response "
                                            "(FLAME's SFT targets); none by default")
        default_split: str = Field("train", description="split of a line without one")
        template: str | None = Field(None, description="e.g. 'Write me a paragraph biography of {topic}.'")
        responses: ExistingPath | None = Field(None, description="JSONL of given responses, one per line: "
                                               "prompt_id, text, optional model; several lines for one prompt_id "
                                               "are several samples. The run then starts after [generate]")
        limit: int | None = Field(None, ge=1, description="read at most this many prompts")
        meta_fields: list[str] = Field(default_factory=list, description="fields copied into prompt.meta when "
                                       "a line has them, e.g. ['fact_seeking'] (FLAME's gold label)")

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.base = ctx.recipe_path.parent if ctx.recipe_path else Path.cwd()

    def _path(self, p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else self.base / path

    def load(self) -> DataBundle:
        c = self.c
        prompts: list[Prompt] = []
        path = self._path(c.path)
        seen: dict[str, int] = {}
        for i, row in iter_jsonl(path):
            topic = row.get(c.topic_field) if c.topic_field else None
            if topic is not None and not isinstance(topic, str):
                raise DataError(f"'{c.topic_field}' must be a string (got {type(topic).__name__})", where=str(path),
                                key=f"line {i}")
            if c.template:
                try:
                    text = c.template.format(topic=topic, **{k: v for k, v in row.items() if k != "topic"})
                except (KeyError, IndexError, ValueError) as exc:
                    raise DataError(f"the template {c.template!r} names {exc}, which is not a column of this line",
                                    where=str(path), key=f"line {i}") from None
            else:
                text = row.get(c.text_field)
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"missing or empty '{c.text_field}'", where=str(path), key=f"line {i}")
            pid = str(row.get(c.id_field)) if c.id_field and row.get(c.id_field) is not None else f"p{i:05d}"
            if pid in seen:
                raise DataError(f"duplicate prompt id '{pid}' (first on line {seen[pid]})", where=str(path),
                                key=f"line {i}")
            seen[pid] = i
            split = str(row.get(c.split_field) or c.default_split) if c.split_field else c.default_split
            meta = {k: row[k] for k in c.meta_fields if k in row}
            prompts.append(Prompt(id=pid, text=text, topic=topic, split=split,
                                  reference=row.get(c.reference_field) if c.reference_field else None,
                                  meta={"line": i, **meta}))
            if c.limit and len(prompts) >= c.limit:
                break
        if not prompts:
            raise DataError("no prompts", where=str(path))
        responses = None
        if c.responses:
            rpath = self._path(c.responses)
            by_id = {p.id: p for p in prompts}
            responses = []
            samples: dict[str, int] = {}
            for i, row in iter_jsonl(rpath):
                pid = str(row.get("prompt_id"))
                if pid not in by_id:
                    raise DataError(f"prompt_id '{pid}' is not in {path.name}", where=str(rpath), key=f"line {i}")
                if not isinstance(row.get("text"), str):
                    raise DataError("missing 'text'", where=str(rpath), key=f"line {i}")
                k = samples.get(pid, 0)
                samples[pid] = k + 1
                responses.append(Response(id=f"{pid}/r{k}", prompt_id=pid, text=row["text"],
                                          topic=by_id[pid].topic, sample=k, model=row.get("model")))
        return DataBundle(prompts=prompts, responses=responses, info={"path": str(path)})


class SentenceClaims:
    """Each sentence is one claim (model-free baseline; FActScore's P 0.87 / R 0.50 here)."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        merge_short: int = Field(0, ge=0, description="merge sentences of <= N words into the next (FactTune: 11)")
        min_words: int = Field(3, ge=1, description="drop fragments shorter than this")

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        return sentence_claims(responses, lambda sentences: [[s] for _, s in sentences], self.ctx,
                               merge_short=self.c.merge_short, min_words=self.c.min_words)


class GivenResponses:
    """Responses that already exist, to score (``facttune score``): FActScore's input format
    (``topic``, ``output``) or facttune's (``prompt``, ``topic``, ``response`` / ``responses``).
    The stage key hashes the file's content, not its path."""

    cheap_load = True  # a local file: `facttune validate` may load it to check its topics

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        path: ExistingPath = runtime_field(..., description="JSONL of responses (docs/evaluation.md)")

        @computed_field  # type: ignore[prop-decorator]
        @property
        def sha256(self) -> str:
            """The file's content hash: part of the stage key."""
            return file_sha256(Path(self.path))

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config

    def load(self) -> DataBundle:
        inp = read_score_input(Path(self.c.path))
        return DataBundle(prompts=inp.prompts, responses=inp.responses,
                          info={"format": inp.format, "path": str(inp.path)})
