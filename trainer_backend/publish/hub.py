"""Pushes a finished run to the Hugging Face Hub with its model card, or zips it; tokens never leave this module.

Two rules make this safe on a public Space:

- Whose token. On a Space (SPACE_ID set) a push uses only the signed-in visitor's own OAuth token, passed in
  as `token`; without one it stops with "sign in with Hugging Face first" before any request. The Space
  owner's HF_TOKEN is never used for a visitor. Off a Space, HF_TOKEN is the local user's own token, as before.
- What leaves. The zip and the upload are built from an allow-list (ALLOWED_FILES): the weights (safetensors;
  pytorch_model.bin only when a folder has no safetensors at all), config.json with labels, tokenizer files, a
  freshly written card and loss image, numbers-only all_results.json and a studio_run.json with no server
  paths or file names. train.log, run_config.json, checkpoints, optimizer/RNG state and anything unknown stay.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from trainer_backend import settings
from trainer_backend.modeling import ID2LABEL, LABEL2ID
from trainer_backend.publish.model_card import LOSS_IMAGE, draw_loss_curve, public_run, public_text, render_card
from trainer_backend.runs.record import RECORD_FILE, RunRecord

SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PICKLE_WEIGHTS = "pytorch_model.bin"  # shipped only when a folder has no safetensors (e.g. an old local model)
WEIGHT_FILES = (SAFETENSORS, PICKLE_WEIGHTS, SAFETENSORS_INDEX)
_SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "added_tokens.json")
GENERATED_FILES = ("README.md", LOSS_IMAGE, RECORD_FILE, "all_results.json")  # written fresh, never copied
ALLOWED_FILES = (SAFETENSORS, SAFETENSORS_INDEX, PICKLE_WEIGHTS, "config.json") + TOKENIZER_FILES + GENERATED_FILES
_JSON_REWRITTEN = {"config.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"}
_PATH_KEYS = {"_name_or_path", "name_or_path", "tokenizer_file", "vocab_file", "merges_file",
              "special_tokens_map_file", "added_tokens_file", "_commit_hash"}
_TOKEN_LIKE = re.compile(r"hf_[A-Za-z0-9_]{8,}")
KEPT_LOCALLY = "the trained model stays on this machine and can be downloaded as a zip"
SIGN_IN_FIRST = ("Pushing to the Hub from this Space needs your own Hugging Face account: sign in with Hugging "
                 f"Face first (the button at the top of the page); until then {KEPT_LOCALLY}.")


class HubError(RuntimeError):
    """A push that cannot happen or failed; the message says why, and never contains a token or server path."""


def on_space() -> bool:
    """A Hugging Face Space (SPACE_ID set): every visitor is untrusted and HF_TOKEN belongs to the owner."""
    return settings.on_space()


def visitor_token(oauth_token: str | None) -> str | None:
    """The token a push may use: the visitor's own sign-in token; HF_TOKEN only off Spaces (the owner's secret)."""
    if oauth_token:
        return oauth_token
    return None if on_space() else settings.hub_token_from_env()


def push_availability(token: str | None) -> tuple[bool, str]:
    """(can we push, why not / ready) in one sentence. On a Space without a visitor token: no network at all."""
    if on_space() and not token:
        return False, SIGN_IN_FIRST
    offline = settings.offline_reason()
    if offline:
        return False, f"Pushing to the Hub is unavailable because {offline}; {KEPT_LOCALLY}."
    if not token:
        return False, f"Pushing to the Hub needs a token, so set HF_TOKEN (a token with write access); " \
                      f"until then {KEPT_LOCALLY}."
    return True, "The Hub is reachable and a token is available, so this run can be pushed."


def _slug(base_model: str | None) -> str:
    name = (base_model or "model").split(" (")[0].rstrip("/\\")
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    name = re.sub(r"-{2,}", "-", name).strip("-.")
    return name[:70] or "model"


def default_repo_id(username: str | None, base_model: str | None) -> str:
    """`<user>/<base-model>-finetuned-mrpc` (just the name when the user is unknown)."""
    name = f"{_slug(base_model)}-finetuned-mrpc"
    return f"{username}/{name}" if username else name


def _scrub(text: str, token: str | None) -> str:
    """Hide the token used and any configured owner token (read here only to scrub it, never to send it)."""
    for secret in (token, *settings.owner_token_values()):
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_LIKE.sub("hf_***", text)


def _read_run(output_dir: Path) -> RunRecord | None:
    """The run's record; None when the folder has none (the card then says what is not recorded)."""
    return RunRecord.read(output_dir)


def _shards(output_dir: Path) -> list[str]:
    """The safetensors shards a model.safetensors.index.json names (only well-formed shard names)."""
    try:
        index = json.loads((output_dir / SAFETENSORS_INDEX).read_text(encoding="utf-8"))
        names = set((index.get("weight_map") or {}).values())
    except (OSError, ValueError, AttributeError):
        return []
    if not names or not all(isinstance(n, str) and _SHARD.fullmatch(n) for n in names):
        return []
    return sorted(names) if all((output_dir / n).is_file() for n in names) else []


def weight_files(output_dir: str | Path) -> list[str]:
    """The weight files that may be shipped: model.safetensors, else an index and its shards, else the .bin."""
    output_dir = Path(output_dir)
    if (output_dir / SAFETENSORS).is_file():
        return [SAFETENSORS]
    shards = _shards(output_dir) if (output_dir / SAFETENSORS_INDEX).is_file() else []
    if shards:
        return [SAFETENSORS_INDEX] + shards
    return [PICKLE_WEIGHTS] if (output_dir / PICKLE_WEIGHTS).is_file() else []


def _require_model(output_dir: Path) -> None:
    # No path in these messages: they reach the visitor.
    if not output_dir.is_dir():
        raise HubError("This run's folder no longer exists, so there is nothing to push or download.")
    if not weight_files(output_dir):
        raise HubError("This run holds no trained weights (model.safetensors) yet; finish a run first.")


def _public_json(value):
    """Drop path-valued keys and any absolute-path strings from a config/tokenizer JSON (special tokens kept)."""
    if isinstance(value, dict):
        return {k: _public_json(v) for k, v in value.items()
                if k not in _PATH_KEYS and not (isinstance(v, str) and _is_abs_path(v))}
    if isinstance(value, list):
        return [_public_json(v) for v in value if not (isinstance(v, str) and _is_abs_path(v))]
    return value


def _is_abs_path(text: str) -> bool:
    return len(text) > 1 and bool(re.match(r"(?:/|~[\\/]|[A-Za-z]:[\\/]|\\\\)[^\s<>]", text))


def _write_config(source: Path, target: Path) -> None:
    """The uploaded config names the labels (so the Hub widget and pipeline show them) and holds no paths."""
    config = _public_json(json.loads(source.read_text(encoding="utf-8")))
    if config.get("id2label", {}) in ({}, {"0": "LABEL_0", "1": "LABEL_1"}):
        config["id2label"] = {str(k): v for k, v in ID2LABEL.items()}
        config["label2id"] = dict(LABEL2ID)
    target.write_text(json.dumps(config, indent=2), encoding="utf-8")


def _write_results(source: Path, target: Path) -> None:
    """all_results.json with its numbers only (metric name -> value)."""
    try:
        results = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(results, dict):
        clean = {public_text(str(k))[:80]: v for k, v in results.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v}
        target.write_text(json.dumps(clean, indent=2), encoding="utf-8")


def _sep_token(output_dir: Path) -> str:
    try:
        cfg = json.loads((output_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
        sep = cfg.get("sep_token")
        return (sep.get("content") if isinstance(sep, dict) else sep) or "[SEP]"
    except (OSError, ValueError, AttributeError):
        return "[SEP]"


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source.resolve(), target)  # big weights: a hard link costs nothing (never edited in place)
    except OSError:
        shutil.copyfile(source, target)


def build_upload_folder(output_dir: str | Path, repo_id: str) -> Path:
    """A fresh temp folder with exactly what may leave the server (ALLOWED_FILES); the caller deletes
    `stage.parent` when done. Weights and tokenizer files are linked or copied; config/tokenizer JSON,
    all_results.json, studio_run.json, the card and the loss image are written anew without server paths."""
    output_dir = Path(output_dir)
    _require_model(output_dir)
    stage = Path(tempfile.mkdtemp(prefix="studio-upload-")) / re.sub(r"[^\w.-]+", "-", repo_id.split("/")[-1])
    try:
        stage.mkdir(parents=True)
        for name in weight_files(output_dir) + [n for n in TOKENIZER_FILES if (output_dir / n).is_file()]:
            if name in _JSON_REWRITTEN:
                try:
                    (stage / name).write_text(json.dumps(_public_json(json.loads(
                        (output_dir / name).read_text(encoding="utf-8"))), indent=2), encoding="utf-8")
                except (OSError, ValueError):
                    continue  # an unreadable tokenizer JSON is left out rather than shipped unchecked
            else:
                _link_or_copy(output_dir / name, stage / name)
        if (output_dir / "config.json").is_file():
            _write_config(output_dir / "config.json", stage / "config.json")
        if (output_dir / "all_results.json").is_file():
            _write_results(output_dir / "all_results.json", stage / "all_results.json")
        run = _read_run(output_dir)
        if run:
            (stage / RECORD_FILE).write_text(json.dumps(public_run(run), indent=2, default=str), encoding="utf-8")
        image = draw_loss_curve(run.loss_curve if run else [], stage / LOSS_IMAGE)
        card = render_card(run, repo_id, sep=_sep_token(output_dir), has_image=image is not None)
        (stage / "README.md").write_text(card, encoding="utf-8")
    except Exception:
        shutil.rmtree(stage.parent, ignore_errors=True)
        raise
    extra = {p.name for p in stage.iterdir()} - set(ALLOWED_FILES) - set(weight_files(output_dir))
    if extra:  # cannot happen by construction; a guard against future edits above
        shutil.rmtree(stage.parent, ignore_errors=True)
        raise HubError("Refusing to ship unexpected files; nothing was uploaded or zipped.")
    return stage


def _explain(err: Exception, repo_id: str, token: str | None) -> str:
    status = getattr(getattr(err, "response", None), "status_code", None)
    name = err.__class__.__name__
    if status == 401:
        reason = "the Hub rejected the token (401): sign in again or use a token with write access"
    elif status == 403:
        reason = f"this token may not write to {repo_id} (403): pick a repo under your own name"
    elif status is None and (isinstance(err, (ConnectionError, OSError, TimeoutError))
                             or "connect" in name.lower() or "offline" in name.lower()):
        reason = "the Hugging Face Hub could not be reached (no network)"
    else:
        detail = public_text(str(err).splitlines()[0]) if str(err) else "no details"  # no server paths
        reason = f"{name}: {detail}"[:300]
    return _scrub(f"Pushing to {repo_id} failed because {reason}; {KEPT_LOCALLY}.", token)


def push_run(output_dir: str | Path, repo_id: str | None = None, private: bool = False,
             token: str | None = None) -> str:
    """Create (or reuse) the repo and upload the run with its card; returns the repo id. Raises HubError.

    On a Space only `token` (the signed-in visitor's OAuth token) is used, and without it this raises the
    sign-in message before any network request; off a Space, token=None falls back to HF_TOKEN.
    """
    if on_space():
        if not token:
            raise HubError(SIGN_IN_FIRST)  # before whoami, create_repo or even the reachability check
    else:
        token = token or settings.hub_token_from_env()
    ok, why = push_availability(token)
    if not ok:
        raise HubError(why)
    output_dir = Path(output_dir)
    _require_model(output_dir)
    stage = None
    target = repo_id or "the Hub"
    try:
        from huggingface_hub import HfApi
        from huggingface_hub.utils import validate_repo_id

        api = HfApi(token=token)
        if not repo_id:
            repo_id = default_repo_id(api.whoami()["name"], public_run(_read_run(output_dir)).get("base_model"))
        target = repo_id
        try:
            validate_repo_id(repo_id)
        except Exception:  # noqa: BLE001 - HFValidationError: say it plainly
            raise HubError(f"{repo_id!r} is not a valid repo id: use owner/name with letters, digits, "
                           "'-', '_' or '.'.") from None
        stage = build_upload_folder(output_dir, repo_id)
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        api.upload_folder(repo_id=repo_id, folder_path=stage, repo_type="model",
                          commit_message="Upload a model fine-tuned on MRPC with the Fine-tuning Studio")
        return repo_id
    except HubError as err:
        raise HubError(_scrub(str(err), token)) from None  # e.g. a token pasted as the repo id
    except Exception as err:  # noqa: BLE001 - every Hub failure becomes one clear, token-free sentence
        raise HubError(_explain(err, target, token)) from None
    finally:
        if stage is not None:
            shutil.rmtree(stage.parent, ignore_errors=True)


def zip_checkpoint(output_dir: str | Path, new_file: Callable[[str], Path]) -> Path:
    """A zip of the final model (the same allow-listed files as a push) at `new_file(<name>)`: the web app passes
    web.downloads.new_file, its capped downloads folder (the training process, which imports this module, never
    imports web/)."""
    output_dir = Path(output_dir)
    _require_model(output_dir)
    name = default_repo_id(None, public_run(_read_run(output_dir)).get("base_model"))
    stage = build_upload_folder(output_dir, name)
    target = new_file(f"{output_dir.name}-{name}.zip")
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for item in sorted(stage.iterdir()):
                archive.write(item, f"{name}/{item.name}")
    except Exception:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(stage.parent, ignore_errors=True)
    return target
