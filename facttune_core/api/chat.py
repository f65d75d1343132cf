"""Provider-neutral pieces of chat components, shared by the API plugins through the public names:
turning sampled answers into responses, and FActScore-style claim extraction over a chat runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..contract.records import Claim, Prompt, Response
from ..scoring.prompts import extract_prompt, parse_fact_lines
from ..scoring.text import merge_short_sentences, sentence_claims, split_sentences
from .estimate import CallEstimate, estimate_requests
from .runner import ChatRequest


def sampled_responses(prompts: Sequence[Prompt], n: int, values: Sequence[dict[str, Any]],
                      model: str | None) -> list[list[Response]]:
    """``n`` responses per prompt from the runner's answers, in request order (prompt-major)."""
    it = iter(values)
    out: list[list[Response]] = []
    for p in prompts:
        row = []
        for k in range(n):
            v = next(it)
            row.append(Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=v["text"].strip(), topic=p.topic,
                                sample=k, model=model, prompt_tokens=v["tokens_in"],
                                completion_tokens=v["tokens_out"], finish_reason=v["finish_reason"]))
        out.append(row)
    return out


class ChatClaimsMixin:
    """A claim extractor over a chat runner: one few-shot call per sentence, ``- fact`` lines back.
    The component provides ``runner``, ``ctx`` and ``c`` (max_tokens, merge_short, max_facts, system,
    temperature)."""

    runner: Any
    ctx: Any
    c: Any

    def extract(self, responses: Sequence[Response]) -> list[list[Claim]]:
        return sentence_claims(responses, self._facts, self.ctx, merge_short=self.c.merge_short)

    def estimate(self, responses: Sequence[Response]) -> CallEstimate:
        """What ``extract`` would send (one call per sentence), sending nothing."""
        sentences = []
        for r in responses:
            sents = split_sentences(r.text)
            if self.c.merge_short:
                sents = merge_short_sentences(sents, self.c.merge_short)
            sentences += [(r, s) for s in sents]
        return estimate_requests(self.runner, self._requests(sentences))

    def _requests(self, sentences: list[tuple[Response, str]]) -> list[ChatRequest]:
        c = self.c
        return [ChatRequest(user=extract_prompt(s, r.topic), system=c.system, max_tokens=c.max_tokens,
                            temperature=c.temperature) for r, s in sentences]

    def _facts(self, sentences: list[tuple[Response, str]]) -> list[list[str]]:
        out = []
        for v in self.runner.run(self._requests(sentences)):
            facts, dropped = parse_fact_lines(v["text"], max_facts=self.c.max_facts)
            if dropped:
                self.ctx.count("dropped_lines", dropped)
            out.append(facts)
        return out
