"""The array-call entry trampoline, written in IR and compiled by the backend.

Python enters compiled code through one trampoline per signature:
``entry(callee, values, ctx)`` in the host's C convention (``values``: 16-byte slots,
parameter *i* in slot *i* on entry, result *i* in slot *i* on return; ``ctx``: the
module's trap context, layout in :mod:`heron.jit.trap`).  The trampoline is an
ordinary IR function, so no ISA writes it by hand; only two facts come from the
generated module: ``CALL_PUSHES`` (the bytes a call pushes) and the framework's
``trap_stub`` template, which is the other half of the protocol.

What it does, and why each step is there::

    block0(v0: i64, v1: i64, v2: i64):        ; callee, values, ctx
        stack_store v1, ss0                   ; everything needed after the call lives in
        stack_store v2, ss1                   ; explicit slots: after a trap only SP is
        v3 = load.i64 v2+16                   ; valid (the abandoned frames restored no
        stack_store v3, ss2                   ; register), and slots are SP-relative
        v4 = load.i64 v2+24
        stack_store v4, ss3
        v5 = get_stack_pointer.i64
        v6 = iadd_imm v5, -8                  ; ctx.entry_sp = where the call below leaves
        store v6, v2+16                       ; its return address (x86: CALL_PUSHES = 8)
        v7 = iadd_imm v5, -2097152
        v8 = select v4, v4, v7                ; the outermost entry sets the stack limit
        store v8, v2+24
        v9 = load.i64 v1                      ; the parameters
        v10 = call_indirect sig0, v0(v9)      ; a trap stub does `SP = ctx.entry_sp; ret`
        v11 = stack_load.i64 ss0              ; ... and lands here, like a normal return
        store v10, v11
        v12 = stack_load.i64 ss1              ; restore the previous entry_sp and limit
        ...                                   ; (nested entries: JIT -> Python -> JIT)
        return

The trampoline is compiled with ``save_all_callee_saved``: its epilogue (SP-relative on
every ISA, see :mod:`heron.backend.frame`) then restores every register the host
expects preserved, whether the callee returned or trapped.  On a trap the results
stored are garbage; ``JitFunction`` sees ``ctx.trap_code`` and raises instead.

Example::

    >>> from heron.ir.entities import AbiParam, Signature
    >>> from heron.ir.types import I32, I64
    >>> sig = Signature([AbiParam(I32)], [AbiParam(I64)], "system_v")
    >>> fn = entry_function(sig, "%__heron_entry0", call_pushes=8)
    >>> print(fn.signature)
    (i64, i64, i64) system_v
    >>> print(signature_key(sig))
    (i32) -> i64 system_v
"""

from __future__ import annotations

from heron.ir.entities import Signature
from heron.ir.function import Function
from heron.ir.parser import parse_functions
from heron.jit.callable import SLOT_BYTES
from heron.jit.trap import ENTRY_SP, STACK_LIMIT

__all__ = ["entry_function", "signature_key", "STACK_BUDGET"]

# Stack the outermost entry lets compiled code use below its own frame before the
# prologue's stack check traps with ``stk_ovf``: 2 MiB (Wasmtime's default is 512 KiB,
# but Cranelift's run-tests use a 1 MiB stack slot).  The calling thread needs this
# much stack free beyond what Python itself uses (Linux gives threads 8 MiB).
STACK_BUDGET = 2 << 20


def signature_key(signature: Signature) -> str:
    """The text that identifies a signature's trampoline (types and convention)."""
    return str(signature)


def entry_function(signature: Signature, name: str, *, call_pushes: int, pointer: str = "i64") -> Function:
    """The IR of the entry trampoline for callees of ``signature``."""
    p = pointer
    lines = [
        f"function {name}({p}, {p}, {p}) system_v {{",
        *(f"    ss{k} = explicit_slot 8" for k in range(4)),
        f"    sig0 = {signature}",
        f"block0(v0: {p}, v1: {p}, v2: {p}):",
        "    stack_store v1, ss0",
        "    stack_store v2, ss1",
        f"    v3 = load.{p} notrap aligned v2+{ENTRY_SP}",
        "    stack_store v3, ss2",
        f"    v4 = load.{p} notrap aligned v2+{STACK_LIMIT}",
        "    stack_store v4, ss3",
        f"    v5 = get_stack_pointer.{p}",
        f"    v6 = iadd_imm v5, {-call_pushes}",
        f"    store notrap aligned v6, v2+{ENTRY_SP}",
        f"    v7 = iadd_imm v5, {-STACK_BUDGET}",
        "    v8 = select v4, v4, v7",
        f"    store notrap aligned v8, v2+{STACK_LIMIT}",
    ]
    n = 9
    params = []
    for i, param in enumerate(signature.params):
        lines.append(f"    v{n} = load.{param.type} notrap v1+{i * SLOT_BYTES}")
        params.append(f"v{n}")
        n += 1
    results = [f"v{n + i}" for i in range(len(signature.returns))]
    n += len(results)
    call = f"call_indirect sig0, v0({', '.join(params)})"
    lines.append(f"    {', '.join(results)} = {call}" if results else f"    {call}")
    values = f"v{n}"
    lines.append(f"    {values} = stack_load.{p} ss0")
    n += 1
    for i, r in enumerate(results):
        lines.append(f"    store notrap {r}, {values}+{i * SLOT_BYTES}")
    lines += [
        f"    v{n} = stack_load.{p} ss1",
        f"    v{n + 1} = stack_load.{p} ss2",
        f"    store notrap aligned v{n + 1}, v{n}+{ENTRY_SP}",
        f"    v{n + 2} = stack_load.{p} ss3",
        f"    store notrap aligned v{n + 2}, v{n}+{STACK_LIMIT}",
        "    return",
        "}",
    ]
    [fn] = parse_functions("\n".join(lines))
    return fn
