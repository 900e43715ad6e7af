"""Is a stored pid still our training process? (psutil: start time and command line, since pids are recycled)."""
from __future__ import annotations


def pid_alive(pid: int | None) -> bool:
    """True when the process exists and is not a zombie."""
    if not pid:
        return False
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil.NoSuchProcess, AccessDenied
        return False


def process_start(pid: int | None) -> float | None:
    """The OS start time of a process (psutil), which a recycled pid cannot share."""
    try:
        import psutil

        return psutil.Process(pid).create_time() if pid else None
    except Exception:  # noqa: BLE001 - gone, a zombie or not ours to read: no start time, so never trusted
        return None


def process_matches(pid: int | None, started: float | None, run_id: str) -> bool:
    """True only if `pid` is still our training process for `run_id`: same start time and command line."""
    if not pid or not pid_alive(pid):
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) > 1.0:
            return False
        cmdline = " ".join(proc.cmdline())
        return "trainer_backend" in cmdline and (run_id in cmdline or "--run_id" not in cmdline)
    except Exception:  # noqa: BLE001 - any failure to read it means it is not provably ours
        return False


def kill_group(pid: int) -> None:
    """SIGKILL a run's process group (the app starts each run in its own session, so the group is the trainer and its
    data-loader workers); just the process when it leads no group. Call only for a pid process_matches vouched for."""
    import os
    import signal

    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:  # already gone
        pass
