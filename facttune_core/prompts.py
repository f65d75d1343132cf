"""Judge prompts and their parsers, shared by every judge plugin (local or API).

Written for facttune in our own words; only the papers' rules carry over (docs/algorithms.md).
A plugin builds its model input from these functions so a HF judge and an API judge ask the
same question and read the answer the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .contract.records import Passage

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

# ---------------------------------------------------------------------------- AQ confidence

QUESTION_INSTRUCTION = (
    "Turn each statement into one short question whose answer is the statement's key fact. "
    "Name the subject in the question."
)

QUESTION_EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("Grace Hopper", "Grace Hopper worked on the Harvard Mark I in 1944.",
     "In which year did Grace Hopper start working on the Harvard Mark I?"),
    ("Chinua Achebe", "Chinua Achebe was born in Nigeria.", "In which country was Chinua Achebe born?"),
    ("Niels Bohr", "Niels Bohr received the Nobel Prize in Physics.",
     "Which Nobel Prize did Niels Bohr receive?"),
)


def question_prompt(claim: str, topic: str | None) -> str:
    parts = [QUESTION_INSTRUCTION, ""]
    for t, c, q in QUESTION_EXAMPLES:
        parts += [f"Subject: {t}", f"Statement: {c}", f"Question: {q}", ""]
    parts += [f"Subject: {topic or 'unknown'}", f"Statement: {claim.strip()}", "Question:"]
    return "\n".join(parts)


def parse_question(text: str) -> str | None:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not line:
        return None
    if "?" in line:
        line = line[: line.index("?") + 1]
    return line


ANSWER_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("In which city was Frida Kahlo born?", "Coyoacán"),
    ("What instrument did Louis Armstrong play?", "the trumpet"),
    ("In which year did Yuri Gagarin fly into space?", "1961"),
)


def answer_prompt(question: str) -> str:
    """A few-shot Q/A prompt; sample the answer up to the first newline."""
    parts = [f"Q: {q}\nA: {a}" for q, a in ANSWER_EXAMPLES]
    return "\n\n".join(parts) + f"\n\nQ: {question.strip()}\nA:"


# ---------------------------------------------------------------------------- FLAME

FACT_SEEKING_INSTRUCTION = (
    "Decide whether an instruction asks for factual knowledge about the world (answer Yes) or "
    "asks for something else, such as creative writing, advice, opinions, code or reformatting "
    "(answer No)."
)

FACT_SEEKING_EXAMPLES: tuple[tuple[str, bool], ...] = (
    ("Tell me about the life of Ibn Battuta.", True),
    ("Write a limerick about a cat who hates Mondays.", False),
    ("What causes the seasons on Earth?", True),
    ("Rewrite this sentence so it sounds more polite: give me the report now.", False),
    ("Which countries border Bolivia?", True),
    ("Suggest a name for my bakery.", False),
)


def fact_seeking_prompt(instruction: str) -> str:
    parts = [FACT_SEEKING_INSTRUCTION, ""]
    for ins, label in FACT_SEEKING_EXAMPLES:
        parts += [f"Instruction: {ins}", f"Fact-seeking: {'Yes' if label else 'No'}", ""]
    parts += [f"Instruction: {instruction.strip()}", "Fact-seeking:"]
    return "\n".join(parts)


def parse_yes_no(text: str) -> bool | None:
    m = re.search(r"\b(yes|no)\b", text, re.I)
    return None if m is None else m.group(1).lower() == "yes"


FEW_SHOT_ANSWER_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Who was Marie Curie?",
     "Marie Curie was a physicist and chemist born in Warsaw in 1867. She did pioneering research on "
     "radioactivity and was the first person to win Nobel Prizes in two sciences, physics and chemistry."),
    ("What is the Great Barrier Reef?",
     "The Great Barrier Reef is the world's largest coral reef system. It lies in the Coral Sea off the "
     "coast of Queensland, Australia, and is made up of thousands of individual reefs."),
)


def few_shot_answer_prompt(instruction: str) -> str:
    """FLAME SFT-fact: the pre-trained model's own answer, elicited by few-shot prompting."""
    parts = [f"Question: {q}\nAnswer: {a}" for q, a in FEW_SHOT_ANSWER_EXAMPLES]
    return "\n\n".join(parts) + f"\n\nQuestion: {instruction.strip()}\nAnswer:"


def bio_prompt(name: str, chat: bool) -> str:
    """algorithms.md §4: base models continue a statement; chat models get a request."""
    return f"Write me a paragraph biography of {name}." if chat else f"Here is a biography of {name}."


# ---------------------------------------------------------------------------- instruction following

RATING_INSTRUCTION = (
    "Rate how well the response follows the instruction: does it do what was asked, in the form "
    "asked, completely and helpfully? Give one whole number from 1 (ignores the instruction) to 10 "
    "(follows it perfectly). Judge instruction following only, not whether facts are correct."
)

RATING_EXAMPLES: tuple[tuple[str, str, int], ...] = (
    ("Write a haiku about autumn rain.",
     "Cold rain on the eaves / maple leaves drift in puddles / the lamp hums alone", 9),
    ("List three uses of baking soda.",
     "Baking soda is a chemical compound also called sodium bicarbonate.", 2),
    ("Explain in two sentences why the sky is blue.",
     "Sunlight is scattered by air molecules, and blue light scatters the most because of its short "
     "wavelength. So when we look away from the sun, we mostly see scattered blue light, plus some "
     "extra remarks about sunsets being red and clouds being white.", 7),
)


def instruction_rating_prompt(instruction: str, response: str) -> str:
    """FLAME's instruction-following reward asked of a judge: a 1-10 rating on the last line."""
    parts = [RATING_INSTRUCTION, ""]
    for ins, resp, score in RATING_EXAMPLES:
        parts += [f"Instruction: {ins}", f"Response: {resp}", f"Rating: {score}", ""]
    parts += [f"Instruction: {instruction.strip()}", f"Response: {response.strip()}", "Rating:"]
    return "\n".join(parts)


def parse_rating(text: str, lo: int = 1, hi: int = 10) -> int | None:
    """The first whole number in ``text`` (``"8"``, ``" 8/10"``, ``"Rating: 8."``) if it lies in
    [lo, hi], else None."""
    m = re.search(r"-?\d+(?:\.\d+)?", text)
    if m is None:
        return None
    try:
        value = float(m.group(0))
    except ValueError:  # pragma: no cover - the regex only matches numbers
        return None
    if not value.is_integer() or not lo <= value <= hi:
        return None
    return int(value)
