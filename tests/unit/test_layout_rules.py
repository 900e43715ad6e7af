"""The house rules of the layout, checked by reading the code's imports (ast), not by convention.

- trainer_backend/training/ runs in the training process: it never imports the job runner that starts it.
- trainer_backend/serving/ answers Predict in the app: it never imports training code.
- the training process (trainer_backend/__main__, training/ and all they import) imports nothing of web/, the web
  app's own concerns (visitors, downloads, uploads, the ETA, the web server's limits).
- trainer_backend/, web/, lesson/, quiz/ and wording/ never import gradio or ui/ (the UI sits on top, never
  underneath); wording/ (the words for facts the training process prints too) imports nothing of web/ either.
- environment variables are read in trainer_backend/settings.py only.
- importing any module starts no thread and changes no environment variable.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("trainer_backend", "web", "lesson", "quiz", "ui", "wording")
# The modules the training process starts from (`python -m trainer_backend`, training/train.py) and the ones it is
# built from: none of them, nor anything they import, may import web/.
TRAINING_ENTRY_POINTS = ("trainer_backend.__main__", "trainer_backend.training.train")
TRAINING_SIDE = ("config", "recipe", "presets", "data", "modeling", "metrics", "settings", "errors", "hub_check",
                 "hub_data", "textsafe")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included), as dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against this file's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return out


def files_under(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "metric_modules" not in p.parts)


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in files_under(folder):
        bad = sorted(m for m in imported_modules(path) if m.startswith(forbidden))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_import_reader_sees_function_level_and_from_imports(tmp_path):
    """The checker itself: a rule that could never fire would prove nothing."""
    probe = ROOT / "trainer_backend" / "training" / "_probe_for_test.py"
    probe.write_text("def f():\n    from trainer_backend.runs import jobs\n    import gradio as gr\n", encoding="utf-8")
    try:
        assert offenders("trainer_backend/training", ("trainer_backend.runs.jobs",)) == {
            "trainer_backend/training/_probe_for_test.py": ["trainer_backend.runs.jobs"]}
        assert "gradio" in imported_modules(probe)
    finally:
        probe.unlink()


def test_training_never_imports_the_job_runner():
    assert offenders("trainer_backend/training", ("trainer_backend.runs.jobs", "trainer_backend.runs.control")) == {}


def test_serving_never_imports_training():
    assert offenders("trainer_backend/serving", ("trainer_backend.training",)) == {}


def test_the_library_layers_never_import_the_ui():
    for folder in ("trainer_backend", "web", "lesson", "quiz", "wording"):
        assert offenders(folder, ("gradio", "ui.", "ui")) == {}, folder
    assert offenders("wording", ("web",)) == {}


def _reached_from(starts: tuple[str, ...]) -> set[str]:
    graph = _project_import_graph()
    reached, todo = set(), list(starts)
    while todo:
        name = todo.pop()
        if name not in reached and name in graph:
            reached.add(name)
            todo.extend(graph[name])
    return reached


def test_the_training_process_imports_nothing_of_the_web_app():
    reached = _reached_from(TRAINING_ENTRY_POINTS)
    assert {"trainer_backend.training.train", "trainer_backend.data", "trainer_backend.modeling",
            "wording.run_notes"} <= reached  # the log's words for the run's notes
    assert sorted(m for m in reached if m.split(".")[0] == "web") == []
    for name in TRAINING_SIDE:
        found = imported_modules(ROOT / "trainer_backend" / f"{name}.py")
        assert not any(m.split(".")[0] == "web" for m in found), name
    assert offenders("trainer_backend/training", ("web",)) == {}


def test_environment_is_read_in_settings_only():
    readers = []
    for folder in PACKAGES:
        for path in files_under(folder):
            if path.relative_to(ROOT).as_posix() == "trainer_backend/settings.py":
                continue
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "os.getenv" in text or "getenv(" in text:
                readers.append(str(path.relative_to(ROOT)))
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    assert readers == [] and "os.environ" not in app


def test_importing_every_module_starts_no_thread_and_changes_no_environment(tmp_path):
    modules = sorted({_module_name(p) for folder in PACKAGES for p in files_under(folder)} | {"app"})
    script = (
        "import json, os, sys, threading, importlib\n"
        # torch itself sets TORCHINDUCTOR_CACHE_DIR when torch._dynamo is first imported (transformers' Trainer
        # modules import it): a library's doing, so it is imported before the snapshot; our modules are judged
        "import torch._dynamo\n"
        "before = dict(os.environ)\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "after = dict(os.environ)\n"
        "changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))\n"
        "print(json.dumps({'threads': [t.name for t in threading.enumerate()], 'changed': changed}))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"threads": ["MainThread"], "changed": []}, report


def _project_import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (function-level imports included). `from pkg import module` is an
    edge to the module, not to the package: Python initialises the package first either way (so a package that
    is only the parent of modules named in the same file gets no edge of its own)."""
    modules = {_module_name(p): p for folder in PACKAGES for p in files_under(folder)} | {"app": ROOT / "app.py"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = imported_modules(path)
        edges = {m for m in found if m in modules and m != name}
        parents = {m.rpartition(".")[0] for m in edges}  # a package reached only as the parent of a module it names
        graph[name] = edges - parents
    return graph


def test_no_import_cycles():
    """No two modules import each other, directly or around a loop (a function-level import hides a cycle from
    Python at start-up, not from this test)."""
    graph = _project_import_graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt, path + [nxt])
        seen[node] = 2

    for start in sorted(graph):
        if start not in seen:
            visit(start, [start])
    assert cycles == [], cycles


# The only function-level imports of project modules, each avoiding a heavy import at start-up (reason at the place):
# the CLI imports the Trainer only to run (not for --help), and the Lesson shows whole_loop.run whole, imports included.
FUNCTION_LEVEL_IMPORTS = {("trainer_backend/__main__.py", "main"), ("lesson/whole_loop.py", "run"),
                          ("trainer_backend/runs/zerogpu.py", "gpu_task")}


def test_project_imports_sit_at_the_top_but_for_the_listed_heavy_ones():
    found = set()
    for folder in PACKAGES:
        for path in files_under(folder):
            for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(fn):
                    names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                             [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                    if any(n.split(".")[0] in PACKAGES for n in names) or getattr(node, "level", 0):
                        found.add((path.relative_to(ROOT).as_posix(), fn.name))
    assert found == FUNCTION_LEVEL_IMPORTS, found
