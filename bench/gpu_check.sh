#!/usr/bin/env bash
# GPU check, one script, within 8 minutes on one GPU:
#   1. a bert-base-sized encoder (random weights: timing only) on MRPC-sized data (3,668 train / 408 validation),
#      3 epochs with the GPU default recipe, once in bf16 and once in fp16: training time and samples/s;
#   2. `accelerate launch` of the CLI on that GPU writes all_results.json.
# MRPC-sized data: a local MRPC folder when one is found, else the bundled sample's pairs repeated to MRPC's size
# (same length profile as news pairs; accuracy is meaningless there, only time counts).
#
#   bash bench/gpu_check.sh              # on the GPU machine
#   bash bench/gpu_check.sh --dry-run    # CPU, tiny model and sizes: checks the script end to end in a few minutes
#   bash bench/gpu_check.sh --saves      # instead of 1-2: where the bf16 run's time goes — the same run with a
#                                        # checkpoint at every evaluation (the default), once per epoch, and none
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
ACCELERATE=${ACCELERATE:-$(dirname "$PY")/accelerate}
[ -x "$ACCELERATE" ] || ACCELERATE=$(command -v accelerate)
WORK=${WORK:-$(mktemp -d /tmp/gpu-check-XXXX)}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false STUDIO_DATA_DIR="$WORK/studio"
DRY=0; SAVES=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    --saves) SAVES=1 ;;
    *) echo "unknown option $arg (use --dry-run and/or --saves)" >&2; exit 2 ;;
  esac
done

if [ "$DRY" = 1 ]; then
  export STUDIO_FORCE_CPU=1
  MODEL_KIND=tiny; N_TRAIN=64; N_EVAL=32; EPOCHS=1; LAUNCH=(--cpu --num_processes 1)
else
  MODEL_KIND=bert-base; N_TRAIN=3668; N_EVAL=408; EPOCHS=3; LAUNCH=(--num_processes 1 --num_machines 1)
fi

echo "[gpu_check] work folder $WORK"
"$PY" - "$WORK" "$MODEL_KIND" "$N_TRAIN" "$N_EVAL" <<'EOF'
"""Write the model folder and the MRPC-sized data set."""
import csv, sys
from pathlib import Path
sys.path.insert(0, ".")
import torch
from transformers import AutoTokenizer, BertConfig, BertModel
from trainer_backend import settings
from trainer_backend.data import load_data

work, kind, n_train, n_eval = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(f"[gpu_check] torch {torch.__version__}, device: "
      f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU (no CUDA)'}", flush=True)
tok = AutoTokenizer.from_pretrained(str(settings.packaged_model_dir()))
config = BertConfig(vocab_size=tok.vocab_size) if kind == "bert-base" else BertConfig(
    vocab_size=tok.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)
torch.manual_seed(0)
BertModel(config).save_pretrained(work / "model")
tok.save_pretrained(work / "model")
local = settings.local_mrpc_dirs()
source = load_data(str(local[0]) if local else "sample").dataset
pairs = {"train": source["train"], "validation": source["validation"]}
with open(work / "mrpc_sized.tsv", "w", newline="", encoding="utf-8") as f:
    out = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
    out.writerow(["split", "label", "sentence1", "sentence2"])
    for split, n in (("train", n_train), ("validation", n_eval)):
        ds = pairs[split]
        for i in range(n):
            row = ds[i % len(ds)]
            out.writerow([split, row["label"], row["sentence1"].replace("\t", " "), row["sentence2"].replace("\t", " ")])
print(f"[gpu_check] model: bert-base-sized random weights ({sum(p.numel() for p in BertModel(config).parameters()) / 1e6:.0f}M)"
      if kind == "bert-base" else "[gpu_check] model: tiny 2-layer BERT (dry run)", flush=True)
print(f"[gpu_check] data: {n_train} train / {n_eval} validation pairs from "
      f"{'the local MRPC folder ' + str(local[0]) if local else 'the bundled sample, repeated'}", flush=True)
EOF

report() {  # print training time and samples/s from a run's all_results.json
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2] + "/all_results.json"))
print(f"[gpu_check] {sys.argv[1]}: training {r['train_runtime']:.1f} s (evaluations and checkpoints included), "
      f"{r['train_samples_per_second']:.1f} samples/s, {r['train_samples']} pairs x {r.get('epoch', 0):.0f} epochs, "
      f"accuracy {r['eval_accuracy']:.4f}", flush=True)
EOF
}

COMMON=(--model_name_or_path "$WORK/model" --dataset "$WORK/mrpc_sized.tsv" --num_train_epochs "$EPOCHS")
train() {  # train NAME LABEL show|quiet [flags…]: one CLI run into $WORK/NAME (log $WORK/NAME.log), its [studio]
  local name=$1 label=$2 choices=$3 start  # lines when `show`, then its report line
  shift 3
  start=$(date +%s)
  "$PY" -m trainer_backend "${COMMON[@]}" --output_dir "$WORK/$name" --disable_tqdm true "$@" > "$WORK/$name.log" 2>&1 \
    || { tail -30 "$WORK/$name.log"; exit 1; }
  if [ "$choices" = show ]; then grep "^\[studio\]" "$WORK/$name.log" | sed 's/^/  /'; fi
  report "$label (wall $(( $(date +%s) - start )) s with start-up)" "$WORK/$name"
}
if [ "$SAVES" = 1 ]; then
  # Same bf16 run three ways: evaluations every 10% stay, only the checkpoints (model + optimizer state, which Resume
  # needs) change. The difference is what saving costs on this machine's disk.
  # GPU_CHECK_VARIANTS: other "label:flags" entries, separated by ';' (e.g. "none-w0:--save_strategy no --dataloader_num_workers 0").
  IFS=';' read -r -a VARIANTS <<< "${GPU_CHECK_VARIANTS:-every-evaluation:;once-per-epoch:--save_strategy epoch;none:--save_strategy no}"
  for variant in "${VARIANTS[@]}"; do
    label=${variant%%:*}; flags=${variant#*:}
    # shellcheck disable=SC2086  # $flags is a list of words on purpose
    train "saves-$label" "bf16, checkpoints: $label" quiet --precision bf16 $flags
  done
  echo "[gpu_check] done"
  exit 0
fi
for precision in bf16 fp16; do
  train "$precision" "$precision" show --precision "$precision"
done

"$ACCELERATE" launch "${LAUNCH[@]}" --mixed_precision no --dynamo_backend no -m trainer_backend "${COMMON[@]}" \
  --num_train_epochs 1 --output_dir "$WORK/accelerate" --disable_tqdm true > "$WORK/accelerate.log" 2>&1 \
  || { tail -30 "$WORK/accelerate.log"; exit 1; }
test -s "$WORK/accelerate/all_results.json" && echo "[gpu_check] accelerate launch: $WORK/accelerate/all_results.json written"
report "accelerate launch, 1 epoch, auto precision" "$WORK/accelerate"
echo "[gpu_check] done"
