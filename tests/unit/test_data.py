"""Every data source yields sentence1/sentence2/label; every kind of bad data gets a message naming the problem."""
import json
from pathlib import Path

import pytest

from trainer_backend import data
from trainer_backend.data import DataError

SHARED_MRPC = Path(__file__).resolve().parents[3] / "shared" / "data" / "mrpc"
PAIRS = [("The bank raised rates on Monday.", "On Monday the bank lifted its rates.", 1),
         ("The mayor resigned after the vote.", "The mayor won the vote and stayed.", 0)] * 10


def _write_tsv(path: Path, rows, header="label\tsentence1\tsentence2"):
    path.write_text(header + "\n" + "\n".join(f"{l}\t{a}\t{b}" for a, b, l in rows) + "\n", encoding="utf-8")
    return path


def _msr_lines(rows, bom=True, header=True):
    lines = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"] if header else []
    lines += [f"{l}\t{i}\t{i + 1}\t{a}\t{b}" for i, (a, b, l) in enumerate(rows)]
    return ("\ufeff" if bom else "") + "\n".join(lines) + "\n"


def _check_shape(dd):
    assert {"train", "validation"} <= set(dd)
    for split in dd.values():
        assert split.column_names == ["sentence1", "sentence2", "label"]
        assert set(split["label"]) <= {0, 1}


def test_bundled_sample_is_balanced_and_large_enough():
    dd = data.sample()
    _check_shape(dd)
    total = len(dd["train"]) + len(dd["validation"])
    assert total >= 400
    labels = list(dd["train"]["label"]) + list(dd["validation"]["label"])
    assert abs(sum(labels) - total / 2) <= total * 0.05
    assert dd["train"].features["label"].names == ["not_paraphrase", "paraphrase"]


def test_msr_layout_with_bom_splits_off_ten_percent(tmp_path):
    (tmp_path / "msr_paraphrase_train.txt").write_text(_msr_lines(PAIRS * 5), encoding="utf-8")
    dd = data.from_mrpc_folder(tmp_path)
    _check_shape(dd)
    assert len(dd["validation"]) == 10 and len(dd["train"]) == 90
    assert not dd["train"][0]["sentence1"].startswith("\ufeff")
    again = data.from_mrpc_folder(tmp_path)
    assert list(again["validation"]["sentence1"]) == list(dd["validation"]["sentence1"])  # fixed seed


def test_msr_layout_reads_test_file(tmp_path):
    (tmp_path / "msr_paraphrase_train.txt").write_text(_msr_lines(PAIRS, header=False), encoding="utf-8")
    (tmp_path / "msr_paraphrase_test.txt").write_text(_msr_lines(PAIRS[:4]), encoding="utf-8")
    dd = data.from_mrpc_folder(tmp_path)
    assert len(dd["test"]) == 4


def test_glue_layout_uses_dev_file(tmp_path):
    (tmp_path / "train.tsv").write_text(_msr_lines(PAIRS, bom=False), encoding="utf-8")
    (tmp_path / "dev.tsv").write_text(_msr_lines(PAIRS[:6], bom=False), encoding="utf-8")
    dd = data.from_mrpc_folder(tmp_path)
    assert len(dd["train"]) == 20 and len(dd["validation"]) == 6


@pytest.mark.skipif(not SHARED_MRPC.is_dir(), reason="real MRPC folder not present")
def test_real_mrpc_folder_matches_glue_sizes():
    dd = data.from_mrpc_folder(SHARED_MRPC)
    assert (len(dd["train"]), len(dd["validation"])) == (3668, 408)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_uploaded_files_with_column_mapping_and_word_labels(tmp_path, suffix):
    rows = [{"a": s1, "b": s2, "y": "yes" if lab else "no"} for s1, s2, lab in PAIRS]
    path = tmp_path / f"pairs{suffix}"
    if suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    else:
        sep = "," if suffix == ".csv" else "\t"
        path.write_text("a{0}b{0}y\n".format(sep) + "\n".join(
            sep.join(f'"{v}"' if sep == "," else v for v in r.values()) for r in rows), encoding="utf-8")
    dd = data.from_file(path, s1="a", s2="b", label="y")
    _check_shape(dd)
    assert sum(dd["train"]["label"]) + sum(dd["validation"]["label"]) == 10


@pytest.mark.parametrize("raw, expected", [("1", 1), ("0", 0), ("yes", 1), ("No", 0), ("TRUE", 1), ("false", 0),
                                           ("paraphrase", 1), ("not_paraphrase", 0), (True, 1), (0, 0)])
def test_label_words_are_mapped(raw, expected):
    assert data.normalize_label(raw) == expected


@pytest.mark.parametrize("raw", ["2", "maybe", "", "-1", "0.5"])
def test_non_binary_labels_are_rejected(raw):
    with pytest.raises(DataError, match="not binary"):
        data.normalize_label(raw, row=7)


def test_file_with_a_non_binary_label_names_the_row(tmp_path):
    path = _write_tsv(tmp_path / "bad.tsv", PAIRS[:3] + [("a b", "c d", 3)])
    with pytest.raises(DataError, match=r"Row 5: label '3' is not binary"):
        data.from_file(path)


def test_a_long_cell_is_quoted_as_a_short_escaped_snippet(tmp_path):
    cell = "<b>bold</b>\x1b[31m" + "y" * 10_000
    path = tmp_path / "long.jsonl"
    rows = [{"sentence1": a, "sentence2": b, "label": l} for a, b, l in PAIRS[:3]]
    rows.append({"sentence1": "a", "sentence2": "b", "label": cell})
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(DataError) as err:
        data.from_file(path)
    message = str(err.value)
    assert message.startswith("Row 5: label '<b>bold</b>\\x1b[31m") and "10,016 characters" in message
    assert "y" * 41 not in message and "\x1b" not in message


def test_long_column_names_and_split_values_are_cut(tmp_path):
    long_name = "c" * 500
    path = _write_tsv(tmp_path / "cols.tsv", PAIRS, header=f"label\t{long_name}\tsecond")
    with pytest.raises(DataError) as err:
        data.from_file(path)
    assert "c" * 41 not in str(err.value) and "500 characters" in str(err.value)
    path = tmp_path / "split.jsonl"
    rows = [{"sentence1": a, "sentence2": b, "label": l, "split": "train"} for a, b, l in PAIRS]
    rows.append({"sentence1": "a", "sentence2": "b", "label": 1, "split": "z" * 300})
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(DataError) as err:
        data.from_file(path)
    assert "z" * 41 not in str(err.value) and "split column must hold" in str(err.value)


def test_missing_columns_are_named_with_the_ones_found(tmp_path):
    path = _write_tsv(tmp_path / "cols.tsv", PAIRS, header="label\tfirst\tsecond")
    with pytest.raises(DataError) as err:
        data.from_file(path)
    assert "missing column(s) sentence1, sentence2" in str(err.value) and "first" in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        data.from_file(path)


def test_header_only_file(tmp_path):
    path = tmp_path / "header.tsv"
    path.write_text("label\tsentence1\tsentence2\n")
    with pytest.raises(DataError, match="no rows"):
        data.from_file(path)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("label\tsentence1\tsentence2\n1\tcaf\xe9 opens\tthe caf\xe9 opened\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not valid UTF-8: byte 0xe9 on line 2"):
        data.from_file(path)


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    path = _write_tsv(tmp_path / "big.tsv", PAIRS)
    monkeypatch.setattr(data, "MAX_FILE_BYTES", 100)
    with pytest.raises(DataError, match="the limit is"):
        data.from_file(path)


def test_too_many_rows_is_refused(tmp_path, monkeypatch):
    path = _write_tsv(tmp_path / "rows.tsv", PAIRS)
    monkeypatch.setattr(data, "MAX_ROWS", 5)
    with pytest.raises(DataError, match="20 rows; the limit is 5"):
        data.from_file(path)


def test_empty_sentence_is_named(tmp_path):
    path = _write_tsv(tmp_path / "blank.tsv", PAIRS[:4] + [("   ", "x", 1)])
    with pytest.raises(DataError, match="row 6: a sentence is empty"):
        data.from_file(path)


def test_single_class_is_refused(tmp_path):
    path = _write_tsv(tmp_path / "ones.tsv", [(a, b, 1) for a, b, _ in PAIRS])
    with pytest.raises(DataError, match="both 0 and 1"):
        data.from_file(path)


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"sentence1": "a", "sentence2": "b", "label": 1}\n{not json}\n')
    with pytest.raises(DataError, match="line 2: not valid JSON"):
        data.from_file(path)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "pairs.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="unsupported file type"):
        data.read_table(path)


def test_msr_line_with_wrong_field_count(tmp_path):
    (tmp_path / "msr_paraphrase_train.txt").write_text("1\t2\t3\tonly four\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected 5 tab-separated fields, found 4"):
        data.from_mrpc_folder(tmp_path)


def test_folder_without_known_layout(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="neither msr_paraphrase_train.txt"):
        data.from_mrpc_folder(tmp_path)


def test_hub_dataset_offline_is_explained():
    with pytest.raises(DataError, match="HF_HUB_OFFLINE"):
        data.load_data("glue/mrpc")


def test_auto_offline_picks_local_data_and_says_why():
    loaded = data.load_data("auto")
    assert "HF_HUB_OFFLINE" in loaded.reason
    assert loaded.name.startswith(("local MRPC folder", "bundled sample"))


def test_caps_on_samples():
    loaded = data.load_data("sample", max_train_samples=10, max_eval_samples=5)
    assert len(loaded.dataset["train"]) == 10 and len(loaded.dataset["validation"]) == 5


def test_tokenize_keeps_pairs_unpadded(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    dd = data.tokenize(data.load_data("sample", max_train_samples=8, max_eval_samples=4).dataset, tok, 128)
    lengths = {len(x) for x in dd["train"]["input_ids"]}
    assert len(lengths) > 1 and max(lengths) < 128
    assert tok.sep_token_id in dd["train"][0]["input_ids"]


def test_tokenize_truncates_long_pairs(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    dd = data.tokenize(data.load_data("sample", max_train_samples=8, max_eval_samples=4).dataset, tok, 16)
    assert {len(x) for x in dd["train"]["input_ids"]} == {16}
