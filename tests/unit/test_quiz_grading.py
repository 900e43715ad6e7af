"""Grading over tuning samples (good, partial, wrong, empty, very long, non-English) and the claim rules.

The held-out answers that measure the grader live in tests/data/ and are checked in test_quiz_agreement.py.
"""
from __future__ import annotations

import pytest

from quiz import grading
from quiz.bank import default_bank
from quiz.grading import COVERED, MISSED, PARTLY, grade

_FILLER = ("I spent the afternoon reading the course notes and rerunning the notebook on a laptop. "
           "The coffee machine broke again, so everything took longer than planned. ")

# (item id, kind, answer, ideas that must be COVERED, ideas that must NOT be covered)
NOT_TICKED = 31  # of 74 ideas the samples state (26, 29, 30, 37 with the first four judges; 22 at the sixth's first
# thresholds); no good sample marked missed
# the first judge read filler about a slow afternoon as "less waste"; the second ticked nothing a sample rules out; the
# third ticked "the model and the TrainingArguments" for "the model and the datasets"; the fourth (with the sentence-
# support guard) ticks nothing a sample rules out; without that guard it ticked all three dynamic-padding ideas for
# eighty repeats of the filler. The sixth at its first thresholds (COVER 0.5) ticked two: "the model and the
# TrainingArguments" for "The model and the datasets", and "less waste" for eighty repeats of the filler (one of
# its sentences scores just over the guard's faint-sign level for that idea, as in the ramble test); at COVER 0.7
# the second is left
WRONGLY_TICKED = ["dynamic_padding/very long/less_waste"]
SAMPLES = [
    # --- dynamic padding
    ("dynamic_padding", "good",
     "It pads on the fly: every batch is only padded to the length of the longest example inside that batch. "
     "If you padded the entire dataset to the longest sentence overall, most batches would be full of useless "
     "pad tokens and training would be slower.",
     {"per_batch", "on_the_fly", "less_waste"}, set()),
    ("dynamic_padding", "partial",
     "The collator makes the sequences in a batch the same length so they can be stacked into a tensor.",
     set(), {"less_waste"}),
    ("dynamic_padding", "wrong",
     "It removes stop words and lowercases the text before tokenization.",
     set(), {"per_batch", "on_the_fly", "less_waste"}),
    # --- head-swap warning
    ("head_swap_warning", "good",
     "No, that's expected. The checkpoint's pretraining head for masked language modelling gets thrown away "
     "and a new classification layer with random weights is put on top, so the warning just tells you to "
     "train it, which is what fine-tuning does.",
     {"expected", "old_head_dropped", "new_head_random", "training_fixes_it"}, set()),
    ("head_swap_warning", "partial",
     "It's normal, the classifier on top is new and starts out random.",
     {"expected", "new_head_random"}, set()),
    ("head_swap_warning", "wrong",
     "Yes, the download was corrupted, so you should delete the cache and download the model again.",
     set(), {"expected", "old_head_dropped", "new_head_random"}),
    ("head_swap_warning", "wrong, negated",
     "Yes. This is not expected: the weights are broken, so the new head cannot be trained.",
     set(), {"expected"}),
    # --- what the Trainer hands back
    ("trainer_results", "good",
     "train() gives back a TrainOutput with global_step, training_loss and a metrics dict. predict() returns "
     "the logits as predictions, the label_ids and metrics named test_loss and so on. If no compute_metrics "
     "is passed, evaluation only reports the loss and timings. compute_metrics is handed an EvalPrediction "
     "with .predictions and .label_ids.",
     {"train_output", "test_prefix", "loss_only", "eval_prediction"}, set()),
    ("trainer_results", "wrong",
     "train() returns the trained model, and predict() reports eval_accuracy like evaluate does.",
     set(), {"train_output", "test_prefix"}),
    # --- TrainingArguments
    ("training_arguments", "good",
     "Nothing is required any more: output_dir is optional and falls back to trainer_output, the folder where "
     "checkpoints get saved. It holds all the hyperparameters like learning rate, batch size, number of epochs "
     "and the evaluation strategy; everything else falls back to defaults.",
     {"output_dir_optional", "saves_there", "hyperparameters", "defaults"}, set()),
    ("training_arguments", "partial",
     "It stores the training settings such as learning rate and number of epochs.",
     {"hyperparameters"}, {"output_dir_optional", "defaults"}),
    ("training_arguments", "wrong",
     "You must pass the model and the tokenizer, and it returns the trained weights.",
     set(), {"output_dir_optional", "defaults", "saves_there"}),
    ("training_arguments", "the old claim",
     "Only output_dir is required, the output directory.",
     set(), {"output_dir_optional"}),
    ("training_arguments", "true now (issue 11)",
     "output_dir is optional now.",
     {"output_dir_optional"}, set()),
    ("training_arguments", "older versions, in scope",
     "Older versions required output_dir, but in transformers 5 it defaults to trainer_output.",
     {"output_dir_optional"}, set()),
    # --- Trainer inputs
    ("trainer_inputs", "good",
     "You pass the model, the training arguments, train_dataset and eval_dataset, the collator, and the "
     "tokenizer via processing_class, plus compute_metrics if you want scores. Then trainer.train() kicks off "
     "training.",
     {"model_and_args", "datasets", "collator_tokenizer", "train_call"}, set()),
    ("trainer_inputs", "partial",
     "The model and the datasets; training starts when you call trainer.train().",
     {"datasets", "train_call"}, {"collator_tokenizer", "model_and_args"}),
    ("trainer_inputs", "wrong",
     "It takes a CSV file path and starts automatically once it is created.",
     set(), {"model_and_args", "collator_tokenizer", "train_call"}),
    # --- loss is not enough
    ("loss_not_enough", "good",
     "The training loss only shows the model is fitting the data it trains on, it could just be overfitting. "
     "You need to measure it on held-out validation data it has never seen, with an eval_strategy and a "
     "compute_metrics function that reports accuracy and F1.",
     {"fit_only", "generalisation", "metrics"}, set()),
    ("loss_not_enough", "partial",
     "Because the model might overfit, you should check it on a validation set.",
     {"generalisation"}, {"metrics"}),
    ("loss_not_enough", "wrong",
     "It is enough, a lower loss always means better predictions.",
     set(), {"generalisation", "metrics"}),
    # --- logits to labels
    ("logits_to_labels", "good",
     "Use np.argmax(logits, axis=-1), which picks the index of the larger of the two scores in every row, "
     "giving 408 predicted labels that are 0 or 1.",
     {"argmax", "last_axis", "one_label_each"}, set()),
    ("logits_to_labels", "good, terse",
     "Use np.argmax(logits, axis=-1) so every row becomes one label, 0 or 1.",
     {"argmax", "last_axis", "one_label_each"}, set()),
    ("logits_to_labels", "partial",
     "Take the argmax of the logits.",
     {"argmax"}, {"last_axis"}),
    ("logits_to_labels", "wrong",
     "Average the two columns and round the result to the nearest integer.",
     set(), {"argmax", "last_axis"}),
    # --- compute_metrics
    ("compute_metrics", "good",
     "It gets an EvalPrediction with the logits and the true labels. You take the argmax of the logits and "
     "score them with a metric from the evaluate library, and you return a dict like "
     "{'accuracy': 0.86, 'f1': 0.9}.",
     {"receives", "argmax_and_score", "returns_dict"}, set()),
    ("compute_metrics", "partial",
     "It returns a dictionary with accuracy and F1.",
     {"returns_dict"}, {"argmax_and_score"}),
    ("compute_metrics", "wrong",
     "It receives the raw text of the dataset and prints a plot of the loss.",
     set(), {"argmax_and_score", "returns_dict"}),
    # --- Part B
    ("part_b_seed_spread", "good",
     "No mistake: the classification head is initialised randomly, so each run starts from different weights "
     "and lands a bit differently. To compare setups you should average several runs with different seeds.",
     {"normal", "random_init", "average_runs"}, set()),
    ("part_b_seed_spread", "partial",
     "No, it's just random noise between runs.",
     {"normal"}, {"average_runs"}),
    ("part_b_seed_spread", "wrong",
     "Yes, the second run must have used a different dataset, so the script is broken.",
     set(), {"random_init", "average_runs"}),
    ("part_b_seed_spread", "wrong, negated",
     "Yes, that's not normal noise, the script is broken because the seed changed the data.",
     set(), {"normal"}),
    # --- Part A
    ("part_a_end_to_end", "good",
     "1,377 steps, 459 per epoch. The first run shows only the training loss. After adding compute_metrics and "
     "eval_strategy there is a table with accuracy and F1 for each epoch, and epoch 1 says No log because "
     "logging_steps is 500.",
     {"steps", "no_metrics_first", "table_after", "no_log"}, set()),
    # --- Part C
    ("part_c_fp16", "good",
     "fp16=True turns on mixed precision training with 16-bit floats, and a gradient scaler scales the loss so "
     "small gradients do not underflow. On a GPU training gets faster and uses less memory, and accuracy and F1 "
     "should stay about the same.",
     {"mixed_precision", "loss_scaling", "faster_lighter", "same_metrics"}, set()),
    ("part_c_fp16", "partial",
     "It uses half precision, so it runs faster.",
     {"mixed_precision", "faster_lighter"}, {"same_metrics"}),
    ("part_c_fp16", "wrong",
     "It saves the model in a smaller file format at the end.",
     set(), {"mixed_precision", "same_metrics"}),
    # --- very long answers: a good answer buried in unrelated text, and rambling off-topic text
    ("training_arguments", "very long",
     _FILLER * 12 + "Anyway: TrainingArguments needs nothing now, output_dir is optional, and the checkpoints are "
     "written there. It keeps every hyperparameter such as learning rate and batch size. " + _FILLER * 12,
     {"output_dir_optional", "saves_there", "hyperparameters"}, set()),
    # --- the cases named in issue 11: right vocabulary in a wrong claim, words inside words, negation, scope
    ("dynamic_padding", "issue: 512",
     "Dynamic padding pads every sequence to 512 tokens.",
     set(), {"per_batch", "on_the_fly", "less_waste"}),
    ("dynamic_padding", "issue: unusual right",
     "The collator evens those out to the biggest one among them, each time a batch is built.",
     {"per_batch", "on_the_fly"}, set()),
    ("dynamic_padding", "scope: if",
     "It pads each batch to its own longest pair. If you padded everything to 512 you would waste compute.",
     {"per_batch", "less_waste"}, set()),
    ("head_swap_warning", "issue: negated contradiction",
     "Nothing about the checkpoint is broken; the old head is dropped and a new random one is added.",
     {"expected", "old_head_dropped", "new_head_random"}, set()),
    ("head_swap_warning", "issue: thrown out",
     "No. Those weights get thrown out and a fresh classifier starts from random values.",
     {"expected", "old_head_dropped", "new_head_random"}, set()),
    ("head_swap_warning", "issue: ignore it is not a claim",
     "You can ignore it.",
     set(), {"old_head_dropped"}),
    ("head_swap_warning", "issue: yes on a later line",
     "No, it is expected.\nYes, the new head is random.",
     {"expected", "new_head_random"}, set()),
    ("head_swap_warning", "issue: pretraining is not training",
     "The checkpoint came from pretraining.",
     set(), {"training_fixes_it"}),
    ("compute_metrics", "issue: dict inside predictions",
     "It gets the predictions.",
     set(), {"returns_dict"}),
    ("logits_to_labels", "issue: torch spelling",
     "logits.max(-1).indices",
     {"argmax", "last_axis"}, set()),
    ("dynamic_padding", "very long", _FILLER * 80, set(), {"per_batch", "on_the_fly", "less_waste"}),
    # --- non-English: code names still count; prose is not claimed as covered
    ("logits_to_labels", "non-English",
     "Man nimmt np.argmax(logits, axis=-1), also für jede Zeile den Index des größten Wertes.",
     {"argmax", "last_axis"}, set()),
    ("head_swap_warning", "non-English",
     "这是正常的，预训练的头被丢弃，新的分类头是随机初始化的。",
     set(), {"old_head_dropped", "training_fixes_it"}),
]


def _sample(item_id: str, kind: str) -> str:
    return next(s[2] for s in SAMPLES if s[0] == item_id and s[1] == kind)


@pytest.fixture(scope="module")
def bank():
    return default_bank()


def _sample_tally(bank) -> tuple[list[str], list[str]]:
    """(ideas that should be ticked but are not, ideas ticked that must not be), over all samples."""
    not_ticked, wrongly_ticked = [], []
    for item_id, kind, answer, must_cover, must_not_cover in SAMPLES:
        fb = grade(bank.item(item_id), answer)
        not_ticked += [f"{item_id}/{kind}/{i}: {fb.status(i)}" for i in sorted(must_cover) if fb.status(i) != COVERED]
        wrongly_ticked += [f"{item_id}/{kind}/{i}" for i in sorted(must_not_cover) if fb.status(i) == COVERED]
    return not_ticked, wrongly_ticked


def test_sample_answers(bank):
    # These samples were written for the old pattern grader and never trained a judge. Measured with the frozen
    # sixth judge (COVER 0.7): a right idea is still often left at "partly" (compare with our answer), and it
    # ticks one idea that a sample rules out (above). Pinned, so a changed judge has to show its own figures.
    not_ticked, wrongly_ticked = _sample_tally(bank)
    must = sum(len(s[3]) for s in SAMPLES)
    assert len(not_ticked) == NOT_TICKED, (must, not_ticked)
    assert wrongly_ticked == WRONGLY_TICKED
    assert not any(": missed" in n for n in not_ticked if "/good" in n)  # a good answer is never marked wrong


def test_every_item_has_a_good_sample_that_covers_everything(bank):
    good = {s[0]: s for s in SAMPLES if s[1] == "good"}
    assert set(good) == {q.id for q in bank.questions + bank.exercises}
    for item_id, (_, _, answer, must_cover, _) in good.items():
        assert must_cover == {k.id for k in bank.item(item_id).key_ideas}
        assert grade(bank.item(item_id), answer).missed == []


def test_model_answers_cover_their_own_key_ideas(bank):
    for item in bank.questions + bank.exercises:
        fb = grade(item, item.model_answer)
        assert fb.covered == [k.id for k in item.key_ideas], (item.id, fb.results)


@pytest.mark.parametrize("answer", ["", "   \n\t "])
def test_empty_answer_misses_everything_gently(bank, answer):
    fb = grade(bank.item("dynamic_padding"), answer)
    assert not fb.attempted
    assert fb.covered == [] and fb.partly == []
    assert len(fb.missed) == 3
    assert fb.notes and "No answer yet" in fb.notes[0]


def test_long_and_foreign_answers_get_a_note(bank):
    long_fb = grade(bank.item("dynamic_padding"), _FILLER * 80)
    assert any("long answer" in n for n in long_fb.notes)
    foreign = grade(bank.item("head_swap_warning"), _sample("head_swap_warning", "non-English"))
    assert any("English" in n for n in foreign.notes)
    german = grade(bank.item("logits_to_labels"), _sample("logits_to_labels", "non-English"))
    assert any("English" in n for n in german.notes)
    english = grade(bank.item("logits_to_labels"), _sample("logits_to_labels", "good"))
    assert english.notes == ()


def test_a_code_only_answer_is_not_called_foreign(bank):
    # Issue 19: a code-only answer got the "reads English best" note.
    code = ("trainer = Trainer(model=model, args=training_args, train_dataset=ds['train'], "
            "eval_dataset=ds['validation'], data_collator=DataCollatorWithPadding(tokenizer=tokenizer), "
            "processing_class=tokenizer)\ntrainer.train()")
    assert not grading.looks_non_english(code)
    assert not any("English" in n for n in grade(bank.item("trainer_inputs"), code).notes)
    assert not grading.looks_non_english("preds = np.argmax(out.predictions, axis=-1)  # shape (408,)")


def test_evidence_quotes_the_learners_own_sentence(bank):
    # The quote is the sentence the judge rates highest; a stand-in judge that prefers the first sentence
    # checks the quoting itself, whatever the shipped judge's confidence in a short answer.
    fb = grade(bank.item("part_c_fp16"), "Also I like trains. It is mixed precision: most maths in 16-bit, weights "
                                         "in 32-bit.", judge=_FirstSentenceJudge(bank))
    res = next(r for r in fb.results if r.idea_id == "mixed_precision")
    assert res.status == COVERED and res.evidence.startswith("It is mixed precision")


def test_sentences_split_on_ends_and_lines():
    assert grading.sentences("One idea. Another idea!\nA third") == ["One idea.", "Another idea!", "A third"]


class _FixedJudge:
    """A stand-in judge that says the same probabilities for every idea (to test the grader's own rules)."""

    def __init__(self, bank, p: float, contradicts: float = 0.0) -> None:
        self.p, self.contradicts = p, contradicts

    def read(self, topic, keys, whole, pieces):
        from quiz.judge import IdeaScore

        return [IdeaScore(self.p, self.contradicts, 0) for _ in keys]


class _FirstSentenceJudge(_FixedJudge):
    """Sure of every idea, and rates the second of the answer's sentences highest."""

    def __init__(self, bank) -> None:
        super().__init__(bank, 0.99)

    def read(self, topic, keys, whole, pieces):
        from quiz.judge import IdeaScore

        return [IdeaScore(self.p, 0.0, 1 if len(pieces) > 1 else 0) for _ in keys]


@pytest.mark.parametrize("p,status,basis", [(0.95, COVERED, "judge"), (grading.COVER, COVERED, "judge"),
                                            ((grading.COVER + grading.UNSURE) / 2, PARTLY, "unsure"),
                                            (grading.UNSURE / 2, MISSED, "")])
def test_the_judges_probability_decides_and_unsure_is_partly(bank, p, status, basis):
    fb = grade(bank.item("compute_metrics"), "Some answer about metrics.", judge=_FixedJudge(bank, p))
    assert {(r.status, r.basis) for r in fb.results} == {(status, basis)}


def test_a_sentence_that_contradicts_an_idea_keeps_it_open_with_a_note(bank, monkeypatch):
    # The shipped thresholds have no veto (the tuning rule found none worth it); the path is there for the next
    # judge, so it is tested with a veto set here.
    monkeypatch.setattr(grading, "VETO", 0.5)
    assert grade(bank.item("compute_metrics"), "x", judge=_FixedJudge(bank, 0.99, contradicts=0.49)).results[0].status == COVERED
    fb = grade(bank.item("compute_metrics"), "It gets logits and labels.",
               judge=_FixedJudge(bank, 0.99, contradicts=0.5))
    assert {(r.status, r.basis) for r in fb.results} == {(PARTLY, "contradicts")}
    assert any("seems to say something other than" in n for n in fb.notes)


def test_patterns_only_veto_never_credit(bank):
    # A sure judge is overruled by a misconception the learner asserts, and a pattern alone credits nothing.
    answer = "It stores all the weights in 16 bits, so it is faster on a GPU."
    sure = _FixedJudge(bank, (grading.COVER + grading.OVERRIDE) / 2)
    fb = grade(bank.item("part_c_fp16"), answer, sure)
    assert fb.status("mixed_precision") == MISSED and fb.status("faster_lighter") == COVERED
    assert any("weights stay in 32-bit" in n for n in fb.notes)
    # Only a judge near certain that the idea is stated keeps it (a pattern can misread, as one did on set 9),
    # and then no note blames the learner for it.
    fb = grade(bank.item("part_c_fp16"), answer, _FixedJudge(bank, grading.OVERRIDE))
    assert fb.status("mixed_precision") == COVERED and not any("weights stay in 32-bit" in n for n in fb.notes)
    unsure = _FixedJudge(bank, 0.0)
    fb = grade(bank.item("dynamic_padding"), "It pads per batch, on the fly, so less wasted compute.", unsure)
    assert fb.covered == []


def test_an_idea_the_judge_was_not_trained_on_is_compare_with_ours(bank):
    from dataclasses import replace

    from quiz.bank import KeyIdea

    item = bank.item("dynamic_padding")
    new = KeyIdea("sorted", "Sorting by length before batching shrinks the padding further", ())
    fb = grade(replace(item, key_ideas=item.key_ideas + (new,)), item.model_answer)
    assert fb.status("sorted") == PARTLY and fb.results[-1].basis == "untrained"
    assert fb.status("per_batch") == COVERED   # the trained ideas are judged as before


# ---- issue 19: the pattern bugs, reproduced


def test_truncation_in_a_right_answer_no_longer_wipes_its_ideas(bank):
    answer = ("The collator pads each batch only to the longest pair in that batch, at the moment the batch is "
              "built. Truncation with max_length=128 is a separate tokenizer step. Padding everything up front "
              "to one fixed length would waste compute on pad tokens.")
    fb = grade(bank.item("dynamic_padding"), answer)
    assert not any(r.basis == "misconception" for r in fb.results), fb
    assert fb.missed == []
    wrong = grade(bank.item("dynamic_padding"), "The collator pads every batch to a fixed length of 128 tokens.")
    assert wrong.status("per_batch") == MISSED and any("fixed length" in n for n in wrong.notes)


def test_the_collators_own_tokenizer_argument_is_not_the_old_trainer_argument(bank):
    code = ("trainer = Trainer(model=model, args=args, train_dataset=tok['train'], eval_dataset=tok['validation'], "
            "data_collator=DataCollatorWithPadding(tokenizer=tokenizer), processing_class=tokenizer)")
    fb = grade(bank.item("trainer_inputs"), code)
    assert fb.status("collator_tokenizer") != MISSED and not fb.notes
    old = grade(bank.item("trainer_inputs"), "Trainer(model=model, args=args, tokenizer=tokenizer)")
    assert old.status("collator_tokenizer") == MISSED
    # prose about the argument is not passing it: "the tokenizer= keyword was removed" once vetoed a right answer
    said = grade(bank.item("trainer_inputs"), "The tokenizer goes in processing_class, because the tokenizer= "
                                              "keyword was removed in transformers 5.")
    assert not any("no `tokenizer=` argument" in n for n in said.notes)


def test_fine_tuning_is_not_fine(bank):
    fb = grade(bank.item("head_swap_warning"),
               "Yes, the checkpoint is broken and fine-tuning cannot repair a corrupt download.")
    assert fb.status("expected") != COVERED and fb.covered == []


def test_twice_as_fast_on_a_cpu_is_caught(bank):
    fb = grade(bank.item("part_c_fp16"), "It makes training twice as fast on a CPU, with the weights in fp32.")
    assert fb.status("faster_lighter") == MISSED
    assert any("CPU" in n for n in fb.notes)


def test_non_string_answer_is_treated_as_empty(bank):
    fb = grade(bank.item("compute_metrics"), None)  # type: ignore[arg-type]
    assert not fb.attempted and set(fb.missed) == {"receives", "argmax_and_score", "returns_dict"}
    assert MISSED == "missed"
    assert PARTLY == "partly"


def test_an_off_topic_ramble_earns_little(bank):
    """The judge reads a long text as a full answer (every idea near 0.9 for a ramble of everyday sentences, each
    under 0.2): whole-answer credit needs a sentence that shows some sign of the idea (grading.supported)."""
    from quiz import grading

    ramble = ("I spent the afternoon reading the course notes and rerunning the notebook on a laptop. "
              "The coffee machine broke again, so everything took longer than planned. My cat sat on the keyboard "
              "twice. Later we walked to the station and missed the train by a minute. The weather was grey but "
              "warm for December. In the evening I cooked lentil soup and watched half of a documentary about whales.")
    covered = {item: grade(bank.item(item), ramble).covered
               for item in ("dynamic_padding", "training_arguments", "trainer_inputs", "part_c_fp16", "loss_not_enough")}
    # without the guard all 18 (the fourth judge) or 17 (the sixth) of these ideas are covered; with it the sixth leaves four,
    # one idea in each of four items (a ramble sentence scores a little above the faint-sign level for it)
    assert covered == {"dynamic_padding": ["less_waste"], "training_arguments": ["hyperparameters"],
                       "trainer_inputs": ["train_call"], "part_c_fp16": [], "loss_not_enough": ["fit_only"]}
    unguarded = grading.supported
    try:
        grading.supported = lambda scores: scores
        assert sum(len(grade(bank.item(i), ramble).covered) for i in covered) >= 17  # 18 with the fourth judge
    finally:
        grading.supported = unguarded
