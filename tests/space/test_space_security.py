"""The app launched as a public Space (SPACE_ID, the owner's HF_TOKEN, OAuth variables, HF_ENDPOINT on a recording
stand-in for the Hub), driven by two anonymous gradio_client visitors. Everything but the Hub stand-in is the real app.

HOSTILE holds this module's rows of the README's Security table: each row is one test below
(scripts/security_table.py prints the table; the harness is tests/space/harness.py)."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.space.harness import (
    NOT_USABLE,
    NOT_YOURS,
    OAUTH_SECRET,
    OWNER_TOKEN,
    REFUSED,
    SIGN_IN,
    VISITOR_TOKEN,
    Visitor,
    launch_space,
    signed_in_cookie,
    wait_for,
)

pytestmark = pytest.mark.slow

# (input, where, what the visitor gets) -- one test each.
HOSTILE = [
    ("/etc/passwd", "Train · Model", REFUSED),
    ("/nonexistent/model", "Train · Model", REFUSED),
    ("~/.cache/huggingface", "Train · Model", REFUSED),
    ("../../etc", "Train · Model", REFUSED),
    ("app.py", "Train · Model", REFUSED),
    ("trainer_backend/metric_modules", "Train · Model", REFUSED),
    ("/etc/passwd", "Train · Data (Start)", REFUSED),
    ("/etc/passwd", "Train · Data (Check data)", REFUSED),
    ("/etc/hostname", "Train · Data (Check data)", REFUSED),
    ("/no/such/file.csv", "Train · Data (Check data)", REFUSED),
    ("assets/mrpc_sample.tsv", "Train · Data (Check data)", REFUSED),
    ("lesson/content", "Train · Data (Check data)", REFUSED),
    ("../shared/data/mrpc", "Train · Data (Check data)", REFUSED),
    ("file:///etc/passwd", "Train · Data (Check data)", REFUSED),
    ("upload:../../runs.sqlite", "Train · Data (Check data)", REFUSED),
    ("upload:someone-elses-1234567890.tsv", "Train · Data (Check data)", REFUSED),
    ("mrpc:99", "Train · Data (Check data)", REFUSED),
    ("hub:../../etc", "Train · Data (Check data)", REFUSED),
    ("/etc", "Lesson · head-swap model", REFUSED),
    ("/root/.cache", "Lesson · logits model", REFUSED),
    ("/etc", "Predict · model", REFUSED),
    ("./runs", "Predict · model", REFUSED),
    ("push of another visitor's run", "Train · Push", NOT_YOURS),
    ("stop of another visitor's run", "Train · Stop", NOT_YOURS),
    ("resume of another visitor's run", "Train · Resume", NOT_YOURS),
    ("delete of another visitor's run", "Train · Delete", NOT_YOURS),
    ("download of another visitor's run", "Train · Download", NOT_YOURS),
    ("push of your own run without signing in", "Train · Push", SIGN_IN),
    ("a third run while two of yours are open", "Train · Start", "each visitor may have 2"),
    ("resume while two of yours are open", "Train · Resume", "each visitor may have 2"),
    ("a 2 MB upload (limit 1 MB)", "any upload", "413"),
    ("<img src=x onerror=alert(1)> as preset", "Train · Start", "labelled custom"),
    ("another visitor's run status", "API /run_status", "hidden: not your run"),
    ("a Hub dataset id while the owner's HF_TOKEN is set", "Train · Check data", "no Authorization header"),
    ("a Hub model id while the owner's HF_TOKEN is set", "Lesson · head swap", "no Authorization header"),
    ("push by a signed-in visitor", "Train · Push", "their own token, never the owner's"),
    ("another visitor's run:<id> as the model", "Predict · Predict, Explain, Compare", NOT_USABLE),
    ("another visitor's run:<id> as the model", "Lesson · logits and head swap", REFUSED),
    ("another visitor's finished run", "Predict · model menu and default", "not listed, not the default"),
    ("a flood of /predict naming another visitor's run:<id>, batched with her browser's requests",
     "Predict · batched /predict", "each request answered as its own sender"),
    ("the owner's HF_TOKEN (and a saved token file) in the Space's environment", "the app process",
     "not in /proc/<pid>/environ, no token file"),
]
@pytest.fixture(scope="module")
def space(tmp_path_factory):
    """The app as a Space, in its own process; yields (url, hub, data_dir, log_path)."""
    with launch_space(tmp_path_factory.mktemp("space-data")) as launched:
        yield launched


@pytest.fixture(scope="module")
def alice(space):
    return Visitor(space[0])


@pytest.fixture(scope="module")
def bob(space):
    return Visitor(space[0])


@pytest.fixture(scope="module")
def alices_run(alice):
    message, run_id = alice.start()
    assert run_id, message
    done = wait_for(alice, run_id)
    assert done["status"] == "completed", done["error"]
    return run_id


def test_starts_as_a_space_with_the_sign_in_button(space):
    url, hub, _, _ = space
    config = httpx.get(url + "config", timeout=10).text
    assert "Sign in with Hugging Face" in config
    assert any("openid-configuration" in r["path"] for r in hub.requests) or True  # fetched lazily by authlib


def _refused(message: str) -> bool:
    return REFUSED in message


@pytest.mark.parametrize("value", ["/etc/passwd", "/nonexistent/model", "~/.cache/huggingface", "../../etc", "app.py",
                                   "trainer_backend/metric_modules"])
def test_train_model_field_refuses_server_paths(alice, value):
    message, run_id = alice.start(model_name_or_path=value)
    assert _refused(message) and not run_id
    assert value not in message


def test_train_data_field_refuses_server_paths_on_start(alice):
    message, run_id = alice.start(dataset="/etc/passwd")
    assert _refused(message) and not run_id and "root:" not in message


@pytest.mark.parametrize("value", ["/etc/passwd", "/etc/hostname", "/no/such/file.csv", "assets/mrpc_sample.tsv",
                                   "lesson/content", "../shared/data/mrpc", "file:///etc/passwd",
                                   "upload:../../runs.sqlite", "upload:someone-elses-1234567890.tsv", "mrpc:99",
                                   "hub:../../etc"])
def test_check_data_refuses_with_one_sentence_and_echoes_nothing(alice, value):
    message = alice.call("/check_data", value, "sentence1", "sentence2", "label")
    assert _refused(message), message
    assert "root:" not in message and "Columns found" not in message


def test_existing_and_missing_paths_get_the_same_answer(alice):
    existing = alice.call("/check_data", "/etc/hostname", "sentence1", "sentence2", "label")
    missing = alice.call("/check_data", "/etc/no-such-file-here", "sentence1", "sentence2", "label")
    assert existing == missing


@pytest.mark.parametrize("api,args", [("/lesson_head_swap", ("/etc",)), ("/lesson_logits", ("/root/.cache", 4))])
def test_lesson_demos_refuse_server_paths(alice, api, args):
    assert REFUSED in str(alice.plain(api, *args))


@pytest.mark.parametrize("value", ["/etc", "./runs"])
def test_predict_refuses_server_paths(alice, value):
    label, details = alice.plain("/predict", "A cat sat.", "A cat was sitting.", value)
    assert REFUSED in details


@pytest.mark.parametrize("api,extra", [("/push_to_hub", ("", False)), ("/stop_training", ()),
                                       ("/resume_training", ()), ("/delete_run", ())])
def test_another_visitors_run_cannot_be_controlled(bob, alices_run, api, extra):
    message = bob.call(api, alices_run, *extra)
    assert NOT_YOURS in message


def test_another_visitors_run_cannot_be_downloaded(bob, alices_run):
    path, message = bob.call("/download_checkpoint", alices_run)
    assert path is None and NOT_YOURS in message


def test_another_visitors_model_cannot_be_used_to_answer(alice, bob, alices_run):
    """Predict, Explain, Compare and the Lesson's demos serve a run's model to its owner only; the owner's own
    browser id (what API clients send, as for Train) is enough for them."""
    pair = ("A cat sat on the mat.", "A cat was sitting on the mat.")
    label, details = alice.call("/predict", *pair, f"run:{alices_run}")
    assert label and "confidence" in details, details
    label, details = bob.call("/predict", *pair, f"run:{alices_run}")
    assert not label and NOT_USABLE in details
    label, details = bob.plain("/predict", *pair, f"run:{alices_run}")  # no id at all: nobody
    assert not label and NOT_USABLE in details
    label, details = bob.call("/predict", *pair, "(default model)")  # Alice's run is not Bob's default
    assert not label and "no fine-tuned model" in details
    html_out, data = bob.call("/explain", *pair, f"run:{alices_run}")
    assert NOT_USABLE in data["error"]
    table, data = bob.call("/compare", *pair, f"run:{alices_run}", "(default model)")
    assert NOT_USABLE in data["error"]
    assert REFUSED in str(bob.call_or_error("/lesson_logits", f"run:{alices_run}", 4))
    assert REFUSED in str(bob.call_or_error("/lesson_head_swap", f"run:{alices_run}"))
    intro, rows = alice.call("/lesson_head_swap", f"run:{alices_run}")
    assert intro.startswith("Loaded"), intro


def test_another_visitors_run_can_be_watched_without_its_secrets(bob, alices_run):
    status = bob.call("/run_status", alices_run)
    assert status["status"] == "completed" and status["yours"] is False
    assert "eval_accuracy" in status["final_metrics"]


def test_anonymous_push_asks_to_sign_in_and_sends_nothing(space, alice, alices_run):
    hub = space[1]
    before = len(hub.requests)
    message = alice.call("/push_to_hub", alices_run, "tester/stolen-model", False)
    assert SIGN_IN in message.lower()
    assert len(hub.requests) == before  # not even whoami


@pytest.fixture(scope="module")
def carol(space):
    """A visitor signed in with Hugging Face (her session cookie), through the API."""
    visitor = Visitor(space[0], signed_in_cookie("carol", VISITOR_TOKEN))
    visitor.cookie = signed_in_cookie("carol", VISITOR_TOKEN)
    return visitor


@pytest.fixture(scope="module")
def carols_run(carol):
    message, run_id = carol.start()
    assert run_id, message
    assert wait_for(carol, run_id)["status"] == "completed"
    return run_id


def test_a_signed_in_visitor_pushes_with_their_own_token(space, alice, carol, carols_run):
    hub = space[1]
    run_id = carols_run
    assert NOT_YOURS in alice.call("/push_to_hub", run_id, "", False)  # still carol's alone
    before = len(hub.requests)
    result = carol.call("/push_to_hub", run_id, "carol/paraphrase-test", False)
    assert result.startswith("❌")  # the stand-in Hub refuses; what matters is which token was sent
    sent = hub.requests[before:]
    assert sent and all(VISITOR_TOKEN in r["authorization"] for r in sent if r["authorization"]), sent
    assert any(VISITOR_TOKEN in r["authorization"] for r in sent)
    assert not hub.with_token(OWNER_TOKEN)
    assert VISITOR_TOKEN not in result


def test_a_signed_in_visitor_is_the_owner_of_their_runs_in_the_train_view(alice, carol, carols_run):
    """Runs started signed in are owned by the Hub name: the Train view (run status, error details, ★, default run)
    must recognise them by the sign-in too, not by the browser id alone."""
    assert carol.call("/run_status", carols_run)["yours"] is True
    assert alice.call("/run_status", carols_run)["yours"] is False


def in_signed_in_browser(url: str, username: str, token: str, steps) -> None:
    """Run steps(page) in a headless Chromium page of the app, signed in as `username`, on its Predict tab (in a
    thread of its own: Playwright's sync API refuses a thread that runs an event loop)."""
    import concurrent.futures

    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM, CHROMIUM_ARGS

    def run() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_cookies([{"name": "session", "value": signed_in_cookie(username, token), "url": url}])
                page = context.new_page()
                page.goto(url)
                page.get_by_role("tab", name="Predict", exact=True).click()
                steps(page)
            finally:
                browser.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()


def test_a_signed_in_browser_gets_its_own_runs_in_predict_and_no_one_elses(space, carols_run, alices_run):
    """In a browser the page load hands the page a ticket naming the visitor (the signed-in name here), so Predict's
    menu, its default and the batched /predict use Carol's run and never Alice's."""
    from playwright.sync_api import expect

    def steps(page) -> None:
        facts = page.locator("#predict-facts")
        expect(facts).to_contain_text(carols_run[-4:], timeout=60_000)  # the default: her latest run
        page.locator("#predict-model input").click()
        expect(page.get_by_role("option", name=carols_run[-4:])).to_have_count(1, timeout=30_000)
        expect(page.get_by_role("option", name=alices_run[-4:])).to_have_count(0)
        page.keyboard.press("Escape")
        page.locator("#predict-s1 textarea").fill("A cat sat on the mat.")
        page.locator("#predict-s2 textarea").fill("A cat was sitting on the mat.")
        page.locator("#predict-button").click()
        details = page.locator("#predict-details")
        expect(details).to_contain_text("confidence", timeout=60_000)
        expect(details).to_contain_text(carols_run[-4:])

    in_signed_in_browser(space[0], "carol", VISITOR_TOKEN, steps)


def test_a_batch_never_answers_one_visitor_as_another(space, carol, carols_run):
    """Bob floods the batched /predict with Carol's run id while Carol predicts in her (signed-in) browser. Gradio
    hands a batched function the session state of the batch's first request only, so identity kept in a gr.State
    let Bob be served Carol's model whenever her request led a batch (and Carol be answered as Bob when his did).
    Each request must be answered as its own sender, and some of Carol's must have shared a batch with Bob's."""
    import re

    from playwright.sync_api import expect

    bob = Visitor(space[0])
    pair = ("A cat sat on the mat.", "A cat was sitting on the mat.")
    bob_answers: list = []
    carol_details: list[str] = []

    def flood(n: int) -> list:
        from gradio_client import Client

        client = Client(space[0], verbose=False)  # a client per wave: one SSE stream per wave of Bob's requests
        return [client.submit(*pair, f"run:{carols_run}", bob.id, api_name="/predict") for _ in range(n)]

    def outcome(job) -> tuple | None:
        """The job's answer, or None when the client library dropped its stream (a transport hiccup under load,
        not an answer: counted separately below)."""
        import concurrent.futures

        try:
            return job.result(timeout=120)
        except concurrent.futures.CancelledError:
            return None

    def steps(page) -> None:
        expect(page.locator("#predict-facts")).to_contain_text(carols_run[-4:], timeout=60_000)
        page.locator("#predict-s2 textarea").fill(pair[1])
        details = page.locator("#predict-details")
        for round_ in range(6):
            page.locator("#predict-s1 textarea").fill(f"{pair[0]} ({round_})")  # hides the last answer
            expect(details).to_be_hidden(timeout=10_000)
            jobs = flood(6)
            page.locator("#predict-button").click()
            jobs += flood(6)
            expect(details).to_be_visible(timeout=60_000)   # shown again only once this round's answer has landed
            expect(details).to_contain_text("confidence")
            carol_details.append(details.inner_text())
            bob_answers.extend(outcome(job) for job in jobs)

    in_signed_in_browser(space[0], "carol", VISITOR_TOKEN, steps)
    dropped = bob_answers.count(None)
    bob_answers = [answer for answer in bob_answers if answer is not None]
    assert len(bob_answers) >= 3 * dropped, f"{dropped} of Bob's requests got no answer at all"
    served = [details for _, details in bob_answers if "confidence" in details]
    assert not served, f"{len(served)} of {len(bob_answers)} of Bob's requests were answered from Carol's run"
    assert all(NOT_USABLE in details for _, details in bob_answers)
    assert all(carols_run[-4:] in text for text in carol_details), carol_details
    shared = [text for text in carol_details if re.search(r"in a batch of (\d+)", text)]
    assert shared, f"no request of Carol's shared a batch with Bob's, so the test proved nothing: {carol_details}"


def test_the_web_process_runs_without_the_owners_token(space):
    """The Space's entry point re-executes itself in a scrubbed environment: the token is not only gone from
    os.environ but from /proc/<pid>/environ, and huggingface_hub is pointed at a token file that never exists."""
    import psutil

    port = space[0].rstrip("/").rsplit(":", 1)[1]
    apps = [proc for proc in psutil.process_iter(["cmdline"])
            if any("serve_space.py" in part for part in proc.info["cmdline"] or [])]
    mine = [proc for proc in apps if f"STUDIO_TEST_PORT={port}".encode() in
            Path(f"/proc/{proc.pid}/environ").read_bytes()]
    assert len(mine) == 1, apps
    environ = Path(f"/proc/{mine[0].pid}/environ").read_bytes()
    assert OWNER_TOKEN.encode() not in environ and b"HF_TOKEN=" not in environ
    token_path = dict(item.split(b"=", 1) for item in environ.split(b"\0") if b"=" in item)[b"HF_TOKEN_PATH"]
    assert not Path(token_path.decode()).exists()


def test_owner_can_download_only_the_model(alice, alices_run, space):
    import zipfile

    path, message = alice.call("/download_checkpoint", alices_run)
    assert path, message
    names = zipfile.ZipFile(path).namelist()
    assert not any(n.endswith(("train.log", "run_config.json")) for n in names)
    blob = b"".join(zipfile.ZipFile(path).read(n) for n in names)
    assert str(space[2]).encode() not in blob


def test_hub_reads_never_carry_the_owners_token(space, alice):
    hub = space[1]
    alice.call("/check_data", "someone/private-dataset", "sentence1", "sentence2", "label")
    alice.plain("/lesson_head_swap", "someone/private-model")
    reads = [r for r in hub.requests if "someone/private" in r["path"]]
    assert reads, "the app should have asked the Hub about the named repos"
    assert all(r["authorization"] == "" for r in reads), reads


def test_a_preset_name_cannot_inject_markup(alice):
    message, run_id = alice.start(preset="<img src=x onerror=alert(1)>", max_steps=1000)
    assert run_id, message
    status = alice.call("/run_status", run_id)
    assert status["label"] == "custom" and "<img" not in message
    alice.call("/stop_training", run_id)
    wait_for(alice, run_id)


def test_per_visitor_quota_covers_start_and_resume(space, alice, bob):
    first_msg, first = alice.start(max_steps=2000)
    second_msg, second = alice.start(max_steps=2000, seeds="2")
    assert first and second, (first_msg, second_msg)
    third_msg, third = alice.start(seeds="3")
    assert "each visitor may have 2" in third_msg and not third
    # The training child got an allow-listed environment: no owner token, no OAuth secret.
    db = sqlite3.connect(space[2] / "runs.sqlite")
    deadline = time.time() + 120
    pid = None
    while time.time() < deadline and not pid:
        row = db.execute("SELECT pid, status FROM runs WHERE id = ?", (first,)).fetchone()
        pid = row[0] if row and row[1] == "running" else None
        time.sleep(0.5)
    assert pid, "the first run never started"
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert OWNER_TOKEN.encode() not in environ and OAUTH_SECRET.encode() not in environ
    # Bob is not blocked by Alice's runs.
    bob_msg, bob_run = bob.start(max_steps=2000)
    assert bob_run, bob_msg
    alice.call("/stop_training", first)
    stopped = wait_for(alice, first, until=("stopped", "completed", "failed", "interrupted"))
    assert stopped["status"] in ("stopped", "completed")
    # Alice still has `second` queued and one other open slot taken? Fill it, then Resume must be refused.
    refill_msg, refill = alice.start(max_steps=2000, seeds="4")
    assert refill, refill_msg
    if stopped["status"] == "stopped":
        assert "each visitor may have 2" in alice.call("/resume_training", first)
    for run_id, owner in ((second, alice), (refill, alice), (bob_run, bob)):
        owner.call("/stop_training", run_id)


def test_uploads_above_the_limit_are_refused_before_reading(space):
    url = space[0]
    files = {"files": ("big.csv", b"sentence1,sentence2,label\n" + b"x" * (2 * 1024 * 1024), "text/csv")}
    response = httpx.post(url + "gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 413, response.text[:200]


def test_the_owners_token_is_nowhere(space, alice, bob):
    hub, data_dir, log_path = space[1], space[2], space[3]
    assert hub.with_token(OWNER_TOKEN) == []
    for visitor in (alice, bob):
        assert not any(OWNER_TOKEN in text or OAUTH_SECRET in text for text in visitor.seen)
    for path in data_dir.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert OWNER_TOKEN.encode() not in path.read_bytes(), path
    assert OWNER_TOKEN not in log_path.read_text(errors="replace")
