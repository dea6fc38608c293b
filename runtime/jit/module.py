"""JITModule: declare, define, link and load functions and data into this process.

After cranelift-jit.  Functions, data objects and imported host symbols share one
namespace.  Until :meth:`JITModule.finalize` a module only collects definitions;
``finalize`` then

1. lays out all code in one region (each function aligned to the larger of the
   module's function alignment and its ``CompiledCode.alignment``), the writable
   data after it and the read-only data last, each region starting on a new page,
   all in **one** mapping, so PC-relative references between code and data always
   reach (±2 GiB);
2. applies every relocation with the ISA's applier for its kind:
   ``apply(buf, offset, symbol_address, site_address, addend)``
   (:func:`abs_reloc` and :func:`pcrel_reloc` build the common ones);
3. copies the images into the pages while they are read-write, then makes the code
   read-execute and the read-only data read-only (W^X: never writable and
   executable at once).

Afterwards it gives addresses (``function_address``, ``data_address``), callables
(``get_function``), and maps a trapping address to its function and trap code
(``lookup_trap``).  ``free()`` unmaps everything; any later use raises
:class:`HeronError`.  A module is finalized once.

Every module declares a writable trap-context block
(:data:`heron.jit.trap.TRAP_CONTEXT_SYMBOL`) that generated code reaches through a
relocation; see ``heron.jit``.

Example (data only; an 8-byte absolute relocation to an imported libc symbol)::

    >>> import ctypes
    >>> m = JITModule({"abs8": abs_reloc(8)})
    >>> m.declare_import("memcpy")
    >>> m.declare_data("table", 16, writable=False)
    >>> m.define_data("table", bytes(16), relocs=[Reloc(8, "abs8", "memcpy", 0)])
    >>> m.finalize()
    >>> addr = ctypes.c_uint64.from_address(m.data_address("table") + 8).value
    >>> addr == ctypes.cast(ctypes.CDLL(None).memcpy, ctypes.c_void_p).value
    True
    >>> m.free()
    >>> m.data_address("table")
    Traceback (most recent call last):
    ...
    heron.errors.HeronError: the JIT module was freed
"""

from __future__ import annotations

import bisect
import ctypes
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from heron.backend.machbuffer import CompiledCode, Reloc
from heron.errors import HeronError
from heron.ir.entities import Signature
from heron.jit.callable import HostCallConv, JitFunction
from heron.jit.memory import PAGE_SIZE, READ_EXECUTE, READ_ONLY, Pages, page_align
from heron.jit.trap import TRAP_CONTEXT_ALIGN, TRAP_CONTEXT_SIZE, TRAP_CONTEXT_SYMBOL

__all__ = ["RelocApplier", "JITModule", "abs_reloc", "pcrel_reloc"]

RelocApplier = Callable[[bytearray, int, int, int, int], None]
"""``apply(buf, offset, symbol_address, site_address, addend)`` fills one relocated field."""


def abs_reloc(nbytes: int, signed: bool = False) -> RelocApplier:
    """An applier writing ``symbol + addend`` into a little-endian ``nbytes`` field
    (``signed``: the field is sign-extended by the instruction that reads it)."""
    bits = nbytes * 8

    def apply(buf: bytearray, offset: int, symbol: int, site: int, addend: int) -> None:
        value = symbol + addend
        lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
        if not lo <= value < hi and bits < 64:
            raise HeronError(f"absolute address {value:#x} does not fit {nbytes} bytes")
        buf[offset : offset + nbytes] = (value & ((1 << bits) - 1)).to_bytes(nbytes, "little")

    return apply


def pcrel_reloc(nbytes: int) -> RelocApplier:
    """An applier writing ``symbol + addend - site`` into a signed little-endian field."""
    bits = nbytes * 8

    def apply(buf: bytearray, offset: int, symbol: int, site: int, addend: int) -> None:
        value = symbol + addend - site
        if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
            raise HeronError(f"PC-relative distance {value:#x} does not fit {nbytes} bytes")
        buf[offset : offset + nbytes] = (value & ((1 << bits) - 1)).to_bytes(nbytes, "little")

    return apply


class _Function:
    __slots__ = ("name", "signature", "compiled", "offset")

    def __init__(self, name: str, signature: Signature) -> None:
        self.name = name
        self.signature = signature
        self.compiled: CompiledCode | None = None
        self.offset = 0


class _Data:
    __slots__ = ("name", "contents", "writable", "align", "relocs", "offset")

    def __init__(self, name: str, contents: bytes, writable: bool, align: int) -> None:
        self.name = name
        self.contents = contents
        self.writable = writable
        self.align = align
        self.relocs: tuple[Reloc, ...] = ()
        self.offset = 0


def _align_up(n: int, align: int) -> int:
    return (n + align - 1) & -align


def _check_align(align: int) -> None:
    if align < 1 or align & (align - 1):
        raise HeronError(f"alignment {align} is not a power of two")


class JITModule:
    """Functions and data linked into this process (see the module docstring).

    ``relocs`` maps each relocation kind the ISA emits to its applier; ``conv``
    describes Heron's calling convention on the host (needed by ``get_function``).
    """

    def __init__(
        self,
        relocs: Mapping[str, RelocApplier],
        conv: HostCallConv | None = None,
        function_align: int = 16,
    ) -> None:
        _check_align(function_align)
        self._appliers = dict(relocs)
        self._conv = conv
        self._function_align = function_align
        self._kinds: dict[str, str] = {}  # symbol -> "function" | "data" | "import"
        self._functions: dict[str, _Function] = {}
        self._data: dict[str, _Data] = {}
        self._imports: dict[str, int] = {}
        self._keepalive: list[Any] = []  # ctypes callbacks whose addresses were imported
        self._addresses: dict[str, int] = {}
        self._pages: Pages | None = None
        self._finalized = False
        self._freed = False
        self._trap_index: list[tuple[int, int, str, list[int], list[str]]] = []
        self._trap_starts: list[int] = []
        self.declare_data(TRAP_CONTEXT_SYMBOL, TRAP_CONTEXT_SIZE, writable=True, align=TRAP_CONTEXT_ALIGN)

    # -- state ---------------------------------------------------------------
    @property
    def freed(self) -> bool:
        return self._freed

    @property
    def finalized(self) -> bool:
        return self._finalized

    def _check_open(self) -> None:
        if self._freed:
            raise HeronError("the JIT module was freed")
        if self._finalized:
            raise HeronError("the JIT module is already finalized")

    def _check_final(self) -> None:
        if self._freed:
            raise HeronError("the JIT module was freed")
        if not self._finalized:
            raise HeronError("the JIT module is not finalized yet")

    def _declare(self, name: str, kind: str) -> bool:
        """Record ``name`` as a ``kind`` symbol; False if it already was one."""
        self._check_open()
        old = self._kinds.get(name)
        if old is None:
            self._kinds[name] = kind
            return True
        if old != kind:
            raise HeronError(f"{name!r} is already declared as {old}")
        return False

    # -- declarations and definitions ---------------------------------------------
    def declare_function(self, name: str, signature: Signature) -> None:
        """Declare function ``name``; re-declaring with the same signature is allowed."""
        if self._declare(name, "function"):
            self._functions[name] = _Function(name, signature)
        elif self._functions[name].signature != signature:
            raise HeronError(f"function {name!r} redeclared with signature {signature}, was {self._functions[name].signature}")

    def define_function(self, name: str, compiled: CompiledCode) -> None:
        """Give declared function ``name`` its machine code."""
        self._check_open()
        fn = self._functions.get(name)
        if fn is None:
            raise HeronError(f"function {name!r} is not declared")
        if fn.compiled is not None:
            raise HeronError(f"function {name!r} is already defined")
        _check_align(compiled.alignment)
        fn.compiled = compiled

    def declare_data(self, name: str, contents: int | bytes, *, writable: bool = True, align: int = 16) -> None:
        """Declare data object ``name``: ``contents`` is its size (zero-filled) or its bytes."""
        _check_align(align)
        if isinstance(contents, int) and contents < 0:
            raise HeronError(f"data {name!r} cannot have {contents} bytes")
        init = bytes(contents)
        if not self._declare(name, "data"):
            raise HeronError(f"data {name!r} is already declared")
        self._data[name] = _Data(name, init, writable, align)

    def define_data(self, name: str, contents: bytes, relocs: Iterable[Reloc] = ()) -> None:
        """Set the bytes of declared data ``name`` (same size) and the relocations in them
        (pointers to functions, data or imports, filled at ``finalize``)."""
        self._check_open()
        data = self._data.get(name)
        if data is None:
            raise HeronError(f"data {name!r} is not declared")
        if len(contents) != len(data.contents):
            raise HeronError(f"data {name!r} is declared with {len(data.contents)} bytes, defined with {len(contents)}")
        data.contents = bytes(contents)
        data.relocs = tuple(relocs)

    def declare_import(self, name: str, address: int | Any | None = None) -> None:
        """Make host symbol ``name`` linkable: at ``address`` (an int, or a ctypes function
        pointer such as a ``CFUNCTYPE`` callback, kept alive as long as the module), or
        looked up among the symbols of the process when None."""
        self._check_open()
        if address is None:
            try:
                fn = getattr(ctypes.CDLL(None), name)
            except AttributeError:
                raise HeronError(f"no symbol {name!r} in this process") from None
            address = ctypes.cast(fn, ctypes.c_void_p).value
        elif not isinstance(address, int):
            try:
                resolved = ctypes.cast(address, ctypes.c_void_p).value
            except ctypes.ArgumentError:
                raise HeronError(f"cannot import {name!r}: {type(address).__name__} is not an address") from None
            self._keepalive.append(address)
            address = resolved
        if not address:
            raise HeronError(f"import {name!r} has a null address")
        if not self._declare(name, "import"):
            raise HeronError(f"import {name!r} is already declared")
        self._imports[name] = address

    # -- linking -----------------------------------------------------------------
    def finalize(self) -> None:
        """Lay out, link and protect everything (see the module docstring)."""
        self._check_open()
        missing = [f.name for f in self._functions.values() if f.compiled is None]
        if missing:
            raise HeronError(f"functions declared but never defined: {', '.join(missing)}")
        code_size = 0
        for fn in self._functions.values():
            assert fn.compiled is not None
            fn.offset = _align_up(code_size, max(self._function_align, fn.compiled.alignment))
            code_size = fn.offset + len(fn.compiled.code)
        rw = [d for d in self._data.values() if d.writable]
        ro = [d for d in self._data.values() if not d.writable]
        rw_size = self._place(rw)
        ro_size = self._place(ro)
        code_bytes, rw_bytes, ro_bytes = page_align(code_size), page_align(rw_size), page_align(ro_size)
        pages = Pages(code_bytes + rw_bytes + ro_bytes)
        try:
            base = pages.address
            rw_base = base + code_bytes
            ro_base = rw_base + rw_bytes
            addresses = dict(self._imports)
            for fn in self._functions.values():
                addresses[fn.name] = base + fn.offset
            for d in rw:
                addresses[d.name] = rw_base + d.offset
            for d in ro:
                addresses[d.name] = ro_base + d.offset
            code = bytearray(code_size)
            for fn in self._functions.values():
                assert fn.compiled is not None
                code[fn.offset : fn.offset + len(fn.compiled.code)] = fn.compiled.code
                self._apply(code, fn.offset, base, fn.compiled.relocs, addresses, f"function {fn.name!r}")
            for region, region_base, size in ((rw, rw_base, rw_size), (ro, ro_base, ro_size)):
                image = bytearray(size)
                for d in region:
                    image[d.offset : d.offset + len(d.contents)] = d.contents
                    self._apply(image, d.offset, region_base, d.relocs, addresses, f"data {d.name!r}")
                pages.write(region_base - base, image)
            pages.write(0, code)
            pages.protect(0, code_bytes, READ_EXECUTE)
            pages.protect(code_bytes + rw_bytes, ro_bytes, READ_ONLY)
        except BaseException:
            pages.free()
            raise
        self._pages = pages
        self._addresses = addresses
        self._build_trap_index(base)
        self._finalized = True

    @staticmethod
    def _place(objects: list[_Data]) -> int:
        size = 0
        for d in objects:
            d.offset = _align_up(size, d.align)
            size = d.offset + len(d.contents)
        return size

    def _apply(
        self,
        image: bytearray,
        start: int,
        image_base: int,
        relocs: Iterable[Reloc],
        addresses: dict[str, int],
        where: str,
    ) -> None:
        for r in relocs:
            apply = self._appliers.get(r.kind)
            if apply is None:
                raise HeronError(f"{where}: unknown relocation kind {r.kind!r}")
            target = addresses.get(r.symbol)
            if target is None:
                raise HeronError(f"{where}: relocation at offset {r.offset} refers to undeclared symbol {r.symbol!r}")
            at = start + r.offset
            try:
                apply(image, at, target, image_base + at, r.addend)
            except HeronError as err:
                raise HeronError(f"{where}: relocation {r.kind} to {r.symbol!r} at offset {r.offset}: {err}") from None

    def _build_trap_index(self, base: int) -> None:
        index = []
        for fn in self._functions.values():
            assert fn.compiled is not None
            start = base + fn.offset
            traps = fn.compiled.traps
            index.append((start, start + len(fn.compiled.code), fn.name, [t.offset for t in traps], [t.code for t in traps]))
        index.sort()
        self._trap_index = index
        self._trap_starts = [entry[0] for entry in index]

    # -- after finalize ---------------------------------------------------------------
    def function_address(self, name: str) -> int:
        self._check_final()
        if self._kinds.get(name) != "function":
            raise HeronError(f"no function {name!r} in this module")
        return self._addresses[name]

    def data_address(self, name: str) -> int:
        self._check_final()
        if self._kinds.get(name) != "data":
            raise HeronError(f"no data {name!r} in this module")
        return self._addresses[name]

    @property
    def trap_context_address(self) -> int:
        return self.data_address(TRAP_CONTEXT_SYMBOL)

    def signature(self, name: str) -> Signature:
        fn = self._functions.get(name)
        if fn is None:
            raise HeronError(f"no function {name!r} in this module")
        return fn.signature

    def get_function(self, name: str, entry: str | int | None = None) -> JitFunction:
        """A Python callable for function ``name``; ``entry`` is an entry trampoline
        for its signature (a function of this module or an address) to call through."""
        address = self.function_address(name)
        entry_address = self.function_address(entry) if isinstance(entry, str) else (entry or 0)
        return JitFunction(
            address,
            self._functions[name].signature,
            self._conv,
            name=name,
            owner=self,
            trap_context=self.trap_context_address,
            entry=entry_address,
        )

    def lookup_trap(self, code_address: int) -> tuple[str, str] | None:
        """``(function, trap code)`` of the trap site at ``code_address``, or None."""
        self._check_final()
        i = bisect.bisect_right(self._trap_starts, code_address) - 1
        if i < 0:
            return None
        start, end, name, offsets, codes = self._trap_index[i]
        if code_address >= end:
            return None
        off = code_address - start
        j = bisect.bisect_left(offsets, off)
        if j < len(offsets) and offsets[j] == off:
            return name, codes[j]
        return None

    # -- the end ------------------------------------------------------------------------
    def free(self) -> None:
        """Unmap the module's pages; using the module (or its callables) afterwards raises."""
        if self._freed:
            return
        if self._pages is not None:
            self._pages.free()
            self._pages = None
        self._freed = True
        self._addresses = {}
        self._keepalive = []
        self._trap_index = []
        self._trap_starts = []

    def __enter__(self) -> JITModule:
        return self

    def __exit__(self, *exc: object) -> None:
        self.free()

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:  # interpreter shutdown: libc may be gone already
            pass

    def __repr__(self) -> str:
        state = "freed" if self._freed else "finalized" if self._finalized else "open"
        return f"<JITModule {len(self._functions)} functions, {len(self._data)} data, {state}>"
