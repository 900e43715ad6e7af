"""Claim matching: whole words, negation and its reach, hypothetical scope, answer-level checks."""
from __future__ import annotations

from quiz.claims import affirmed, asserted, compile_pattern, hits, sentences


def _texts(pattern: str, text: str) -> list[str]:
    return [h.text for h in hits(compile_pattern(pattern), text)]


def test_whole_words_only_but_alternatives_backtrack():
    assert _texts("dict", "the predictions and a dictionary") == []
    assert _texts("dict|dictionary", "It returns a dictionary.") == ["dictionary"]
    assert _texts("train", "pretraining data") == []
    assert _texts("ignor", "you can ignore it") == []
    assert _texts(r"\.train\(", "then trainer.train() runs") == [".train("]
    assert _texts("output_dir", "pass data_output_dir") == []


def test_sentences_do_not_split_inside_code_or_numbers():
    assert sentences("Use np.argmax(x). It gives 0.25 points!\nNext") == [
        "Use np.argmax(x).", "It gives 0.25 points!", "Next"]


def test_negation_in_the_words_before_a_claim():
    p = (compile_pattern("per batch"),)
    assert affirmed(p, "It pads per batch.")
    assert not affirmed(p, "It does not pad per batch.")
    assert not affirmed(p, "It never really pads per batch.")
    # a clause break ends the reach of a negation, and so does a new predicate
    assert affirmed(p, "Not globally, it pads per batch.")
    assert affirmed((compile_pattern("a default"),), "Every argument you don't set has a default.")
    assert affirmed((compile_pattern("call .train"),), "Nothing happens until you call .train() on it.")


def test_a_negation_inside_the_match_turns_it_around_unless_the_pattern_spells_it():
    # set 9: "the longest of THESE 8 pairs, not of the whole dataset" matched the whole-dataset misconception
    whole = (compile_pattern(r"batch\w*\b.{0,50}\blongest\b.{0,40}\b(whole|entire) data ?set"),)
    assert not asserted(whole, "batch length == the longest of THESE 8 pairs, not of the whole dataset")
    assert not asserted(whole, "each batch is padded to its longest, which isn't the whole dataset's")
    assert asserted(whole, "each batch is padded to the longest pair of the whole dataset")
    # a pattern written with the negator in it means it
    assert asserted((compile_pattern(r"no padding (is )?needed"),), "With the collator no padding is needed.")
    assert asserted((compile_pattern(r"seeds? don.t matter"),), "Seeds don't matter here.")


def test_the_answer_word_no_is_not_a_negation():
    assert affirmed((compile_pattern("expected"),), "No it's expected.")
    assert not affirmed((compile_pattern("expected"),), "It is no expected thing.")


def test_hypotheticals_do_not_assert_a_misconception():
    p = (compile_pattern(r"pad\w* .{0,20}512"),)
    assert asserted(p, "It pads every sequence to 512 tokens.")
    assert not asserted(p, "If you padded everything to 512, you would waste compute.")
    assert not asserted(p, "Instead of padding to 512 it pads per batch.")
    assert not asserted((compile_pattern("required"),), "Older versions required it.")
    assert not asserted((compile_pattern("checkpoint is broken"),), "Nothing about the checkpoint is broken.")


def test_answer_level_patterns_only_look_at_the_start():
    p = (compile_pattern(r"\A\W*yes\b"),)
    assert asserted(p, "  Yes, it is broken.")
    assert not asserted(p, "No, it is expected.\nYes, the head is new.")


def test_a_question_or_a_quoted_question_is_asked_not_claimed():
    # a support-ticket answer quoted the learner's question; the misconception fired on the quote and marked a
    # fully right answer wrong (the sixth judge's first look at its second thresholds)
    corrupt = compile_pattern(r"corrupt\w*")
    quoted = 'Ticket #4417, "is the checkpoint corrupted?" -- Resolution: working as intended.'
    assert asserted((corrupt,), quoted) is None
    assert asserted((corrupt,), "Is the download corrupted? No, it is expected.") is None
    assert asserted((corrupt,), "The checkpoint is corrupted. Download it again.") is not None
    assert asserted((corrupt,), "It got corrupted, see np.argmax in the docs.") is not None  # a dot in code
    hit = hits(corrupt, quoted)[0]
    assert hit.question and not hit.negated and not hit.asserted
