"""Compile IR functions for this machine and link them into a callable module.

``compile_functions`` is the JIT's one-call entry point: it compiles every function
with :func:`heron.backend.compile.compile_function`, compiles one entry trampoline per
distinct signature (:mod:`heron.jit.entry`), resolves calls to functions outside the
set (host symbols, Cranelift's libcall names, Python callbacks passed in ``imports``),
links everything with :class:`~heron.jit.module.JITModule` and returns a
:class:`CompiledModule` whose ``get_function`` gives Python callables.  Calls go
through the trampoline, so traps come back as :class:`heron.Trap` and runaway
recursion is a ``stk_ovf`` trap, not a crash.

Example::

    >>> from heron.ir.parser import parse_functions
    >>> fns = parse_functions('''
    ... function %sq(i64) -> i64 {
    ... block0(v0: i64):
    ...     v1 = imul v0, v0
    ...     return v1
    ... }
    ... function %div(i32, i32) -> i32 {
    ... block0(v0: i32, v1: i32):
    ...     v2 = sdiv v0, v1
    ...     return v2
    ... }''')
    >>> with compile_functions(fns) as m:  # doctest: +SKIP
    ...     m.get_function("%sq")(12)
    ...     m.get_function("%div")(1, 0)
    144
    Traceback (most recent call last):
    ...
    heron.errors.Trap: int_divz in %div
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from heron.errors import CompileError, HeronError
from heron.ir.entities import Signature
from heron.ir.function import Function
from heron.jit.callable import JitFunction
from heron.jit.entry import entry_function, signature_key
from heron.jit.module import JITModule

__all__ = ["CompiledModule", "compile_functions", "LIBCALLS"]

# Cranelift's libcall names (``LibCall``) -> the C library symbol that implements them.
LIBCALLS = {
    "CeilF32": "ceilf",
    "CeilF64": "ceil",
    "FloorF32": "floorf",
    "FloorF64": "floor",
    "TruncF32": "truncf",
    "TruncF64": "trunc",
    "NearestF32": "nearbyintf",
    "NearestF64": "nearbyint",
    "FmaF32": "fmaf",
    "FmaF64": "fma",
    "Memcpy": "memcpy",
    "Memset": "memset",
    "Memmove": "memmove",
    "Memcmp": "memcmp",
}


class CompiledModule:
    """Compiled functions linked into this process (free it, or use ``with``).

    ``entry_errors`` maps a signature to the reason its trampoline could not be
    compiled; ``get_function`` refuses functions of that signature (called directly,
    a trap in them could not come back to Python)."""

    def __init__(self, jit: JITModule, entries: dict[str, str], entry_errors: dict[str, str], compiled: dict[str, Any]) -> None:
        self.jit = jit
        self.entries = entries
        self.entry_errors = entry_errors
        self.compiled = compiled
        self._callables: dict[str, JitFunction] = {}

    def get_function(self, name: str) -> JitFunction:
        """A Python callable for function ``name`` (with or without its ``%``)."""
        fn = self._callables.get(name)
        if fn is None:
            key = name if name in self.compiled or name.startswith("%") else "%" + name
            if key not in self.compiled:
                raise HeronError(f"no function {name!r} in this module")
            sig = signature_key(self.jit.signature(key))
            entry = self.entries.get(sig)
            if entry is None:
                # Without its trampoline a trap could not return to Python: refuse.
                raise CompileError(f"{key}: cannot be called: no entry trampoline for {sig}: {self.entry_errors.get(sig)}")
            fn = self._callables[name] = self.jit.get_function(key, entry)
        return fn

    def __contains__(self, name: str) -> bool:
        return name in self.compiled

    def free(self) -> None:
        self.jit.free()

    def __enter__(self) -> CompiledModule:
        return self

    def __exit__(self, *exc: object) -> None:
        self.free()


def _symbol_name(name: str) -> str:
    bare = name[1:] if name.startswith("%") else name
    return LIBCALLS.get(bare, bare)


def compile_functions(
    functions: Iterable[Function],
    isa: str | ModuleType | None = None,
    *,
    imports: Mapping[str, Any] | None = None,
    options: Any = None,
    errors: dict[str, HeronError] | None = None,
) -> CompiledModule:
    """Compile ``functions`` for ``isa`` (default: this machine) and link them.

    ``imports`` maps the name of a function the code calls but that is not in
    ``functions`` (``%name`` or ``name``) to an address or a ctypes callback; other
    outside names are looked up in this process (a libcall name such as ``%CeilF32``
    maps to ``ceilf``).  Functions are legalized in place.  Raises CompileError (with
    the function's name) when one cannot be compiled, unless ``errors`` is given: then
    each function that fails, and each that calls one that failed, is left out and
    recorded there (``heron test`` reports them per run line and runs the rest)."""
    from heron.backend.compile import CompileOptions, compile_function
    from heron.backend.isa import host_isa, lookup_isa

    target = host_isa() if isa is None else lookup_isa(isa) if isinstance(isa, str) else isa
    fns = list(functions)
    names = {fn.name for fn in fns}
    compiled: dict[str, Any] = {}
    addresses: dict[str, int] = {}
    for fn in fns:
        try:
            _resolve_imports(fn, names, imports or {}, addresses)
            compiled[fn.name] = compile_function(fn, target, options=options)
        except HeronError as err:
            if not str(err).startswith(fn.name):
                err.args = (f"{fn.name}: {err}",)
            if errors is None:
                raise
            errors[fn.name] = err
    if errors:
        _drop_callers(fns, compiled, errors)
    fns = [fn for fn in fns if fn.name in compiled]
    jit = JITModule(target.RELOCS, target.HOST_CALL_CONV)
    ok = False
    try:
        for fn in fns:
            jit.declare_function(fn.name, fn.signature)
        used = {e.name for fn in fns for e in fn.func_refs if e is not None}
        for name, address in addresses.items():
            if name in used:
                jit.declare_import(name, address)
        for fn in fns:
            jit.define_function(fn.name, compiled[fn.name].code)
        entries, entry_errors = _define_entries(jit, target, [fn.signature for fn in fns], CompileOptions)
        jit.finalize()
        ok = True
    finally:
        if not ok:
            jit.free()
    return CompiledModule(jit, entries, entry_errors, compiled)


def _drop_callers(fns: list[Function], compiled: dict[str, Any], errors: dict[str, HeronError]) -> None:
    """Leave out every function that calls (directly or not) one that did not compile."""
    changed = True
    while changed:
        changed = False
        for fn in fns:
            if fn.name not in compiled:
                continue
            bad = next((e.name for e in fn.func_refs if e is not None and e.name in errors), None)
            if bad is not None:
                del compiled[fn.name]
                errors[fn.name] = CompileError(f"{fn.name}: calls {bad}, which did not compile: {errors[bad]}")
                changed = True


def _resolve_imports(fn: Function, defined: set[str], imports: Mapping[str, Any], addresses: dict[str, Any]) -> None:
    """The address of every function ``fn`` calls that is not compiled here."""
    for ext in fn.func_refs:
        if ext is None or ext.name in defined or ext.name in addresses:
            continue
        bare = ext.name[1:] if ext.name.startswith("%") else ext.name
        address = imports.get(ext.name, imports.get(bare))
        if address is None:
            symbol = _symbol_name(ext.name)
            try:
                fn_ptr = getattr(ctypes.CDLL(None), symbol)
            except AttributeError:
                raise CompileError(f"{fn.name}: calls {ext.name}, which is neither compiled here nor a symbol of this process") from None
            address = ctypes.cast(fn_ptr, ctypes.c_void_p).value
        addresses[ext.name] = address


def _define_entries(jit: JITModule, target: ModuleType, signatures: list[Signature], options_type: Any) -> tuple[dict[str, str], dict[str, str]]:
    """One trampoline per distinct signature; a signature whose trampoline the backend
    cannot compile yet is recorded with the reason (its functions are called directly)."""
    from heron.backend.compile import compile_function

    entries: dict[str, str] = {}
    errors: dict[str, str] = {}
    for sig in signatures:
        key = signature_key(sig)
        if key in entries or key in errors:
            continue
        name = f"%__heron_entry{len(entries) + len(errors)}"
        try:
            fn = entry_function(sig, name, call_pushes=target.CALL_PUSHES)
            cf = compile_function(fn, target, options=options_type(save_all_callee_saved=True, stack_check=False))
        except HeronError as err:
            errors[key] = str(err)
            continue
        jit.declare_function(name, fn.signature)
        jit.define_function(name, cf.code)
        entries[key] = name
    return entries, errors
