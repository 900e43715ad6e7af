"""Fast path: ONNX Runtime answers match PyTorch, the accuracy gate refuses a worse engine, caching, fallbacks."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import PREDICT_PAIRS, flipping_scorer, gate_pairs, load_in_mode
from trainer_backend import settings
from trainer_backend.runs.record import RunRecord
from trainer_backend.serving import (
    engine,
    engine_bf16,
    engine_onnx,
    engines,
    fastpath,
)
from ui.messages import check_line, serving_reason

pytest_plugins = ["tests.predict_fixtures"]
BF16_ENGINES = {fastpath.BF16, fastpath.OPENVINO_BF16}  # checked besides the ONNX candidates where bf16 is native


# --- the gate on its own (no model) -------------------------------------------------------------

@pytest.mark.parametrize("flip, passed", [(set(), True), ({0}, False), ({0, 1}, False)])
def test_gate_needs_99_5_percent_agreement(flip, passed):
    pairs = gate_pairs(200)  # 1 flip of 200 = 99.5% agreement but -0.5 points: at the limit; 2 flips: 99.0%
    reference = [i % 2 for i in range(200)]
    result = fastpath.check("onnx-int8", object(), pairs, reference, flipping_scorer(flip))
    assert result.agreement == pytest.approx(1 - len(flip) / 200)
    assert result.passed is (passed or len(flip) == 1)


def test_gate_refuses_an_accuracy_drop_above_half_a_point():
    pairs = gate_pairs(1000)  # 6 flips away from the truth: 99.4% agreement, -0.6 points
    reference = [i % 2 for i in range(1000)]
    bad = fastpath.check("onnx-int8", object(), pairs, reference, flipping_scorer({0, 1, 2, 3, 4, 5}))
    assert not bad.passed and bad.accuracy == pytest.approx(0.994) and bad.reference_accuracy == 1.0
    assert "failed" in check_line(bad) and "99.4%" in check_line(bad)


def test_a_crashing_engine_fails_the_gate():
    def boom(firsts, seconds, engine):
        raise RuntimeError("no kernel")
    result = fastpath.check("onnx-fp32", object(), gate_pairs(4), [0, 1, 0, 1], boom)
    assert not result.passed and "no kernel" in result.error


# --- with a real checkpoint ---------------------------------------------------------------------
@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_onnx_fp32_gives_the_pytorch_answers(tiny_checkpoint, monkeypatch):
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")  # no native-bf16 engine beside it: which is faster is timing
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "fp32")
    assert predictor.engine == "onnx-fp32" and predictor.serving.engine == "onnx-fp32"
    check = predictor.serving.checks[0]
    assert check.passed and check.agreement == 1.0 and check.pairs > 0
    fast, _ = predictor.probabilities([a for a, _ in PREDICT_PAIRS], [b for _, b in PREDICT_PAIRS], batch_size=4)
    plain, _ = predictor.probabilities([a for a, _ in PREDICT_PAIRS], [b for _, b in PREDICT_PAIRS], engine="pytorch-fp32")
    np.testing.assert_allclose(np.array(fast), np.array(plain), atol=1e-4)
    alone = predictor.predict_pairs([PREDICT_PAIRS[-1]])[0]  # padded in a batch = alone
    assert alone.confidences["paraphrase"] == pytest.approx(fast[-1][1], abs=1e-5)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_a_bf16_copy_is_checked_and_each_request_size_goes_to_its_fastest_checked_engine(tiny_checkpoint,
                                                                                      monkeypatch):
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "fp32")
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
        firsts, seconds = [a for a, _ in PREDICT_PAIRS], [b for _, b in PREDICT_PAIRS]
        got, _ = predictor.probabilities(firsts, seconds, engine=engine_bf16.Bf16Backend(predictor.model))
        plain, _ = predictor.probabilities(firsts, seconds, engine="pytorch-fp32")
        np.testing.assert_allclose(np.array(got), np.array(plain), atol=0.05)


def test_a_bf16_that_changes_answers_fails_like_any_engine():
    pairs = gate_pairs(200)
    reference = [i % 2 for i in range(200)]
    result = fastpath.check(fastpath.BF16, "pytorch", pairs, reference, flipping_scorer({0, 1, 2}))
    assert not result.passed and "PyTorch with bf16 weights" in check_line(result)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_int8_is_checked_and_the_verdict_is_explained(tiny_checkpoint, monkeypatch):
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "int8")
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
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "int8")
    assert predictor.engine == "pytorch" and predictor.fast is None
    assert serving_reason(predictor.serving).startswith("no fast path passed the accuracy check")
    onnx = [c for c in predictor.serving.checks if c.engine not in BF16_ENGINES]
    assert [c.engine for c in onnx] == ["onnx-int8", "onnx-int8-checked", "onnx-int8-block", "onnx-int8-mixed"]
    assert all(c.agreement < 0.5 for c in onnx)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_the_check_is_remembered_per_weights(tiny_checkpoint, monkeypatch):
    first = load_in_mode(tiny_checkpoint, monkeypatch, "auto")
    again = load_in_mode(tiny_checkpoint, monkeypatch, "auto")
    assert again.serving.cached and again.engine == first.engine
    folder = engine.export_dir(engine.weights_digest(first.model))
    assert json.loads((folder / "gate.json").read_text())["checks"][0]["engine"] == "onnx-int8"


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_off_and_export_failures_keep_pytorch(tiny_checkpoint, monkeypatch):
    assert serving_reason(load_in_mode(tiny_checkpoint, monkeypatch, "off").serving).endswith("(PREDICT_FASTPATH=off)")

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")
    monkeypatch.setattr(engine_onnx, "export_fp32", broken)
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-broken" / digest)
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "auto")
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
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "off")
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

    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "off")
    backend = engines.open_engine(fastpath.OPENVINO_BF16, engine.BuildContext(
        predictor.model, predictor.tokenizer, tmp_path, 2, fastpath.validation_pairs(None, None), None, lambda f, d: None))
    assert backend.engine == fastpath.OPENVINO_BF16 and backend.detail.startswith("OpenVINO ")
    firsts, seconds = [a for a, _ in PREDICT_PAIRS], [b for _, b in PREDICT_PAIRS]
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
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "fp32")
    ov = [c for c in predictor.serving.checks if c.engine == fastpath.OPENVINO_BF16]
    assert len(ov) == 1 and not ov[0].passed and "openvino" in ov[0].error
    assert any(c.passed for c in predictor.serving.checks) and predictor.engine != fastpath.OPENVINO_BF16


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_int8_in_blocks_uses_matmulnbits_and_stays_close_to_fp32(tiny_checkpoint, monkeypatch, tmp_path):
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "off")
    pairs = fastpath.validation_pairs(None, None)

    def score(firsts, seconds, engine):
        return predictor.probabilities(firsts, seconds, engine=engine)[0]
    backend = engines.open_engine("onnx-int8-block", engine.BuildContext(predictor.model, predictor.tokenizer, tmp_path, 1, pairs, score, lambda f, d: None))
    import onnx

    nodes = [n for n in onnx.load(str(backend.path)).graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 12  # 2 layers x (q, k, v, attention out, ffn in, ffn out)
    attrs = {a.name: a.i for a in nodes[0].attribute}
    assert attrs["bits"] == 8 and attrs["block_size"] == engine_onnx.INT8_BLOCK and attrs["accuracy_level"] == 4
    firsts, seconds = [a for a, _ in PREDICT_PAIRS], [b for _, b in PREDICT_PAIRS]
    got = np.array(predictor.probabilities(firsts, seconds, engine=backend)[0])
    plain = np.array(predictor.probabilities(firsts, seconds, engine="pytorch-fp32")[0])
    np.testing.assert_allclose(got, plain, atol=0.02)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_only_the_serving_model_stays_on_disk_and_a_reload_skips_the_export(tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(engine, "export_dir", lambda digest: fastpath.settings.data_dir() / "fp-disk" / digest)
    monkeypatch.setenv("PREDICT_PRECISION", "fp32")  # the ONNX fp32 engine alone (a bf16 one could time faster)
    first = load_in_mode(tiny_checkpoint, monkeypatch, "fp32")
    folder = engine.export_dir(engine.weights_digest(first.model))
    assert sorted(p.name for p in folder.glob("*.onnx")) == ["model-fp32.onnx"]

    def no_export(*args, **kwargs):
        raise AssertionError("a remembered verdict needs no new export")
    monkeypatch.setattr(engine_onnx, "export_fp32", no_export)
    again = load_in_mode(tiny_checkpoint, monkeypatch, "fp32")
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
        predictor = load_in_mode(tiny_checkpoint, monkeypatch, "dummy-mode")
        assert engines.candidates("dummy-mode") == ["dummy"]
        assert [c.engine for c in predictor.serving.checks][0] == "dummy" and predictor.serving.checks[0].passed
        assert predictor.engine == "dummy" and predictor.serving.title == "A dummy engine (PyTorch again)"
        assert compare.engine_title(predictor, "serving") == "A dummy engine (PyTorch again)"
        assert engines.short_title("dummy") == "Dummy"
        assert "A dummy engine (PyTorch again)" in serving_reason(predictor.serving)
    assert "dummy" not in [e.name for e in engines.ENGINES]  # gone again: the registry is the one list
