"""Pushes a finished run to the Hugging Face Hub with its model card, or zips it; tokens never leave this module."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from trainer_backend import settings
from trainer_backend.model_card import LOSS_IMAGE, draw_loss_curve, public_text, render_card
from trainer_backend.modeling import ID2LABEL, LABEL2ID

SKIP_FILES = {"training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "README.md"}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
_TOKEN_LIKE = re.compile(r"hf_[A-Za-z0-9]{8,}")
KEPT_LOCALLY = "the trained model stays on this machine and can be downloaded as a zip"


class HubError(RuntimeError):
    """A push that cannot happen or failed; the message says why, and never contains a token."""


def on_space() -> bool:
    return bool(os.environ.get("SPACE_ID"))


def visitor_token(oauth_token: str | None) -> str | None:
    """The token a push may use: the visitor's own sign-in token; HF_TOKEN only off Spaces (the owner's secret)."""
    if oauth_token:
        return oauth_token
    return None if on_space() else settings.hub_token_from_env()


def push_availability(token: str | None) -> tuple[bool, str]:
    """(can we push, why not / ready) in one sentence, without contacting the Hub beyond a reachability check."""
    offline = settings.offline_reason()
    if offline:
        return False, f"Pushing to the Hub is unavailable because {offline}; {KEPT_LOCALLY}."
    if not token:
        how = "sign in with the Hugging Face button" if on_space() else "set HF_TOKEN (a token with write access)"
        return False, f"Pushing to the Hub needs a token, so {how}; until then {KEPT_LOCALLY}."
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
    if token:
        text = text.replace(token, "***")
    return _TOKEN_LIKE.sub("hf_***", text)


def _read_run(output_dir: Path) -> dict:
    path = output_dir / "studio_run.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def _require_model(output_dir: Path) -> None:
    if not output_dir.is_dir():
        raise HubError(f"The run folder {output_dir} does not exist, so there is nothing to push.")
    if not any((output_dir / name).is_file() for name in WEIGHT_FILES):
        raise HubError(f"{output_dir} holds no trained weights (model.safetensors); finish a run first.")


def _fix_config(path: Path) -> None:
    """Make sure the uploaded config names the labels, so the Hub widget and pipeline show them."""
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("id2label", {}) in ({}, {"0": "LABEL_0", "1": "LABEL_1"}):
        config["id2label"] = {str(k): v for k, v in ID2LABEL.items()}
        config["label2id"] = dict(LABEL2ID)
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def _sep_token(output_dir: Path) -> str:
    try:
        cfg = json.loads((output_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
        sep = cfg.get("sep_token")
        return (sep.get("content") if isinstance(sep, dict) else sep) or "[SEP]"
    except (OSError, ValueError):
        return "[SEP]"


def build_upload_folder(output_dir: str | Path, repo_id: str) -> Path:
    """A fresh folder with exactly what would be uploaded: weights, tokenizer, labelled config, card, loss image."""
    output_dir = Path(output_dir)
    _require_model(output_dir)
    stage = Path(tempfile.mkdtemp(prefix="studio-upload-")) / repo_id.split("/")[-1]
    stage.mkdir(parents=True)
    for item in sorted(output_dir.iterdir()):
        if item.is_file() and item.name not in SKIP_FILES and not item.name.startswith((".", "rng_state")):
            try:
                os.link(item, stage / item.name)  # big weights: a hard link costs nothing
            except OSError:
                shutil.copy2(item, stage / item.name)
    if (stage / "config.json").is_file():
        (stage / "config.json").unlink()  # never edit a hard-linked original in place
        shutil.copy2(output_dir / "config.json", stage / "config.json")
        _fix_config(stage / "config.json")
    run = _read_run(output_dir)
    if run:
        (stage / "studio_run.json").unlink(missing_ok=True)
        public = {**run, "base_model": public_text(run.get("base_model")), "data": public_text(run.get("data"))}
        (stage / "studio_run.json").write_text(json.dumps(public, indent=2, default=str), encoding="utf-8")
    image = draw_loss_curve(run.get("loss_curve") or [], stage / LOSS_IMAGE)
    card = render_card(run, repo_id, sep=_sep_token(output_dir), has_image=image is not None)
    (stage / "README.md").write_text(card, encoding="utf-8")
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
        reason = f"{name}: {str(err).splitlines()[0] if str(err) else 'no details'}"[:300]
    return _scrub(f"Pushing to {repo_id} failed because {reason}; {KEPT_LOCALLY}.", token)


def push_run(output_dir: str | Path, repo_id: str | None = None, private: bool = False,
             token: str | None = None) -> str:
    """Create (or reuse) the repo and upload the run with its card; returns the repo id. Raises HubError."""
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
            repo_id = default_repo_id(api.whoami()["name"], _read_run(output_dir).get("base_model"))
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
    except HubError:
        raise
    except Exception as err:  # noqa: BLE001 - every Hub failure becomes one clear, token-free sentence
        raise HubError(_explain(err, target, token)) from None
    finally:
        if stage is not None:
            shutil.rmtree(stage.parent, ignore_errors=True)


def zip_checkpoint(output_dir: str | Path) -> Path:
    """A zip of the final model (weights, tokenizer, config, card) for download; checkpoints are left out."""
    output_dir = Path(output_dir)
    _require_model(output_dir)
    name = default_repo_id(None, _read_run(output_dir).get("base_model"))
    stage = build_upload_folder(output_dir, name)
    target = Path(tempfile.mkdtemp(prefix="studio-zip-")) / f"{output_dir.name}-{name}.zip"
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for item in sorted(stage.iterdir()):
                archive.write(item, f"{name}/{item.name}")
    finally:
        shutil.rmtree(stage.parent, ignore_errors=True)
    return target
