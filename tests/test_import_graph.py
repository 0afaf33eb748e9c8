"""The package's imports run one way: no module imports (at any depth, lazily or not) one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "hf_finegrained"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Package modules `path` imports, resolved (relative imports, `from . import x`), package inits left out."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {c for c in candidates if c in modules and not (PACKAGE.parent / c.replace(".", "/")).is_dir()}
    return found


def test_no_module_imports_a_module_that_imports_it_back():
    paths = [p for p in PACKAGE.rglob("*.py") if "metrics" not in p.parts]  # evaluate modules load alone
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports(p, modules) - {_module_name(p)} for p in paths}
    assert graph["hf_finegrained.evaluation.choice"] >= {"hf_finegrained.evaluation.engine"}  # the reading works

    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                cycles.append(stack[stack.index(child):] + [child])
            elif child not in state:
                visit(child, stack + [child])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, f"import circles: {cycles}"


def test_sentence_transformers_stays_optional():
    """The package and its sentence-transformers module import without it; only building the loss needs it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "sys.modules['sentence_transformers'] = None  # as if it were not installed\n"
        "import hf_finegrained, hf_finegrained.trainer\n"
        "from hf_finegrained.sentence_transformers_loss import CEClipLoss\n"
        "try:\n"
        "    CEClipLoss(None, ['swap_object'])\n"
        "except ImportError as error:\n"
        "    assert 'hf_finegrained[sentence-transformers]' in str(error), error\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
