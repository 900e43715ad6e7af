"""Run store (SQLite): runs with settings, status and final metrics; metric rows written during training."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from trainer_backend import settings
from trainer_backend.runs.record import METRIC_KEYS, RunRecord

ID_ATTEMPTS = 8  # new ids tried when one is already taken (see RunStore.create)

ACTIVE = ("starting", "running")
# not_started: ZeroGPU refused the GPU call (the visitor's quota, no GPU free): nothing trained, nothing lost. A
# status is free text, so it needed no schema change.
NOT_STARTED = "not_started"
FINISHED = ("completed", "stopped", "failed", "interrupted", "cancelled", NOT_STARTED)
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, label TEXT, group_id TEXT, created REAL, started REAL, finished REAL,
    status TEXT NOT NULL, config TEXT NOT NULL, output_dir TEXT, pid INTEGER, resume INTEGER DEFAULT 0,
    model TEXT, data TEXT, device TEXT, precision TEXT, info TEXT DEFAULT '{}',
    step INTEGER DEFAULT 0, max_steps INTEGER DEFAULT 0, epoch REAL DEFAULT 0,
    samples_per_second REAL, final_metrics TEXT DEFAULT '{}', error TEXT, stop_requested INTEGER DEFAULT 0,
    hub_repo TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch REAL, name TEXT NOT NULL, value REAL NOT NULL, time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id, name, step);
"""
# Schema changes after version 0 (the first release), applied in order; PRAGMA user_version records how far.
MIGRATIONS = [
    # 1: every run has an owner (who may stop, resume, push, download or delete it) and a verified process.
    "ALTER TABLE runs ADD COLUMN owner TEXT; ALTER TABLE runs ADD COLUMN pid_start REAL;",
    # 2: the head's learning-rate factor became a setting of its own. Before, a typed learning_rate meant one rate
    # for the whole model and an empty one meant a 20x head: stored runs keep what they trained with (a Resume
    # must rebuild the same optimizer groups as its checkpoint).
    "UPDATE runs SET config = json_set(config, '$.head_lr_factor', CASE WHEN "
    "COALESCE(json_extract(config, '$.learning_rate'), 0) > 0 THEN 1.0 ELSE 20.0 END) "
    "WHERE json_extract(config, '$.head_lr_factor') IS NULL;",
    # 3: the app's watchdog ends a run in any phase (why it was stopped, when it was signalled), and quotas hold per
    # client address (a hash of it, so a new visitor id does not reset them).
    "ALTER TABLE runs ADD COLUMN stop_reason TEXT; ALTER TABLE runs ADD COLUMN stop_sent REAL; "
    "ALTER TABLE runs ADD COLUMN client TEXT;",
    # 4: what a finished run answered for each validation example (runs/predictions.py): its mistakes table and
    # the paired comparison of two runs. At most predictions.MAX_ROWS rows per run, texts cut short.
    "CREATE TABLE IF NOT EXISTS predictions (run_id TEXT NOT NULL, idx INTEGER NOT NULL, label INTEGER NOT NULL, "
    "predicted INTEGER NOT NULL, confidence REAL NOT NULL, sentence1 TEXT, sentence2 TEXT, "
    "PRIMARY KEY (run_id, idx));",
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class Run:
    """One row of the runs table, decoded."""

    id: str
    label: str
    group_id: str | None
    created: float
    started: float | None
    finished: float | None
    status: str
    config: dict[str, Any]
    output_dir: str
    pid: int | None
    resume: bool
    model: str | None
    data: str | None
    device: str | None
    precision: str | None
    info: dict[str, Any]
    step: int
    max_steps: int
    epoch: float
    samples_per_second: float | None
    final_metrics: dict[str, Any]
    error: str | None
    stop_requested: bool
    hub_repo: str | None
    owner: str | None = None
    pid_start: float | None = None
    stop_reason: str | None = None
    stop_sent: float | None = None
    client: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def record(self) -> RunRecord:
        """What the run produced, typed: the record the training process wrote into `info`, with the columns
        the store keeps for listing (model, data, precision, device) and the final metrics."""
        columns = {"base_model": self.model, "data": self.data, "precision": self.precision, "device": self.device}
        fields = {**self.info, **{k: v for k, v in columns.items() if v is not None}}
        fields["metrics"] = {k: self.final_metrics[k] for k in METRIC_KEYS if k in self.final_metrics}
        fields["confusion"] = self.final_metrics.get("confusion")
        return RunRecord.coerce(fields)

    @property
    def born(self) -> float:
        """When the run was first created: the time in its id (a Resume queues it again and moves `created`,
        which orders the queue; the name and the history keep this one)."""
        try:
            return time.mktime(time.strptime(self.id[:15], "%Y%m%d-%H%M%S"))
        except (ValueError, OverflowError):
            return self.created

    def elapsed_seconds(self, now: float | None = None) -> float | None:
        """Time spent training: the earlier sessions' time (carried over by a Resume) plus this session's; the
        time a run lay stopped or waited in line is not counted. None while it waits to start or resume (until the
        training process has started its session)."""
        if not self.started or self.status in ("queued", "starting"):
            return None
        end = self.finished or now or time.time()
        return float(self.info.get("carried_seconds") or 0.0) + max(0.0, end - self.started)

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds left, from the pace so far (over every session of a resumed run); None before the first steps."""
        if self.status != "running" or not self.started or self.max_steps <= 0:
            return None
        if self.step < max(3, self.max_steps // 20):  # the first steps include loading: not a pace to trust yet
            return None
        elapsed = self.elapsed_seconds(now) or 0.0
        return max(0.0, elapsed / self.step * (self.max_steps - self.step))


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest *complete* checkpoint-N folder of a run, if any.

    transformers' get_last_checkpoint picks the highest number even when a kill cut that save short (the
    Trainer writes trainer_state.json last), so Resume would fail on it; here a folder counts only once its
    trainer_state.json is there, and an unfinished newer one is passed over."""
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    steps = []
    for ckpt in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        number = ckpt.name.rsplit("-", 1)[-1]
        if ckpt.is_dir() and number.isdigit() and (ckpt / "trainer_state.json").is_file():
            steps.append((int(number), ckpt))
    return max(steps)[1] if steps else None


def drop_checkpoints(output_dir: str | Path) -> int:
    """Delete the intermediate checkpoint-N folders of a finished run (the final model stays); returns how many."""
    import shutil

    gone = 0
    for ckpt in Path(output_dir).glob("checkpoint-*"):
        if ckpt.is_dir():
            shutil.rmtree(ckpt, ignore_errors=True)
            gone += 1
    return gone


def default_db_path() -> Path:
    return settings.data_dir() / "runs.sqlite"


class RunStore:
    """Thread- and process-safe access to the run store; each call opens a short connection."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older database up to SCHEMA_VERSION, one step at a time, each step in one transaction."""
        with self._connect() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                con.execute("BEGIN IMMEDIATE")
                try:
                    if con.execute("PRAGMA user_version").fetchone()[0] == number:  # another process may be first
                        for statement in filter(str.strip, MIGRATIONS[number].split(";")):
                            con.execute(statement)
                        con.execute(f"PRAGMA user_version = {number + 1}")
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise

    def version(self) -> tuple:
        """A cheap fingerprint that changes whenever any process writes to the store (no query needed)."""
        out = []
        for suffix in ("", "-wal"):
            try:
                st = Path(f"{self.path}{suffix}").stat()
                out += [st.st_mtime_ns, st.st_size]
            except OSError:
                out += [0, 0]
        return tuple(out)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction (BEGIN IMMEDIATE), so two processes never both start a job."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # --- runs -----------------------------------------------------------------------------
    def create(self, config: dict[str, Any], label: str = "", group_id: str | None = None,
               status: str = "queued", output_root: Path | None = None, owner: str | None = None,
               client: str | None = None) -> str:
        for attempt in range(ID_ATTEMPTS):  # 4 hex digits per second: dozens of runs in one second can collide
            run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
            output_dir = str((output_root or settings.data_dir() / "runs") / run_id)
            stored = {**config, "output_dir": output_dir}
            try:
                with self._connect() as con:
                    con.execute("INSERT INTO runs (id, label, group_id, created, status, config, output_dir, owner, "
                                "client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (run_id, label or run_id, group_id, time.time(), status, json.dumps(stored),
                                 output_dir, owner, client))
            except sqlite3.IntegrityError:
                if attempt == ID_ATTEMPTS - 1:
                    raise
                continue
            return run_id
        raise AssertionError("unreachable")

    def update(self, run_id: str, **values: Any) -> None:
        if not values:
            return
        for key in ("info", "final_metrics", "config"):
            if key in values and not isinstance(values[key], str):
                values[key] = json.dumps(values[key])
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as con:
            con.execute(f"UPDATE runs SET {cols} WHERE id = ?", (*values.values(), run_id))

    def merge_info(self, run_id: str, **info: Any) -> None:
        run = self.get(run_id)
        if run:
            self.update(run_id, info={**run.info, **info})

    def get(self, run_id: str) -> Run | None:
        with self._connect() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _decode(row) if row else None

    def list(self, statuses: tuple[str, ...] | None = None, limit: int = 200, owner: str | None = None) -> list[Run]:
        """The newest runs (of these statuses; of this owner only when given: filtered before the limit)."""
        query, args, where = "SELECT * FROM runs", [], []
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args = list(statuses)
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY created DESC LIMIT ?"
        with self._connect() as con:
            rows = con.execute(query, (*args, limit)).fetchall()
        return [_decode(r) for r in rows]

    def list_for_menu(self, owner: str | None, limit: int = 100) -> list[Run]:
        """Runs for a visitor's menus and history: their own first (newest first), then other visitors' newest,
        without others' cancelled runs (a visitor who queues and cancels cannot flood everyone's menus).
        owner None (off a Space): every run, newest first."""
        if owner is None:
            return self.list(limit=limit)
        query = ("SELECT * FROM runs WHERE owner = ? OR status != 'cancelled' "
                 "ORDER BY (owner = ?) DESC, created DESC LIMIT ?")
        with self._connect() as con:
            rows = con.execute(query, (owner, owner, limit)).fetchall()
        return [_decode(r) for r in rows]

    def count_open(self, owner: str | None = None, client: str | None = None) -> int:
        """Runs queued or running, of one owner, of one client address (hash), or of everyone."""
        query = f"SELECT COUNT(*) FROM runs WHERE status IN ('queued', {','.join('?' * len(ACTIVE))})"
        args: list[Any] = list(ACTIVE)
        if owner is not None:
            query += " AND owner = ?"
            args.append(owner)
        if client is not None:
            query += " AND client = ?"
            args.append(client)
        with self._connect() as con:
            return con.execute(query, args).fetchone()[0]

    def queued(self) -> list[Run]:
        """Waiting runs, first in line first."""
        return sorted(self.list(("queued",)), key=lambda r: r.created)

    def delete(self, run_id: str) -> None:
        with self._connect() as con:
            con.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            con.execute("DELETE FROM predictions WHERE run_id = ?", (run_id,))
            con.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # --- metrics --------------------------------------------------------------------------
    def log_metrics(self, run_id: str, step: int, epoch: float | None, values: dict[str, float]) -> None:
        now = time.time()
        rows = [(run_id, int(step), epoch, k, float(v), now) for k, v in values.items()]
        with self._connect() as con:
            con.executemany("INSERT INTO metrics (run_id, step, epoch, name, value, time) VALUES (?,?,?,?,?,?)", rows)

    def metrics(self, run_id: str, names: list[str] | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT step, epoch, name, value, time FROM metrics WHERE run_id = ?", [run_id]
        if names:
            query += f" AND name IN ({','.join('?' * len(names))})"
            args += names
        with self._connect() as con:
            return [dict(r) for r in con.execute(query + " ORDER BY step, time", args).fetchall()]

    def delete_metrics_after(self, run_id: str, step: int) -> int:
        """Drop metric rows logged after `step` (a resume from checkpoint-`step` logs those steps again)."""
        with self._connect() as con:
            return con.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, int(step))).rowcount

    def last_metric_time(self, run_id: str) -> float | None:
        """When the run's newest kept metric row was written (None without rows)."""
        with self._connect() as con:
            return con.execute("SELECT MAX(time) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]

    def metric_count(self, run_id: str) -> int:
        with self._connect() as con:
            return con.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]


def _decode(row: sqlite3.Row) -> Run:
    d = dict(row)
    for key in ("config", "info", "final_metrics"):
        d[key] = json.loads(d[key] or "{}")
    d["resume"] = bool(d["resume"])
    d["stop_requested"] = bool(d["stop_requested"])
    return Run(**d)
