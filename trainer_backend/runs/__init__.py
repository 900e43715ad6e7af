"""Runs as the app sees them: the SQLite store, the job runner that starts training processes, process checks,
and what a finished run amounts to (summary). The training process writes to the store through a reporter."""
