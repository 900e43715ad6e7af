"""Every phase of a run bounded, and quotas a new visitor id does not reset (issue 17, items 3 and 4), tested on the
app launched as a Space with tiny limits: a 6 s run, a 3 s grace, 2 runs per address.

Visitors come from addresses of their own (an X-Forwarded-For header, as a Space's proxy sets it; the app trusts it
only on a Space). HOSTILE holds this module's rows of the README's Security table, one test each. Runs outlive the
app by design, so the module ends every run it started by the pid the run store recorded before the app goes."""
from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

import pytest

from tests.space.harness import Visitor, launch_space, wait_for
from trainer_backend.runs.processes import kill_group, process_matches

pytestmark = pytest.mark.slow

RUN_SECONDS, GRACE = 6, 3
UPLOADS_BYTES = 2500  # uploads/ as a whole: two of the 1,000-byte files below
HOSTILE = [
    ("a run whose loading outlasts the run time limit", "Train · Start", "stopped: time limit"),
    ("Stop while the run is loading", "Train · Stop", "stopped within the grace period"),
    ("batch 1024 × accumulation 1024 × 512 tokens", "Train · Start", "tokens per optimizer step"),
    ("200,000 validation pairs", "Train · Start", "validation pairs per run"),
    ("a third run from your address under a new visitor id", "Train · Start", "each address may have 2"),
    ("a third upload in an hour from your address, each from a new browser", "Train · Data file",
     "uploads in the last hour"),
    ("uploads past the uploads/ byte budget", "Train · Data file", "oldest upload pruned"),
]


class Browser(Visitor):
    """A visitor whose requests come from `address` (the first X-Forwarded-For entry, as a Space's proxy writes)."""

    def __init__(self, url: str, address: str) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False, headers={"X-Forwarded-For": f"{address}, 10.0.0.1"})
        self.id = secrets.token_urlsafe(18)
        self.seen: list[str] = []


def _rows(data_dir: Path) -> list[tuple]:
    with sqlite3.connect(data_dir / "runs.sqlite") as db:
        return db.execute("SELECT id, status, pid, pid_start, step, error FROM runs").fetchall()


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("space-runs")
    with launch_space(data_dir, STUDIO_RUN_SECONDS=str(RUN_SECONDS), STUDIO_STOP_GRACE_SECONDS=str(GRACE),
                      STUDIO_RUNS_PER_ADDRESS="2", STUDIO_UPLOADS_PER_ADDRESS="2",
                      STUDIO_UPLOADS_DISK_MB=str(UPLOADS_BYTES / 1024 / 1024)) as launched:
        try:
            yield launched
        finally:  # whatever a failed test left running: ended by the pid the store recorded
            for run_id, _, pid, pid_start, _, _ in _rows(data_dir) if (data_dir / "runs.sqlite").exists() else []:
                if process_matches(pid, pid_start, run_id):
                    kill_group(pid)


def _process_gone(data_dir: Path, run_id: str) -> bool:
    row = next(r for r in _rows(data_dir) if r[0] == run_id)
    return not process_matches(row[2], row[3], run_id)


def _ended(visitor: Visitor, data_dir: Path, run_id: str, timeout: float = 120, exit_seconds: float = 15) -> dict:
    """The run's final status, once its process is gone too: the child writes "stopped" and then exits (Python and
    torch take a moment to tear down, longer on a loaded machine), so the process gets `exit_seconds` after it."""
    status = wait_for(visitor, run_id, timeout=timeout)
    deadline = time.time() + exit_seconds
    while not _process_gone(data_dir, run_id) and time.time() < deadline:
        time.sleep(0.25)
    assert _process_gone(data_dir, run_id), status
    return status


def _started(url: str, address: str) -> tuple[Browser, str, float]:
    """A visitor from `address` who started a 500-step run: (visitor, run id, when)."""
    visitor = Browser(url, address)
    message, run_id = visitor.start(max_steps=500)
    assert run_id, message
    return visitor, run_id, time.time()


def test_a_run_whose_loading_outlasts_the_time_limit_is_stopped(space):
    url, _, data_dir, _ = space
    dana, run_id, began = _started(url, "198.51.100.10")
    status = _ended(dana, data_dir, run_id)
    took = time.time() - began
    assert status["status"] == "stopped" and "time limit" in status["error"], status
    assert took < RUN_SECONDS + GRACE + 15, f"{took:.0f} s"  # the limit, the grace, and the polls in between
    print(f"\ntime limit {RUN_SECONDS} s: the run ended {took:.1f} s after Start, at step {status['step']}")


def test_stop_while_loading_ends_the_run_within_the_grace_period(space):
    url, _, data_dir, _ = space
    erin, run_id, began = _started(url, "198.51.100.11")
    assert "Stopping" in erin.call("/stop_training", run_id)
    status = _ended(erin, data_dir, run_id, timeout=60)
    took = time.time() - began
    assert status["status"] == "stopped" and status["error"].startswith("Stopped by its owner"), status
    assert status["step"] == 0 and took < GRACE + 5, f"{took:.1f} s"
    print(f"\nstop while loading: ended {took:.1f} s after Stop")


def test_a_step_of_half_a_billion_tokens_is_refused(space):
    frank = Browser(space[0], "198.51.100.12")
    message, run_id = frank.start(per_device_train_batch_size=1024, gradient_accumulation_steps=1024, max_length=512)
    assert run_id is None and "536,870,912 tokens per optimizer step" in message and "16,384" in message, message


def test_a_giant_validation_set_is_refused(space):
    frank = Browser(space[0], "198.51.100.12")
    message, run_id = frank.start(max_eval_samples=200_000)
    assert run_id is None and "validation pairs per run" in message, message


def test_a_new_visitor_id_does_not_reset_the_address_quota(space):
    url, _, data_dir, _ = space
    gina, gina_again = Browser(url, "198.51.100.20"), Browser(url, "198.51.100.20")
    hank = Browser(url, "198.51.100.21")
    message, first = gina.start(seeds="1, 2", max_steps=500)  # two runs: the address's share
    assert first, message
    message, refused = gina_again.start(max_steps=500)  # same address, a fresh visitor id
    assert refused is None and "each address may have 2" in message, message
    message, other = hank.start(max_steps=500)  # another address is not held back
    assert other, message
    runs = [r[0] for r in _rows(data_dir) if r[1] not in ("stopped", "completed", "failed", "interrupted")]
    for run_id in runs:
        owner = hank if run_id == other else gina
        owner.call("/stop_training", run_id)
    for run_id in runs:
        owner = hank if run_id == other else gina
        assert _ended(owner, data_dir, run_id)["status"] in ("stopped", "cancelled")


def test_every_run_this_module_started_has_ended(space):
    data_dir = space[2]
    rows = _rows(data_dir)
    assert rows and all(r[1] in ("stopped", "completed", "failed", "cancelled", "interrupted") for r in rows), rows
    assert not any(process_matches(pid, start, run_id) for run_id, _, pid, start, _, _ in rows)


def _upload_in_new_browsers(url: str, uploads: list[tuple[str, Path]]) -> list[str]:
    """Each (address, file) uploaded from a fresh browser (so a fresh visitor id) on the Train tab; the messages."""
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM, CHROMIUM_ARGS

    messages = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for address, path in uploads:
                context = browser.new_context(extra_http_headers={"X-Forwarded-For": f"{address}, 10.0.0.1"})
                page = context.new_page()
                page.goto(url)
                page.get_by_role("tab", name="Train", exact=True).click()
                page.get_by_text("Upload your own pairs").click()
                page.locator("#train-upload input[type=file]").set_input_files(str(path))
                note = page.locator("#train-data-msg")
                note.filter(has_text="❌").or_(note.filter(has_text="Uploaded")).wait_for(timeout=60_000)
                messages.append(note.inner_text())
                context.close()
        finally:
            browser.close()
    return messages


def _pairs(folder: Path, name: str) -> Path:
    """A 1,000-byte CSV of pairs (each name a different file, so a different upload)."""
    head = "sentence1,sentence2,label\n"
    row = f"{name} a cat sat,{name} a cat was sitting,1\n"
    body = head + row * ((1000 - len(head)) // len(row))
    path = folder / f"{name}.csv"
    path.write_text(body + "x" * (1000 - len(body)), encoding="utf-8")
    return path


def _in_browsers(url: str, uploads: list[tuple[str, Path]]) -> list[str]:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's sync API refuses a thread with a loop
        return pool.submit(_upload_in_new_browsers, url, uploads).result()


def test_a_new_browser_does_not_reset_the_address_upload_share(space, tmp_path):
    url = space[0]
    files = [_pairs(tmp_path, f"share{n}") for n in range(3)]
    first, second, third = _in_browsers(url, [("198.51.100.30", files[0]), ("198.51.100.30", files[1]),
                                              ("198.51.100.30", files[2])])
    assert "Uploaded" in first and "Uploaded" in second, (first, second)
    assert "uploads in the last hour" in third and "Uploaded" not in third, third
    (other,) = _in_browsers(url, [("198.51.100.31", files[2])])  # another address is not held back
    assert "Uploaded" in other, other


def test_uploads_past_the_byte_budget_prune_the_oldest(space, tmp_path):
    url, data_dir = space[0], space[2]
    files = [_pairs(tmp_path, f"budget{n}") for n in range(3)]
    messages = _in_browsers(url, [(f"198.51.100.{40 + n}", path) for n, path in enumerate(files)])
    assert all("Uploaded" in m for m in messages), messages
    kept = sorted(p.name.split("-")[0] for p in (data_dir / "uploads").glob("*/*.csv"))
    assert "budget2" in kept and "budget1" in kept and "budget0" not in kept, kept  # the oldest went
    assert sum(p.stat().st_size for p in (data_dir / "uploads").glob("*/*")) <= UPLOADS_BYTES
