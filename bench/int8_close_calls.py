"""Benchmark: does int8 with close calls answered again in fp32 keep PyTorch's answers on pairs its calibration
never saw? (issue 20, item 3; the engine: trainer_backend/serving/engine_onnx.CheckedBackend)

    python -m bench.int8_close_calls --model RUN_FOLDER [--model RUN_FOLDER ...] --out bench/results/….jsonl

For each checkpoint, loaded as the app loads it with the bf16 engines left out (a CPU without native bf16), in a
fresh engine folder: the gate's verdict, then on the run's validation pairs *after* the ones the engine calibrated
its bound on (the first 128): how many answers plain dynamic int8 and the checked engine change against PyTorch
fp32, and what share of rows went through fp32, each pair sent alone and the pairs in the app's batches. One line
of JSON per checkpoint.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["STUDIO_CPU_BF16"] = "off"  # the fp32-only path, as predict_speed --no-bf16
os.environ["PREDICT_FASTPATH"] = "auto"


def measure(folder: Path) -> dict:
    from trainer_backend import serving, settings
    from trainer_backend.serving import engine, engine_onnx, engines, fastpath

    settings.hardware.cache_clear()
    predictor = serving.load_predictor(serving.ModelRef(str(folder), "bench", "chosen"))
    checks = {c.engine: c for c in predictor.serving.checks}
    pairs = fastpath.validation_pairs(folder, predictor.record, predictor.task)

    def score(firsts, seconds, backend):
        return predictor.probabilities(firsts, seconds, engine=backend)[0]
    ctx = engine.BuildContext(predictor.model, predictor.tokenizer, engine.export_dir(engine.weights_digest(
        predictor.model)), predictor._torch.get_num_threads(), pairs, score, lambda f, d: None)
    checked = engines.open_engine(engine_onnx.CHECKED.name, ctx)
    plain = checked.fast  # dynamic int8 alone: the engine's own fast half
    start = checked.calibrated_on
    unseen = fastpath.GatePairs(pairs.firsts[start:], None if pairs.seconds is None else pairs.seconds[start:],
                                None, pairs.source)

    def answers(backend, alone: bool) -> list[int]:
        rows = ([row for i in range(len(unseen)) for row in score(*unseen.one(i), backend)] if alone
                else score(unseen.firsts, unseen.seconds, backend))
        return fastpath.argmax(rows)
    reference = answers("pytorch-fp32", False)
    result = {"checkpoint": str(folder), "gate_data": pairs.source, "calibration_pairs": start,
              "unseen_pairs": len(unseen), "serving": predictor.serving.engine,
              "batch_engine": predictor.serving.batch_engine or predictor.serving.engine,
              "bounds": {"single": round(checked.single_shift, 3), "batch": round(checked.batch_shift, 3),
                         "safety": engine_onnx.CLOSE_CALL_SAFETY},
              "gate": {name: {"agreement": round(c.agreement, 4), "passed": c.passed,
                              "single_ms": round(c.single_ms, 2), "pairs_per_s": round(c.pairs_per_s, 1)}
                       for name, c in checks.items()}}
    for mode, alone in (("alone", True), ("batches", False)):
        checked.rows = checked.rechecked = 0
        got = answers(checked, alone)
        result[mode] = {"int8_changed": sum(a != b for a, b in zip(answers(plain, alone), reference)),
                        "checked_changed": sum(a != b for a, b in zip(got, reference)),
                        "rechecked_share": round(checked.rechecked / max(checked.rows, 1), 3)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="a trained run folder (repeatable)")
    parser.add_argument("--out", help="also append the JSON lines to this file")
    args = parser.parse_args()
    os.environ["STUDIO_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-close-calls-")  # a fresh gate, no remembered one
    for model in args.model:
        result = measure(Path(model))
        for mode in ("alone", "batches"):
            r = result[mode]
            print(f"{Path(model).name}: {mode}: of {result['unseen_pairs']} validation pairs after the "
                  f"{result['calibration_pairs']} calibration ones, dynamic int8 changed {r['int8_changed']} "
                  f"answers, with close calls in fp32 {r['checked_changed']}; {r['rechecked_share']:.0%} of rows "
                  f"went through fp32", flush=True)
        print(json.dumps(result), flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
