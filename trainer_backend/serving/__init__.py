"""Serving fine-tuned checkpoints (runs in the app process; never imports training/).

models: which checkpoint (default, menu, a visitor's choice); predictor: loading and classifying pairs;
cache: the bounded, shared cache; fastpath: the checked ONNX Runtime engine; explain, compare, predict_table:
the Predict tab's extras. The names below are the package's public API, so callers need not know the split.
"""
from trainer_backend.serving.cache import ModelCache, cache, get_predictor, task_for, warm_default
from trainer_backend.serving.models import (
                                            NO_MODEL_MESSAGE,
                                            InferenceError,
                                            ModelRef,
                                            default_model,
                                            has_weights,
                                            model_choices,
                                            resolve_choice,
)
from trainer_backend.serving.predictor import (
                                            BATCH_SIZE,
                                            MAX_CHARS,
                                            PairResult,
                                            Predictor,
                                            clean_sentence,
                                            enable_fast_path,
                                            load_for_serving,
                                            load_predictor,
)

__all__ = ["BATCH_SIZE", "MAX_CHARS", "NO_MODEL_MESSAGE", "InferenceError", "ModelCache", "ModelRef", "PairResult",
           "Predictor", "cache", "clean_sentence", "default_model", "enable_fast_path", "get_predictor",
           "has_weights", "load_for_serving", "load_predictor", "model_choices", "resolve_choice", "task_for",
           "warm_default"]
