"""Find a backend by name: ``lookup_isa("x86_64")`` is the generated module
``heron.generated.x86_64`` (its contract is documented in :mod:`heron.backend`).

A target may be named by its ISA folder name (``x86_64``, ``riscv64``), a common alias
(``x86-64``, ``amd64``, ``arm64``) or a target triple whose first component is one of
those (``x86_64-unknown-linux-gnu``).  An unknown name is a :class:`CompileError` naming
the target and the known ones.

Example::

    >>> lookup_isa("x86_64-unknown-linux-gnu").NAME
    'x86_64'
    >>> lookup_isa("vax")
    Traceback (most recent call last):
    ...
    heron.errors.CompileError: unknown target 'vax' (known: ...)
"""

from __future__ import annotations

import importlib
import pkgutil
import platform
from types import ModuleType

from heron.errors import CompileError

__all__ = ["lookup_isa", "host_isa", "known_isas"]

_ALIASES = {"x86-64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "riscv64gc": "riscv64"}
_LOADED: dict[str, ModuleType] = {}


def known_isas() -> list[str]:
    """The names of the generated backends (every ``heron.generated`` module with ``NAME``)."""
    import heron.generated as gen

    names = []
    for info in pkgutil.iter_modules(gen.__path__):
        if not info.name.startswith("ir_") and not info.name.startswith("_"):
            names.append(info.name)
    return sorted(names)


def _canonical(name: str) -> str:
    head = name.strip().lower()
    if head not in _ALIASES:
        head = head.split("-")[0]  # a triple: its architecture
    return _ALIASES.get(head, head)


def lookup_isa(name: str) -> ModuleType:
    """The generated backend module of target ``name``."""
    isa = _LOADED.get(name)
    if isa is not None:
        return isa
    canon = _canonical(name)
    if not canon.isidentifier() or canon not in known_isas():
        raise CompileError(f"unknown target {name!r} (known: {', '.join(known_isas())})", target=name)
    isa = importlib.import_module(f"heron.generated.{canon}")
    if getattr(isa, "NAME", None) != canon:
        raise CompileError(f"heron.generated.{canon} is not a backend module", target=name)
    _LOADED[name] = isa
    return isa


def host_isa() -> ModuleType:
    """The backend of the machine Python runs on."""
    machine = platform.machine()
    try:
        return lookup_isa(machine)
    except CompileError:
        raise CompileError(f"no backend for this machine ({machine}); known targets: {', '.join(known_isas())}", target=machine) from None
