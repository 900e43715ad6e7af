"""Who a visitor is and what they may name: never a server path, nor a datasets builder name, on a Space."""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from pathlib import Path

from trainer_backend import settings, tasks
from trainer_backend.errors import AccessError

# One sentence for every refused name, whether or not such a path exists: no file-system oracle.
REFUSED = ("That name is not offered here: choose one of the listed choices, one of your own uploads or a "
           "Hub id (owner/name).")
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
DATA_NAMES = ("auto", "sample", *tasks.NAMED_TASKS)  # glue/mrpc, glue/sst2 … and sample-sentiment
MODEL_NAMES = ("auto", "packaged")
UPLOAD_PREFIX = "upload:"
MRPC_PREFIX = "mrpc:"
HUB_PREFIX = "hub:"
RUN_PREFIX = "run:"


@dataclass(frozen=True)
class Visitor:
    """The person behind a request. Off a Space everyone is the local user, who owns everything.

    key: 'local', 'user:<hf name>' when signed in, else 'anon:<hash of the browser's random id>'.
    token: the visitor's own OAuth token (never stored, never the owner's HF_TOKEN).
    address: 'addr:<hash>' of the client's network address (see address_key), for quotas a new id does not reset."""

    key: str
    name: str | None = None
    token: str | None = None
    space: bool = False
    address: str | None = None

    def owns(self, owner: str | None) -> bool:
        return not self.space or (owner is not None and owner == self.key)

    @property
    def runs_owner(self) -> str | None:
        """The owner to select this visitor's runs by in the store: none (every run) off a Space."""
        return self.key if self.space else None

    @property
    def hub_token(self) -> str | bool | None:
        """The token a Hub read made for this visitor may send (False = none at all)."""
        return settings.hub_read_token(self.token)

    @property
    def upload_dir(self) -> Path:
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:16]
        return settings.data_dir() / "uploads" / digest


LOCAL = Visitor("local")
NOBODY = Visitor("nobody", space=True)  # on a Space, a reader whose identity is not known: owns no run


def reader(visitor: Visitor | None) -> Visitor:
    """Whose runs a menu or model lookup may use: the visitor given; with none, the local user off a Space and
    nobody on one (so a caller that forgets to say who is asking shows no one's work)."""
    if visitor is not None:
        return visitor
    return NOBODY if settings.on_space() else LOCAL


TICKET_SECONDS = 12 * 3600  # a page reload issues a new one; a sign-out outlives no ticket by more than this


def _ticket_mac(body: str) -> str:
    return hmac.new(settings.server_secret().encode(), body.encode(), hashlib.sha256).hexdigest()[:32]


def issue_ticket(visitor: Visitor, now: float | None = None) -> str:
    """A signed 'who I am' a page carries with each request: '<key>|<issued at>|<HMAC>'.

    Why a ticket and not a gr.State: Gradio hands a batched function the session state of the first request in
    the batch only, so a State would answer one visitor as another; a ticket is an ordinary input, one per
    request, and only this server can make one (the secret never leaves it). Hand-rolled: a standard HMAC over
    two fields; itsdangerous (installed with gradio[oauth]) would do the same with more format."""
    body = f"{visitor.key}|{int(time.time() if now is None else now)}"
    return f"{body}|{_ticket_mac(body)}"


def visitor_from_ticket(ticket: str | None, now: float | None = None) -> Visitor | None:
    """The visitor a valid, unexpired ticket names (no token); None for anything else."""
    if not isinstance(ticket, str) or ticket.count("|") != 2 or len(ticket) > 200:
        return None
    key, issued, mac = ticket.split("|")
    if not hmac.compare_digest(mac, _ticket_mac(f"{key}|{issued}")) or not issued.isdigit():
        return None
    age = (time.time() if now is None else now) - int(issued)
    if not 0 <= age <= TICKET_SECONDS or not key.startswith(("user:", "anon:")):
        return None
    return Visitor(key, key[5:] if key.startswith("user:") else None, None, True)


def address_key(address: str | None) -> str | None:
    """'addr:<hash>' of a client's network address (only the hash is stored), None when there is none."""
    address = (address or "").strip().lower()
    return "addr:" + hashlib.sha256(address.encode()).hexdigest()[:16] if address else None


def make_visitor(username: str | None = None, oauth_token: str | None = None, browser_id: str | None = None,
                 session_hash: str | None = None, address: str | None = None) -> Visitor:
    """Identify a request: the signed-in name, else the random id the browser keeps, else the Gradio session.
    `address` is the client's network address (ui.addresses.client_address), kept as a hash."""
    if not settings.on_space():
        return Visitor("local", username, oauth_token or settings.hub_token_from_env(), False)
    if username:
        return Visitor(f"user:{username}", username, oauth_token, True, address_key(address))
    raw = browser_id if isinstance(browser_id, str) and VISITOR_ID.match(browser_id) else None
    raw = raw or (f"session-{session_hash}" if session_hash else None)
    if not raw:
        raise AccessError("This request carries no visitor id; reload the page.")
    return Visitor("anon:" + hashlib.sha256(raw.encode()).hexdigest()[:24], None, None, True, address_key(address))


def new_browser_id() -> str:
    import secrets

    return secrets.token_urlsafe(18)


def _hub_id(spec: str) -> bool:
    return bool(HUB_ID.match(spec)) and ".." not in spec and not spec.endswith((".", "-"))


def _shadowed(spec: str) -> bool:
    """True when a Hub-id-looking name is also a path relative to this process (libraries would read it)."""
    try:
        return Path(spec).exists()
    except OSError:
        return True


def check_model(spec: str | None, visitor: Visitor, run_folders: dict[str, str] | None = None) -> str:
    """A model name a visitor may use, as the training process should see it. Raises AccessError.

    run_folders maps 'run:<id>' to the folder of a finished run this visitor may use."""
    spec = (spec or "auto").strip()
    if spec in MODEL_NAMES:
        return spec
    if run_folders and spec in run_folders:
        return run_folders[spec]
    if not visitor.space:
        return spec
    if _hub_id(spec) and not _shadowed(spec):
        return spec
    raise AccessError(REFUSED)


def check_data(spec: str | None, visitor: Visitor) -> str:
    """A data name a visitor may use, turned into what the loader reads. Raises AccessError.

    Offered: auto, sample, the named tasks (glue/mrpc, glue/sst2 …, sample-sentiment), 'mrpc:N' (folders the app found), 'upload:<file>' (this visitor's own),
    Hub dataset ids (owner/name: a single word such as csv, json or text names a datasets builder that reads the
    server's files, so on a Space it is refused unless a listed choice). Off a Space, any local path too."""
    spec = (spec or "auto").strip()
    if spec in DATA_NAMES:
        return spec
    if spec.startswith(MRPC_PREFIX):
        found = settings.local_mrpc_dirs()
        index = spec[len(MRPC_PREFIX):]
        if index.isdigit() and int(index) < len(found):
            return str(found[int(index)])
        raise AccessError(REFUSED)
    if spec.startswith(UPLOAD_PREFIX):
        name = spec[len(UPLOAD_PREFIX):]
        if re.fullmatch(r"[A-Za-z0-9._-]{1,120}", name) and not name.startswith("."):
            path = visitor.upload_dir / name
            if path.is_file():
                return str(path)
        raise AccessError(REFUSED)
    if spec.startswith(HUB_PREFIX):
        spec = spec[len(HUB_PREFIX):]
        if _hub_id(spec) and (not visitor.space or "/" in spec):
            return HUB_PREFIX + spec
        raise AccessError(REFUSED)
    if not visitor.space:
        return spec
    if _hub_id(spec) and "/" in spec and not _shadowed(spec):
        return HUB_PREFIX + spec
    raise AccessError(REFUSED)


def data_choices() -> list[tuple[str, str]]:
    """(label, value) for the data menu: named sources and the MRPC folders this app found (no paths shown)."""
    choices = [("auto", "auto"), ("bundled sample", "sample"), ("glue/mrpc (Hub)", "glue/mrpc")]
    choices += [(f"{name}, {'bundled' if name == tasks.SENTIMENT_SAMPLE else 'Hub'}: {task.title}", name)
                for name, task in tasks.NAMED_TASKS.items() if name != "glue/mrpc"]
    for i, folder in enumerate(settings.local_mrpc_dirs()):
        layout = "MSR" if (folder / "msr_paraphrase_train.txt").is_file() else "GLUE"
        choices.append((f"MRPC folder found by the app #{i + 1} ({layout} layout)", f"{MRPC_PREFIX}{i}"))
    return choices


def public_name(text: str | None) -> str:
    """A model or data description with server paths and upload names taken out, for other visitors' eyes."""
    if not text:
        return ""
    text = str(text)
    if text.startswith("file ") or UPLOAD_PREFIX in text or "/uploads/" in text:
        return "an uploaded file"
    text = re.sub(r"local MRPC folder \S+", "a local MRPC folder", text)
    text = re.sub(r"(?<![\w.-])/[^\s,()]+", "(a server folder)", text)
    return text
