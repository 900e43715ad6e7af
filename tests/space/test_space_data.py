"""Hub data and Hub sizes on a Space: the real app launched as a Space (tests/space/harness.py) with the stand-in
Hub serving dataset and model repos a test adds, driven by anonymous gradio_client visitors.

HOSTILE holds this module's rows of the README's Security table: each row is one test below."""
from __future__ import annotations

import time

import pytest

from tests.hub_cache import cached_repo
from tests.space.harness import REFUSED, Visitor, launch_space

pytestmark = pytest.mark.slow

README_POINTING_AT = {
    "/etc/passwd": "/etc/passwd",
    "../ escape": "../../../../../../etc/hostname",
    "file://": "file:///etc/passwd",
    "another repo's hf://": "hf://datasets/victim/private-pairs/secret.csv",
}
OWN_FILE = "only the repo's own train.csv is read"
HOSTILE = [
    *[(f"a dataset card whose configs data_files name {what}", "Train · Check data (Hub dataset)", OWN_FILE)
      for what in README_POINTING_AT],
    ("a dataset listing ../../etc/passwd.csv and no file of its own", "Train · Check data (Hub dataset)",
     "holds no data files this app reads"),
    *[(word, "Train · Data (Check data)", REFUSED) for word in ("csv", "json", "text", "parquet", "hub:csv")],
    ("a Hub dataset whose data files add up to 200 MB (limit 100 MB)", "Train · Check data", "above this app's"),
    ("a Hub dataset whose listing gives no file sizes", "Train · Check data", "could not tell how big"),
    *[("a Hub model with 1 KB of weights and a 2 GB tokenizer.json", where, "above this app's")
      for where in ("Train · Start", "Lesson · head swap", "Predict · model")],
    ("a label cell of 5,000 characters with markup", "Train · Check data", "a 40-character escaped snippet"),
    ("a Hub dataset downloaded after its size check", "Train · Check data", "from the checked commit only"),
    ("Hub caches filled to 3× STUDIO_HF_CACHE_MB", "the app's background loop", "least recently used pruned to it"),
]

PAIRS = "sentence1,sentence2,label\n" + "".join(f"A cat sat {i}.,A cat was sitting {i}.,{i % 2}\n" for i in range(20))


def card(path: str) -> bytes:
    return (f"---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: {path}\n"
            f"  - split: validation\n    path: {path}\n---\n# pairs\n").encode()


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    """The app as a Space, in its own process; yields (url, hub, data_dir, log_path)."""
    with launch_space(tmp_path_factory.mktemp("space-hub-data")) as launched:
        hub = launched[1]
        for i, path in enumerate(README_POINTING_AT.values()):
            hub.add_repo("datasets", f"mallory/card-{i}", {"README.md": card(path), "train.csv": PAIRS.encode()})
        hub.add_repo("datasets", "mallory/escape", {"README.md": card("/etc/passwd")},
                     listing={"README.md": 200, "../../etc/passwd.csv": 3000})
        hub.add_repo("datasets", "alice/huge", {"train.csv": PAIRS.encode()}, listing={"train.csv": 200 * 2**20})
        hub.add_repo("datasets", "alice/sizeless", {"train.csv": PAIRS.encode()}, listing={"train.csv": None})
        hub.add_repo("models", "mallory/fat-tokenizer", {"config.json": b"{}", "model.safetensors": b"w" * 1024},
                     listing={"config.json": 2, "model.safetensors": 1024, "tokenizer.json": 2 * 2**30})
        yield launched


@pytest.fixture(scope="module")
def alice(space):
    return Visitor(space[0])


def check(visitor: Visitor, name: str) -> str:
    return visitor.call("/check_data", name, "sentence1", "sentence2", "label")


@pytest.mark.parametrize("index", range(len(README_POINTING_AT)), ids=list(README_POINTING_AT))
def test_a_hostile_dataset_card_is_never_obeyed(space, alice, index):
    hub = space[1]
    message = check(alice, f"mallory/card-{index}")
    assert message.startswith("✅") and "train 18, validation 2" in message, message  # the 20 pairs of train.csv
    assert "root:" not in message and "localhost" not in message
    fetched = hub.paths(f"mallory/card-{index}/resolve/")
    assert fetched and all(p.endswith("/train.csv") for p in fetched), fetched
    assert not hub.paths("victim") and not hub.paths("README.md")


def test_a_listing_that_escapes_the_repo_is_not_read(space, alice):
    message = check(alice, "mallory/escape")
    assert "holds no data files this app reads" in message and "root:" not in message
    assert not space[1].paths("mallory/escape/resolve/")


@pytest.mark.parametrize("word", ["csv", "json", "text", "parquet", "hub:csv"])
def test_single_word_builder_names_are_refused(alice, word):
    message = check(alice, word)
    assert REFUSED in message, message


def test_a_dataset_above_the_limit_is_refused_before_download(space, alice):
    message = check(alice, "alice/huge")
    assert "above this app" in message and "100 MB" in message, message
    assert not space[1].paths("alice/huge/resolve/")


def test_a_dataset_of_unknown_size_is_refused_on_a_space(space, alice):
    message = check(alice, "alice/sizeless")
    assert "could not tell how big" in message, message
    assert not space[1].paths("alice/sizeless/resolve/")


def test_a_model_whose_tokenizer_is_huge_is_refused_at_train_start(space, alice):
    message, run_id = alice.start(model_name_or_path="mallory/fat-tokenizer")
    assert "above this app" in message and not run_id, message


def test_a_model_whose_tokenizer_is_huge_is_refused_in_the_lesson(space, alice):
    assert "above this app" in str(alice.plain("/lesson_head_swap", "mallory/fat-tokenizer"))


def test_a_model_whose_tokenizer_is_huge_is_refused_in_predict(space, alice):
    label, details = alice.plain("/predict", "A cat sat.", "A cat was sitting.", "mallory/fat-tokenizer")
    assert not label and "above this app" in details, details
    assert not space[1].paths("mallory/fat-tokenizer/resolve/")


def test_a_long_cell_is_quoted_as_a_short_escaped_snippet(space, alice):
    cell = "<img src=x onerror=alert(1)>" + "z" * 5000
    space[1].add_repo("datasets", "mallory/long-cell", {"train.csv": (PAIRS + f'a,b,"{cell}"\n').encode()})
    message = check(alice, "mallory/long-cell")
    assert "not binary" in message and "z" * 41 not in message and "<img" not in message, message
    assert "5,028 characters" in message


def test_downloads_use_the_commit_the_size_check_pinned(space, alice):
    sha = space[1].add_repo("datasets", "alice/pinned", {"train.csv": PAIRS.encode()}, sha="c0ffee" * 6 + "c0ff")
    assert check(alice, "alice/pinned").startswith("✅")
    fetched = space[1].paths("alice/pinned/resolve/")
    assert fetched and all(f"/resolve/{sha}/" in p for p in fetched), fetched


def test_the_hub_caches_are_pruned_to_their_budget_least_recently_used_first(tmp_path_factory):
    """The job runner's background loop prunes at start (then every few minutes): three cached repos of 600 KB under
    a 1 MB budget leave the most recently used one."""
    data_dir = tmp_path_factory.mktemp("space-cache-budget")
    hub_cache = data_dir / "hf-home" / "hub"
    now = time.time()
    for age, name in ((3000, "alice/oldest"), (2000, "alice/older"), (1000, "alice/newest")):
        cached_repo(hub_cache, "model", name, 600 * 1024, now - age)
    with launch_space(data_dir, STUDIO_HF_CACHE_MB="1"):
        deadline = time.time() + 60
        while time.time() < deadline and (hub_cache / "models--alice--older").exists():
            time.sleep(0.5)
        assert not (hub_cache / "models--alice--oldest").exists()
        assert not (hub_cache / "models--alice--older").exists()
        assert (hub_cache / "models--alice--newest" / "snapshots").is_dir()
