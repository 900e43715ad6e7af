"""Job runner: one training subprocess per device, a bounded FIFO queue, owners, quotas, a watchdog that ends a run
in any phase (time limit or Stop: SIGTERM, a grace period, then SIGKILL), pruning. Stop, Resume and Delete (typed
`Control` answers) are runs/control.py's `RunControl`, which JobRunner is built on; their names are importable
from here as before.

On ZeroGPU (settings.on_zero_gpu) each run is a GPU call in a thread of this process instead (runs/zerogpu.py):
the same queue, owners, quotas and watchdog; Stop and the time limit reach it through the store at each step."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from trainer_backend import cache_budget, settings
from trainer_backend.cache_budget import InUse
from trainer_backend.config import TrainConfig
from trainer_backend.runs import zerogpu
from trainer_backend.runs.bounds import TIME_LIMIT, RunTooLarge, bounded, stop_message
from trainer_backend.runs.control import REFUSED, Control, Outcome, QueueFull, RunControl
from trainer_backend.runs.processes import kill_group, process_matches, process_start
from trainer_backend.runs.store import ACTIVE, FINISHED, Run, RunStore
from web.uploads import files_in_use, prune_uploads

if TYPE_CHECKING:
    from trainer_backend.runs.zerogpu import GpuCalls  # type only; zerogpu is imported below as a module

STOP_SIGNAL = signal.SIGTERM  # the child's StopFlag: a checkpoint at the step's end in the loop, else it ends now
LOG_TAIL_LINES = 8
PRUNE_EVERY_SECONDS = 300
# A run another app process (or a runner before a restart) is starting: alive until it reports, for this long after
# it became 'starting'. In that window its pid may not be recorded yet, or its process may not yet show the run id
# in its command line (between fork and exec); on a loaded machine that took more than the old 5 s, and the second
# runner marked a healthy run "vanished" (seen with two app processes on one run store in the test suite).
STARTING_GRACE_SECONDS = 60.0
log = logging.getLogger("studio.jobs")
__all__ = ["REFUSED", "Control", "JobRunner", "Outcome", "QueueFull", "folder_bytes"]


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the training process vanished (the app or the machine restarted)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = " — most often the machine ran out of memory" if -code == signal.SIGKILL else ""
        return f"the training process was killed ({name}){why}"
    return f"the training process crashed (exit code {code})"


def _log_tail(output_dir: str, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with open(Path(output_dir) / "train.log", "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line[:300] for line in text.splitlines() if line.strip()][-lines:]


def folder_bytes(folder: str | Path) -> int:
    total = 0
    for path in Path(folder).rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            pass
    return total


class JobRunner(RunControl):
    """Starts queued runs as `python -m trainer_backend` subprocesses, one at a time (or, given `gpu_calls`, as
    ZeroGPU calls in threads of this process: app.py passes one on ZeroGPU).

    Build one per app (app.py) and call `start_background()`. With autostart=False, submit and resume only queue
    (nothing starts until `dispatch()` is called), which is how tests look at the queue itself."""

    def __init__(self, store: RunStore | None = None, python: str | None = None, autostart: bool = True,
                 gpu_calls: GpuCalls | None = None) -> None:
        self.store = store or RunStore()
        self.python = python or sys.executable
        self.autostart = autostart
        self.gpu_calls = gpu_calls
        self._children: dict[str, subprocess.Popen] = {}
        self._threads: dict[str, threading.Thread] = {}  # in-process runs (ZeroGPU calls), by run id
        self._callers: dict[str, Any] = {}  # who pressed Start or Resume, for ZeroGPU's quota; memory only
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0
        # What else the cache pruner must keep (app.py: the models Predict has loaded); () -> cache_budget.InUse.
        self.cache_in_use: Callable[[], InUse] | None = None

    # --- submitting ------------------------------------------------------------------------
    def _check_room(self, owner: str | None, extra: int = 1, client: str | None = None) -> None:
        lim = settings.limits()
        waiting = len(self.store.queued())
        if waiting + extra > lim.queue_size:
            raise QueueFull(f"{waiting} runs are already waiting; the queue holds {lim.queue_size}. "
                            "Wait for a run to finish, or stop or cancel one of yours.")
        if settings.on_space() and owner is not None:
            mine = self.store.count_open(owner)
            if mine + extra > lim.runs_per_visitor:
                raise QueueFull(f"You already have {mine} run(s) queued or running; each visitor may have "
                                f"{lim.runs_per_visitor} at a time. Wait for one to finish or stop it.")
        if settings.on_space() and client is not None and lim.runs_per_address:
            near = self.store.count_open(client=client)
            if near + extra > lim.runs_per_address:
                raise QueueFull(f"{near} run(s) from your network address are already queued or running; each "
                                f"address may have {lim.runs_per_address} at a time, whatever the visitor id. "
                                "Wait for one to finish or stop it.")

    def submit(self, config: TrainConfig, label: str = "", group_id: str | None = None,
               owner: str | None = None, client: str | None = None, caller: Any = None) -> tuple[str, int]:
        """Queue a run (within this app's size bounds); returns (run id, position in line: 0 = starting now).

        `client` is the hash of the requester's address (access.Visitor.address); `caller` their request (ZeroGPU
        charges its quota by it). Raises QueueFull or RunTooLarge (on ZeroGPU: a run longer than one GPU call)."""
        config = bounded(config)
        seconds = self._gpu_plan(config)
        with self._lock:
            self._check_room(owner, client=client)
            run_id = self.store.create(config.to_dict(), label=label, group_id=group_id, owner=owner, client=client)
            if seconds is not None:
                self.store.merge_info(run_id, gpu_seconds=seconds)
                self._callers[run_id] = caller
        if self.autostart:
            self.dispatch()
        return run_id, self.position(run_id)

    def _gpu_plan(self, config: TrainConfig) -> int | None:
        """On ZeroGPU: the seconds of GPU the run asks for (zerogpu.plan; GpuTimeTooShort when it cannot fit). An
        estimate that cannot be made (a model's config unreadable) asks for the most one call may have."""
        if self.gpu_calls is None:
            return None
        try:
            return zerogpu.plan(config, self.store)
        except (OSError, ValueError, RuntimeError) as err:  # the run itself will say what is wrong with it
            if isinstance(err, RunTooLarge):
                raise
            log.warning("no estimate for a ZeroGPU run (%s): it asks for the most one call may have", err)
            return zerogpu.max_request()

    def position(self, run_id: str) -> int:
        """0 when running or finished; N when N-th in line behind the active run."""
        ids = [r.id for r in self.store.queued()]
        return ids.index(run_id) + 1 if run_id in ids else 0

    # --- the loop --------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Runs whose process is gone (crash, kill, app or machine restart) become 'interrupted', with the reason."""
        for run in self.store.list(ACTIVE):
            child = self._children.get(run.id)
            thread = self._threads.get(run.id)
            if child is not None:
                alive = child.poll() is None
            elif thread is not None:
                alive = thread.is_alive()
            else:
                starting_since = float(run.info.get("starting_at") or run.created or 0)
                alive = (run.status == "starting" and time.time() - starting_since < STARTING_GRACE_SECONDS) or bool(
                    run.pid and process_matches(run.pid, run.pid_start, run.id))
            if alive:
                continue
            fresh = self.store.get(run.id)
            if fresh and fresh.status in ACTIVE and fresh.stop_sent is not None:  # we asked it to stop: it did
                self._stopped(fresh)
            elif fresh and fresh.status in ACTIVE:
                reason = _describe_exit(child.returncode if child else None)
                tail = _log_tail(fresh.output_dir)
                self.store.update(run.id, status="interrupted", finished=time.time(),
                                  error=fresh.error or f"{reason}; press Resume to continue from the last checkpoint")
                self.store.merge_info(run.id, log_tail=tail)
                log.warning("run %s interrupted: %s", run.id, reason)
            self._children.pop(run.id, None)
        for run_id, child in list(self._children.items()):
            if child.poll() is not None:
                self._children.pop(run_id, None)
        for run_id, thread in list(self._threads.items()):
            if not thread.is_alive():
                self._threads.pop(run_id, None)
                self._callers.pop(run_id, None)

    def dispatch(self) -> str | None:
        """Start the next queued run if the device is free; returns its id."""
        with self._lock:
            self.reconcile()
            with self.store.transaction() as con:
                busy = con.execute(f"SELECT COUNT(*) FROM runs WHERE status IN ({','.join('?' * len(ACTIVE))})",
                                   ACTIVE).fetchone()[0]
                if busy or self._children or self._threads:  # a finished run's process still exiting holds
                    # the device too (and an in-process call the watchdog gave up on, until ZeroGPU ends it)
                    return None
                row = con.execute("SELECT id, config, output_dir, resume FROM runs WHERE status = 'queued' "
                                  "ORDER BY created LIMIT 1").fetchone()
                if row is None:
                    return None
                run_id = row["id"]
                # when it became 'starting', in the same write: another runner's reconcile waits from then
                con.execute("UPDATE runs SET status = 'starting', info = json_set(COALESCE(info, '{}'), "
                            "'$.starting_at', ?) WHERE id = ?", (time.time(), run_id))
            if self.gpu_calls is not None:
                return self._start_call(run_id, row["config"], row["output_dir"], bool(row["resume"]))
            try:
                child = self._spawn(run_id, row["config"], row["output_dir"], bool(row["resume"]))
            except OSError as err:
                self.store.update(run_id, status="failed", finished=time.time(), error=f"could not start: {err}")
                return None
            self._children[run_id] = child
            self.store.update(run_id, pid=child.pid, pid_start=process_start(child.pid))
            return run_id

    @staticmethod
    def _config_file(config_json: str, output_dir: str) -> Path:
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        config_path = folder / "run_config.json"
        config_path.write_text(json.dumps(json.loads(config_json), indent=2), encoding="utf-8")
        return config_path

    def _start_call(self, run_id: str, config_json: str, output_dir: str, resume: bool) -> str | None:
        """In-process backend: the run's GPU call, in a thread (the lock is held by dispatch)."""
        run = self.store.get(run_id)
        seconds = (run.info.get("gpu_seconds") if run else None) or zerogpu.max_request()
        try:
            config_path = self._config_file(config_json, output_dir)
            self._threads[run_id] = self.gpu_calls.start(self.store, run_id, config_path, resume, int(seconds),
                                                         self._callers.get(run_id))
        except (OSError, RuntimeError) as err:
            self.store.update(run_id, status="failed", finished=time.time(), error=f"could not start: {err}")
            return None
        return run_id

    def _spawn(self, run_id: str, config_json: str, output_dir: str, resume: bool) -> subprocess.Popen:
        folder = Path(output_dir)
        config_path = self._config_file(config_json, output_dir)
        cmd = [self.python, "-m", "trainer_backend", str(config_path), "--run_id", run_id,
               "--db", str(self.store.path), "--time_limit", str(int(settings.limits().run_seconds))]
        if resume:
            cmd.append("--resume")
        with open(folder / "train.log", "ab") as log_file:  # the child keeps its own handle; ours closes here
            return subprocess.Popen(cmd, cwd=str(settings.PROJECT_ROOT), stdout=log_file, stderr=subprocess.STDOUT,
                                    env=settings.child_environment(), start_new_session=True)

    def tick(self) -> None:
        """One pass of the background loop: end runs past their time or grace, start what can start, prune."""
        self.enforce()
        self.dispatch()
        if time.time() - self._last_prune > PRUNE_EVERY_SECONDS:
            self._last_prune = time.time()
            self.prune()

    def start_background(self, interval: float = 1.0) -> None:
        """A daemon thread that keeps the queue moving while the app runs (errors are logged, never fatal)."""
        if self._thread and self._thread.is_alive():
            return

        def loop() -> None:
            while True:
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - a locked DB or a bad row must not end the loop
                    log.exception("job dispatcher error (the loop goes on)")
                time.sleep(interval)

        self._thread = threading.Thread(target=loop, name="job-dispatch", daemon=True)
        self._thread.start()

    # --- the watchdog ------------------------------------------------------------------------
    def enforce(self, now: float | None = None) -> list[str]:
        """Bound every phase of a run, from the app's side (the child cannot time a step, a load or a C call that
        never returns): a run past STUDIO_RUN_SECONDS since its process started gets SIGTERM; any run signalled
        (time limit or Stop) and still there after STUDIO_STOP_GRACE_SECONDS has its process group killed and is
        'stopped' with the reason and whatever checkpoint exists. Returns the ids it killed."""
        lim = settings.limits()
        now = now or time.time()
        killed = []
        with self._lock:
            for run in self.store.list(ACTIVE, limit=1000):
                if run.stop_sent is None:
                    if lim.run_seconds > 0 and run.pid_start and now - run.pid_start > lim.run_seconds:
                        self._signal_stop(run, TIME_LIMIT)
                elif now - run.stop_sent > lim.stop_grace_seconds:
                    self._kill(run)
                    killed.append(run.id)
            for run_id, thread in list(self._threads.items()):  # a call cannot be killed: ZeroGPU ends it
                if not thread.is_alive():
                    self._threads.pop(run_id, None)
                    self._callers.pop(run_id, None)
            for run_id, child in list(self._children.items()):  # its row says it ended, but its process lingers
                run = self.store.get(run_id)
                if child.poll() is None and (run is None or (run.status not in ACTIVE and run.finished
                                                             and now - run.finished > lim.stop_grace_seconds)):
                    log.warning("run %s ended %.0f s ago but its process lingers: killed", run_id,
                                now - (run.finished if run else now))
                    kill_group(child.pid)
                    child.wait(10)
                if child.poll() is not None:
                    self._children.pop(run_id, None)
        return killed

    def _signal_stop(self, run: Run, reason: str) -> None:
        """Record why and when, then SIGTERM the run's process (only if it is still ours: pid and start time)."""
        self.store.update(run.id, stop_requested=1, stop_reason=reason, stop_sent=time.time())
        log.info("stopping run %s (%s)", run.id, reason)
        if process_matches(run.pid, run.pid_start, run.id):
            try:
                os.kill(run.pid, STOP_SIGNAL)
            except OSError:
                pass

    def _kill(self, run: Run) -> None:
        """SIGKILL the run's process group (its own session: the trainer and its data workers), then 'stopped'."""
        child = self._children.pop(run.id, None)
        if process_matches(run.pid, run.pid_start, run.id):
            log.warning("run %s outlived its %s grace: killed", run.id, run.stop_reason)
            kill_group(run.pid)
        if child is not None:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                log.error("run %s: process %s survived SIGKILL", run.id, run.pid)
        fresh = self.store.get(run.id)
        if fresh and fresh.status in ACTIVE:
            self._stopped(fresh)

    def _stopped(self, run: Run) -> None:
        """A run we signalled is gone: 'stopped', with why, and whether Resume has a checkpoint to continue from."""
        self.store.update(run.id, status="stopped", finished=time.time(),
                          error=stop_message(run.stop_reason, run.output_dir, settings.limits().run_seconds))
        self.store.merge_info(run.id, log_tail=_log_tail(run.output_dir))

    # --- retention -------------------------------------------------------------------------
    def prune(self, now: float | None = None) -> list[str]:
        """Delete finished runs beyond the age limit, then oldest-first beyond the disk budget (never an open run);
        then uploads by the same rules (never a file an open run reads)."""
        lim = settings.limits()
        now = now or time.time()
        finished = sorted(self.store.list(FINISHED, limit=100000), key=lambda r: r.created)
        removed = []
        if lim.run_max_age_days > 0:
            for run in [r for r in finished if now - (r.finished or r.created) > lim.run_max_age_days * 86400]:
                self._remove(run)
                removed.append(run.id)
        remaining = [r for r in finished if r.id not in removed]
        sizes = {r.id: folder_bytes(r.output_dir) for r in remaining}
        total = sum(sizes.values()) + sum(folder_bytes(r.output_dir) for r in self.store.list(
            ("queued", *ACTIVE), limit=1000))
        for run in remaining:
            if total <= lim.runs_disk_bytes:
                break
            self._remove(run)
            removed.append(run.id)
            total -= sizes[run.id]
        if removed:
            log.info("pruned %d run(s): %s", len(removed), ", ".join(removed))
        prune_uploads(keep=files_in_use(self.store.list(("queued", *ACTIVE), limit=1000)), now=now)
        self.prune_caches()
        return removed

    def prune_caches(self) -> list[str]:
        """Keep the Hugging Face caches and fast-path exports under STUDIO_HF_CACHE_MB (see cache_budget), never
        touching what an open run or a loaded Predict model uses."""
        budget = settings.limits().hf_cache_bytes
        if budget <= 0:
            return []
        runs = self.store.list(("queued", *ACTIVE), limit=1000)
        in_use = cache_budget.in_use_by_runs([r.config for r in runs],
                                             [r.started or r.created for r in runs if r.status in ACTIVE])
        if self.cache_in_use is not None:
            in_use = in_use | self.cache_in_use()
        return cache_budget.prune(budget, in_use)
