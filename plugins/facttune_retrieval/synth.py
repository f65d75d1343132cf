"""Labelled claims made from a knowledge source with no human labels (``facttune judge synth``).

Per document (its title is the topic):

- supported (S): what the document states, cut down to one fact, not copied whole:
  ``first-clause`` (a sentence about the subject up to its first comma / relative clause),
  ``list-item`` (one item of "X was a A, B and C": "X was a B."), ``dates`` ("(1858–1947)" →
  "X was born in 1858." / "X died in 1947.");
- not supported (NS), shaped like real hallucinations: ``other-entity`` (another document's fact
  under this title), ``date-shift`` (a year moved), ``name-swap`` (a place, nationality or other
  name replaced by one from another document), ``role-swap`` (the role noun of a list item replaced).
  A negative whose changed words the document contains is dropped (it might be true).

What it cannot tell you: positives are near-verbatim, so they flatter verifiers that measure
similarity; real model text is vaguer (evaluative filler, inferences), so a judge's figures here are
an upper bound. Use it to compare judges and to fit one for a new domain; measure on human labels
where you can (docs/judges.md).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .kb import KnowledgeBase, normalize_title, sentences

_CUT = re.compile(r",|;| which | who | whose | where | while | although | but ")
_LIST = re.compile(r"^(?P<subj>.+?) (?P<verb>was|is|were|are) (?:a|an) (?P<items>[^.;:()]+)")
_LIFE = re.compile(r"\((?:[^()]*?\b)?(\d{3,4})\s*[–—-]\s*(\d{3,4})\)")
_YEAR = re.compile(r"\b(1\d{3}|20\d{2}|[1-9]\d{2})\b")
_CAP = re.compile(r"(?<=\s)([A-Z][a-z]+)\b")
_PRONOUN = re.compile(r"^(He|She|They|It)\b")
_POSS = re.compile(r"^(His|Her|Their|Its)\b")
_STOP = frozenset("a an the of in on at to for from by with and or as is was were are be been his her their its "
                  "he she they it this that who which".split())


@dataclass
class Fact:
    topic: str
    text: str
    how: str
    source: str  # the document sentence it came from


def _about(sentence: str, title: str, aliases: Sequence[str]) -> str | None:
    """The sentence rewritten to start with the title, when its subject is the document's subject."""
    for a in (title, *aliases):
        if a and sentence.startswith(a + " "):
            return title + sentence[len(a):]
    if _PRONOUN.match(sentence):
        return _PRONOUN.sub(title, sentence, count=1)
    if _POSS.match(sentence):
        return _POSS.sub(title + "'s", sentence, count=1)
    return None


def _end(s: str) -> str:
    s = s.strip().rstrip(",;:")
    return s if s.endswith(".") else s + "."


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def positives(title: str, text: str) -> list[Fact]:
    sents = sentences(text)
    first = sents[0] if sents else ""
    m = re.match(r"^(.+?) (?:was|is|were|are) ", first)
    aliases = [m.group(1)] if m and len(m.group(1).split()) <= 6 else []
    out: list[Fact] = []
    for s in sents:
        about = _about(s, title, aliases)
        if about is None:
            continue
        cut = _CUT.search(about, len(title))
        if cut and len(about[:cut.start()].split()) >= len(title.split()) + 3:
            out.append(Fact(title, _end(about[:cut.start()]), "first-clause", s))
        lm = _LIST.match(about)
        if lm:
            items = [x.strip() for x in re.split(r",\s*(?:and\s+)?|\s+and\s+", lm.group("items")) if x.strip()]
            if len(items) >= 2:
                for it in items:
                    if 1 <= len(it.split()) <= 5:
                        out.append(Fact(title, f"{title} {lm.group('verb')} {_article(it)} {it}.", "list-item", s))
    for m2 in _LIFE.finditer(text):
        y1, y2 = int(m2.group(1)), int(m2.group(2))
        if y1 < y2:
            src = m2.group(0)
            out.append(Fact(title, f"{title} was born in {y1}.", "dates", src))
            out.append(Fact(title, f"{title} died in {y2}.", "dates", src))
            break
    seen: set[str] = set()
    return [f for f in out if not (f.text in seen or seen.add(f.text))]  # type: ignore[func-returns-value]


def _articles(s: str) -> str:
    return re.sub(r"\b(a|an) (?=(\w))", lambda m: _article(m.group(2)) + " ", s)


def _absent(words: Sequence[str], text_lower: str) -> bool:
    return all(w.lower() not in text_lower for w in words)


def negatives(title: str, text: str, own: Sequence[Fact], others: Sequence[Fact], rng: random.Random) -> list[Fact]:
    low = text.lower()
    out: list[Fact] = []
    for f in own:
        years = _YEAR.findall(f.text)
        if years:
            y = rng.choice(years)
            for _ in range(10):
                new = str(int(y) + rng.choice([-1, 1]) * rng.randint(3, 40))
                if new not in text:
                    out.append(Fact(title, f.text.replace(y, new, 1), "date-shift", f.source))
                    break
        caps = [c for c in _CAP.findall(f.text[len(title):]) if c.lower() not in normalize_title(title).split()]
        pool = [c for o in others for c in _CAP.findall(o.text[len(o.topic):]) if _absent([c], low)]
        if caps and pool:
            old = rng.choice(caps)
            same = [c for c in pool if c[-2:] == old[-2:]] or pool
            out.append(Fact(title, _articles(re.sub(rf"\b{re.escape(old)}\b", rng.choice(same), f.text, count=1)),
                            "name-swap", f.source))
        if f.how == "list-item":
            role = f.text.rstrip(".").split()[-1]
            roles = [o.text.rstrip(".").split()[-1] for o in others if o.how == "list-item"]
            roles = [r for r in roles if r.lower() != role.lower() and _absent([r], low)]
            if roles:
                out.append(Fact(title, _articles(f.text[:-1 - len(role)] + rng.choice(roles) + "."), "role-swap",
                                f.source))
    for o in rng.sample(list(others), min(len(others), max(2, len(own)))):
        if o.how == "dates":
            continue
        moved = title + o.text[len(o.topic):]
        content = [w for w in re.findall(r"[A-Za-z]+", o.text[len(o.topic):]) if w.lower() not in _STOP]
        if content and sum(w.lower() in low for w in content) / len(content) < 0.5:
            out.append(Fact(title, moved, "other-entity", o.source))
    return out


def synthesize(kb: KnowledgeBase, titles: Sequence[str], per_topic: int, seed: int,
               k_passages: int = 5) -> list[dict[str, Any]]:
    """Labelled claims (the judge-dev format: id, kind, topic, claim, label, evidence, how)."""
    rng = random.Random(seed)
    docs = {t: kb.passages(t) for t in titles}
    pos = {t: positives(t, " ".join(p.text for p in ps)) for t, ps in docs.items()}
    all_pos = [f for fs in pos.values() for f in fs]
    rows: list[dict[str, Any]] = []
    for t in titles:
        ps = docs[t]
        text = " ".join(p.text for p in ps)
        own = pos[t]
        if not own or not ps:
            continue
        others = [f for f in rng.sample(all_pos, min(len(all_pos), 60)) if f.topic != t]
        neg = negatives(t, text, own, others, rng)
        chosen = rng.sample(own, min(per_topic, len(own))) + rng.sample(neg, min(per_topic, len(neg)))
        evidence = [{"title": p.title, "text": p.text} for p in ps[:k_passages]]
        for i, f in enumerate(chosen):
            rows.append({"id": f"synth/{normalize_title(t).replace(' ', '-')}/{i}", "kind": f.how, "topic": t,
                         "claim": f.text, "label": "S" if f in own else "NS", "how": f.how, "evidence": evidence})
    return rows
