"""The rewards' own judge prompts and parsers: AQ confidence (claim → question → sampled answers),
FLAME's fact-seeking classifier and few-shot answers, and the instruction-following rating.

Written for facttune in our own words; only the papers' rules carry over.
"""

from __future__ import annotations

import re

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
