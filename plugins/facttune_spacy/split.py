"""Atomic facts from a dependency parse: one clause at a time, one argument at a time.

A sentence is cut into clauses (the main verb, coordinated verbs, adverbial, relative and participial
clauses, appositions). Each clause gives facts of the shape ``subject + verb + one argument``:

- the subject is the clause's own, else the one it shares (a coordinated or participial verb takes the
  main verb's; a relative clause takes the noun it hangs on, or, on a predicate noun ("was a physicist
  who ..."), the clause's subject; "who"/"which"/"whom" become that noun);
- pronouns that stand for the topic become the topic's name in the subject ("he" → "Marie Curie",
  "his father" → "Marie Curie's father"), so every fact reads on its own;
- each core argument (object, predicate noun or adjective) is one fact, split at coordination
  ("a physicist and chemist" → two facts); each adverbial argument (a place, a date, a "for ...") is
  one more fact with the core argument kept ("born in 1867", "born in Warsaw");
- a nationality is a fact of its own ("an American film actor" → American, a film actor), and so is each
  noun of a coordination the parser hung on the noun as a modifier ("an athlete and activist");
- an infinitive that says what came to pass reads as a finite verb ("went on to become a director" →
  "became a director", "the first person to walk on the Moon" → "walked on the Moon");
- an apposition is a fact of its own ("Carlo, a blacksmith" → "Carlo was a blacksmith"); a year
  range after a name is a lifespan.

Pure functions over a parsed spaCy ``Span``: no model is loaded here (atomic.py owns the pipeline).
"""

from __future__ import annotations

from typing import Any

from .words import (
    CLAUSE,
    COORDINABLE,
    CORE,
    FIRSTS,
    NOUN_PREPS,
    RELATIVE,
    SKIP,
    SUBJ,
    VERB_GROUP,
    VOID_ADVERBS,
    YEARS,
    Fact,
    Topic,
    came_of,
    conjunct_span,
    conjuncts,
    lifespan_facts,
    nationalities,
    past,
    same_place,
    set_off,
    subtree,
)


class Clauses:
    """The facts of one parsed sentence."""

    def __init__(self, sent: Any, topic: Topic) -> None:
        self.sent = sent
        self.doc = sent.doc
        self.topic = topic
        self.facts: list[Fact] = []
        self.done: set[int] = set()
        self.subj_repl: dict[int, str] = {}  # topic pronouns → the topic's name (in subjects)
        self.consumed: set[int] = set()  # tokens already made into a fact of their own (a lifespan)
        if topic.name:
            stand, poss = topic.pronouns
            for t in sent:
                low = t.text.lower()
                if low in stand and t.dep_ != "expl":  # not "it is said that"
                    self.subj_repl[t.i] = topic.name
                elif low in poss and t.dep_ == "poss":
                    self.subj_repl[t.i] = topic.name + "'s"
                elif t.text == "I" and t.i > sent.start and {"i", t.nbor(-1).lower_} <= topic.words:
                    self.subj_repl[t.i] = topic.name  # "Elizabeth I": the parser took the numeral for "I"

    def run(self) -> list[Fact]:
        self.lifespans()
        self.clause(self.sent.root)
        return self.facts

    def about_topic_sentence(self) -> bool:
        """The sentence's main subject is the topic (its name or a pronoun for it)."""
        subj = self.main_subject()
        return subj is not None and self.is_topic(subj)

    def main_subject(self) -> Any:
        """The subject of the sentence's root verb, or None."""
        return next((c for c in self.sent.root.children if c.dep_ in ("nsubj", "nsubjpass")), None)

    def subject_span(self) -> set[int]:
        """The tokens of the sentence's main subject (its parenthesis included)."""
        subj = self.main_subject()
        return subtree(subj) if subj is not None else set()

    def lifespans(self) -> None:
        """'Name (1919-2007)', 'Name (born 4 May 1931)': the parenthesis after the topic's name."""
        toks = list(self.sent)
        for k, t in enumerate(toks[:-1]):
            if t.text != "(" or k == 0:
                continue
            if toks[k - 1].text.lower() not in self.topic.words and not (
                    self.about_topic_sentence() and t.i in self.subject_span()):
                continue  # "a book (1910)", "the film Bwana Devil (1982)": not the person's lifespan
            end = next((j for j in range(k + 1, len(toks)) if toks[j].text == ")"), None)
            if end is None:
                continue
            inner = toks[k + 1:end]
            text = "".join(x.text_with_ws for x in inner).strip()
            ids = {x.i for x in toks[k:end + 1]}
            facts = lifespan_facts(self.topic.name, text)
            if facts:
                self.consumed |= ids
                for f in facts:
                    self.facts.append(Fact("", [], {}, True, text_override=f, source=ids))

    # -- text of noun phrases
    def text(self, ids: set[int], repl: dict[int, str] | None = None) -> str:
        out = []
        srt = sorted(ids)
        for k, i in enumerate(srt):
            t = self.doc[i]
            w = (repl or {}).get(i, t.text)
            glue = t.whitespace_ if k + 1 < len(srt) and srt[k + 1] == i + 1 else " "
            out.append(w + glue)
        return "".join(out).strip(" ,")

    def noun_text(self, tok: Any) -> str:
        if self.is_topic(tok):
            return self.topic.name
        group = conjuncts(tok)
        return self.text(conjunct_span(tok, group) if len(group) > 1 else subtree(tok), self.subj_repl)

    # -- subjects
    def subject_of(self, pred: Any, seen: frozenset[int] = frozenset()) -> tuple[str, bool, set[int]]:
        """(subject text, whether it is the topic, its tokens), inherited when the verb has none."""
        if pred.dep_ in ("relcl", "acl") and pred.head.pos_ in ("NOUN", "PROPN", "PRON", "NUM"):
            head = pred.head
            own = [c for c in pred.children if c.dep_ in SUBJ]
            if not own or own[0].text.lower() in RELATIVE:
                if head.dep_ in ("attr", "oprd", "appos") and head.head.i != head.i and pred.i not in seen:
                    # "was a physicist who won ...": the physicist is the clause's subject
                    if head.dep_ == "appos":
                        return self.noun_text(head.head), self.is_topic(head.head), set()
                    return self.subject_of(head.head, seen | {pred.i})
                return self.noun_text(head), self.is_topic(head), set()
        for c in pred.children:
            if c.dep_ in SUBJ:
                if self.is_topic(c):
                    ids = {c.i, *[x.i for x in c.children if x.dep_ in ("compound", "flat")]}
                    return self.topic.name, True, ids
                ids = subtree(c)
                if c.pos_ == "PROPN" and c.head.i == self.sent.root.i and self.topic.words:
                    # the main subject of a sentence in a biography is the person, under whatever name the
                    # model gave them ("Sutton B. Anthony" for Susan B. Anthony): a fact about the topic
                    name_ids = {c.i, *[x.i for x in c.children if x.dep_ in ("compound", "flat")]}
                    # a fuller form of the topic's name ("Stanley Edward Kubrick"), with or without a parenthesis
                    # or clause after it, is the topic: its facts are checked under the topic's name
                    shared = any(self.doc[i].text.lower() in self.topic.words for i in name_ids)
                    return (self.topic.name if shared else self.text(ids - self.consumed, self.subj_repl)), True, ids
                return self.text(ids, self.subj_repl), False, ids
        if pred.i in seen or pred.head.i == pred.i:
            return self.topic.name, True, set()
        if pred.dep_ in ("conj", "advcl", "xcomp", "parataxis", "ccomp"):
            return self.subject_of(pred.head, seen | {pred.i})
        if pred.dep_ == "pcomp" and pred.head.head.i != pred.head.i:
            return self.subject_of(pred.head.head, seen | {pred.i})
        return self.topic.name, True, set()

    def topic_ids(self, ids: set[int]) -> set[int]:
        """Tokens of a span that are the topic's name, or function words."""
        return {i for i in ids if self.doc[i].text.lower() in self.topic.words or self.doc[i].is_stop
                or self.doc[i].is_punct}

    def is_topic(self, tok: Any) -> bool:
        return self.topic.named_by(tok) or tok.i in self.subj_repl

    # -- verbs
    def verb_group(self, pred: Any) -> list[int]:
        ids = {pred.i}
        own = [c for c in pred.children if c.dep_ in VERB_GROUP or c.dep_ == "dative" or (
            c.dep_ == "advmod" and c.i < pred.i and c.text.lower() not in VOID_ADVERBS | RELATIVE)]
        ids |= {c.i for c in own}
        if pred.dep_ == "conj" and pred.tag_ in ("VBN", "VBG") and not any(
                c.dep_ in ("aux", "auxpass") for c in pred.children):
            # "was born in X and raised in Y": the second verb shares the first one's auxiliaries
            ids |= {c.i for c in pred.head.children if c.dep_ in ("aux", "auxpass") and c.i < pred.head.i}
        # auxiliaries first, whatever order the parse left them in ("Born ..., he was" → "was born")
        return sorted(ids, key=lambda i: (self.doc[i].dep_ not in ("aux", "auxpass"), i))

    def bare_participle(self, pred: Any, vg: list[int]) -> dict[int, str]:
        """A participle with no auxiliary reads as a finite verb: "Born in X, he ..." → "was born in X",
        "..., appearing in films" → "appeared in films"."""
        if len(vg) != 1 or pred.dep_ not in ("advcl", "acl", "conj", "xcomp", "pcomp"):
            return {}
        bare_head = pred.dep_ == "conj" and pred.head.tag_ == pred.tag_ and pred.head.dep_ in ("advcl", "acl") \
            and not any(c.dep_ in ("aux", "auxpass") for c in pred.head.children)
        if pred.tag_ == "VBN" and (pred.dep_ != "conj" or bare_head):
            return {pred.i: "was " + pred.text.lower()}
        if pred.tag_ == "VBG" and pred.dep_ != "xcomp" and (pred.dep_ != "conj" or bare_head):
            return {pred.i: past(pred) if not self.present() else pred.lemma_ + "s"}
        return {}

    def infinitive(self, pred: Any, vg: list[int]) -> dict[int, str]:
        """An infinitive that states what happened reads as a finite verb: "went on to become a director" →
        "became a director", "the first person to set foot on the Moon" → "set foot on the Moon"."""
        to = [i for i in vg if self.doc[i].dep_ == "aux" and self.doc[i].tag_ == "TO"]
        if not to or any(c.dep_ in SUBJ for c in pred.children):
            return {}
        head = pred.head  # "went on to", "grew up to", "rose to": the infinitive is what came of it
        first = pred.dep_ in ("relcl", "acl") and head.dep_ in ("attr", "appos") and any(
            (c.dep_ == "amod" and c.lower_ in FIRSTS) or c.tag_ == "JJS" for c in head.children)
        if not (first or came_of(pred)):
            return {}
        return {to[0]: "", pred.i: past(pred)}  # it happened before it could be told

    def present(self) -> bool:
        root = self.sent.root
        tags = {root.tag_} | {c.tag_ for c in root.children if c.dep_ in ("aux", "auxpass")}
        return bool(tags & {"VBZ", "VBP"}) and not tags & {"VBD"}

    # -- clauses
    def clause(self, pred: Any) -> None:
        if pred.i in self.done:
            return
        self.done.add(pred.i)
        subj, about_topic, subj_ids = self.subject_of(pred)
        vg = self.verb_group(pred)
        repl = {**self.rel_replacements(pred), **self.bare_participle(pred, vg), **self.infinitive(pred, vg)}
        if not about_topic:
            repl.update(self.subj_repl)  # "his father died": the pronoun must read on its own
        core: list[Any] = []
        mods: list[Any] = []
        subclauses: list[Any] = []
        for c in pred.children:
            if c.dep_ in SUBJ:
                self.detached(c)
                continue
            if c.dep_ in VERB_GROUP or c.dep_ in SKIP or c.i in vg:
                continue
            if c.dep_ == "conj" and c.pos_ in ("NOUN", "PROPN") and mods and mods[-1].dep_ == "prep":
                mods.append(c)  # "appeared in films, shows": the parser hung "shows" on the verb
                continue
            if c.dep_ in CLAUSE or (c.dep_ in ("ccomp", "xcomp") and c.pos_ in ("VERB", "AUX")
                                    and c.dep_ == "ccomp" and any(x.dep_ in SUBJ for x in c.children)) \
                    or (c.dep_ == "xcomp" and came_of(c)):  # "went on to become": its own fact
                subclauses.append(c)
                continue
            if c.dep_ == "advmod" and c.text.lower() in VOID_ADVERBS:
                continue
            pcomp = [x for x in c.children if x.dep_ == "pcomp" and x.pos_ in ("VERB", "AUX")]
            if c.dep_ == "prep" and pcomp:
                subclauses.append(pcomp[0])  # "after gaining an audience" → "gained an audience"
                continue
            if c.text.lower() in RELATIVE and c.dep_ in ("advmod", "dobj", "pobj"):
                continue
            (core if c.dep_ in CORE else mods).append(c)
        cores: list[list[int]] = []
        noun_mods: list[tuple[list[int], set[int]]] = []  # (anchor, prepositional phrase on a core noun)
        for a in core:
            group = conjuncts(a) if a.dep_ in COORDINABLE else [a]
            for g in group:
                ids = conjunct_span(g, group)
                det = self.borrowed_det(g, group)
                first = min(ids)
                if det and self.doc[first].dep_ != "det":
                    repl[first] = det + " " + repl.get(first, self.doc[first].text)
                for i in ids:
                    self.detached(self.doc[i])
                for head, words in self.noun_conjuncts(g, ids):
                    if a.dep_ in ("attr", "appos"):
                        # "an American (film) actress": the nationality is a fact of its own (FActScore's humans
                        # split it)
                        for n in nationalities(head, words):
                            span = {x.i for x in n.subtree}
                            words -= span
                            cores.append(sorted(span))
                    preps = [c for c in head.children if c.dep_ == "prep" and c.text.lower() in NOUN_PREPS
                             and c.i > head.i]
                    split = [(subtree(pp), pp) for pp in preps]
                    for span, _ in split:
                        words -= span
                    cores.extend(sorted(x) for x in expand(self.doc, words))
                    for span, _ in split:
                        for x in expand(self.doc, span):
                            noun_mods.append((sorted(words), x))
        anchor = cores[-1] if len(cores) == 1 or (len(core) == 1 and len(conjuncts(core[0])) == 1) else []
        refined = {tuple(a) for a, _ in noun_mods} | ({tuple(anchor)} if anchor and mods else set())
        for ids in cores:
            self.add(subj, about_topic, [vg, ids], repl, subj_ids, refined=tuple(ids) in refined)
        for anchor_ids, span in noun_mods:
            self.add(subj, about_topic, [vg, anchor_ids, sorted(span)], repl, subj_ids)
        mods = self.ranges(mods)
        for m in mods:
            for ids in self.modifier_spans(m):
                if set(ids) <= self.topic_ids(ids):
                    continue  # "born in Marlene Dietrich": the parse made the topic an adverbial
                self.add(subj, about_topic, [vg, anchor, sorted(ids)], repl, subj_ids)
                for i in ids:
                    self.detached(self.doc[i])
        if not cores and not mods and pred.pos_ == "VERB":
            partner = [c for c in pred.children if c.dep_ == "conj" and c.pos_ == "VERB"]
            shared = [m for m in (partner[0].children if partner else []) if m.dep_ in ("prep", "npadvmod")]
            if shared:  # "born and raised in X": born in X too
                for m in shared:
                    for ids in self.modifier_spans(m):
                        self.add(subj, about_topic, [vg, sorted(ids)], repl, subj_ids)
            elif pred.lemma_ not in ("bear", "be", "have", "do") and not subclauses:
                self.add(subj, about_topic, [vg], repl, subj_ids)
        for s in subclauses:
            self.clause(s)

    def noun_conjuncts(self, noun: Any, ids: set[int]) -> list[tuple[Any, set[int]]]:
        """A coordination the parser hung on the noun as a modifier: "an athlete and environmental activist"
        parsed as (athlete and) → activist is two nouns, each with the article: [(head, its words)]."""
        for m in noun.children:
            cc = {c.i for c in m.children if c.dep_ == "cc" and c.i > m.i}
            if m.i < noun.i and m.dep_ in ("nmod", "compound") and m.pos_ == "NOUN" and cc \
                    and not any(c.dep_ == "conj" for c in m.children):
                first = (subtree(m) & ids) - cc
                rest = ids - first - cc
                if not first or not rest:
                    continue
                dets = {c.i for c in noun.children if c.dep_ == "det" and c.i < min(first)}
                return [(m, first | dets), (noun, rest)]
        return [(noun, ids)]

    def borrowed_det(self, tok: Any, group: list[Any]) -> str | None:
        """'a physicist and chemist': the second noun borrows the first one's article."""
        if tok.i == group[0].i or tok.pos_ not in ("NOUN",) or any(c.dep_ == "det" for c in tok.children):
            return None
        dets = [c.text.lower() for c in group[0].children if c.dep_ == "det"]
        if not dets or dets[0] not in ("a", "an", "the"):
            return None
        if dets[0] == "the":
            return "the"
        return "an" if tok.text[:1].lower() in "aeiou" else "a"

    def rel_replacements(self, pred: Any) -> dict[int, str]:
        """In a relative clause, 'whom' / 'which' in an argument stand for the noun the clause hangs on."""
        if pred.dep_ != "relcl":
            return {}
        out = {}
        for t in pred.subtree:
            if t.text.lower() in ("whom", "which", "that") and t.dep_ in ("pobj", "dobj"):
                out[t.i] = self.noun_text(pred.head)
        return out

    @staticmethod
    def ranges(mods: list[Any]) -> list[Any]:
        """'from 1398 to 1443' is one adverbial (a range), not two."""
        out: list[Any] = []
        for m in mods:
            if out and not isinstance(out[-1], tuple) and m.dep_ == "prep" \
                    and m.text.lower() in ("to", "until", "till") and out[-1].dep_ == "prep" \
                    and out[-1].text.lower() == "from":
                out[-1] = (out[-1], m)
                continue
            out.append(m)
        return out

    def modifier_spans(self, mod: Any) -> list[set[int]]:
        """An adverbial argument as one span per coordinated item ("in films and plays" → two)."""
        if isinstance(mod, tuple):
            return [subtree(mod[0]) | subtree(mod[1])]
        if mod.dep_ == "conj":  # a noun the parser hung on the verb: it takes the preceding preposition
            prep = [c for c in mod.head.children if c.dep_ == "prep" and c.i < mod.i]
            group = conjuncts(mod)
            return [({prep[-1].i} if prep else set()) | conjunct_span(g, group) for g in group]
        return expand(self.doc, subtree(mod))

    def detached(self, tok: Any) -> None:
        """Facts from an apposition, relative or participial clause hanging on this token."""
        for c in tok.children:
            if c.i in self.consumed:
                continue
            if c.dep_ == "appos" and not same_place(tok, c) and set_off(c):
                self.apposition(tok, c)
            elif c.dep_ in ("relcl", "acl") and c.pos_ in ("VERB", "AUX"):
                self.clause(c)

    def apposition(self, noun: Any, app: Any) -> None:
        ids = subtree(app)
        text = self.text(ids, self.subj_repl)
        subj = self.noun_text(noun)
        m = YEARS.match(text.replace(" ", "")) or YEARS.match(text)
        if m and not self.is_topic(noun):
            return  # "Jeet (1996)": a year on something else says nothing checkable about the topic
        if m:
            a, b = m.group(1), m.group(2)
            fact = f"{subj} was born in {a}" if not b else f"{subj} lived from {a} to {b}"
            self.facts.append(Fact("", [], {}, self.is_topic(noun), text_override=fact, source=ids))
            return
        if not text or app.pos_ in ("PUNCT", "SYM", "NUM"):
            return
        verb = "is" if self.present() else "was"
        self.facts.append(Fact("", [], {}, self.is_topic(noun), text_override=f"{subj} {verb} {text}", source=ids))
        for x in app.subtree:
            if x.i != app.i:
                self.detached(x)

    def add(self, subj: str, about_topic: bool, parts: list[list[int]], repl: dict[int, str],
            subj_ids: set[int], refined: bool = False) -> None:
        keep = [self.trim([i for i in p if self.doc[i].dep_ != "cc" and i not in self.consumed]) for p in parts]
        flat = [i for p in keep for i in p]
        if not flat or not any(self.doc[i].pos_ in ("VERB", "AUX") for i in flat):
            return  # no verb: a fragment the parse left over, not a statement
        if any(self.doc[i].text.lower() in RELATIVE and i not in repl and self.doc[i].dep_ in ("pobj", "dobj")
               for i in flat):
            return
        self.facts.append(Fact(subj, [p for p in keep if p], repl, about_topic, source=set(flat) | subj_ids,
                               refined=refined))

    def trim(self, ids: list[int]) -> list[int]:
        """Punctuation at the edges of a span goes; inside ('Warsaw, Poland', 'Polish-born') it stays."""
        while ids and self.doc[ids[0]].is_punct:
            ids = ids[1:]
        while ids and self.doc[ids[-1]].is_punct and self.doc[ids[-1]].text not in "%":
            ids = ids[:-1]
        return ids


def expand(doc: Any, ids: set[int], depth: int = 0) -> list[set[int]]:
    """A span with coordinated nouns or adjectives inside ("roles in films and shows") as one span per
    conjunct ("roles in films", "roles in shows"), recursively."""
    if depth > 3:
        return [ids]
    for i in sorted(ids):
        t = doc[i]
        if t.pos_ not in ("NOUN", "PROPN", "ADJ", "NUM"):
            continue
        group = [g for g in conjuncts(t) if g.i in ids]
        if len(group) < 2 or t.dep_ == "conj":
            continue
        spans = {g.i: conjunct_span(g, group) & ids for g in group}
        every = set().union(*spans.values())
        joins = {j for j in ids - every if j > group[0].i and j < max(spans[group[-1].i])
                 and (doc[j].dep_ in ("cc", "preconj") or (doc[j].is_punct and doc[j].head.i in spans))}
        rest = ids - every - joins
        out: list[set[int]] = []
        for g in group:
            out.extend(expand(doc, rest | spans[g.i], depth + 1))
        return out
    return [ids]


def sentence_facts(sent: Any, topic: Topic) -> list[Fact]:
    """The atomic facts of one parsed sentence (a spaCy Span)."""
    return Clauses(sent, topic).run()
