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


def test_fifty_pages_share_no_host_beyond_chromiums_connection_limit():
    urls = load_predict.page_urls(7860, 50)
    hosts = [u.split("//")[1].split(":")[0] for u in urls]
    assert len(urls) == 50 and all(u.endswith(":7860/") for u in urls)
    assert max(hosts.count(h) for h in hosts) == load_predict.PAGES_PER_HOST < 6  # Chromium: 6 per host
    # every host name is mapped to the loopback address by the browser, so the app never listens beyond it
    assert all(h.endswith(".idle.test") for h in hosts)
    assert "--host-resolver-rules=MAP *.idle.test 127.0.0.1" in load_predict.IDLE_BROWSER_ARGS


def test_the_sentence_says_how_the_pages_were_opened():
    idle = {"pages": 50, "seconds": 30, "settled_after_s": 30, "app_cpu_percent_no_pages": 0.6,
            "pages_that_did_not_open": 0, "app_cpu_percent_of_one_core": 5.0, "cpu_ms_per_page_second": 0.9,
            "pages_visible": 50, "opening_s": 300.0, "pages_retried": 1}
    sentence = load_predict.idle_sentence({"idle": idle, "cpu": "AVX2", "cores": 2, "load_average_1min": 1.0})
    assert "in one browser context, opened in 300 s, 50 of them visible" in sentence
    older = {k: v for k, v in idle.items() if k not in ("pages_visible", "opening_s", "pages_retried")}
    assert "each in its own browser context" in load_predict.idle_sentence({**{"cpu": "AVX2", "cores": 2}, "idle": older})
