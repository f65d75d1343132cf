"""The words and small tree helpers split.py cuts with: dependency labels, pronouns, past tenses,
subtrees, conjuncts, and the Topic and Fact records. Pure functions over spaCy tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SUBJ = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})
CORE = frozenset({"dobj", "attr", "acomp", "oprd", "ccomp", "xcomp"})
COORDINABLE = frozenset({"dobj", "attr", "oprd", "dative", "acomp"})
VERB_GROUP = frozenset({"aux", "auxpass", "neg", "prt"})
CLAUSE = frozenset({"conj", "advcl", "relcl", "acl", "parataxis"})
SKIP = frozenset({"punct", "cc", "mark", "preconj", "meta", "intj", "discourse", "dep"})
# verbs whose "to"-infinitive says what came to pass ("went on to become", "grew up to be", "rose to lead")
OUTCOME_VERBS = frozenset({"go", "grow", "continue", "rise", "come", "proceed", "live"})
# a predicate noun marked as one of a kind: "the first woman to win X" says she won X
FIRSTS = frozenset({"first", "last", "only", "second", "third", "sole"})

NOUN_DETACH = frozenset({"appos", "relcl", "acl"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
# prepositions whose phrase on a predicate noun is a fact of its own ("a professor [at the Conservatory]")
NOUN_PREPS = frozenset("in at on during from since until between throughout under within across after before".split())
# sentence adverbs that carry no fact of their own ("also", "later", "however")
VOID_ADVERBS = frozenset("""also then later however moreover furthermore additionally still even thus therefore
finally eventually ultimately subsequently meanwhile indeed often always sometimes particularly especially
notably widely perhaps now today currently once soon truly deeply greatly""".split())
PRONOUNS_SUBJ = frozenset({"he", "she"})
PRONOUNS_OBJ = frozenset({"him", "himself", "herself"})
PRONOUNS_POSS = frozenset({"his", "her"})
NEUTER_SUBJ = frozenset({"it", "itself"})
NEUTER_POSS = frozenset({"its"})
PERSONAL = re.compile(r"\b(?:he|she|his|her|hers|him|himself|herself)\b", re.IGNORECASE)
RELATIVE = frozenset({"who", "which", "that", "whom", "whose", "where", "when"})
IRREGULAR_PAST = dict(w.split(":") for w in """be:was have:had do:did go:went begin:began become:became write:wrote
make:made take:took give:gave get:got find:found lead:led leave:left hold:held build:built bring:brought buy:bought
teach:taught think:thought fight:fought win:won run:ran come:came see:saw know:knew grow:grew draw:drew throw:threw
fly:flew speak:spoke choose:chose rise:rose drive:drove ride:rode meet:met feel:felt keep:kept sell:sold tell:told
spend:spent send:sent lose:lost pay:paid say:said sing:sang put:put set:set let:let cut:cut read:read sit:sat
stand:stood understand:understood fall:fell forget:forgot hear:heard shine:shone sleep:slept split:split
seek:sought spread:spread strike:struck swim:swam wear:wore weave:wove bear:bore lay:laid lie:lay""".split())


def came_of(tok: Any) -> bool:
    """A "to"-infinitive that says what came of its verb ("went on to become", "grew up to be")."""
    return tok.dep_ in ("advcl", "xcomp") and tok.head.lemma_.lower() in OUTCOME_VERBS and any(
        x.tag_ == "TO" for x in tok.children)


def past(tok: Any) -> str:
    """Simple past of a verb from its lemma (rules and a short table of irregular verbs)."""
    lemma = (tok.lemma_ or tok.text).lower()
    if lemma in IRREGULAR_PAST:
        return IRREGULAR_PAST[lemma]
    if lemma.endswith("e"):
        return lemma + "d"
    if re.search(r"[^aeiou]y$", lemma):
        return lemma[:-1] + "ied"
    if re.search(r"^[^aeiou]*[aeiou][bdgmnprt]$", lemma):
        return lemma + lemma[-1] + "ed"
    return lemma + "ed"


YEARS = re.compile(r"^\(?\s*(?:c\.\s*|born\s+|b\.\s*)?(\d{3,4})(?:\s*(?:-|–|—|to)\s*(\d{2,4}))?\s*\)?$")


def finish(text: str) -> str:
    """Tidy spacing and punctuation; capital first letter, one final period."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r",\s*,", ",", text)
    text = text.strip(" ,;:-–—\"'")
    text = re.sub(r"\b([Aa]) (?=[aeioAEIO])", r"\1n ", text)
    text = re.sub(r"\b([Aa])n (?=[b-df-gj-np-tv-zB-DF-GJ-NP-TV-Z])", r"\1 ", text)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def subtree(tok: Any, cut: set[int] | None = None, detach: bool = True) -> set[int]:
    """The token's subtree, leaving out detached children (appositions, relative clauses; their own
    facts), parentheses and the tokens in ``cut``."""
    cut = cut or set()
    out: set[int] = set()
    stack = [tok]
    while stack:
        t = stack.pop()
        if t.i in cut:
            continue
        out.add(t.i)
        for c in t.children:
            if c.i in cut or (detach and c.dep_ in NOUN_DETACH and not same_place(t, c)
                              and (c.dep_ != "appos" or set_off(c))):
                continue
            if c.dep_ == "punct" and c.text in "()[]":
                continue
            stack.append(c)
    return out


def same_place(head: Any, app: Any) -> bool:
    """'Warsaw, Poland': an apposition that narrows a place stays with it."""
    return app.dep_ == "appos" and head.ent_type_ in PLACE and app.ent_type_ in PLACE


def set_off(app: Any) -> bool:
    """An apposition is set off by a comma, a parenthesis or a dash ("Frontinus, a senator")."""
    i = app.left_edge.i
    return i > 0 and app.doc[i - 1].text in (",", "(", "–", "—", "-")


def conjuncts(tok: Any) -> list[Any]:
    """The token and the items coordinated after it ("physicist and chemist")."""
    return [tok, *[c for c in tok.conjuncts if c.i > tok.i]]


def conjunct_span(tok: Any, group: list[Any]) -> set[int]:
    """One conjunct's own words: its subtree minus the other conjuncts and the joining words."""
    ids = subtree(tok, cut={g.i for g in group if g.i != tok.i})
    heads = {g.i for g in group}
    doc = tok.doc
    return {i for i in ids if doc[i].dep_ not in ("cc", "preconj")
            and not (doc[i].dep_ == "punct" and doc[i].head.i in heads)}


@dataclass(frozen=True)
class Topic:
    """How the topic is named, and whether a noun phrase names it."""

    name: str
    words: frozenset[str]
    neuter: bool = False  # a place, work or event: "it" / "its" stand for it (not "he" / "she")

    @classmethod
    def of(cls, name: str | None, text: str = "") -> Topic:
        """The topic of a response; ``text`` (the response) decides which pronouns stand for it: "it"
        when the response says no he/she/his/her/him at all (a waterfall, an army, a war)."""
        n = (name or "").strip()
        neuter = bool(text) and not PERSONAL.search(text)
        return cls(n, frozenset(w.lower() for w in re.findall(r"\w+", n)), neuter)

    @property
    def pronouns(self) -> tuple[frozenset[str], frozenset[str]]:
        """(subject/object pronouns, possessives) that stand for the topic."""
        if self.neuter:
            return NEUTER_SUBJ, NEUTER_POSS
        return PRONOUNS_SUBJ | PRONOUNS_OBJ, PRONOUNS_POSS

    def named_by(self, tok: Any) -> bool:
        """The noun and its name parts are all words of the topic's name ("Curie", "Marie Curie")."""
        if not self.words or tok.pos_ != "PROPN":
            return False
        parts = [tok, *[c for c in tok.children if c.dep_ in ("compound", "flat")]]
        return all(p.text.lower() in self.words for p in parts)


@dataclass
class Fact:
    """One fact: a subject, then groups of tokens in order (verb group, core argument, modifier)."""

    subject: str
    parts: list[list[int]]
    replace: dict[int, str]
    about_topic: bool
    text_override: str | None = None
    source: set[int] = field(default_factory=set)  # every token this fact accounts for (coverage)
    refined: bool = False  # a core that other facts of the clause repeat with an adverbial ("began his career" →
    # "began his career in 1990"): on its own it adds only a vague fact

    def render(self, doc: Any) -> str:
        if self.text_override is not None:
            return finish(self.text_override)
        out = self.subject + " "
        for ids in self.parts:
            for k, i in enumerate(ids):
                t = doc[i]
                w = self.replace.get(i, t.text)
                if i == t.sent.start and t.pos_ != "PROPN" and w == t.text:
                    w = w[:1].lower() + w[1:]
                glue = t.whitespace_ if k + 1 < len(ids) and ids[k + 1] == i + 1 else " "
                out += w + glue
            out += " "
        return finish(out)


def nationalities(head: Any, ids: set[int]) -> list[Any]:
    """Nationality adjectives before a predicate noun, on it or on a noun that modifies it ("an American
    film actor"), within the words of this fact."""
    out = []
    for t in head.subtree:
        if t.i >= head.i or t.i not in ids or t.ent_type_ != "NORP" or t.dep_ not in ("amod", "compound"):
            continue
        up = t.head
        while up.i != head.i and up.dep_ in ("nmod", "compound", "amod") and up.i < head.i:
            up = up.head
        if up.i == head.i and t.head.pos_ in ("NOUN", "PROPN"):
            out.append(t)
    return out


_YEAR = re.compile(r"\b(\d{3,4})\b")


def lifespan_facts(name: str, text: str) -> list[str]:
    """'1919-2007' → born in 1919, died in 2007; 'born September 4, 1931' → born on that date."""
    t = text.strip()
    if not _YEAR.search(t) or len(t) > 60:
        return []
    m = re.match(r"^(?:born|b\.)\s+(.*)$", t, flags=re.IGNORECASE)
    if m:
        return [f"{name} was born {on_or_in(m.group(1))}"]
    parts = [p.strip(" ,") for p in re.split(r"\s*(?:–|—|-|\bto\b)\s*", t) if p.strip(" ,")]
    if len(parts) == 2 and all(_YEAR.search(p) or p.lower() == "present" for p in parts):
        born, died = (re.sub(r"^c\.\s*", "", p) for p in parts)
        out = [f"{name} was born {on_or_in(born)}"]
        if died.lower() != "present":
            out.append(f"{name} died {on_or_in(died)}")
        return out
    if len(parts) == 1 and _YEAR.fullmatch(parts[0]):
        return [f"{name} was born in {parts[0]}"]
    return []


def on_or_in(date: str) -> str:
    return ("in " if re.fullmatch(r"\d{3,4}|[A-Z][a-z]+ \d{3,4}", date) else "on ") + date
