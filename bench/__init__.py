"""Benchmarks against the plain recipes (run as scripts: `python bench/<name>.py`; the project is installed with
`pip install -e .`, so they import it and each other without path edits)."""
