"""MachBuffer: the bytes of one function as encoders write them, and what they refer to.

After Cranelift's ``MachBuffer``, simplified.  Encoders append little-endian bytes
(``put1`` .. ``put8``, ``put_bytes``, or ``buf.data += ...`` directly on the hot path);
everything whose value is not known yet is recorded beside the bytes:

- **labels**: ``get_label()`` makes one, ``bind_label(l)`` fixes it at the current
  offset.  Labels ``0 .. num_blocks-1`` are reserved for the blocks of the function
  (a VCode block's label is its index), so ``block_offsets`` falls out of them.
- **fixups**: ``use_label(at, kind, label)`` says that the field at offset ``at`` refers
  to ``label``.  At ``finish`` the ISA's patcher for ``kind`` writes it:
  ``patcher(buf, at, target_offset)``, raising :class:`CompileError` when the distance
  does not fit.  A patcher may read what the encoder left in the field (an addend, as
  REL-style relocations do): that is how a jump-table entry relative to the table's
  start is expressed.  :func:`pcrel_patcher` and :func:`bitfield_patcher` build the
  patchers of byte fields and of fixed-width instruction words from the ISA's data.
- **branch simplification**: an encoder that has just emitted a branch registers it
  with ``add_uncond_branch`` / ``add_cond_branch``; binding a label right after a
  branch to it then deletes the branch, and ``jcc L; jmp M; L:`` becomes ``jncc M; L:``
  (with the inverted encoding the encoder supplied).  Labels bound at a deleted branch
  move with it.
- **constants**: ``add_constant(data, align)`` returns a label; equal constants share
  one copy; the pool is laid out after the code, each entry aligned.
- **relocations**: ``add_reloc(offset, kind, symbol, addend)`` for what only the
  linker knows (kinds are the ISA's names: x86-64's ``abs8``, ``pcrel4``...).
- **traps**: ``add_trap(offset, code)`` maps a code offset to a CLIF trap code.
- **the encoders' interface** (``heron.meta.encoding``): ``fixup(label, kind)`` is
  ``use_label`` at the current offset, or, when ``label`` is a
  :class:`~heron.backend.vcode.SymbolRef` (a call's target), a relocation of the kind
  ``symbol_fixups[kind]`` names (with its addend); ``trap_label(code)`` is the label of
  the function's out-of-line trap stub for ``code`` (made on first use; the emitter
  binds it after the code: ``trap_labels``); ``trap_site(code)`` is ``add_trap`` here.

``finish()`` resolves the fixups and returns an immutable :class:`CompiledCode`.

Example (a made-up machine: opcode byte ``AA`` then a 4-byte distance counted from
the end of the field; ``BB`` is some other instruction)::

    >>> buf = MachBuffer({"rel32": pcrel_patcher(4, 4)}, num_blocks=2)
    >>> buf.bind_label(0)
    >>> buf.put1(0xAA); buf.use_label(buf.offset, "rel32", 1); buf.put4(0)
    >>> buf.put1(0xBB)
    >>> buf.bind_label(1)
    >>> k = buf.add_constant(b"\\x01\\x02", align=8)
    >>> buf.add_trap(5, "user1")
    >>> code = buf.finish()
    >>> code.code.hex(" "), code.code_size, code.block_offsets, code.label_offsets[k]
    ('aa 01 00 00 00 bb 00 00 01 02', 6, (0, 6), 8)
    >>> code.traps
    (TrapSite(offset=5, code='user1'),)
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from heron.errors import CompileError

__all__ = [
    "Patcher",
    "Reloc",
    "TrapSite",
    "CompiledCode",
    "MachBuffer",
    "pcrel_patcher",
    "bitfield_patcher",
]

Patcher = Callable[[bytearray, int, int], None]
"""``patcher(buf, fixup_offset, target_offset)`` writes a label's distance into a field."""

_pack2 = struct.Struct("<H").pack
_pack4 = struct.Struct("<I").pack
_pack8 = struct.Struct("<Q").pack
_UNBOUND = -1


class Reloc(NamedTuple):
    """A field the linker fills: at ``offset``, of ``kind``, refers to ``symbol`` plus ``addend``."""

    offset: int
    kind: str
    symbol: str
    addend: int = 0


class TrapSite(NamedTuple):
    """The instruction at ``offset`` traps with CLIF trap code ``code``."""

    offset: int
    code: str


class CompiledCode(NamedTuple):
    """One function's machine code, ready for the JIT or an object file (immutable).

    ``code`` holds the instructions (``code_size`` bytes) followed by the constant pool;
    it must be placed at an address aligned to ``alignment``.  ``label_offsets`` is
    indexed by label (``-1`` for a label never bound), ``block_offsets`` by block.
    ``traps`` is sorted by offset.
    """

    code: bytes
    code_size: int
    relocs: tuple[Reloc, ...]
    traps: tuple[TrapSite, ...]
    label_offsets: tuple[int, ...]
    block_offsets: tuple[int, ...]
    alignment: int


class _Branch:
    """A branch at the tail of the buffer that ``bind_label`` may delete or invert."""

    __slots__ = ("start", "end", "target", "fixup", "inverted", "labels_at_start")

    def __init__(self, start: int, end: int, target: int, fixup: int, inverted: bytes | None, labels: list[int]) -> None:
        self.start = start
        self.end = end
        self.target = target
        self.fixup = fixup  # index into MachBuffer._fixups
        self.inverted = inverted  # None for an unconditional branch
        self.labels_at_start = labels


class MachBuffer:
    """The growing machine code of one function (see the module docstring)."""

    __slots__ = (
        "data",
        "_patchers",
        "_labels",
        "_fixups",
        "_relocs",
        "_traps",
        "_constants",
        "_num_blocks",
        "_code_align",
        "_branches",
        "_tail_offset",
        "_tail_labels",
        "_finished",
        "_symbol_fixups",
        "trap_labels",
    )

    def __init__(
        self,
        patchers: Mapping[str, Patcher],
        num_blocks: int = 0,
        code_align: int = 1,
        symbol_fixups: Mapping[str, tuple[str, int]] | None = None,
    ) -> None:
        self.data = bytearray()
        self._patchers = patchers
        self._symbol_fixups = symbol_fixups or {}
        self.trap_labels: dict[str, int] = {}  # trap code -> label of its stub
        self._labels: list[int] = [_UNBOUND] * num_blocks  # label -> offset
        self._fixups: list[list[Any]] = []  # [field offset, patcher, label, kind]
        self._relocs: list[Reloc] = []
        self._traps: list[TrapSite] = []
        self._constants: dict[bytes, list[int]] = {}  # data -> [label, align]
        self._num_blocks = num_blocks
        self._code_align = code_align
        self._branches: list[_Branch] = []
        self._tail_offset = 0
        self._tail_labels: list[int] = []
        self._finished = False

    # -- bytes -----------------------------------------------------------
    @property
    def offset(self) -> int:
        """The offset the next byte will have."""
        return len(self.data)

    def put1(self, value: int) -> None:
        self.data.append(value & 0xFF)

    def put2(self, value: int) -> None:
        self.data += _pack2(value & 0xFFFF)

    def put4(self, value: int) -> None:
        self.data += _pack4(value & 0xFFFF_FFFF)

    def put8(self, value: int) -> None:
        self.data += _pack8(value & 0xFFFF_FFFF_FFFF_FFFF)

    def put_bytes(self, data: bytes | bytearray) -> None:
        self.data += data

    # -- labels and fixups --------------------------------------------------
    def get_label(self) -> int:
        """A new unbound label."""
        self._labels.append(_UNBOUND)
        return len(self._labels) - 1

    def bind_label(self, label: int) -> None:
        """Bind ``label`` at the current offset, first simplifying branches that end here."""
        if self._labels[label] != _UNBOUND:
            raise CompileError(f"label {label} bound twice")
        if self._branches:
            self._simplify_branches(label)
        end = len(self.data)
        if self._tail_offset != end:
            self._tail_offset = end
            self._tail_labels = []
        self._labels[label] = end
        self._tail_labels.append(label)

    def label_offset(self, label: int) -> int:
        """Where ``label`` is bound (CompileError if it is not bound yet)."""
        off = self._labels[label]
        if off == _UNBOUND:
            raise CompileError(f"label {label} is not bound")
        return off

    def use_label(self, at_offset: int, kind: str, label: int) -> None:
        """The field at ``at_offset`` refers to ``label``; the ``kind`` patcher fills it at finish."""
        try:
            patcher = self._patchers[kind]
        except KeyError:
            raise CompileError(f"unknown label fixup kind {kind!r}") from None
        self._fixups.append([at_offset, patcher, label, kind])

    # -- what encoders call ---------------------------------------------------
    def fixup(self, label: Any, kind: str) -> None:
        """The label field ``kind`` starting here refers to ``label`` (an int), or to a
        symbol (a SymbolRef): then it is a relocation (see the module docstring)."""
        if type(label) is int:
            self._fixups.append([len(self.data), self._patchers[kind], label, kind])
            return
        try:
            reloc, addend = self._symbol_fixups[kind]
        except KeyError:
            raise CompileError(f"label field {kind!r} cannot refer to a symbol ({label!r}): no relocation has it") from None
        self._relocs.append(Reloc(len(self.data), reloc, label.name, label.addend + addend))

    def trap_label(self, code: str) -> int:
        """The label of the out-of-line trap stub for ``code``."""
        label = self.trap_labels.get(code)
        if label is None:
            label = self.trap_labels[code] = self.get_label()
        return label

    def trap_site(self, code: str) -> None:
        """The instruction starting here traps with ``code``."""
        self._traps.append(TrapSite(len(self.data), code))

    # -- branch simplification ------------------------------------------------
    def add_uncond_branch(self, start: int, end: int, label: int) -> None:
        """Bytes ``[start, end)`` just emitted are an unconditional branch to ``label``
        whose field was the last ``use_label``."""
        self._add_branch(start, end, label, None)

    def add_cond_branch(self, start: int, end: int, label: int, inverted: bytes) -> None:
        """Like :meth:`add_uncond_branch` for a conditional branch; ``inverted`` is its
        encoding with the opposite condition (same length, field at the same place)."""
        if len(inverted) != end - start:
            raise CompileError(f"inverted branch has {len(inverted)} bytes, the branch {end - start}")
        self._add_branch(start, end, label, bytes(inverted))

    def _add_branch(self, start: int, end: int, label: int, inverted: bytes | None) -> None:
        if end != len(self.data) or not self._fixups or not start <= self._fixups[-1][0] < end:
            raise CompileError("a branch must be registered right after its bytes and its use_label")
        branches = self._branches
        if branches and branches[-1].end != start:
            branches.clear()
        labels = list(self._tail_labels) if self._tail_offset == start else []
        branches.append(_Branch(start, end, label, len(self._fixups) - 1, inverted, labels))

    def _simplify_branches(self, label: int) -> None:
        branches = self._branches
        while branches:
            last = branches[-1]
            if last.end != len(self.data):
                branches.clear()
                return
            if last.target == label:
                # A branch to the next instruction: falling through does the same.
                self._chop(last)
                continue
            if (
                last.inverted is None
                and not last.labels_at_start
                and len(branches) >= 2
                and branches[-2].inverted is not None
                and branches[-2].end == last.start
                and branches[-2].target == label
            ):
                # jcc L; jmp M; L:  ->  jncc M; L:
                cond = branches[-2]
                original = bytes(self.data[cond.start : cond.end])
                assert cond.inverted is not None
                self.data[cond.start : cond.end] = cond.inverted
                cond.inverted = original
                cond.target = last.target
                self._fixups[cond.fixup][2] = last.target
                self._chop(last)
                continue
            return

    def _chop(self, branch: _Branch) -> None:
        """Delete the tail branch ``branch``; labels bound after it move to its start."""
        start = branch.start
        del self.data[start:]
        del self._fixups[branch.fixup :]
        while self._relocs and self._relocs[-1].offset >= start:
            self._relocs.pop()
        while self._traps and self._traps[-1].offset >= start:
            self._traps.pop()
        moved = list(branch.labels_at_start)
        if self._tail_offset == branch.end:
            moved += self._tail_labels
        for lab in moved:
            self._labels[lab] = start
        self._tail_offset = start
        self._tail_labels = moved
        self._branches.pop()

    # -- constants, relocations, traps ----------------------------------------------
    def add_constant(self, data: bytes, align: int = 1) -> int:
        """A label for ``data`` in the constant pool (equal data share one entry)."""
        if align < 1 or align & (align - 1):
            raise CompileError(f"constant alignment {align} is not a power of two")
        key = bytes(data)
        entry = self._constants.get(key)
        if entry is None:
            entry = [self.get_label(), align]
            self._constants[key] = entry
        elif align > entry[1]:
            entry[1] = align
        return entry[0]

    def add_reloc(self, offset: int, kind: str, symbol: str, addend: int = 0) -> None:
        """The field at ``offset`` holds ``symbol + addend`` as relocation ``kind`` says."""
        self._relocs.append(Reloc(offset, kind, symbol, addend))

    def add_trap(self, offset: int, code: str) -> None:
        """The instruction at ``offset`` traps with ``code``."""
        self._traps.append(TrapSite(offset, code))

    # -- the end ------------------------------------------------------------------
    def finish(self) -> CompiledCode:
        """Lay out the constant pool, patch every fixup and freeze the result (once)."""
        if self._finished:
            raise CompileError("MachBuffer.finish called twice")
        self._finished = True
        data = self.data
        labels = self._labels
        code_size = len(data)
        alignment = self._code_align
        # Largest alignment first keeps the padding small.
        for key, (label, align) in sorted(self._constants.items(), key=lambda kv: -kv[1][1]):
            pad = -len(data) & (align - 1)
            if pad:
                data += bytes(pad)
            labels[label] = len(data)
            data += key
            alignment = max(alignment, align)
        for at, patcher, label, kind in self._fixups:
            target = labels[label]
            if target == _UNBOUND:
                raise CompileError(f"label {label} is used (fixup {kind} at offset {at}) but never bound")
            patcher(data, at, target)
        traps = self._traps
        if any(traps[i].offset > traps[i + 1].offset for i in range(len(traps) - 1)):
            traps = sorted(traps)
        return CompiledCode(
            bytes(data),
            code_size,
            tuple(self._relocs),
            tuple(traps),
            tuple(labels),
            tuple(labels[: self._num_blocks]),
            alignment,
        )


def _check_fits(kind: str, value: int, bits: int, at: int) -> None:
    lo = -(1 << (bits - 1))
    if not lo <= value < -lo:
        raise CompileError(f"{kind} fixup at offset {at}: distance {value} does not fit a signed {bits}-bit field")


def pcrel_patcher(nbytes: int, pc_bias: int, scale: int = 1) -> Patcher:
    """A patcher for a signed little-endian field of ``nbytes`` bytes holding
    ``(target - (at + pc_bias)) / scale`` plus what the encoder left in the field.

    x86's ``rel32`` at the end of an instruction is ``pcrel_patcher(4, 4)`` (the
    distance counts from the end of the field).
    """
    bits = nbytes * 8
    mask = (1 << bits) - 1
    kind = f"pcrel{nbytes}"

    def patch(buf: bytearray, at: int, target: int) -> None:
        addend = int.from_bytes(buf[at : at + nbytes], "little", signed=True)
        dist = target - (at + pc_bias)
        if dist % scale:
            raise CompileError(f"{kind} fixup at offset {at}: distance {dist} is not a multiple of {scale}")
        value = dist // scale + addend
        _check_fits(kind, value, bits, at)
        buf[at : at + nbytes] = (value & mask).to_bytes(nbytes, "little")

    return patch


def bitfield_patcher(word_bytes: int, scale: int, pieces: tuple[tuple[int, int, int], ...]) -> Patcher:
    """A patcher for a PC-relative immediate scattered over an instruction word.

    The distance ``target - at`` (``at`` is the word's offset, the instruction's PC)
    divided by ``scale`` is a signed value whose bits ``hi..lo`` go to the word's bits
    starting at ``word_lo``, one ``(hi, lo, word_lo)`` triple per piece; its width is
    one more than the highest ``hi``.  The pieces come from the ISA's encoding data.
    """
    bits = max(hi for hi, _, _ in pieces) + 1
    clear = 0
    for hi, lo, word_lo in pieces:
        clear |= ((1 << (hi - lo + 1)) - 1) << word_lo
    keep = ~clear & ((1 << (word_bytes * 8)) - 1)

    def patch(buf: bytearray, at: int, target: int) -> None:
        dist = target - at
        if dist % scale:
            raise CompileError(f"branch fixup at offset {at}: distance {dist} is not a multiple of {scale}")
        value = dist // scale
        _check_fits("branch", value, bits, at)
        word = int.from_bytes(buf[at : at + word_bytes], "little") & keep
        for hi, lo, word_lo in pieces:
            word |= ((value >> lo) & ((1 << (hi - lo + 1)) - 1)) << word_lo
        buf[at : at + word_bytes] = word.to_bytes(word_bytes, "little")

    return patch
