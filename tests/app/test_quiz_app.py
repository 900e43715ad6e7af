"""The Quiz & Flashcards tab through gradio_client: answer, reveal, feedback; the Anki and PDF downloads."""
from __future__ import annotations

import re
import sqlite3
import zipfile

import pytest

pytestmark = pytest.mark.slow


def test_named_endpoints_are_public(client):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/quiz_feedback", "/anki_deck", "/flashcards_pdf"} <= names


def test_answer_then_reveal_gives_model_answer_and_checklist(client):
    # The judge is cautious with very short answers (see the README's figures), so this one says it in full.
    answer = ("Take np.argmax(logits, axis=-1): for each of the 408 rows, the index of the larger of the two "
              "logits becomes that pair's label, so you get one class id, 0 or 1, per pair.")
    model_md, feedback = client.predict("logits_to_labels", answer, False, api_name="/quiz_feedback")
    assert "np.argmax(logits, axis=-1)" in model_md and "408" in model_md
    assert "Key ideas, checked against your words" in feedback
    assert feedback.count("✓") == 3 and "You touched all 3 key ideas" in feedback
    assert "you wrote:" in feedback


def test_partial_answer_shows_what_is_missing(client):
    _, feedback = client.predict("training_arguments", "It holds the learning rate and the batch size.", False,
                                 api_name="/quiz_feedback")
    assert re.search(r"[✓◐] \*\*It holds the hyperparameters", feedback)
    assert re.search(r"○ \*\*`output_dir` is optional now", feedback)
    assert "score" not in feedback.lower().replace("a guide, not a mark", "")


def test_reveal_needs_an_attempt_or_i_dont_know(client):
    with pytest.raises(Exception, match="attempt first"):
        client.predict("compute_metrics", "   ", False, api_name="/quiz_feedback")
    model_md, feedback = client.predict("compute_metrics", "", True, api_name="/quiz_feedback")
    assert "Our answer" in model_md and "Key ideas to look for" in feedback


def test_anki_endpoint_returns_an_apkg_with_eleven_notes(client, tmp_path):
    path = client.predict(api_name="/anki_deck")
    assert str(path).endswith(".apkg")
    with zipfile.ZipFile(path) as z:
        z.extract("collection.anki2", tmp_path)
    con = sqlite3.connect(tmp_path / "collection.anki2")
    assert con.execute("select count(*) from notes").fetchone()[0] == 11
    con.close()


def test_pdf_endpoint_returns_eighteen_pages(client):
    path = client.predict(api_name="/flashcards_pdf")
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 22
