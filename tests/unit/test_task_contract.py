"""The checkpoint contract of trainer_backend/tasks.py: what training writes, serving reads back."""
import pytest
from transformers import BertConfig

from trainer_backend.tasks import MRPC, MRPC_LABELS, TaskSpec, stamp, task_of


def test_unstamped_two_label_checkpoint_reads_as_mrpc_pair():
    spec = task_of(BertConfig())
    assert spec.pair and spec.label_names == MRPC_LABELS and spec.is_mrpc


def test_stamp_survives_save_and_load(tmp_path):
    config = BertConfig()
    stamp(config, TaskSpec("glue/mnli", ("premise", "hypothesis"), ("entailment", "neutral", "contradiction")))
    config.save_pretrained(tmp_path)
    back = task_of(BertConfig.from_pretrained(tmp_path))
    assert back == TaskSpec("glue/mnli", ("premise", "hypothesis"), ("entailment", "neutral", "contradiction"))
    assert back.num_labels == 3 and not back.is_mrpc and back.label2id["neutral"] == 1


def test_single_sentence_task_is_not_a_pair():
    spec = TaskSpec("glue/sst2", ("sentence",), ("negative", "positive"))
    assert not spec.pair and not spec.is_mrpc
    assert MRPC.is_mrpc


@pytest.mark.parametrize("columns,labels", [((), MRPC_LABELS), (("a", "b", "c"), MRPC_LABELS), (("a",), ("x",))])
def test_impossible_tasks_are_refused(columns, labels):
    with pytest.raises(ValueError):
        TaskSpec("bad", columns, labels)
