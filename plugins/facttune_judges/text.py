"""Model-free text analysis shared by the judges: content words, names, numbers, dates and roles.

A claim is cut into words; the topic's own name and function words are left out (they say nothing
checkable); every other word is one of:

- ``name``: a capitalised word not at the start (a person, place, nationality, title);
- ``number``: digits or a number word (``seven``);
- ``date``: a year (3-4 digits), or a word of a date expression that the evidence's dates settle
  (``born in 1858``, ``the 18th century``);
- ``role``: an occupation or title (``poet``, ``physicist``, ``emperor``): found when the evidence
  names it or a role that entails it (``physicist`` → ``scientist``, ``novelist`` → ``writer``; the
  table is ``ROLES``). A small model's typical invention is a neighbouring role ("was a poet" for a
  playwright), which word similarity passes;
- ``word``: anything else.

Names and numbers must be found in the evidence as they are (up to case, plural and a demonym
suffix: Italy/Italian, Islam/Islamic); a changed year, place or nationality is exactly what a
similarity model does not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?", re.UNICODE)

# function words and relation fillers: what a claim says with them is carried by its other words
STOPWORDS = frozenset("""
a an the of in on at to for from by with and or nor but as is was were are be been being am has have had
do did does doing it its itself he she his her hers him himself herself they their theirs them themselves
this that these those who whom whose which what when where why how while also not no than then there here
into onto over under about after before during between among through up down out off upon within without
very more most much such some any all each both either neither other another one ones s i me my we our us
you your yours would could can will may might should must shall just only even still yet so too
""".split())

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                     "ninety": 90, "hundred": 100})

# words whose truth is settled by the dates around them ("born in 1858" when the evidence has 1858)
DATE_WORDS = frozenset("born birth died death lived live living century centuries decade decades year years "
                       "era period age ages".split())

# occupations and titles a biography states: each maps to the roles that entail it (a physicist is a
# scientist; a scientist is not a physicist). A role absent from this table stays a plain ``word``.
_ROLE_GROUPS: dict[str, str] = {
    "scientist": "physicist chemist biologist astronomer astrophysicist geologist botanist zoologist naturalist "
                 "physiologist biochemist microbiologist geneticist neuroscientist ecologist meteorologist "
                 "bacteriologist pathologist",
    "writer": "novelist poet playwright dramatist essayist author journalist screenwriter lyricist biographer "
              "satirist librettist",
    "author": "novelist poet playwright dramatist essayist writer screenwriter biographer satirist",
    "artist": "painter sculptor illustrator printmaker engraver draughtsman cartoonist ceramicist",
    "musician": "composer pianist violinist cellist guitarist organist conductor singer songwriter drummer "
                "bassist saxophonist trumpeter rapper harpsichordist",
    "politician": "statesman senator congressman congresswoman legislator parliamentarian chancellor "
                  "president minister governor mayor",
    "monarch": "king queen emperor empress tsar tsarina czar sultan shah pharaoh caliph khan",
    "ruler": "king queen emperor empress tsar tsarina czar sultan shah pharaoh caliph khan monarch regent "
             "duke prince",
    "businessman": "businesswoman entrepreneur industrialist magnate tycoon executive financier banker",
    "businesswoman": "businessman entrepreneur industrialist magnate tycoon executive financier banker",
    "entrepreneur": "businessman businesswoman industrialist founder",
    "actor": "actress",
    "actress": "actor",
    "cleric": "priest bishop archbishop cardinal pope monk friar abbot theologian",
    "clergyman": "priest bishop archbishop cardinal pope vicar pastor minister",
    "athlete": "sprinter runner boxer footballer swimmer gymnast cyclist skater wrestler",
    "singer": "vocalist soprano tenor baritone mezzo contralto",
    "physician": "doctor surgeon",
    "filmmaker": "director",
    "director": "filmmaker",
    "scholar": "philosopher theologian historian philologist linguist jurist",
    "soldier": "officer commander marshal colonel captain lieutenant",
}
_LEAF_ROLES = """
philosopher theologian mathematician economist historian psychologist psychoanalyst sociologist anthropologist
linguist philologist engineer inventor architect lawyer jurist explorer navigator photographer portraitist
designer comedian dancer choreographer activist revolutionary reformer abolitionist diplomat editor publisher
producer professor teacher educator missionary prophet mystic admiral cosmologist ornithologist
entomologist polymath critic performer storyteller poet novelist playwright composer painter sculptor
""".split()
ROLES: dict[str, frozenset[str]] = {r: frozenset([r, *more.split()]) for r, more in _ROLE_GROUPS.items()}
ROLES.update({r: frozenset([r]) for group in [*_ROLE_GROUPS.values(), " ".join(_LEAF_ROLES)]
              for r in group.split() if r not in ROLES})
# a role also stands when the evidence names its field or deed with the same stem ('physics' for
# 'physicist', 'invented' for 'inventor'); not for these, whose stem names something else
# ('published' works do not make a publisher)
_NO_DERIVED = frozenset("publisher producer conductor editor critic performer singer".split())
_ROLE_SUFFIXES = ("ist", "ian", "er", "or")
_FIELD_ENDINGS = ("", "s", "y", "ies", "ics", "ic", "ical", "ed", "ing", "ion", "ions", "ition", "ure")


def role_bases(role: str) -> tuple[str, ...]:
    """The field/deed stems a role is derived from: 'physicist' → 'physic', 'inventor' → 'invent'."""
    if role in _NO_DERIVED:
        return ()
    return tuple(role[: -len(suf)] for suf in _ROLE_SUFFIXES if role.endswith(suf) and len(role) - len(suf) >= 5)


# names another name implies: an English poet is British (not the reverse)
_NAME_ENTAILED_BY: dict[str, tuple[str, ...]] = {
    "british": ("english", "scottish", "welsh", "england", "scotland", "wales", "britain"),
    "briton": ("english", "scottish", "welsh"),
}

_SUFFIXES = ("ations", "ation", "ingly", "ing", "edly", "ed", "ies", "es", "s", "ly")
_DEMONYM = ("", "n", "an", "ian", "ic", "ish", "ese", "i", "s", "es", "ans", "ians", "ics")
_YEAR_RANGE = (100, 2199)
_CENTURY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)[\s-]+centur(?:y|ies)\b", re.IGNORECASE)
_DECADE = re.compile(r"\b(\d{3})0s\b")


def stem(word: str) -> str:
    """A light suffix stripper (plural, -ed, -ing, -ly, -ation): enough to match 'composed'/'composer'
    variants of one word without a lexicon."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    for suf in _SUFFIXES:
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def words(text: str) -> list[re.Match[str]]:
    return list(WORD.finditer(text))


def topic_name(topic: str | None) -> str:
    """The name part of an article title: 'Michael Collins (Irish leader)' → 'Michael Collins',
    'Sigismund, Holy Roman Emperor' → 'Sigismund'. The rest describes the person, so a claim that
    repeats it ("Collins was an Irish leader") says something checkable."""
    t = re.sub(r"\s*\([^)]*\)\s*$", "", topic or "")
    return t.split(",")[0].strip() if "," in t else t


def topic_stems(topic: str | None) -> frozenset[str]:
    return frozenset(stem(m.group(0)) for m in WORD.finditer(topic_name(topic)))


def number_value(token: str) -> int | None:
    t = token.lower().rstrip("s")
    t = re.sub(r"(st|nd|rd|th)$", "", t) if t[:1].isdigit() else t
    if t.isdecimal():  # not isdigit(): "²" is a digit that int() refuses
        return int(t)
    return NUMBER_WORDS.get(token.lower())


def is_year(value: int | None, token: str) -> bool:
    return value is not None and token[:1].isdigit() and len(token.rstrip("s")) in (3, 4) \
        and _YEAR_RANGE[0] <= value <= _YEAR_RANGE[1]


@dataclass(frozen=True)
class Evidence:
    """What the checks need of the evidence text, computed once per text."""

    lower_words: frozenset[str]
    stems: frozenset[str]
    numbers: frozenset[int]
    years: frozenset[int]

    @classmethod
    def of(cls, text: str) -> Evidence:
        toks = [m.group(0) for m in WORD.finditer(text)]
        nums: set[int] = set()
        years: set[int] = set()
        for t in toks:
            v = number_value(t)
            if v is not None:
                nums.add(v)
                if is_year(v, t):
                    years.add(v)
        return cls(frozenset(t.lower() for t in toks), frozenset(stem(t) for t in toks), frozenset(nums),
                   frozenset(years))

    def has_name(self, word: str) -> bool:
        w = word.lower()
        if w in self.lower_words or stem(w) in self.stems:
            return True
        if any(e in self.lower_words for e in _NAME_ENTAILED_BY.get(w, ())):
            return True
        return any(_demonym_pair(w, e) for e in self.lower_words if e[:3] == w[:3])

    def has_role(self, word: str) -> bool:
        """The evidence names this role, one that entails it (``ROLES``), or its field or deed with the
        same stem ('physics' for 'physicist')."""
        for r in ROLES.get(role_key(word), ()):
            if r in self.lower_words or r + "s" in self.lower_words or stem(r) in self.stems:
                return True
            if any(b + e in self.lower_words for b in role_bases(r) for e in _FIELD_ENDINGS):
                return True
        return False

    def date_range_ok(self, lo: int, hi: int) -> bool:
        return any(lo <= y <= hi for y in self.years)


def role_key(word: str) -> str:
    """The ``ROLES`` entry a claim word names ('poets' → 'poet'), or '' when it names none."""
    w = word.lower()
    for cand in (w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith("es") else w):
        if cand in ROLES:
            return cand
    return ""


def _demonym_pair(a: str, b: str) -> bool:
    """Italy/Italian, Islam/Islamic, Germany/German, America/Americans: one is the other with a
    final y/e/a dropped and a demonym suffix added."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) < 4:
        return False
    for base in {a, a[:-1] if a[-1] in "yea" else a}:
        if len(base) >= 4 and b.startswith(base) and b[len(base):] in _DEMONYM:
            return True
    return False


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int
    kind: str  # name | number | date | role | word
    found: bool | None = None  # names / numbers / dates: in (consistent with) the evidence?


def analyse(claim: str, topic: str | None, ev: Evidence, roles: bool = True) -> list[Word]:
    """The claim's checkable words (the topic's name and function words left out), each with its kind
    and, for names, numbers, dates and roles, whether the evidence has it (``roles = False``: an
    occupation or title is a plain ``word``)."""
    tstems = topic_stems(topic)
    spans = [(m.start(), m.end()) for m in _CENTURY.finditer(claim)] + \
            [(m.start(), m.end()) for m in _DECADE.finditer(claim)]
    centuries = [(int(m.group(1)) * 100 - 99, int(m.group(1)) * 100) for m in _CENTURY.finditer(claim)]
    decades = [(int(m.group(1)) * 10, int(m.group(1)) * 10 + 9) for m in _DECADE.finditer(claim)]
    out: list[Word] = []
    dates_ok: list[bool] = [ev.date_range_ok(lo, hi) for lo, hi in centuries + decades]
    for m in WORD.finditer(claim):
        tok = m.group(0)
        low = tok.lower()
        in_span = any(a <= m.start() < b for a, b in spans)
        if stem(tok) in tstems or low in STOPWORDS:
            continue
        if in_span:
            continue  # judged as a whole below
        value = number_value(tok)
        if value is not None and (tok[:1].isdigit() or low in NUMBER_WORDS):
            if is_year(value, tok):
                ok = value in ev.years
                dates_ok.append(ok)
                out.append(Word(tok, m.start(), m.end(), "date", ok))
            else:
                out.append(Word(tok, m.start(), m.end(), "number", value in ev.numbers or low in ev.lower_words))
            continue
        if tok[:1].isupper() and m.start() > 0:
            out.append(Word(tok, m.start(), m.end(), "name", ev.has_name(tok)))
            continue
        if roles and role_key(tok):
            out.append(Word(tok, m.start(), m.end(), "role", ev.has_role(tok)))
            continue
        out.append(Word(tok, m.start(), m.end(), "word"))
    for (a, b), ok in zip(spans, dates_ok, strict=False):
        out.append(Word(claim[a:b], a, b, "date", ok))
    if dates_ok:  # date words are settled by the claim's dates: all consistent, or not
        settled = all(dates_ok)
        out = [Word(w.text, w.start, w.end, "date", settled) if w.kind == "word" and w.text.lower() in DATE_WORDS
               else w for w in out]
    return sorted(out, key=lambda w: w.start)


def evidence_text(passages: Iterable[object]) -> str:
    return "\n".join(str(getattr(p, "text", "")) for p in passages)
