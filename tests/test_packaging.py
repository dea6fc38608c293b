"""The explicit package list in pyproject.toml matches the folders on disk.

Every folder under runtime/, meta/ and generated/ that holds Python modules must
be listed (else an installed Heron lacks it), and every listed package must
exist.  Also: the runtime imports no yaml/jinja2/z3, and meta imports no runtime
module but heron.errors.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPING = {"heron": "runtime", "heron.meta": "meta", "heron.generated": "generated"}


def _package_for(folder: Path) -> str:
    rel = folder.relative_to(ROOT)
    parts = rel.parts
    for pkg, top in sorted(MAPPING.items(), key=lambda kv: -len(kv[0])):
        if parts[0] == top:
            return ".".join([pkg, *parts[1:]])
    raise AssertionError(folder)


def test_package_list_matches_folders() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    assert config["tool"]["setuptools"]["package-dir"] == MAPPING
    on_disk = set()
    for top in MAPPING.values():
        for init in (ROOT / top).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            on_disk.add(_package_for(init.parent))
        for py in (ROOT / top).rglob("*.py"):
            assert (py.parent / "__init__.py").exists(), f"{py} is in a folder that is not a package"
    assert listed == on_disk, f"listed but missing: {listed - on_disk}; on disk but not listed: {on_disk - listed}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_runtime_needs_only_the_standard_library() -> None:
    for py in (ROOT / "runtime").rglob("*.py"):
        for mod in _imports(py):
            top = mod.split(".")[0]
            assert top not in ("yaml", "jinja2", "z3", "capstone", "unicorn"), f"{py} imports {mod}"
            if mod.startswith("heron.meta"):
                # The CLI dispatches `heron meta ...` to the meta-compiler; nothing else may.
                assert py.parent.name == "cli", f"{py} imports {mod}"


def test_meta_imports_no_runtime_module() -> None:
    for py in (ROOT / "meta").rglob("*.py"):
        for mod in _imports(py):
            if mod.startswith("heron.") and not mod.startswith("heron.meta"):
                assert mod == "heron.errors", f"{py} imports {mod}: meta may only use heron.errors of the runtime"
