"""Hub datasets read from the repo's own files only: split choice, hostile READMEs and listings, the glue/mrpc
mapping, the size check and the pinned commit, against the recording stand-in Hub."""
from __future__ import annotations

import io

import pytest

from trainer_backend.data import DataError, from_hub, load_data
from trainer_backend.hub_data import repo_and_folder, split_files

pytest_plugins = ["tests.hub_standin"]

HOSTILE_README = b"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: /etc/passwd
  - split: validation
    path: ../../../../etc/hostname
  - split: test
    path: file:///etc/passwd
  - split: other
    path: hf://datasets/victim/private-data/secret.csv
---
# Pairs
"""


def pairs_csv(n: int = 12, sep: str = ",") -> bytes:
    rows = [sep.join(("sentence1", "sentence2", "label"))]
    rows += [sep.join((f"A cat sat number {i}.", f"A cat was sitting {i}.", str(i % 2))) for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def pairs_parquet(n: int = 12, label: int | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"sentence1": [f"One {i}." for i in range(n)], "sentence2": [f"Two {i}." for i in range(n)],
                      "label": [i % 2 if label is None else label for i in range(n)], "idx": list(range(n))})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def test_splits_follow_datasets_naming_and_ignore_the_readme_and_escapes():
    listing = ["README.md", "train.csv", "dev.csv", "test.tsv", "../../etc/passwd.csv", "/etc/hosts.csv",
               "notes.txt", "data/../train.csv"]
    assert split_files(listing) == {"train": ["train.csv"], "validation": ["dev.csv"]}  # one format: csv first
    glue = ["mrpc/train-00000-of-00001.parquet", "mrpc/validation-00000-of-00001.parquet",
            "mrpc/test-00000-of-00001.parquet", "cola/train-00000-of-00001.parquet", "README.md"]
    assert split_files(glue, "mrpc/") == {"train": ["mrpc/train-00000-of-00001.parquet"],
                                          "validation": ["mrpc/validation-00000-of-00001.parquet"],
                                          "test": ["mrpc/test-00000-of-00001.parquet"]}
    assert split_files(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]) == {
        "train": ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]}
    assert split_files(["README.md", "loader.py"]) == {}
    assert repo_and_folder("glue/mrpc") == ("nyu-mll/glue", "mrpc/")
    assert repo_and_folder("alice/pairs") == ("alice/pairs", "")


def test_a_hostile_readme_is_never_obeyed(standin_hub):
    sha = standin_hub.add_repo("datasets", "mallory/pairs", {"README.md": HOSTILE_README, "train.csv": pairs_csv(20)})
    dd = from_hub("mallory/pairs", token=False)
    assert len(dd["train"]) + len(dd["validation"]) == 20 and "test" not in dd and "other" not in dd
    assert "root:" not in str(dd["train"][:]) + str(dd["validation"][:])
    fetched = standin_hub.paths("/resolve/")
    assert fetched == [f"/datasets/mallory/pairs/resolve/{sha}/train.csv"] * len(fetched) and fetched
    assert not standin_hub.paths("victim")


def test_a_repo_with_only_a_readme_pointing_elsewhere_is_refused(standin_hub):
    standin_hub.add_repo("datasets", "mallory/empty", {"README.md": HOSTILE_README},
                         listing={"README.md": len(HOSTILE_README), "../../etc/passwd.csv": 10})
    with pytest.raises(DataError, match="holds no data files this app reads"):
        from_hub("mallory/empty", token=False)
    assert not standin_hub.paths("/resolve/")


def test_glue_mrpc_is_the_mrpc_folder_of_nyu_mll_glue(standin_hub):
    sha = standin_hub.add_repo("datasets", "nyu-mll/glue", {
        "mrpc/train-00000-of-00001.parquet": pairs_parquet(20),
        "mrpc/validation-00000-of-00001.parquet": pairs_parquet(6),
        "mrpc/test-00000-of-00001.parquet": pairs_parquet(4, label=-1),
        "cola/train-00000-of-00001.parquet": b"never read"})
    loaded = load_data("glue/mrpc", token=False)
    assert {k: len(v) for k, v in loaded.dataset.items()} == {"train": 20, "validation": 6}  # unlabelled test dropped
    assert all(f"/resolve/{sha}/mrpc/" in p for p in standin_hub.paths("/resolve/"))


def test_the_data_files_are_size_checked_before_download(standin_hub, monkeypatch):
    standin_hub.add_repo("datasets", "alice/big", {"train.tsv": pairs_csv(200, "\t")})
    monkeypatch.setenv("STUDIO_HUB_DATASET_MB", str(1000 / 2**20))  # 1,000 bytes
    with pytest.raises(DataError, match="above this app's"):
        from_hub("alice/big", token=False)
    assert not standin_hub.paths("/resolve/")
    monkeypatch.delenv("STUDIO_HUB_DATASET_MB")
    assert len(from_hub("alice/big", token=False)["train"]) == 180  # tsv through the csv builder, 10% held out


def test_a_file_larger_than_its_listing_is_refused(standin_hub):
    standin_hub.add_repo("datasets", "mallory/liar", {"train.csv": pairs_csv(50)}, listing={"train.csv": 40})
    with pytest.raises(DataError, match="size differs"):
        from_hub("mallory/liar", token=False)


def test_a_long_bad_cell_is_quoted_short(standin_hub):
    cell = "<script>alert(1)</script>" + "x" * 5000
    body = pairs_csv(6) + f'a,b,"{cell}"\n'.encode()
    standin_hub.add_repo("datasets", "mallory/cells", {"train.csv": body})
    with pytest.raises(DataError) as err:
        from_hub("mallory/cells", token=False)
    message = str(err.value)
    assert "not binary" in message and "x" * 41 not in message and len(message) < 300, message


def test_a_dataset_split_into_too_many_files_is_refused(standin_hub):
    from trainer_backend.hub_data import MAX_FILES

    files = {f"data/train-{i:05d}-of-{MAX_FILES + 1:05d}.csv": pairs_csv(2) for i in range(MAX_FILES + 1)}
    standin_hub.add_repo("datasets", "mallory/shards", files)
    with pytest.raises(DataError, match=f"more than {MAX_FILES} files"):
        from_hub("mallory/shards", token=False)
    assert not standin_hub.paths("/resolve/")
