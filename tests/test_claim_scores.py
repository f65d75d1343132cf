"""facttune_core.claim_scores' figures beside the FActScore: the share of words that gave no fact, the share
of repeated 4-grams, and the evaluate summary's differences for facts per response and those shares
(hand-computed)."""

from __future__ import annotations

import pytest

from facttune_core import Claim, Response, Verdict, no_fact_share, repeated_share, row_repeated_share
from facttune_core.run.evaluate import evaluation_rows, evaluation_summary

TEXT = "Ada was born in Paris. She was a wonderful soul. She studied law in Lyon."  # 5 + 5 + 5 words


def claim(i: int, sentence: str | None, idx: int | None, rid: str = "p/r0") -> Claim:
    return Claim(id=f"{rid}/c{i}", response_id=rid, prompt_id=rid.split("/")[0], text=f"fact {i}", topic="Ada",
                 sentence=sentence, sentence_index=idx)


def test_no_fact_share_counts_the_words_of_sentences_that_gave_no_claim():
    cs = [claim(0, "Ada was born in Paris.", 0), claim(1, "She studied law in Lyon.", 2),
          claim(2, "She studied law in Lyon.", 2)]  # two facts of one sentence: its words count once
    assert no_fact_share(TEXT, cs) == pytest.approx(5 / 15)
    assert no_fact_share(TEXT, []) == pytest.approx(1.0)  # nothing checkable at all
    assert no_fact_share("", cs) is None
    assert no_fact_share(TEXT, [claim(0, None, None)]) is None  # claims that do not say where they came from


def test_evaluate_reports_facts_per_response_and_the_no_fact_share_with_their_differences():
    rb, ra = Response(id="p/r0", prompt_id="p", text=TEXT, topic="Ada"), Response(id="p/r1", prompt_id="p",
                                                                                   text=TEXT, topic="Ada")
    before = [claim(0, "Ada was born in Paris.", 0), claim(1, "She studied law in Lyon.", 2)]
    after = [claim(0, "Ada was born in Paris.", 0, "p/r1")]
    vs = [Verdict(claim_id=c.id, supported=c.id.endswith("c0")) for c in before + after]
    rows = evaluation_rows("before", [rb], before, vs) + evaluation_rows("after", [ra], after, vs)
    s = evaluation_summary(rows, n_boot=50)
    assert s["variants"]["before"]["claims_per_response"] == 2 and s["variants"]["after"]["claims_per_response"] == 1
    assert s["variants"]["before"]["no_fact_share"] == pytest.approx(5 / 15)
    assert s["variants"]["after"]["no_fact_share"] == pytest.approx(10 / 15)
    assert s["difference"]["claims"]["mean"] == pytest.approx(-1)
    assert s["difference"]["no_fact_share"]["mean"] == pytest.approx(5 / 15)
    assert s["difference"]["unsupported"]["mean"] == pytest.approx(-1)


def test_repeated_share_is_the_share_of_4_grams_said_earlier_in_the_response():
    assert repeated_share(TEXT) == 0.0  # 15 words, 12 distinct 4-grams
    twice = "He was a soldier. He was a soldier."  # 8 words, 5 4-grams: "he was a soldier" comes back once
    assert repeated_share(twice) == pytest.approx(1 / 5)
    assert repeated_share("He was a SOLDIER, he was a soldier!") == pytest.approx(1 / 5)  # case, punctuation folded
    assert repeated_share("Ada Lovelace") == 0.0 and repeated_share("") == 0.0  # under 4 words: nothing repeats
    name = "Ada Lovelace " * 10  # a name over and over: all but the first two 4-grams repeat
    assert repeated_share(name) == pytest.approx(1 - 2 / 17)


def test_a_row_written_before_the_repeated_share_gets_it_from_its_text():
    assert row_repeated_share({"repeated_share": 0.25, "text": TEXT}) == 0.25
    assert row_repeated_share({"text": "He was a soldier. He was a soldier."}) == pytest.approx(1 / 5)
    assert row_repeated_share({"claims": 3}) is None  # scores.jsonl rows carry no text


def test_evaluate_shows_a_model_that_learned_to_repeat_itself():
    loop = "Ada was born in Paris. Ada was born in Paris. Ada was born in Paris."
    rb = Response(id="p/r0", prompt_id="p", text=TEXT, topic="Ada")
    ra = Response(id="p/r1", prompt_id="p", text=loop, topic="Ada")
    cb, ca = claim(0, "Ada was born in Paris.", 0), claim(0, "Ada was born in Paris.", 0, "p/r1")
    vs = [Verdict(claim_id=c.id, supported=True) for c in (cb, ca)]
    rows = evaluation_rows("before", [rb], [cb], vs) + evaluation_rows("after", [ra], [ca], vs)
    assert rows[1]["repeated_share"] == pytest.approx(7 / 12)  # 15 words, 12 4-grams, 5 distinct (the loop and its joins)
    s = evaluation_summary(rows, n_boot=50)
    assert s["variants"]["before"]["repeated_share"] == 0.0
    assert s["difference"]["repeated_share"]["mean"] == pytest.approx(7 / 12)
    old = [{k: v for k, v in r.items() if k != "repeated_share"} for r in rows]  # an evaluate stage of an older run
    assert evaluation_summary(old, n_boot=50)["difference"]["repeated_share"]["mean"] == pytest.approx(7 / 12)
    # the held-out table warns: FActScore (1.0 on both sides here) does not show the loop
    from rich.console import Console

    from facttune_core.report.html import evaluation_table, repetition_note

    assert s["variants"]["after"]["factscore"] == s["variants"]["before"]["factscore"] == 1.0
    con = Console(record=True, width=200)
    con.print(evaluation_table(s))
    text = con.export_text()
    assert "repeated 4-grams %" in text and "the tuned model repeats itself: repeated 4-grams 0.0% → 58.3%" in text
    plain = evaluation_summary(evaluation_rows("before", [rb], [cb], vs)
                               + evaluation_rows("after", [Response(id="p/r1", prompt_id="p", text=TEXT, topic="Ada")],
                                                 [ca], vs), n_boot=50)
    assert repetition_note(plain) is None  # nothing repeated: no warning
