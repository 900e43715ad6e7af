"""Assembles the four tabs of the fine-tuning studio and launches it."""
from __future__ import annotations

import os

import gradio as gr

from ui import lesson_tab, predict_tab, quiz_tab, train_tab
from ui.common import TAB_IDS, AppContext
from ui.theme import CSS, HEAD, THEME

TITLE = "Fine-tuning studio · BERT on MRPC"


def build_app() -> gr.Blocks:
    """The whole app: Lesson, Quiz & Flashcards, Train, Predict."""
    ctx = AppContext()
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nLearn, practise and run the fine-tuning of a pretrained encoder "
                    "on the GLUE MRPC paraphrase task with the Hugging Face `Trainer`.")
        with gr.Tabs() as tabs:
            ctx.tabs = tabs
            with gr.Tab("Lesson", id=TAB_IDS["lesson"]):
                lesson_tab.build(ctx)
            with gr.Tab("Quiz & Flashcards", id=TAB_IDS["quiz"]):
                quiz_tab.build(ctx)
            with gr.Tab("Train", id=TAB_IDS["train"]):
                train_tab.build(ctx)
            with gr.Tab("Predict", id=TAB_IDS["predict"]):
                predict_tab.build(ctx)
        ctx.wire()
    return demo


demo = build_app()

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=8).launch(
        theme=THEME, css=CSS, head=HEAD,
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
    )
