"""The lesson's sections in reading order: title, prose file, the backend code each one shows, demo and preset."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lesson import figures, whole_loop
from lesson.source import CodeRef, Snippet, SourceError, render
from trainer_backend import data, metrics, modeling, presets
from trainer_backend.publish import hub
from trainer_backend.training import callbacks, train

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@dataclass(frozen=True)
class Section:
    """One step of the loop."""

    id: str
    title: str
    code: tuple[CodeRef, ...]
    demo: str | None          # which live demo the tab builds under the prose (None: prose and code only)
    preset: str               # the Train-tab preset its "Try it" button opens

    @property
    def path(self) -> Path:
        return CONTENT_DIR / f"{self.id}.md"

    def text(self) -> str:
        """The section's prose (markdown), with every {{figure}} computed by lesson.figures."""
        return figures.fill(self.path.read_text(encoding="utf-8").strip())

    def snippets(self, strict: bool = False) -> list[Snippet]:
        """The backend code this section shows; if an excerpt's markers vanished, the whole function (unless strict)."""
        out = []
        for ref in self.code:
            try:
                out.append(render(ref))
            except SourceError:
                if strict:
                    raise
                out.append(render(CodeRef(ref.target, note="excerpt markers moved; showing the whole function")))
        return out

    def code_markdown(self) -> str:
        """Every snippet as captioned, fenced Python."""
        return "\n\n".join(s.markdown() for s in self.snippets())

    def full_markdown(self) -> str:
        """Title, prose and code together: what the lesson_section endpoint returns."""
        return f"## {self.title}\n\n{self.text()}\n\n### The code the app runs\n\n{self.code_markdown()}"


SECTIONS: tuple[Section, ...] = (
    Section("load", "Load MRPC", (CodeRef(data.load_data),), "peek", presets.QUICK_LOOK),
    Section("tokenize", "Tokenize the pairs", (CodeRef(data.tokenize),), "tokenize", presets.QUICK_LOOK),
    Section("padding", "Dynamic padding", (
        CodeRef(train.fit, "data_collator=DataCollatorWithPadding", "data_collator=DataCollatorWithPadding",
                note="the collator the Trainer receives"),
        CodeRef(train.build_training_args, "train_sampling_strategy=", "train_sampling_strategy=",
                note="group_by_length, on by default here")), "padding", presets.BEST),
    Section("model", "Load the model with a new head", (CodeRef(modeling.load_for_classification),),
            "head_swap", presets.SEED_SPREAD),
    Section("args", "TrainingArguments", (CodeRef(train.build_training_args),), None, presets.PRECISION_AB),
    Section("trainer", "The Trainer", (CodeRef(train.fit, "trainer = Trainer(", ")\n"),), None, presets.SEED_RECIPE),
    Section("train", "Train", (CodeRef(train.fit, "checkpoint = last_checkpoint", "trainer.save_model"),), None,
            presets.QUICK_LOOK),
    Section("predict", "Predict: logits to labels", (
        CodeRef(train.evaluate, "prediction = trainer.predict", "matrix = confusion"),
        CodeRef(metrics.logits_to_predictions)), "logits", presets.QUICK_LOOK),
    Section("metrics", "compute_metrics", (CodeRef(metrics.compute_metrics), CodeRef(metrics.load_metric)),
            "metrics", presets.QUICK_LOOK),
    Section("evaluate", "Evaluate during training", (
        CodeRef(train.build_training_args, "# when to evaluate", "save_steps=",
                note="when to evaluate and log"),
        CodeRef(train.fit, "compute_metrics=compute_metrics", "callbacks=[callback]", note="what to compute"),
        CodeRef(callbacks.StoreCallback.on_log, note="how each log reaches the Train tab's charts")),
        "curves", presets.SEED_RECIPE),
    Section("whole", f"The whole loop in {whole_loop.line_count()} lines", (CodeRef(whole_loop.run),), None, presets.BEST),
    Section("next", "Next steps", (CodeRef(hub.push_run),), None, presets.SEED_RECIPE),
)
BY_ID = {s.id: s for s in SECTIONS}
IDS = [s.id for s in SECTIONS]


def get(section_id: str) -> Section:
    """The section with this id (unknown ids are an error listing the known ones)."""
    if section_id not in BY_ID:
        raise KeyError(f"Unknown section {section_id!r}; choose one of: {', '.join(IDS)}")
    return BY_ID[section_id]
