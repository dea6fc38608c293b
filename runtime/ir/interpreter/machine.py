"""The IR interpreter: runs functions bit-exactly; the reference compiled code is checked against.

Pure instructions are computed by the evaluators generated from the semantics
in ``isa_specs/ir.yaml`` (``heron.generated.ir_eval``); this module does what
the semantics do not: control flow, calls, stack slots, memory and traps.
Values are unsigned Python ints holding bit patterns (floats as their IEEE
bits, vectors with lane 0 in the low bits).

Each function is *prepared* once: its blocks become lists of small records
(handler, operands with aliases resolved, results, types), so the run loop does
no dictionary lookups per instruction.

Example::

    >>> from heron.ir.parser import parse_functions
    >>> fns = parse_functions('''
    ... function %add(i32, i32) -> i32 {
    ... block0(v0: i32, v1: i32):
    ...     v2 = iadd v0, v1
    ...     return v2
    ... }''')
    >>> Interpreter(fns).call("%add", [0xFFFFFFFF, 2])
    [1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from heron.errors import InterpreterError, Trap
from heron.ir import opcodes as op
from heron.ir.function import Function
from heron.ir.instructions import InstData, opcode_info
from heron.ir.interpreter.libcalls import LIBCALLS
from heron.ir.interpreter.memory import FUNC_ADDR_BASE, Memory
from heron.ir.types import Type

__all__ = ["Interpreter"]

# Record kinds of a prepared instruction.
_K_PURE = 0  # an evaluator computes the results
_K_JUMP = 1
_K_BRIF = 2
_K_BR_TABLE = 3
_K_RETURN = 4
_K_OTHER = 5  # a handler method of the interpreter
_K_TRAP = 6

_RETURN_CALLS = (op.RETURN_CALL, op.RETURN_CALL_INDIRECT)


class _Record:
    """One prepared instruction."""

    __slots__ = ("kind", "fn", "args", "results", "ctrl", "arg_types", "imm", "data", "dests", "inst", "offset")

    def __init__(self, kind: int, fn: Any, args: list[int], results: list[int], ctrl: Type | None,
                 arg_types: tuple[Type, ...], imm: object, data: InstData, dests: Any, inst: int,
                 offset: int = 0) -> None:
        self.kind = kind
        self.fn = fn
        self.args = args
        self.results = results
        self.ctrl = ctrl
        self.arg_types = arg_types
        self.imm = imm
        self.data = data
        self.dests = dests
        self.inst = inst
        self.offset = offset  # the address offset of Load/Store formats


class _Prepared:
    """A function ready to run: per block, its parameters and records."""

    __slots__ = ("fn", "entry", "blocks", "params", "num_values", "slot_offsets", "frame_size", "vmctx_param")

    def __init__(self, fn: Function, entry: int, blocks: dict[int, list[_Record]], params: dict[int, list[int]],
                 num_values: int, slot_offsets: list[int], frame_size: int, vmctx_param: int) -> None:
        self.fn = fn
        self.entry = entry
        self.blocks = blocks
        self.params = params
        self.num_values = num_values
        self.slot_offsets = slot_offsets
        self.frame_size = frame_size
        self.vmctx_param = vmctx_param


def _evaluator_immediate(data: InstData, fmt: str) -> object:
    """The immediate an evaluator receives for a format (see the evaluators' module doc)."""
    if fmt in ("LoadNoOffset", "StoreNoOffset", "AtomicCas"):
        return data.aux
    if fmt in ("Trap", "CondTrap"):
        return data.aux
    return data.imm


class Interpreter:
    """Runs the functions of one module (e.g. one .clif file); calls between them resolve by name."""

    def __init__(self, functions: Iterable[Function], *, max_depth: int = 400) -> None:
        self.functions: dict[str, Function] = {}
        for fn in functions:
            self.functions[fn.name] = fn
        self.memory = Memory()
        self.max_depth = max_depth
        self._depth = 0
        self._prepared: dict[str, _Prepared] = {}
        self._func_addrs: dict[int, str] = {}
        self._func_tokens: dict[str, int] = {}
        from heron.generated.ir_eval import ENUM_TABLES, EVALUATORS

        self._evaluators: dict[str, Callable[..., tuple[int, ...]]] = EVALUATORS
        # The operations of atomic_rmw by (width, width): the interpreter does the memory
        # access itself (it honours big-endian flags) and applies the op from the spec.
        self._rmw_ops = {k[1]: v for k, v in ENUM_TABLES.items() if k[0] == "AtomicRmwOp"}

    # -- public API -----------------------------------------------------------
    def call(self, name: str, args: list[int]) -> list[int]:
        """Call function ``name`` (``%f`` or ``f``) with bit-pattern arguments; returns its results."""
        fn = self._lookup(name)
        if fn is None:
            raise InterpreterError(f"no function named {name}")
        if len(args) != len(fn.signature.params):
            raise InterpreterError(f"{fn.name} takes {len(fn.signature.params)} arguments, {len(args)} given")
        masked = [a & p.type.mask for a, p in zip(args, fn.signature.params)]
        return self._run(fn.name, masked)

    def _lookup(self, name: str) -> Function | None:
        fn = self.functions.get(name)
        if fn is None and not name.startswith("%"):
            fn = self.functions.get("%" + name)
        return fn

    # -- preparation --------------------------------------------------------------
    def _prepare(self, name: str) -> _Prepared:
        prep = self._prepared.get(name)
        if prep is not None:
            return prep
        fn = self.functions[name]
        dfg = fn.dfg
        entry = fn.layout.entry_block()
        if entry is None:
            raise InterpreterError(f"{name} has no blocks")
        resolve = dfg.resolve_alias
        vtype = dfg.value_type
        evaluators = self._evaluators
        blocks: dict[int, list[_Record]] = {}
        params: dict[int, list[int]] = {}
        for block in fn.layout.blocks:
            params[block] = list(dfg.block_params[block])
            records = []
            for inst in fn.layout.block_insts(block):
                data = dfg.insts[inst]
                info = opcode_info(data.opcode)
                args = [resolve(a) for a in data.args]
                arg_types = tuple(vtype[a] for a in args)  # type: ignore[misc]
                results = list(dfg.results[inst])
                dests = None
                if data.dests is not None:
                    dests = [(bc.block, [resolve(a) if a >= 0 else a for a in bc.args]) for bc in data.dests]
                opc = data.opcode
                fn_ref: Any = None
                if opc == op.JUMP:
                    kind = _K_JUMP
                elif opc == op.BRIF:
                    kind = _K_BRIF
                elif opc == op.BR_TABLE:
                    kind = _K_BR_TABLE
                elif opc == op.RETURN:
                    kind = _K_RETURN
                elif opc == op.TRAP:
                    kind = _K_TRAP
                else:
                    handler = getattr(self, "_op_" + info.name, None)
                    if handler is not None:
                        kind, fn_ref = _K_OTHER, handler
                    else:
                        ev = evaluators.get(info.name)
                        dynamic = any(t is not None and t.is_dynamic for t in (data.ctrl_type, *arg_types))
                        if ev is None or dynamic:
                            kind, fn_ref = _K_OTHER, self._unsupported
                        else:
                            kind, fn_ref = _K_PURE, ev
                offset = data.imm if info.format in ("Load", "Store") else 0
                rec = _Record(kind, fn_ref, args, results, data.ctrl_type, arg_types,
                              _evaluator_immediate(data, info.format), data, dests, inst, offset)  # type: ignore[arg-type]
                records.append(rec)
            blocks[block] = records
        slot_offsets: list[int] = []
        size = 0
        for slot in fn.stack_slots:
            if slot is None:
                slot_offsets.append(-1)
                continue
            align = 1 << slot.align_shift if slot.align_shift is not None else min(16, max(1, _pow2_ceil(slot.size)))
            size = (size + align - 1) & ~(align - 1)
            slot_offsets.append(size)
            size += slot.size
        vmctx = -1
        for i, p in enumerate(fn.signature.params):
            if p.purpose == "vmctx":
                vmctx = i
                break
        prep = _Prepared(fn, entry, blocks, params, dfg.num_values, slot_offsets, size, vmctx)
        self._prepared[name] = prep
        return prep

    # -- execution -----------------------------------------------------------------
    def _run(self, name: str, args: list[int]) -> list[int]:
        self._depth += 1
        if self._depth > self.max_depth:
            self._depth -= 1
            raise Trap("stk_ovf", name, "call depth limit of the interpreter reached")
        try:
            while True:
                prep = self._prepare(name)
                frame_base = self.memory.allocate(max(prep.frame_size, 1))
                try:
                    outcome = self._execute(prep, args, frame_base)
                finally:
                    self.memory.free(frame_base)
                if outcome[0] == "return":
                    return outcome[1]
                # A tail call: replace this frame and loop.
                name, args = outcome[1], outcome[2]
                if name not in self.functions:
                    return self._call_external(name, args)
        finally:
            self._depth -= 1

    def _execute(self, prep: _Prepared, args: list[int], frame_base: int) -> tuple:
        regs: list[int] = [0] * prep.num_values
        frame = _Frame(prep, regs, frame_base, args)
        block = prep.entry
        incoming = args
        blocks = prep.blocks
        all_params = prep.params
        fname = prep.fn.name
        while True:
            for v, x in zip(all_params[block], incoming):
                regs[v] = x
            for rec in blocks[block]:
                kind = rec.kind
                if kind == _K_PURE:
                    try:
                        out = rec.fn(rec.ctrl, rec.arg_types, [regs[a] for a in rec.args], rec.imm)
                    except Trap as trap:
                        raise Trap(trap.code, fname, trap.detail) from None
                    for r, x in zip(rec.results, out):
                        regs[r] = x
                    continue
                if kind == _K_JUMP:
                    block, bargs = rec.dests[0]
                    incoming = [regs[a] for a in bargs]
                    break
                if kind == _K_BRIF:
                    taken = rec.dests[0] if regs[rec.args[0]] != 0 else rec.dests[1]
                    block, bargs = taken
                    incoming = [regs[a] for a in bargs]
                    break
                if kind == _K_BR_TABLE:
                    index = regs[rec.args[0]]
                    dests = rec.dests
                    block, bargs = dests[index + 1] if index + 1 < len(dests) else dests[0]
                    incoming = [regs[a] for a in bargs]
                    break
                if kind == _K_RETURN:
                    return ("return", [regs[a] for a in rec.args])
                if kind == _K_TRAP:
                    raise Trap(str(rec.data.aux), fname)
                result = rec.fn(frame, rec)
                if result is not None:
                    return result
            else:
                raise InterpreterError(f"{fname}: block{block} ends without a terminator")

    # -- external calls ------------------------------------------------------------
    def _call_external(self, name: str, args: list[int]) -> list[int]:
        libcall = LIBCALLS.get(name.lstrip("%"))
        if libcall is None:
            raise InterpreterError(f"call to {name}, which is neither defined in this file nor a known libcall")
        return libcall(args)

    def _call_by_name(self, name: str, args: list[int]) -> list[int]:
        if name in self.functions:
            return self._run(name, args)
        return self._call_external(name, args)

    def _func_token(self, name: str) -> int:
        token = self._func_tokens.get(name)
        if token is None:
            token = FUNC_ADDR_BASE + 16 * (len(self._func_tokens) + 1)
            self._func_tokens[name] = token
            self._func_addrs[token] = name
        return token

    def _name_at(self, addr: int, fname: str) -> str:
        name = self._func_addrs.get(addr)
        if name is None:
            raise Trap("bad_sig", fname, f"call_indirect to {addr:#x}, which is no function address")
        return name

    # -- handlers for non-pure instructions -------------------------------------------
    # Each takes (frame, record); returns None to continue, or a ("return", values) /
    # ("tail", name, args) outcome.
    def _unsupported(self, frame: _Frame, rec: _Record) -> None:
        name = opcode_info(rec.data.opcode).name
        types = [t for t in (rec.ctrl, *rec.arg_types) if t is not None and t.is_dynamic]
        if types:
            raise InterpreterError(f"{frame.prep.fn.name}: the interpreter does not run dynamic vector types ('{name}' on {types[0]})")
        raise InterpreterError(f"{frame.prep.fn.name}: the interpreter cannot run '{name}'")

    def _op_nop(self, frame: _Frame, rec: _Record) -> None:
        return None

    def _op_fence(self, frame: _Frame, rec: _Record) -> None:
        return None

    def _op_trapz(self, frame: _Frame, rec: _Record) -> None:
        if frame.regs[rec.args[0]] == 0:
            raise Trap(str(rec.data.aux), frame.prep.fn.name)

    def _op_trapnz(self, frame: _Frame, rec: _Record) -> None:
        if frame.regs[rec.args[0]] != 0:
            raise Trap(str(rec.data.aux), frame.prep.fn.name)

    def _call_common(self, frame: _Frame, rec: _Record, name: str, args: list[int]) -> tuple | None:
        if rec.data.opcode in _RETURN_CALLS:
            return ("tail", name, args)
        out = self._call_by_name(name, args)
        regs = frame.regs
        for r, x in zip(rec.results, out):
            regs[r] = x
        return None

    def _op_call(self, frame: _Frame, rec: _Record) -> tuple | None:
        ext = frame.prep.fn.func_refs[rec.data.aux]  # type: ignore[index]
        assert ext is not None
        return self._call_common(frame, rec, ext.name, [frame.regs[a] for a in rec.args])

    _op_return_call = _op_call

    def _op_call_indirect(self, frame: _Frame, rec: _Record) -> tuple | None:
        regs = frame.regs
        name = self._name_at(regs[rec.args[0]], frame.prep.fn.name)
        return self._call_common(frame, rec, name, [regs[a] for a in rec.args[1:]])

    _op_return_call_indirect = _op_call_indirect

    def _op_func_addr(self, frame: _Frame, rec: _Record) -> None:
        ext = frame.prep.fn.func_refs[rec.data.aux]  # type: ignore[index]
        assert ext is not None
        frame.regs[rec.results[0]] = self._func_token(ext.name) & rec.ctrl.mask  # type: ignore[union-attr]

    def _op_stack_addr(self, frame: _Frame, rec: _Record) -> None:
        frame.regs[rec.results[0]] = frame.slot_addr(rec.data.aux, rec.data.imm) & rec.ctrl.mask  # type: ignore[union-attr,arg-type]

    def _op_stack_load(self, frame: _Frame, rec: _Record) -> None:
        ty: Type = rec.ctrl  # type: ignore[assignment]
        addr = frame.slot_addr(rec.data.aux, rec.data.imm)  # type: ignore[arg-type]
        frame.regs[rec.results[0]] = self.memory.load(addr, ty.bytes)

    def _op_stack_store(self, frame: _Frame, rec: _Record) -> None:
        ty = rec.arg_types[0]
        addr = frame.slot_addr(rec.data.aux, rec.data.imm)  # type: ignore[arg-type]
        self.memory.store(addr, ty.bytes, frame.regs[rec.args[0]])

    def _op_get_frame_pointer(self, frame: _Frame, rec: _Record) -> None:
        frame.regs[rec.results[0]] = frame.base & rec.ctrl.mask  # type: ignore[union-attr]

    _op_get_stack_pointer = _op_get_frame_pointer

    def _op_get_return_address(self, frame: _Frame, rec: _Record) -> None:
        frame.regs[rec.results[0]] = (FUNC_ADDR_BASE + 8) & rec.ctrl.mask  # type: ignore[union-attr]

    def _op_global_value(self, frame: _Frame, rec: _Record) -> None:
        frame.regs[rec.results[0]] = self._global_value(frame, rec.data.aux) & rec.ctrl.mask  # type: ignore[union-attr,arg-type]

    def _global_value(self, frame: _Frame, gv: int) -> int:
        fn = frame.prep.fn
        data = fn.global_values[gv]
        if data is None:
            raise InterpreterError(f"{fn.name}: gv{gv} is not declared")
        if data.kind == "vmctx":
            if frame.prep.vmctx_param < 0:
                raise InterpreterError(f"{fn.name}: gv{gv} = vmctx but the function has no vmctx parameter")
            return frame.args[frame.prep.vmctx_param]
        if data.kind == "load":
            base = self._global_value(frame, data.base)  # type: ignore[arg-type]
            ty: Type = data.type  # type: ignore[assignment]
            return self.memory.load(base + data.offset, ty.bytes)
        if data.kind == "iadd_imm":
            return self._global_value(frame, data.base) + data.offset  # type: ignore[arg-type]
        if data.kind == "symbol":
            return self._func_token(data.name or "") + data.offset
        if data.kind == "dyn_scale_target_const":
            return 1
        raise InterpreterError(f"{fn.name}: unknown global value kind {data.kind}")

    # Memory accesses: the address is the value plus the offset, in the width of the address.
    def _addr(self, frame: _Frame, rec: _Record, index: int) -> int:
        return (frame.regs[rec.args[index]] + rec.offset) & rec.arg_types[index].mask

    def _big(self, rec: _Record) -> bool:
        flags = rec.data.aux
        return getattr(flags, "endianness", None) == "big"

    def _load_value(self, ty: Type, addr: int, big: bool) -> int:
        if big and ty.is_vector:
            # A big-endian vector access swaps the bytes of each lane.
            lanes = [self.memory.load(addr + i * (ty.lane_bits // 8), ty.lane_bits // 8, True) for i in range(ty.lanes)]
            return sum(v << (i * ty.lane_bits) for i, v in enumerate(lanes))
        return self.memory.load(addr, ty.bytes, big)

    def _store_value(self, ty: Type, addr: int, value: int, big: bool) -> None:
        if big and ty.is_vector:
            lb = ty.lane_bits // 8
            for i in range(ty.lanes):
                self.memory.store(addr + i * lb, lb, (value >> (i * ty.lane_bits)) & ty.lane_mask, True)
            return
        self.memory.store(addr, ty.bytes, value, big)

    def _op_load(self, frame: _Frame, rec: _Record) -> None:
        ty: Type = rec.ctrl  # type: ignore[assignment]
        frame.regs[rec.results[0]] = self._load_value(ty, self._addr(frame, rec, 0), self._big(rec))

    def _op_store(self, frame: _Frame, rec: _Record) -> None:
        self._store_value(rec.arg_types[0], self._addr(frame, rec, 1), frame.regs[rec.args[0]], self._big(rec))

    def _extending_load(self, frame: _Frame, rec: _Record, size: int, signed: bool) -> None:
        ty: Type = rec.ctrl  # type: ignore[assignment]
        x = self.memory.load(self._addr(frame, rec, 0), size, self._big(rec))
        if signed and x >> (8 * size - 1):
            x -= 1 << (8 * size)
        frame.regs[rec.results[0]] = x & ty.mask

    def _op_uload8(self, frame: _Frame, rec: _Record) -> None:
        self._extending_load(frame, rec, 1, False)

    def _op_sload8(self, frame: _Frame, rec: _Record) -> None:
        self._extending_load(frame, rec, 1, True)

    def _op_uload16(self, frame: _Frame, rec: _Record) -> None:
        self._extending_load(frame, rec, 2, False)

    def _op_sload16(self, frame: _Frame, rec: _Record) -> None:
        self._extending_load(frame, rec, 2, True)

    def _op_uload32(self, frame: _Frame, rec: _Record) -> None:
        self._extending_load(frame, rec, 4, False)

    def _op_sload32(self, frame: _Frame, rec: _Record) -> None:
        self._extending_load(frame, rec, 4, True)

    def _op_istore8(self, frame: _Frame, rec: _Record) -> None:
        self.memory.store(self._addr(frame, rec, 1), 1, frame.regs[rec.args[0]], self._big(rec))

    def _op_istore16(self, frame: _Frame, rec: _Record) -> None:
        self.memory.store(self._addr(frame, rec, 1), 2, frame.regs[rec.args[0]], self._big(rec))

    def _op_istore32(self, frame: _Frame, rec: _Record) -> None:
        self.memory.store(self._addr(frame, rec, 1), 4, frame.regs[rec.args[0]], self._big(rec))

    def _op_atomic_load(self, frame: _Frame, rec: _Record) -> None:
        ty: Type = rec.ctrl  # type: ignore[assignment]
        frame.regs[rec.results[0]] = self.memory.load(self._addr(frame, rec, 0), ty.bytes, self._big(rec))

    def _op_atomic_store(self, frame: _Frame, rec: _Record) -> None:
        ty = rec.arg_types[0]
        self.memory.store(self._addr(frame, rec, 1), ty.bytes, frame.regs[rec.args[0]], self._big(rec))

    def _op_atomic_rmw(self, frame: _Frame, rec: _Record) -> None:
        ty: Type = rec.ctrl  # type: ignore[assignment]
        addr = self._addr(frame, rec, 0)
        big = self._big(rec)
        old = self.memory.load(addr, ty.bytes, big)
        new = self._rmw_ops[(ty.bits, ty.bits)][rec.data.imm](old, frame.regs[rec.args[1]])
        self.memory.store(addr, ty.bytes, new, big)
        frame.regs[rec.results[0]] = old

    def _op_atomic_cas(self, frame: _Frame, rec: _Record) -> None:
        ty: Type = rec.ctrl  # type: ignore[assignment]
        addr = self._addr(frame, rec, 0)
        big = self._big(rec)
        old = self.memory.load(addr, ty.bytes, big)
        regs = frame.regs
        if old == regs[rec.args[1]]:
            self.memory.store(addr, ty.bytes, regs[rec.args[2]], big)
        regs[rec.results[0]] = old

    def _op_try_call(self, frame: _Frame, rec: _Record) -> None:
        raise InterpreterError(f"{frame.prep.fn.name}: the interpreter does not support exceptions (try_call)")


def _pow2_ceil(n: int) -> int:
    p = 1
    while p < n:
        p <<= 1
    return p


class _Frame:
    """The state of one call: its registers, stack-slot base and arguments."""

    __slots__ = ("prep", "regs", "base", "args")

    def __init__(self, prep: _Prepared, regs: list[int], base: int, args: list[int]) -> None:
        self.prep = prep
        self.regs = regs
        self.base = base
        self.args = args

    def slot_addr(self, slot: int, offset: int | None) -> int:
        return self.base + self.prep.slot_offsets[slot] + (offset or 0)
