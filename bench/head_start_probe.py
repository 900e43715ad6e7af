"""Probe: could a new head start above chance from what the packaged model already knows? (issue 20, item 1)

    python -m bench.head_start_probe --data sample
    python -m bench.head_start_probe --data ../shared/data/mrpc

The Quick look's loss sits at chance until the encoder has learned to compare the two sentences. A head that starts
from something the packaged all-MiniLM-L6-v2 was trained for would not. This scores, on the validation pairs, with
the encoder frozen (no training at all):
- `joint`: the pair encoded together, as the classifier sees it; each sentence's tokens mean-pooled (by
  token_type_ids), then the cosine of the two means;
- `separate`: each sentence encoded alone and mean-pooled, as the model was trained (a bi-encoder), then the cosine;
each read two ways: one threshold on the cosine (chosen on up to 1,000 training pairs), and a logistic regression
on [|u - v|, u * v, cosine] (torch LBFGS, standardized features, L2 1e-2; 769 features from at most 1,000 pairs:
it can overfit, which is the point of also showing the one-number reading). Prints one JSON line.
Hand-rolled rather than scikit-learn: a probe of a dozen lines does not justify a new dependency.
"""
from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
TRAIN_PAIRS = 1000


def features(model, tokenizer, first: list[str], second: list[str], batch: int = 32):
    """{"joint": ..., "separate": ...}: rows [|u - v|, u * v, cos(u, v)] for each pair."""
    import torch
    import torch.nn.functional as F

    def mean(hidden, mask):
        mask = mask.float()
        return (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)

    def row(u, v):
        return torch.cat([(u - v).abs(), u * v, F.cosine_similarity(u, v)[:, None]], 1)

    out = {"joint": [], "separate": []}
    for i in range(0, len(first), batch):
        a, b = first[i:i + batch], second[i:i + batch]
        with torch.inference_mode():
            enc = tokenizer(a, b, padding=True, truncation=True, max_length=128, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            segment = enc["token_type_ids"]
            out["joint"].append(row(mean(hidden, enc["attention_mask"] * (1 - segment)),
                                    mean(hidden, enc["attention_mask"] * segment)))
            ea = tokenizer(a, padding=True, truncation=True, return_tensors="pt")
            eb = tokenizer(b, padding=True, truncation=True, return_tensors="pt")
            out["separate"].append(row(mean(model(**ea).last_hidden_state, ea["attention_mask"]),
                                       mean(model(**eb).last_hidden_state, eb["attention_mask"])))
    return {k: torch.cat(v) for k, v in out.items()}


def threshold_accuracy(train_cos, train_y, val_cos, val_y) -> float:
    """Accuracy on validation of the one cosine threshold that is best on the training pairs."""
    import torch

    best = max(torch.unique(train_cos).tolist(), key=lambda t: ((train_cos > t).long() == train_y).float().mean())
    return float(((val_cos > best).long() == val_y).float().mean())


def probe_accuracy(x, y, xv, yv) -> float:
    """Validation accuracy of an L2-regularised logistic regression fitted on (x, y)."""
    import torch

    mu, sd = x.mean(0), x.std(0) + 1e-6
    x, xv = (x - mu) / sd, (xv - mu) / sd
    torch.manual_seed(0)
    lin = torch.nn.Linear(x.shape[1], 2)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=200)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(x), y) + 1e-2 * lin.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float((lin(xv).argmax(1) == yv).float().mean())


def main(argv: list[str] | None = None) -> dict:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from trainer_backend import data as studio_data
    from trainer_backend.settings import packaged_model_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample", help='"sample" or a local MRPC folder')
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dd = studio_data.sample() if args.data == "sample" else studio_data.from_mrpc_folder(args.data)
    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir()))
    model = AutoModel.from_pretrained(str(packaged_model_dir())).eval()
    train = dd["train"].select(range(min(TRAIN_PAIRS, len(dd["train"]))))
    val = dd["validation"]
    ft = features(model, tokenizer, train["sentence1"], train["sentence2"])
    fv = features(model, tokenizer, val["sentence1"], val["sentence2"])
    y, yv = torch.tensor(train["label"]), torch.tensor(val["label"])
    share = float(yv.float().mean())
    out = {"data": args.data, "validation_pairs": len(val), "majority": round(max(share, 1 - share), 4)}
    for kind in ("joint", "separate"):
        out[f"{kind}_cosine_threshold"] = round(threshold_accuracy(ft[kind][:, -1], y, fv[kind][:, -1], yv), 4)
        out[f"{kind}_logistic_regression"] = round(probe_accuracy(ft[kind], y, fv[kind], yv), 4)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
