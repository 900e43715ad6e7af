"""Fast path: ONNX Runtime answers match PyTorch, the accuracy gate refuses a worse engine, caching, fallbacks."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import pair_rows
from trainer_backend import serving, settings
from trainer_backend.runs.record import RunRecord
from trainer_backend.serving import (
    ModelRef,
    engine,
    engine_bf16,
    engine_onnx,
    engines,
    fastpath,
)
from ui.messages import check_line, serving_reason

pytest_plugins = ["tests.predict_fixtures"]
PAIRS = [(a, b) for a, b, _ in pair_rows()[:12]] + [("Short.", "A much longer second sentence, to pad a batch.")]


BF16_ENGINES = {fastpath.BF16, fastpath.OPENVINO_BF16}  # checked besides the ONNX candidates where bf16 is native


def _load(folder, monkeypatch, mode):
    monkeypatch.setenv("PREDICT_FASTPATH", mode)
    return serving.load_predictor(ModelRef(str(folder), "tiny run", "chosen"))


# --- the gate on its own (no model) -------------------------------------------------------------
def _gate_pairs(n: int) -> fastpath.GatePairs:
    return fastpath.GatePairs([f"a{i}" for i in range(n)], [f"b{i}" for i in range(n)], [i % 2 for i in range(n)],
                              "test pairs")


def _scorer(flip: set[int]):
    """PyTorch answers = the labels; the candidate flips the answers at the indices in `flip`."""
    def score(firsts, seconds, engine):
        rows = []
        for i in range(len(firsts)):
            y = i % 2 if engine == "pytorch-fp32" or i not in flip else 1 - i % 2
            rows.append([0.2, 0.8] if y else [0.8, 0.2])
        return rows
    return score


@pytest.mark.parametrize("flip, passed", [(set(), True), ({0}, False), ({0, 1}, False)])
def test_gate_needs_99_5_percent_agreement(flip, passed):
    pairs = _gate_pairs(200)  # 1 flip of 200 = 99.5% agreement but -0.5 points: at the limit; 2 flips: 99.0%
    reference = [i % 2 for i in range(200)]
    result = fastpath.check("onnx-int8", object(), pairs, reference, _scorer(flip))
    assert result.agreement == pytest.approx(1 - len(flip) / 200)
    assert result.passed is (passed or len(flip) == 1)


def test_gate_refuses_an_accuracy_drop_above_half_a_point():
    pairs = _gate_pairs(1000)  # 6 flips away from the truth: 99.4% agreement, -0.6 points
    reference = [i % 2 for i in range(1000)]
    bad = fastpath.check("onnx-int8", object(), pairs, reference, _scorer({0, 1, 2, 3, 4, 5}))
    assert not bad.passed and bad.accuracy == pytest.approx(0.994) and bad.reference_accuracy == 1.0
    assert "failed" in check_line(bad) and "99.4%" in check_line(bad)


def test_a_crashing_engine_fails_the_gate():
    def boom(firsts, seconds, engine):
        raise RuntimeError("no kernel")
    result = fastpath.check("onnx-fp32", object(), _gate_pairs(4), [0, 1, 0, 1], boom)
    assert not result.passed and "no kernel" in result.error


# --- with a real checkpoint ---------------------------------------------------------------------
@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_onnx_fp32_gives_the_pytorch_answers(tiny_checkpoint, monkeypatch):
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")  # no native-bf16 engine beside it: which is faster is timing
    predictor = _load(tiny_checkpoint, monkeypatch, "fp32")
    assert predictor.engine == "onnx-fp32" and predictor.serving.engine == "onnx-fp32"
    check = predictor.serving.checks[0]
    assert check.passed and check.agreement == 1.0 and check.pairs > 0
    fast, _ = predictor.probabilities([a for a, _ in PAIRS], [b for _, b in PAIRS], batch_size=4)
    plain, _ = predictor.probabilities([a for a, _ in PAIRS], [b for _, b in PAIRS], engine="pytorch-fp32")
    np.testing.assert_allclose(np.array(fast), np.array(plain), atol=1e-4)
    alone = predictor.predict_pairs([PAIRS[-1]])[0]  # padded in a batch = alone
    assert alone.confidences["paraphrase"] == pytest.approx(fast[-1][1], abs=1e-5)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_a_bf16_copy_is_checked_and_each_request_size_goes_to_its_fastest_checked_engine(tiny_checkpoint,
                                                                                      monkeypatch):
    predictor = _load(tiny_checkpoint, monkeypatch, "fp32")
    serving_ = predictor.serving
    bf16 = [c for c in serving_.checks if c.engine == fastpath.BF16]
    if not settings.hardware().bf16:  # an AVX2-only CPU: nothing to check, one engine for everything
        assert bf16 == [] and serving_.batch_engine == "" and serving_.bf16_ok is None
        assert not any(c.engine == fastpath.OPENVINO_BF16 for c in serving_.checks)
        return
    assert [c.engine for c in serving_.checks][-2:] == [fastpath.OPENVINO_BF16, fastpath.BF16]
    (check,) = bf16
    assert check.pairs == serving_.checks[0].pairs and serving_.bf16_ok is check.passed
    passed = [c for c in serving_.checks if c.passed]
    assert all(c.pairs_per_s > 0 and c.single_ms > 0 for c in passed)
    single = min(passed, key=lambda c: c.single_ms)
    batch = max(passed, key=lambda c: c.pairs_per_s)
    assert serving_.engine == single.engine == predictor.engine_name(1)
    assert serving_.batch_engine == ("" if batch.engine == single.engine else batch.engine)
    assert predictor.engine_name(fastpath.BATCH_ROUTE_PAIRS) == batch.engine
    assert predictor.engine_name(fastpath.BATCH_ROUTE_PAIRS - 1) == single.engine
    if check.passed:  # the bf16 copy answers like PyTorch fp32 on these pairs (same argmax as the gate found)
        firsts, seconds = [a for a, _ in PAIRS], [b for _, b in PAIRS]
        got, _ = predictor.probabilities(firsts, seconds, engine=engine_bf16.Bf16Backend(predictor.model))
        plain, _ = predictor.probabilities(firsts, seconds, engine="pytorch-fp32")
        np.testing.assert_allclose(np.array(got), np.array(plain), atol=0.05)


def test_a_bf16_that_changes_answers_fails_like_any_engine():
    pairs = _gate_pairs(200)
    reference = [i % 2 for i in range(200)]
    result = fastpath.check(fastpath.BF16, "pytorch", pairs, reference, _scorer({0, 1, 2}))
    assert not result.passed and "PyTorch with bf16 weights" in check_line(result)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_int8_is_checked_and_the_verdict_is_explained(tiny_checkpoint, monkeypatch):
    predictor = _load(tiny_checkpoint, monkeypatch, "int8")
    checks = predictor.serving.checks
    assert checks[0].engine == "onnx-int8" and checks[0].pairs > 0
    if checks[0].passed:  # no other ONNX engine checked (PyTorch bf16 is checked too where the CPU has bf16)
        assert [c.engine for c in checks if c.engine not in BF16_ENGINES] == ["onnx-int8"]
    else:  # int8 with close calls in fp32 next, then int8 with a scale per block, then int8 in half the layers
        onnx_checks = [c for c in checks if c.engine not in BF16_ENGINES]
        assert [c.engine for c in onnx_checks[1:3]] == ["onnx-int8-checked", "onnx-int8-block"]
        assert "answered in fp32" in onnx_checks[1].detail
        # checking stops at the first ONNX engine that passes, except the one with close calls: it does not settle
        assert not any(c.passed for c in onnx_checks[:-1] if c.engine != "onnx-int8-checked")
        if not onnx_checks[2].passed:
            assert onnx_checks[3].engine == "onnx-int8-mixed" and "int8 in layers" in onnx_checks[3].detail
        if onnx_checks[1].passed:  # it reads two files, and both stay on disk beside the verdict
            folder = engine.export_dir(engine.weights_digest(predictor.model))
            assert {"model-fp32.onnx", f"model-int8-v{engine.GATE_VERSION}.onnx"} <= {p.name for p in
                                                                                      folder.glob("*.onnx")}
    assert "passed" in serving_reason(predictor.serving) or "no fast path passed" in serving_reason(predictor.serving)
    assert "validation" in predictor.serving.data


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_a_failing_candidate_leaves_pytorch_serving(tiny_checkpoint, monkeypatch):
    def inverted(engine, model, *args):
        """Candidates that always give the opposite of the PyTorch answer."""
        import torch

        class Inverted:
            bytes, detail = 0, ""

            def logits(self, rows):
                with torch.no_grad():
                    return -model(**{k: torch.tensor(v) for k, v in rows.items()}).logits.numpy()
        backend = Inverted()
        backend.engine = engine
        return backend

    monkeypatch.setattr(engines, "open_engine", inverted)
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-test" / digest)
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")  # no bf16 copy to fall back on: only the ONNX candidates
    predictor = _load(tiny_checkpoint, monkeypatch, "int8")
    assert predictor.engine == "pytorch" and predictor.fast is None
    assert serving_reason(predictor.serving).startswith("no fast path passed the accuracy check")
    onnx = [c for c in predictor.serving.checks if c.engine not in BF16_ENGINES]
    assert [c.engine for c in onnx] == ["onnx-int8", "onnx-int8-checked", "onnx-int8-block", "onnx-int8-mixed"]
    assert all(c.agreement < 0.5 for c in onnx)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_the_check_is_remembered_per_weights(tiny_checkpoint, monkeypatch):
    first = _load(tiny_checkpoint, monkeypatch, "auto")
    again = _load(tiny_checkpoint, monkeypatch, "auto")
    assert again.serving.cached and again.engine == first.engine
    folder = engine.export_dir(engine.weights_digest(first.model))
    assert json.loads((folder / "gate.json").read_text())["checks"][0]["engine"] == "onnx-int8"


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_off_and_export_failures_keep_pytorch(tiny_checkpoint, monkeypatch):
    assert serving_reason(_load(tiny_checkpoint, monkeypatch, "off").serving).endswith("(PREDICT_FASTPATH=off)")

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")
    monkeypatch.setattr(engine_onnx, "export_fp32", broken)
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-broken" / digest)
    predictor = _load(tiny_checkpoint, monkeypatch, "auto")
    assert predictor.engine == "pytorch" and "could not be exported" in serving_reason(predictor.serving)


# --- which validation pairs ---------------------------------------------------------------------
def test_validation_pairs_come_from_the_run_config(tmp_path):
    (tmp_path / "run_config.json").write_text(json.dumps({"dataset": "sample", "max_eval_samples": 30}))
    pairs = fastpath.validation_pairs(tmp_path, None)
    assert len(pairs.labels) == 30 and pairs.source.startswith("the run's validation split")


def test_validation_pairs_fall_back_to_the_sample_and_say_so(tmp_path):
    pairs = fastpath.validation_pairs(tmp_path, RunRecord(data="file gone.tsv (train 36, validation 4)"))
    assert len(pairs.labels) == 80 and "not recorded" in pairs.source
    pairs = fastpath.validation_pairs(None, RunRecord(data="bundled sample (assets/mrpc_sample.tsv) (train 400, ...)"))
    assert pairs.source == "the run's validation split (the bundled sample)"


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_mixed_int8_quantizes_half_the_layers(tiny_checkpoint, monkeypatch, tmp_path):
    predictor = _load(tiny_checkpoint, monkeypatch, "off")
    fp32 = engine_onnx.export(predictor.model, predictor.tokenizer, tmp_path)
    groups = engine_onnx.layer_nodes(fp32)
    assert sorted(groups) == [0, 1] and all(len(nodes) == 6 for nodes in groups.values())  # q, k, v, out, ffn x2
    pairs = fastpath.validation_pairs(None, None)

    def score(firsts, seconds, engine):
        return predictor.probabilities(firsts, seconds, engine=engine)[0]
    backend = engines.open_engine("onnx-int8-mixed", engine.BuildContext(predictor.model, predictor.tokenizer, tmp_path, 1, pairs, score, lambda f, d: None))
    assert backend.detail.startswith("int8 in layers ") and backend.detail.endswith("of 2 (counting from 0)")
    import onnx

    ops = [n.op_type for n in onnx.load(str(backend.path)).graph.node]
    assert ops.count("MatMul") >= 6 and any("Integer" in op or "Dynamic" in op for op in ops)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_openvino_bf16_answers_like_pytorch_and_serves_concurrent_calls(tiny_checkpoint, monkeypatch, tmp_path):
    if not settings.hardware().bf16:
        pytest.skip("this CPU has no native bf16: OpenVINO bf16 is not offered here")
    from concurrent.futures import ThreadPoolExecutor

    predictor = _load(tiny_checkpoint, monkeypatch, "off")
    backend = engines.open_engine(fastpath.OPENVINO_BF16, engine.BuildContext(
        predictor.model, predictor.tokenizer, tmp_path, 2, fastpath.validation_pairs(None, None), None, lambda f, d: None))
    assert backend.engine == fastpath.OPENVINO_BF16 and backend.detail.startswith("OpenVINO ")
    firsts, seconds = [a for a, _ in PAIRS], [b for _, b in PAIRS]
    plain = np.array(predictor.probabilities(firsts, seconds, engine="pytorch-fp32")[0])
    np.testing.assert_allclose(np.array(predictor.probabilities(firsts, seconds, engine=backend)[0]), plain, atol=0.05)
    with ThreadPoolExecutor(4) as pool:  # one request object, shared under a lock: every caller gets its own rows
        results = list(pool.map(lambda i: predictor.probabilities(firsts[i:], seconds[i:], engine=backend)[0],
                                range(8)))
    for i, rows in enumerate(results):
        np.testing.assert_allclose(np.array(rows), plain[i:], atol=0.05)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_an_engine_that_cannot_be_built_is_recorded_and_skipped(tiny_checkpoint, monkeypatch):
    """OpenVINO missing (or failing) must not break the gate: its check records why, the others still run."""
    real = engines.open_engine

    def no_openvino(engine, *args):
        if engine == fastpath.OPENVINO_BF16:
            raise ImportError("No module named 'openvino'")
        return real(engine, *args)
    monkeypatch.setattr(engines, "open_engine", no_openvino)
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-no-ov" / digest)
    if not settings.hardware().bf16:
        pytest.skip("this CPU has no native bf16: no bf16 engine is built here")
    predictor = _load(tiny_checkpoint, monkeypatch, "fp32")
    ov = [c for c in predictor.serving.checks if c.engine == fastpath.OPENVINO_BF16]
    assert len(ov) == 1 and not ov[0].passed and "openvino" in ov[0].error
    assert any(c.passed for c in predictor.serving.checks) and predictor.engine != fastpath.OPENVINO_BF16


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_int8_in_blocks_uses_matmulnbits_and_stays_close_to_fp32(tiny_checkpoint, monkeypatch, tmp_path):
    predictor = _load(tiny_checkpoint, monkeypatch, "off")
    pairs = fastpath.validation_pairs(None, None)

    def score(firsts, seconds, engine):
        return predictor.probabilities(firsts, seconds, engine=engine)[0]
    backend = engines.open_engine("onnx-int8-block", engine.BuildContext(predictor.model, predictor.tokenizer, tmp_path, 1, pairs, score, lambda f, d: None))
    import onnx

    nodes = [n for n in onnx.load(str(backend.path)).graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 12  # 2 layers x (q, k, v, attention out, ffn in, ffn out)
    attrs = {a.name: a.i for a in nodes[0].attribute}
    assert attrs["bits"] == 8 and attrs["block_size"] == engine_onnx.INT8_BLOCK and attrs["accuracy_level"] == 4
    firsts, seconds = [a for a, _ in PAIRS], [b for _, b in PAIRS]
    got = np.array(predictor.probabilities(firsts, seconds, engine=backend)[0])
    plain = np.array(predictor.probabilities(firsts, seconds, engine="pytorch-fp32")[0])
    np.testing.assert_allclose(got, plain, atol=0.02)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_only_the_serving_model_stays_on_disk_and_a_reload_skips_the_export(tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-disk" / digest)
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")  # the ONNX fp32 engine alone (a bf16 one could time faster)
    first = _load(tiny_checkpoint, monkeypatch, "fp32")
    folder = engine.export_dir(engine.weights_digest(first.model))
    assert sorted(p.name for p in folder.glob("*.onnx")) == ["model-fp32.onnx"]

    def no_export(*args, **kwargs):
        raise AssertionError("a remembered verdict needs no new export")
    monkeypatch.setattr(engine_onnx, "export_fp32", no_export)
    again = _load(tiny_checkpoint, monkeypatch, "fp32")
    assert again.serving.cached and again.engine == "onnx-fp32"


def test_a_hub_repo_cannot_point_the_check_at_server_folders(tmp_path):
    record = RunRecord(data=f"local MRPC folder {tmp_path} (train 3,668, validation 408)")
    (tmp_path / "train.tsv").write_text("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA b.\tB a.\n")
    assert "not recorded" in fastpath.validation_pairs(None, record).source  # None: a Hub checkpoint


# --- the registry: adding an engine is one module and one entry ---------------------------------
class _TorchAgain:
    """A dummy engine's backend: the PyTorch model itself, so it agrees with PyTorch on every pair."""

    def __init__(self, model) -> None:
        self.model, self.engine, self.path, self.detail, self.bytes = model, "dummy", None, "the same weights", 0

    def logits(self, arrays: dict):
        return engine.torch_logits(self.model, arrays)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_a_registered_engine_is_checked_titled_and_can_serve(tiny_checkpoint, monkeypatch):
    """One EngineSpec in the registry, nothing else: the gate checks it with the others, and the facts, Compare and
    the bench tables name it by its title."""
    from trainer_backend.serving import compare
    from trainer_backend.serving.engine import EngineSpec

    dummy = EngineSpec("dummy", "A dummy engine (PyTorch again)", "Dummy", lambda ctx: _TorchAgain(ctx.model),
                       frozenset({"dummy-mode"}))
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-dummy" / digest)
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")  # no native-bf16 engines beside it: the dummy alone passes
    with engines.registered(dummy):
        monkeypatch.setattr(engines, "MODES", (*engines.MODES, "dummy-mode"))
        predictor = _load(tiny_checkpoint, monkeypatch, "dummy-mode")
        assert engines.candidates("dummy-mode") == ["dummy"]
        assert [c.engine for c in predictor.serving.checks][0] == "dummy" and predictor.serving.checks[0].passed
        assert predictor.engine == "dummy" and predictor.serving.title == "A dummy engine (PyTorch again)"
        assert compare.engine_title(predictor, "serving") == "A dummy engine (PyTorch again)"
        assert engines.short_title("dummy") == "Dummy"
        assert "A dummy engine (PyTorch again)" in serving_reason(predictor.serving)
    assert "dummy" not in [e.name for e in engines.ENGINES]  # gone again: the registry is the one list


# --- int8 with close calls answered again in fp32 -----------------------------------------------
class _Fixed:
    """A backend that returns given logits for the rows it is sent (by their first token id) and keeps what it got."""

    def __init__(self, by_id: dict[int, list[float]], path=None) -> None:
        self.by_id, self.path, self.bytes, self.seen = by_id, path, 0, []

    def logits(self, arrays: dict) -> np.ndarray:
        self.seen.append({k: np.array(v) for k, v in arrays.items()})
        return np.array([self.by_id[int(row[0])] for row in arrays["input_ids"]], dtype=np.float32)


def _rows(lengths: list[int]) -> dict:
    """Right-padded rows whose first token id is the row's index."""
    width = max(lengths)
    ids = np.zeros((len(lengths), width), np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n], mask[i, :n] = i, 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def test_close_calls_and_only_they_are_answered_again_in_fp32():
    fast = _Fixed({0: [0.0, 0.1], 1: [0.0, 3.0], 2: [2.0, 0.0], 3: [0.4, -0.3]})
    exact = _Fixed({0: [1.0, 0.0], 3: [-1.0, 1.0]})
    backend = engine_onnx.CheckedBackend(fast, exact, single_shift=9.0, batch_shift=0.5, calibrated_on=128)
    got = backend.logits(_rows([3, 9, 5, 4]))
    # batch bound 1.5 x 0.5 = 0.75: rows 0 (margin 0.1) and 3 (0.7) are close calls, 1 (3.0) and 2 (2.0) are not
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.0, 3.0], [2.0, 0.0], [-1.0, 1.0]])
    (sent,) = exact.seen
    assert sent["input_ids"][:, 0].tolist() == [0, 3] and sent["input_ids"].shape[1] == 4  # padding trimmed to 4
    assert (backend.rows, backend.rechecked) == (4, 2)
    # one row alone: the single-pair bound (1.5 x 9.0) applies, so even a margin of 3 is a close call
    assert backend.close_calls(np.array([[0.0, 3.0]])).tolist() == [0]
    assert backend.close_calls(np.array([[0.0, 3.0], [1.0, 1.5]])).tolist() == [1]  # two rows: the batch bound
    # three classes: the margin is the top logit less the runner-up, not less the smallest
    three = engine_onnx.CheckedBackend(fast, exact, single_shift=1.0, batch_shift=1.0, calibrated_on=8)
    assert three.close_calls(np.array([[5.0, 4.0, -9.0], [5.0, 1.0, 0.0]])).tolist() == [0]
    assert "1.5x the largest int8 shift on 8 validation pairs" in three.detail


def test_the_shift_is_how_far_the_gap_between_classes_moved():
    def softmax(logits):
        e = np.exp(np.array(logits) - np.max(logits))
        return (e / e.sum()).tolist()
    np.testing.assert_allclose(engine_onnx.shift([softmax([0.0, 1.0])], [softmax([0.0, 0.0])]), [1.0], atol=1e-9)
    # a constant added to every logit moves nothing; three classes: the largest gap change between any two
    np.testing.assert_allclose(engine_onnx.shift([softmax([5.0, 5.0, 5.0])], [softmax([0.0, 0.0, 0.0])]), [0.0],
                               atol=1e-9)
    np.testing.assert_allclose(engine_onnx.shift([softmax([0.5, 0.0, -1.0])], [softmax([0.0, 0.0, 0.0])]), [1.5],
                               atol=1e-9)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_int8_with_close_calls_in_fp32_is_calibrated_once_and_keeps_both_files(tiny_checkpoint, monkeypatch,
                                                                              tmp_path):
    predictor = _load(tiny_checkpoint, monkeypatch, "off")
    pairs = fastpath.validation_pairs(None, None)

    def score(firsts, seconds, engine):
        return predictor.probabilities(firsts, seconds, engine=engine)[0]

    def ctx(scorer):
        return engine.BuildContext(predictor.model, predictor.tokenizer, tmp_path, 1, pairs, scorer, lambda f, d: None)
    backend = engines.open_engine("onnx-int8-checked", ctx(score))
    saved = json.loads((tmp_path / "checked.json").read_text())
    assert saved["pairs"] == min(len(pairs), engine_onnx.SENSITIVITY_PAIRS) == backend.calibrated_on
    assert saved["single"] == backend.single_shift >= 0 and saved["batch"] == backend.batch_shift >= 0
    assert sorted(p.name for p in engine.files(backend)) == ["model-fp32.onnx",
                                                            f"model-int8-v{engine.GATE_VERSION}.onnx"]
    assert engine.disk_bytes(backend) == sum(p.stat().st_size for p in engine.files(backend))

    def no_scoring(*args):
        raise AssertionError("the bounds are remembered per checkpoint")
    again = engines.open_engine("onnx-int8-checked", ctx(no_scoring))
    assert (again.single_shift, again.batch_shift) == (backend.single_shift, backend.batch_shift)
    # every row a close call: exactly the fp32 model's answers; none: exactly dynamic int8's
    firsts, seconds = [a for a, _ in PAIRS], [b for _, b in PAIRS]
    fp32 = engine_onnx.OrtBackend(tmp_path / "model-fp32.onnx", "onnx-fp32", 1)
    int8 = engine_onnx.OrtBackend(tmp_path / f"model-int8-v{engine.GATE_VERSION}.onnx", "onnx-int8", 1)
    again.single_shift = again.batch_shift = np.inf
    np.testing.assert_array_equal(predictor.probabilities(firsts, seconds, engine=again)[0],
                                  predictor.probabilities(firsts, seconds, engine=fp32)[0])
    again.single_shift = again.batch_shift = -1.0
    np.testing.assert_array_equal(predictor.probabilities(firsts, seconds, engine=again)[0],
                                  predictor.probabilities(firsts, seconds, engine=int8)[0])
    assert again.rechecked == len(PAIRS) and again.rows == 2 * len(PAIRS)
    # too few validation examples to measure int8's moves: the engine is not built (the gate records why)
    few = fastpath.GatePairs(pairs.firsts[:8], pairs.seconds[:8], pairs.labels[:8], "eight pairs")
    with pytest.raises(ValueError, match="too few to measure"):
        engines.open_engine("onnx-int8-checked", engine.BuildContext(predictor.model, predictor.tokenizer,
                                                                     tmp_path / "few", 1, few, score,
                                                                     lambda f, d: None))


def test_a_pass_that_does_not_settle_leaves_the_next_engines_checked(tmp_path):
    """int8 with close calls in fp32 passes but may be slower than fp32: the search goes on until an engine that
    settles passes, and no further."""
    import contextlib
    from types import SimpleNamespace

    from trainer_backend.serving.engine import EngineSpec

    def spec(name: str, settles: bool = True) -> EngineSpec:
        return EngineSpec(name, name.title(), name, lambda ctx: SimpleNamespace(engine=name, detail="", path=None,
                                                                                bytes=0),
                          frozenset({"settle-test"}), settles=settles)
    ctx = engine.BuildContext(None, None, tmp_path, 1, _gate_pairs(20), _scorer(set()), lambda f, d: None)
    with contextlib.ExitStack() as stack:
        for s in (spec("loose", settles=False), spec("firm"), spec("never")):
            stack.enter_context(engines.registered(s))
        checks = fastpath._Gate(ctx).run(engines.candidates("settle-test"), [])
    assert [(c.engine, c.passed) for c in checks] == [("loose", True), ("firm", True)]
