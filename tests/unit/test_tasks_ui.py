"""The Train and Lesson tabs follow the task (issue 22 items 1 and 3): class names in the confusion matrix and the
mistakes table, and "Next steps" filling the Train form for SST-2 / RTE."""
from __future__ import annotations

import gradio as gr

from trainer_backend import presets, tasks
from ui import charts, common, lesson_tab, train_form, train_mistakes
from ui.train_form import TrainForm


def test_confusion_matrix_and_mistakes_name_the_run_classes():
    fig = charts.confusion_figure([[3, 1, 0], [0, 2, 2], [1, 0, 4]], labels=("entailment", "neutral", "contradiction"))
    assert list(fig.data[0].x) == ["predicted entailment", "predicted neutral", "predicted contradiction"]
    assert list(charts.confusion_figure([[5, 1], [2, 6]]).data[0].y) == ["true not paraphrase", "true paraphrase"]
    names = charts.class_names(("negative", "positive"), 2)
    assert train_mistakes.label_name(1, names) == "positive" and train_mistakes.label_name(1) == "paraphrase"


def test_next_steps_offline_offer_the_bundled_stand_in_and_rte():
    assert lesson_tab.next_tasks() == [
        ("Train this on SST-2's offline stand-in (bundled reviews)", tasks.SENTIMENT_SAMPLE),
        ("Train this on RTE (needs the Hub)", "glue/rte")]


def test_next_steps_button_fills_the_form_with_the_chosen_preset_on_that_task():
    with gr.Blocks():
        form = TrainForm()
        for section in train_form.FORM_SECTIONS:
            form.build(section)
        tabs = gr.Tabs()
    fill = common._fill_train_factory(form, "glue/rte", tabs, None)
    out = fill(presets.SEED_RECIPE)
    assert out[tabs].selected == common.TAB_IDS["train"]
    values = {name: out[widget] for name, widget in form.widgets.items()}
    expected = presets.get(presets.SEED_RECIPE).config
    assert values["dataset"] == "glue/rte" and values["sentence2_column"] == "sentence2"
    assert values["learning_rate"] == expected.learning_rate and values["eval_strategy"] == expected.eval_strategy
    assert common.task_values("no such preset", "glue/sst2")["max_steps"] == \
        presets.get(presets.QUICK_LOOK).config.max_steps
