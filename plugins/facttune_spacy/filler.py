"""Which facts can be checked (VeriScore's rule): evaluative filler and statements about nobody in
particular give no fact.

A fact is *filler* when it carries an evaluative or abstract cue ("a testament to", "continues to
inspire", "vibrant culture", "left a lasting legacy") and nothing checkable besides the topic's
name: no other name, place, organisation, work, number or date. "He was a remarkable figure" is
filler; "he was a remarkable figure in the Italian Renaissance" is not (its checkable part is the
Italian Renaissance). The cue list is ours; it is deliberately short and errs toward keeping a
fact (an unsupported fact costs the score; a dropped real fact costs only recall).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# evaluative adjectives / adverbs, abstract nouns and verbs of praise that carry no checkable fact
CUES = frozenset("""
testament legacy legacies inspiration inspire inspires inspired inspiring inspirational remarkable extraordinary
profound profoundly vibrant unwavering tireless tirelessly enduring lasting indelible passion passions passionate
passionately dedication dedicated commitment committed devotion devoted remarkable incredible incredibly
exceptional exceptionally outstanding iconic beloved admired cherished celebrated legendary visionary
trailblazing trailblazer pioneering groundbreaking invaluable immense immeasurable countless timeless
fascinating captivating compelling brilliant brilliance genius genuine unparalleled unmatched unique uniquely
significant significantly important importantly notable impact impactful influence influential transformative
journey spirit spirits soul heart hearts dream dreams vision mission values principles ideals virtue virtues
resilience perseverance determination courage integrity humility wisdom kindness compassion generosity
empathy curiosity creativity excellence greatness love loved admiration respect respected revered reverence
renowned famous fame acclaim acclaimed esteemed prominent prestigious distinguished
shape shaped shaping resonate resonates resonated continues continue continued remembered remember
memory memories generation generations future humanity mankind world society community communities culture
cultural rich richness vibrancy beauty beautiful powerful power powerfully strong deep deeply
tapestry landscape realm fabric beacon symbol embodiment embodied embodies epitome figure figures force
""".split())

SPECIFIC_ENTS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART",
                           "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL",
                           "CARDINAL"})


def has_specific(doc: Any, ids: Iterable[int], topic_words: frozenset[str]) -> bool:
    """A name, place, number or date other than the topic's own name among these tokens."""
    for i in ids:
        t = doc[i]
        if t.text.lower() in topic_words:
            continue
        if t.like_num or t.ent_type_ in SPECIFIC_ENTS or (t.pos_ == "PROPN" and t.i != t.sent.start):
            return True
    return False


# adjectives that state a fact ("he was blind"), unlike judgements ("he was brilliant")
FACT_ADJECTIVES = frozenset("""blind deaf dead alive married divorced single widowed childless pregnant ill sick
disabled paralyzed left-handed right-handed bilingual fluent illiterate literate homeless wealthy poor rich
catholic protestant jewish muslim christian buddhist hindu atheist gay lesbian bisexual transgender""".split())
LIGHT_VERBS = frozenset("be have make take get do give become bring hold keep".split())
GENERIC = frozenset("""figure person man woman individual people life career work time way thing things one
role part field area name lot kind sort""".split())


def heads(doc: Any, ids: list[int]) -> list[Any]:
    """The words a span hangs on ("in the vibrant culture" → culture; "was a physicist" → physicist)."""
    inside = set(ids)
    out = []
    for i in ids:
        t = doc[i]
        if t.head.i not in inside or t.head.i == t.i:
            if t.dep_ in ("prep", "agent"):
                out.extend(c for c in t.children if c.dep_ == "pobj" and c.i in inside)
            elif t.pos_ not in ("AUX", "PART", "ADP", "DET", "PUNCT"):
                out.append(t)
    return out


def cue_modifiers(doc: Any, ids: list[int]) -> set[int]:
    """Evaluative adjectives and adverbs in a fact ("a renowned physicist", "tirelessly worked"), with
    the words that hang on them ("very"), to leave out of its text."""
    out: set[int] = set()
    for i in ids:
        t = doc[i]
        if t.dep_ in ("amod", "advmod") and is_cue(t) and t.head.i in ids:
            out |= {x.i for x in t.subtree}
    return out


def is_cue(t: Any) -> bool:
    return t.text.lower() in CUES or t.lemma_.lower() in CUES


def is_filler(doc: Any, parts: list[list[int]], topic_words: frozenset[str]) -> bool:
    """No specific, and what the fact says (its verb, its argument) is praise or abstraction."""
    ids = [i for p in parts for i in p]
    if has_specific(doc, ids, topic_words):
        return False
    hs = [h for p in parts for h in heads(doc, p) if h.text.lower() not in topic_words]
    if not hs:
        return True
    if any(is_cue(h) for h in hs):
        return True
    if all(h.pos_ == "ADJ" and h.text.lower() not in FACT_ADJECTIVES for h in hs):
        return True  # "was enigmatic", "is the most talented": a judgement, not a fact
    return all(h.text.lower() in GENERIC or h.lemma_.lower() in GENERIC or is_cue(h) for h in hs
               if h.pos_ in ("NOUN", "ADJ", "PROPN")) and not any(
        h.pos_ == "VERB" and not is_cue(h) and h.lemma_.lower() not in LIGHT_VERBS for h in hs)
