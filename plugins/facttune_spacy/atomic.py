"""``spacy/atomic``: atomic, self-contained, checkable facts from a dependency parse (offline, CPU).

Each response is split into sentences (the core's splitter, as every extractor), each sentence is
parsed once (spaCy's small English pipeline, packaged on PyPI), and split.py turns the parse into
facts: one clause, one argument each, the topic's pronouns resolved. filler.py then leaves out
evaluative filler and praise with nothing checkable (VeriScore's rule), facts about something other
than the topic (``about = "topic"``) and the fragment a cut-off sentence ends with. Every fact left
out is counted in the stage's manifest (``filler_facts``, ``off_topic_facts``, ``truncated_facts``,
``vague_core_facts``), and so is a fact said again in the response (``repeated_facts``: "she was an
actress" and "she became an actress" are one fact, as an annotator writes them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import (
    SPACY_MODELS,
    Claim,
    Context,
    Response,
    load_spacy,
    runtime_field,
    sentence_claims,
)

from .filler import cue_modifiers, has_specific, is_filler
from .split import sentence_facts
from .words import Fact, Topic


class AtomicFacts:
    """Atomic facts from a dependency parse: clauses and arguments split, pronouns resolved, filler dropped."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        spacy_model: str | None = Field(None, description="spaCy pipeline; default: the first installed of "
                                        + ", ".join(SPACY_MODELS))
        filler: Literal["drop", "keep"] = Field("drop", description="evaluative filler with nothing checkable "
                                                "(VeriScore's rule): drop (counted) or keep as claims")
        about: Literal["topic", "any"] = Field("topic", description="keep only facts about the topic (its name, "
                                               "pronouns or possessions in the subject), or facts about anything")
        strip_praise: bool = Field(True, description="leave evaluative adjectives out of a kept fact "
                                   "('a renowned physicist' → 'a physicist')")
        truncated: Literal["drop", "keep"] = Field("drop", description="a sentence cut off mid-way: drop the "
                                                   "fact that reaches the cut")
        vague_cores: Literal["drop", "keep"] = Field("drop", description="a bare core that the clause's other facts "
                                                     "repeat with a place, date or other detail, and that names nothing "
                                                     "checkable itself ('began his career' beside 'began his career in "
                                                     "1990'): drop (counted) or keep")
        max_facts: int = Field(16, ge=1, description="per sentence")
        batch_size: int = runtime_field(64, ge=1)

    component = "spacy/atomic"

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self._nlp: Any = None

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            self._nlp, _ = load_spacy(self.c.spacy_model, key=self.ctx.key_for("spacy_model"))
        return self._nlp

    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        return sentence_claims(responses, self.facts, self.ctx)

    def facts(self, sentences: list[tuple[Response, str]]) -> list[list[str]]:
        """The facts of each (response, sentence), parsed in one batch."""
        docs = self.nlp.pipe([s for _, s in sentences], batch_size=self.c.batch_size)
        out = []
        said: dict[str, set[str]] = {}  # a fact said again later in the same response counts once
        topics: dict[str, Topic] = {}  # per response: its pronouns depend on the whole text
        for (r, s), doc in zip(sentences, docs, strict=True):
            seen = said.setdefault(r.id, set())
            topic = topics.get(r.id) or topics.setdefault(r.id, Topic.of(r.topic, r.text))
            facts = []
            for f in self.sentence(doc, topic, cut=self.cut_off(r, s)):
                key = same_fact_key(f, topic.name)
                if key in seen:
                    self.ctx.count("repeated_facts")
                    continue
                seen.add(key)
                facts.append(f)
            out.append(facts)
            self.ctx.progress(1, len(sentences))
        return out

    @staticmethod
    def cut_off(r: Response, s: str) -> bool:
        """The response's last sentence, with no closing punctuation: the generation stopped mid-way."""
        text = r.text.rstrip()
        return text.endswith(s.strip()) and s.rstrip()[-1:] not in ".!?\"')”’"

    def sentence(self, doc: Any, topic: Topic, cut: bool) -> list[str]:
        seen: list[str] = []
        last = len(doc) - 1
        for sent in doc.sents:
            for f in sentence_facts(sent, topic):
                ids = [i for p in f.parts for i in p] or sorted(f.source)
                if cut and self.c.truncated == "drop" and last in f.source | set(ids):
                    self.ctx.count("truncated_facts")
                    continue
                if self.c.about == "topic" and not f.about_topic and not self.mentions(doc, f, topic):
                    self.ctx.count("off_topic_facts")
                    continue
                if f.text_override is None and self.c.filler == "drop" and is_filler(doc, f.parts, topic.words):
                    self.ctx.count("filler_facts")
                    continue
                if f.refined and self.c.vague_cores == "drop" and not has_specific(doc, ids, topic.words):
                    self.ctx.count("vague_core_facts")
                    continue
                text = self.render(doc, f)
                if text and text not in seen and len(text.split()) >= 3:
                    seen.append(text)
        return seen[: self.c.max_facts]

    def render(self, doc: Any, f: Fact) -> str:
        if self.c.strip_praise and f.text_override is None:
            drop = cue_modifiers(doc, [i for p in f.parts for i in p])
            if drop:
                f = Fact(f.subject, [[i for i in p if i not in drop] for p in f.parts], f.replace, f.about_topic,
                         source=f.source)
        return f.render(doc)

    @staticmethod
    def mentions(doc: Any, f: Fact, topic: Topic) -> bool:
        """A fact whose subject is not the topic but names it or its possession ("Curie's father")."""
        subj = f.subject if f.text_override is None else f.text_override
        return any(len(w) > 2 and w in topic.words for w in re.findall(r"\w+", subj.lower()))


_BE = re.compile(r"^(?:is|was|are|were|became|becomes|has been|had been|remained|remains|served as|serves as"
                 r"|worked as|works as)\s+(?:(?:a|an|the)\s+)?", flags=re.IGNORECASE)


def same_fact_key(fact: str, topic: str) -> str:
    """What makes two facts the same fact, as an annotator counts them: the words, with the tense and the
    copula of a predicate noun set aside ("X is an actress", "X was an actress" and "X became an actress"
    are one fact; "X was a film actress" is another)."""
    t = fact.lower().rstrip(".").strip()
    name = topic.lower()
    if name and t.startswith(name + " "):
        t = name + " be " + _BE.sub("", t[len(name) + 1:])
    return t
