"""spacy/atomic: atomic facts from a dependency parse, on the real packaged spaCy pipeline.

Each case is a sentence a small model writes, and the facts a person splitting it would write; the
parse is spaCy's small English model, so the cases are ones it parses right."""

from __future__ import annotations

import pytest

from facttune_core import Context, Response
from facttune_core.testing import make_component

pytest.importorskip("spacy")


@pytest.fixture(scope="module")
def extractor():
    ctx = Context(key="extract.args")
    ex = make_component("spacy/atomic", {}, ctx=ctx)
    return ex, ctx


def facts(extractor, text: str, topic: str = "Marie Curie") -> list[str]:
    ex, _ = extractor
    (claims,) = ex.extract([Response(id="p/r0", prompt_id="p", text=text, topic=topic)])
    return [c.text for c in claims]


def test_coordinated_nouns_and_a_relative_clause_split_into_facts_about_the_topic(extractor):
    got = facts(extractor, "Marie Curie was a Polish physicist and chemist who won two Nobel Prizes.")
    assert got == ["Marie Curie won two Nobel Prizes.", "Marie Curie was Polish.", "Marie Curie was a physicist.",
                   "Marie Curie was a chemist."]


def test_a_coordination_parsed_as_a_modifier_still_splits_and_a_nationality_splits_off_a_compound(extractor):
    """The small parser reads "an American athlete and environmental activist" as (athlete and) modifying
    activist; FActScore's humans write three facts, as they do for "an American film actor"."""
    got = facts(extractor, "Wilma Rudolph is a renowned American athlete and environmental activist.",
                topic="Wilma Rudolph")
    assert got == ["Wilma Rudolph is American.", "Wilma Rudolph is an athlete.",
                   "Wilma Rudolph is an environmental activist."]
    got = facts(extractor, "Fred Astaire was an American film and television actor.", topic="Fred Astaire")
    assert got == ["Fred Astaire was American.", "Fred Astaire was a film actor.", "Fred Astaire was a television actor."]


def test_an_infinitive_that_says_what_happened_becomes_a_finite_verb(extractor):
    got = facts(extractor, "Neil Armstrong went on to become a pilot and astronaut. He was the first person to "
                "walk on the Moon.", topic="Neil Armstrong")
    assert got == ["Neil Armstrong became a pilot.", "Neil Armstrong became an astronaut.",
                   "Neil Armstrong walked on the Moon.", "Neil Armstrong was the first person."]
    purpose = facts(extractor, "Neil Armstrong moved to Ohio to study engineering.", topic="Neil Armstrong")
    assert not any("studied" in f for f in purpose)  # a purpose is not a fact that it happened


def test_pronouns_become_the_topic_and_each_adverbial_is_a_fact(extractor):
    got = facts(extractor, "Marie Curie was a scientist. She married Pierre Curie in 1895 and moved to Paris.")
    assert "Marie Curie married Pierre Curie in 1895." in got
    assert "Marie Curie moved to Paris." in got
    assert all("She" not in f and " she " not in f for f in got)


def test_it_stands_for_a_topic_that_is_not_a_person(extractor):
    """FLAME's fact-seeking instructions ask about places and events: "it" is the topic there, never in
    a biography (and never the "it" of "it is said")."""
    got = facts(extractor, "Victoria Falls is a waterfall on the Zambezi River. It is about 1,700 metres wide. "
                "Its spray can be seen from far away. It is said that it was named by David Livingstone.",
                topic="Victoria Falls")
    assert got == ["Victoria Falls is a waterfall on the Zambezi River.", "Victoria Falls is about 1,700 metres wide.",
                   "Victoria Falls's spray can be seen from far away.", "Victoria Falls was named by David Livingstone."]
    bio = facts(extractor, "Marie Curie was a physicist. It was a time of war. She won two Nobel Prizes.")
    assert bio == ["Marie Curie was a physicist.", "Marie Curie won two Nobel Prizes."]


def test_a_fuller_name_is_the_topic_and_only_its_own_parenthesis_is_a_lifespan(extractor):
    got = facts(extractor, "W. E. B. Du Bois (July 10, 1891 - August 1960) was an American author.",
                topic="W. E. B. Du Bois")
    assert got == ["W. E. B. Du Bois was born on July 10, 1891.", "W. E. B. Du Bois died in August 1960.",
                   "W. E. B. Du Bois was American.", "W. E. B. Du Bois was an author."]
    got = facts(extractor, "Stanley Edward Kubrick is an American filmmaker. He made the film Spartacus (1960).",
                topic="Stanley Kubrick")
    assert "Stanley Kubrick is a filmmaker." in got
    assert not any("born" in f or "died" in f for f in got)  # the film's year is not his lifespan


def test_a_regnal_numeral_the_parser_reads_as_the_pronoun_i_is_still_the_topic(extractor):
    # "Amda Seyon I was ...": the parser tags "I" as the first-person pronoun and the name as an adverbial
    got = facts(extractor, "Amda Seyon I was a king of Ethiopia. He was born in 1314.", topic="Amda Seyon I")
    assert got == ["Amda Seyon I was a king of Ethiopia.", "Amda Seyon I was born in 1314."]
    assert facts(extractor, "Elizabeth I was the queen of England.", topic="Elizabeth I") == [
        "Elizabeth I was the queen of England."]
    # a first-person "I" that is not part of the name stays out
    assert facts(extractor, "I think that the Nile was long.", topic="Elizabeth I") == []


def test_a_range_followed_by_another_to_is_not_a_crash(extractor):
    got = facts(extractor, "Marie Curie travelled from Warsaw to Paris to London in 1891.")
    assert got == ["Marie Curie travelled from Warsaw to Paris.", "Marie Curie travelled to London.",
                   "Marie Curie travelled in 1891."]


def test_a_lifespan_after_the_name_and_an_apposition_are_facts(extractor):
    got = facts(extractor, "Johann Sebastian Bach (1685-1750) was born in Eisenach, a town in Thuringia.",
                topic="Johann Sebastian Bach")
    assert "Johann Sebastian Bach was born in 1685." in got
    assert "Johann Sebastian Bach died in 1750." in got
    assert "Johann Sebastian Bach was born in Eisenach." in got
    assert "Eisenach was a town in Thuringia." not in got  # about the town, not the person: left out
    anything = make_component("spacy/atomic", {"about": "any"})
    (claims,) = anything.extract([Response(id="p/r0", prompt_id="p", topic="Johann Sebastian Bach",
                                           text="Bach was born in Eisenach, a town in Thuringia.")])
    assert "Eisenach was a town in Thuringia." in [c.text for c in claims]


def test_coordinated_participles_share_their_place_and_become_finite(extractor):
    got = facts(extractor, "Born and raised in Vienna, he became a famous composer.", topic="Alban Berg")
    assert "Alban Berg was born in Vienna." in got
    assert "Alban Berg was raised in Vienna." in got
    assert "Alban Berg became a composer." in got  # praise left out of a kept fact


def test_filler_gives_no_fact_and_is_counted(extractor):
    ex, ctx = extractor
    before = ctx.counters.get("filler_facts", 0)
    got = facts(extractor, "Her legacy continues to inspire generations of scientists around the world.")
    assert got == []
    assert ctx.counters["filler_facts"] > before


def test_praise_is_stripped_but_a_checkable_fact_in_it_stays(extractor):
    got = facts(extractor, "She was a remarkable figure in the history of French science.")
    assert got and all("remarkable" not in f for f in got)
    assert any("French science" in f for f in got)


def test_the_fragment_a_cut_off_response_ends_with_gives_no_fact(extractor):
    ex, ctx = extractor
    text = "Marie Curie was born in Warsaw. In 1903 she won the Nobel Prize in Physics with her husband Pierre"
    got = facts(extractor, text)
    assert "Marie Curie was born in Warsaw." in got
    assert not any("Pierre" in f for f in got)
    assert ctx.counters["truncated_facts"] >= 1


def test_a_fact_repeated_in_a_response_counts_once(extractor):
    got = facts(extractor, "Marie Curie was a physicist. Later in life, she was a physicist.")
    assert got.count("Marie Curie was a physicist.") == 1


def test_a_fact_said_again_in_another_tense_or_with_another_copula_counts_once(extractor):
    """A tuned model says "she is an actress" three ways; an annotator writes the fact once. A different
    predicate noun ("a film actress") is a different fact."""
    ex, ctx = extractor
    before = ctx.counters.get("repeated_facts", 0)
    got = facts(extractor, "Elizabeth Taylor was an actress. She is an actress. She became an actress. "
                "She served as a film actress.", topic="Elizabeth Taylor")
    assert got == ["Elizabeth Taylor was an actress.", "Elizabeth Taylor served as a film actress."]
    assert ctx.counters["repeated_facts"] - before == 2


def test_claims_carry_their_sentence_and_ids(extractor):
    ex, _ = extractor
    (claims,) = ex.extract([Response(id="p/r0", prompt_id="p", text="She was born in Warsaw. She studied in Paris.",
                                     topic="Marie Curie")])
    assert [c.id for c in claims] == ["p/r0/c0", "p/r0/c1"]
    assert [c.sentence_index for c in claims] == [0, 1]
    assert claims[1].sentence == "She studied in Paris."


def test_a_missing_spacy_pipeline_is_one_line_naming_the_key():
    from facttune_core import ComponentError

    ex = make_component("spacy/atomic", {"spacy_model": "en_core_web_nope"})
    with pytest.raises(ComponentError) as err:
        ex.extract([Response(id="p/r0", prompt_id="p", text="She was born in Warsaw.", topic="Marie Curie")])
    assert "spacy_model" in str(err.value) and "\n" not in str(err.value)
