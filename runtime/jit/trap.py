"""The trap context: how a trap in JIT code comes back to Python as ``heron.Trap``.

Every :class:`~heron.jit.module.JITModule` owns one writable data block, the *trap
context*, declared under the symbol :data:`TRAP_CONTEXT_SYMBOL` so generated code
reaches it through an ordinary relocation.  Its layout is data, here, for the
generated entry trampoline and trap stubs to follow (all fields little-endian u64):

==============  ======  ================================================================
field           offset  meaning
==============  ======  ================================================================
``trap_code``   0       0 while no trap happened, else :func:`trap_code_number` of the code
``trap_pc``     8       address of the trapping instruction (0 if unknown)
``entry_sp``    16      stack pointer recorded by the innermost entry trampoline
``stack_limit`` 24      lowest stack address generated code may use (0: no check)
==============  ======  ================================================================

Trap codes are numbered as Cranelift numbers them (a u8): ``user1`` .. ``user250``
are 1 .. 250, the built-in codes 251 .. 255.

Example::

    >>> trap_code_number("int_divz"), trap_code_number("user7"), trap_code_name(251)
    (254, 7, 'stk_ovf')
    >>> import ctypes
    >>> block = (ctypes.c_uint64 * (TRAP_CONTEXT_SIZE // 8))()
    >>> ctx = TrapContext(ctypes.addressof(block))
    >>> block[TRAP_CODE // 8] = 254
    >>> ctx.raise_pending("%f")
    Traceback (most recent call last):
    ...
    heron.errors.Trap: trap int_divz in %f
    >>> ctx.pending()                      # raising reset the context
    0
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from heron.errors import HeronError, Trap
from heron.ir.trapcode import MAX_USER_TRAP, canonical_trap_code

__all__ = [
    "TRAP_CONTEXT_SYMBOL",
    "TRAP_CODE",
    "TRAP_PC",
    "ENTRY_SP",
    "STACK_LIMIT",
    "TRAP_CONTEXT_SIZE",
    "TRAP_CONTEXT_ALIGN",
    "trap_code_number",
    "trap_code_name",
    "TrapContext",
]

TRAP_CONTEXT_SYMBOL = "__heron_trap_context"
TRAP_CODE = 0
TRAP_PC = 8
ENTRY_SP = 16
STACK_LIMIT = 24
TRAP_CONTEXT_SIZE = 32
TRAP_CONTEXT_ALIGN = 16

# Cranelift's reserved codes, in its order, after the user codes.
_BUILTIN_CODES = ("stk_ovf", "heap_oob", "int_ovf", "int_divz", "bad_toint")
_NUMBER_OF = {name: MAX_USER_TRAP + 1 + i for i, name in enumerate(_BUILTIN_CODES)}
_NAME_OF = {n: name for name, n in _NUMBER_OF.items()}


def trap_code_number(code: str) -> int:
    """The number generated code stores for CLIF trap code ``code`` (1 .. 255)."""
    canon = canonical_trap_code(code)
    if canon is None:
        raise HeronError(f"{code!r} is not a trap code")
    builtin = _NUMBER_OF.get(canon)
    return builtin if builtin is not None else int(canon[4:])


def trap_code_name(number: int) -> str:
    """The CLIF trap code stored as ``number`` (an unknown number gives ``trap<N>``)."""
    if 1 <= number <= MAX_USER_TRAP:
        return f"user{number}"
    return _NAME_OF.get(number, f"trap{number}")


class TrapContext:
    """The Python view of one trap-context block at ``address``."""

    __slots__ = ("address", "_code", "_pc")

    def __init__(self, address: int) -> None:
        self.address = address
        self._code = ctypes.c_uint64.from_address(address + TRAP_CODE)
        self._pc = ctypes.c_uint64.from_address(address + TRAP_PC)

    def pending(self) -> int:
        """The trap code number stored by the last call (0: none)."""
        return self._code.value

    def trap_pc(self) -> int:
        return self._pc.value

    def reset(self) -> None:
        """Forget a trap (the entry fields belong to the trampolines and are kept)."""
        self._code.value = 0
        self._pc.value = 0

    def raise_pending(self, function: str, locate: Callable[[int], tuple[str, str] | None] | None = None) -> None:
        """If the last call trapped: reset the context and raise :class:`heron.Trap`.

        ``function`` is the function Python called; ``locate(pc)`` (a module's
        ``lookup_trap``) names the function that really trapped when the trap PC is known.
        """
        number = self._code.value
        if not number:
            return
        pc = self._pc.value
        self.reset()
        where = locate(pc) if locate is not None and pc else None
        if where is not None:
            function = where[0]
        detail = f"at {pc:#x}" if pc else ""
        raise Trap(trap_code_name(number), function, detail)
