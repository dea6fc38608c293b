"""Test support for the semantics DSL: run a typed program through the Python back end.

``heron.meta`` only writes source text (it may not import the runtime); these tests
execute that text with the runtime's helpers, as ``heron.generated.ir_eval`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from heron.meta.dsl import typed as t
from heron.meta.dsl.pyback import PRELUDE, ModuleHelpers, function_source, lanewise_source


def python_source(prog: t.Program, name: str = "f") -> str:
    helpers = ModuleHelpers()
    if prog.lanes > 1:
        body = function_source(prog, name + "_lane", helpers) + f"\n\n{name} = {lanewise_source(prog, name + '_lane')}\n"
    else:
        body = function_source(prog, name, helpers)
    return PRELUDE + "\n\n" + helpers.source() + "\n\n" + body


def compile_program(prog: t.Program, name: str = "f") -> Callable[..., tuple[int, ...]]:
    """The Python function of ``prog``: positional inputs in order (then ``mem``)."""
    namespace: dict[str, object] = {}
    exec(compile(python_source(prog, name), f"<semantics {prog.label or name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]  # type: ignore[return-value]


class DictMemory:
    """A sparse little-endian byte memory for the Python back end (missing bytes are 0)."""

    def __init__(self) -> None:
        self.bytes: dict[int, int] = {}
        self.read: set[int] = set()  # addresses of every byte loaded
        self.written: set[int] = set()  # ... and stored

    def load(self, addr: int, size: int) -> int:
        self.read |= {(addr + k) & (2**64 - 1) for k in range(size)}
        return sum(self.bytes.get((addr + k) & (2**64 - 1), 0) << (8 * k) for k in range(size))

    def store(self, addr: int, size: int, value: int) -> None:
        self.written |= {(addr + k) & (2**64 - 1) for k in range(size)}
        for k in range(size):
            self.bytes[(addr + k) & (2**64 - 1)] = (value >> (8 * k)) & 0xFF
