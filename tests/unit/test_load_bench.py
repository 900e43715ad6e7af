"""bench/load_predict.py's idle figures: the README's block is the sentence of the committed result."""
from __future__ import annotations

import json
import re
from pathlib import Path

from bench import load_predict

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_idle_block_is_the_bench_s_own_sentence():
    result = json.loads((ROOT / "bench" / "results" / "load_idle.json").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(re.escape(load_predict.START) + r"\n(.*?)\n" + re.escape(load_predict.END), readme, re.S)
    assert block and block.group(1) == load_predict.idle_sentence(result)


def test_the_sentence_is_made_from_the_result_alone():
    idle = {"pages": 50, "seconds": 30, "settled_after_s": 35, "app_cpu_percent_no_pages": 0.5,
            "pages_that_did_not_open": 0, "app_cpu_percent_of_one_core": 9.0, "cpu_ms_per_page_second": 1.7}
    sentence = load_predict.idle_sentence({"idle": idle, "cpu": "AVX2", "cores": 2, "cpu_name": "Some CPU",
                                           "load_average_1min": 3.0})
    assert "--pages 50 --idle-seconds 30`" in sentence and "on Some CPU (AVX2, 2 cores" in sentence
    assert "**0.50% of one core**" in sentence and "**9.0%**, 1.70 ms of CPU per page" in sentence
