"""Judge prompts and their parsers, shared by every judge plugin (local or API).

Written for facttune in our own words; only the papers' rules carry over (FActScore, Min et al. 2023).
A plugin builds its model input from these functions so a HF judge and an API judge ask the
same question and read the answer the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..contract.records import Passage

# ---------------------------------------------------------------------------- claim extraction

EXTRACT_INSTRUCTION = (
    "Split each sentence into short facts. Each fact states one thing, names its subject, and makes "
    "sense on its own. Write one fact per line, starting with \"- \"."
)

EXTRACT_EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Grace Hopper was an American computer scientist who worked on the Harvard Mark I in 1944.",
        (
            "Grace Hopper was American.",
            "Grace Hopper was a computer scientist.",
            "Grace Hopper worked on the Harvard Mark I.",
            "Grace Hopper worked on the Harvard Mark I in 1944.",
        ),
    ),
    (
        "Born in Kraków, the composer later moved to Vienna, where he wrote three operas.",
        (
            "The composer was born in Kraków.",
            "The composer moved to Vienna.",
            "The composer wrote three operas.",
            "The composer wrote operas in Vienna.",
        ),
    ),
)


def extract_prompt(sentence: str, topic: str | None = None) -> str:
    """A plain few-shot prompt (base models continue it with ``- fact`` lines)."""
    parts = [EXTRACT_INSTRUCTION, ""]
    for sent, facts in EXTRACT_EXAMPLES:
        parts += [f"Sentence: {sent}", "Facts:", *[f"- {f}" for f in facts], ""]
    parts += [f"Sentence: {sentence.strip()}", "Facts:"]
    return "\n".join(parts) + "\n"


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")


def parse_fact_lines(text: str, max_facts: int = 32) -> tuple[list[str], int]:
    """Parse ``- fact`` lines; returns (facts, number of dropped lines). Stops at the first
    blank line after facts or a line that starts the next example (``Sentence:``). Duplicate
    facts are dropped and counted (small judges repeat themselves)."""
    facts: list[str] = []
    dropped = 0
    seen: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if facts:
                break
            continue
        if line.lower().startswith(("sentence:", "facts:")):
            if facts:
                break
            continue
        m = _BULLET.match(line)
        if not m:
            dropped += 1
            continue
        fact = m.group(1).strip()
        norm = re.sub(r"\W+", " ", fact.lower()).strip()
        if len(norm.split()) < 2 or norm in seen or len(facts) >= max_facts:
            dropped += 1
            continue
        seen.add(norm)
        facts.append(fact if fact.endswith((".", "!", "?")) else fact + ".")
    return facts, dropped


# ---------------------------------------------------------------------------- verification

def format_passages(passages: Sequence[Passage]) -> str:
    """Passages in the order given (callers put the best LAST, nearest the question)."""
    return "\n\n".join(f"Title: {p.title}\nText: {p.text.strip()}" for p in passages)


def verify_prefix(topic: str | None, passages: Sequence[Passage]) -> str:
    """Everything before the claim: shared by all claims with the same topic and passages, so a
    local judge can compute it once and reuse its KV cache."""
    about = f" about {topic}" if topic else ""
    head = (f"Read the passages below, then say whether the statement{about} is true according to "
            "them. Answer True or False.")
    body = format_passages(passages)
    return f"{head}\n\n{body}\n\n" if body else f"{head}\n\n"


def verify_suffix(claim: str) -> str:
    return f"Input: {claim.strip()} True or False?\nOutput:"


def verify_prompt(claim: str, topic: str | None, passages: Sequence[Passage]) -> str:
    return verify_prefix(topic, passages) + verify_suffix(claim)


def belief_prefix(topic: str | None = None) -> str:
    about = f" about {topic}" if topic else ""
    return f"Say whether the statement{about} is true. Answer True or False.\n\n"


def belief_prompt(claim: str, topic: str | None = None) -> str:
    return belief_prefix(topic) + verify_suffix(claim)


_TRUE = re.compile(r"\btrue\b", re.I)
_FALSE = re.compile(r"\bfalse\b", re.I)
_NEGATIVE = re.compile(r"\b(not|cannot|can't|unknown|information)\b", re.I)


def parse_true_false(text: str) -> bool:
    """FActScore's rule for a judge's text: "true" / "false", the first one wins if both appear;
    if neither, supported unless the text says not / cannot / unknown / information."""
    t, f = _TRUE.search(text), _FALSE.search(text)
    if t and f:
        return t.start() < f.start()
    if t:
        return True
    if f:
        return False
    return not _NEGATIVE.search(text)


TRUE_WORDS = ("True", "true", "TRUE")
FALSE_WORDS = ("False", "false", "FALSE")

# Chat-style judges (API models) get the same user prompt plus a system line that asks for the
# format the parsers read.
CHAT_TRUE_FALSE_SYSTEM = "You check statements. Answer with one word: True or False."
CHAT_EXTRACT_SYSTEM = ("You split sentences into atomic facts. Follow the examples and answer only with "
                       "the facts of the last sentence, one per line, each starting with \"- \".")


def p_true_from_logprobs(top: Sequence[tuple[str, float]]) -> float | None:
    """P(True) from one output position's top alternatives ``(token, logprob)``: the mass of the
    True variants over True + False (any case, leading space or quotes); None when neither
    appears (the caller then reads the text)."""
    import math

    t = f = 0.0
    for tok, lp in top:
        w = tok.strip().strip("\"'*.:").lower()
        if w == "true":
            t += math.exp(lp)
        elif w == "false":
            f += math.exp(lp)
    if t + f <= 0.0:
        return None
    return t / (t + f)
