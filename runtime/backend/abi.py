"""The ABI during instruction selection: parameters, returns, calls and the IR opcodes
the framework lowers itself (after Cranelift's ``machinst/abi.rs``).

Everything ISA-specific comes from the generated module: the calling conventions
(:class:`CallConv`, from abi.yaml), ``value_class``, and the framework templates that
build machine instructions.  The convention, for every ISA:

- **arguments** are assigned in order: a value of the float class takes the next float
  argument register, any other value the next ``n`` integer registers (``n`` = its
  register count: an i128 takes two); a value that does not fit goes to the stack at
  the next offset aligned to its size (a stack word, the address width, per register
  part; two words' alignment for two-word values) and later values may still take
  registers (System V's rule);
- **results** follow ``heron.jit.callable.ReturnPlan`` (the JIT's view of the same
  convention): results in order take the next free return registers of their class;
  one that does not fit goes to the *return area*, whose address the caller passes as
  a hidden first integer argument;
- a **call** uses its arguments in their registers (the call MInst's ``extra`` uses),
  stores stack arguments at the bottom of the caller's frame (the outgoing area,
  ``stack pointer + offset``), passes the address of its own return area
  (``SlotRef('retarea')``) when the callee needs one, and defines the results in their
  registers (``extra`` defs); the call instruction clobbers every register the
  convention does not preserve (its ``InstInfo.clobbers``);
- ``return_call`` / ``return_call_indirect`` are lowered as a call followed by a
  return of its results: correct, but the frame is not reused (unbounded tail
  recursion still grows the stack);
- the entry block starts with the pseudo-op ``abi_args`` defining the parameters'
  registers (its ``extra`` defs) followed by loads of stack parameters
  (``SlotRef('incoming', 0, offset)``); a return is the pseudo-op ``abi_return`` using
  the return registers, replaced after allocation by the epilogue
  (:mod:`heron.backend.frame`).

Narrow integers (i8, i16, i32) travel in registers with unspecified high bits, as Heron
values always do; ``uext``/``sext`` parameter attributes are not honoured yet.

Example::

    >>> from heron.backend.isa import lookup_isa
    >>> from heron.ir.types import I64, I128
    >>> isa = lookup_isa("x86_64")
    >>> conv = isa.CALL_CONVS["system_v"]
    >>> locs, size = isa.abi.assign_args([I64, I128, I64, I64, I64, I128], conv, hidden=False)
    >>> [(k, [isa.REG_NAMES[r] for r in v] if k == "reg" else v) for k, v in locs]
    [('reg', ['rdi']), ('reg', ['rsi', 'rdx']), ('reg', ['rcx']), ('reg', ['r8']), ('reg', ['r9']), ('stack', 0)]
    >>> size
    16
"""

from __future__ import annotations

from typing import Any

from heron.backend.vcode import DEF, USE, MInst, SlotRef, SymbolRef
from heron.errors import CompileError
from heron.ir import opcodes as op
from heron.ir.instructions import InstData, opcode_info
from heron.ir.types import Type, int_type
from heron.jit.callable import HostCallConv, ReturnPlan

__all__ = ["CallConv", "Abi", "CONV_ALIASES"]

# IR calling-convention names that mean "the ISA's default convention".
CONV_ALIASES = frozenset({"fast", "cold", "tail", "system_v"})


class CallConv:
    """A calling convention of the generated module: physical register numbers."""

    __slots__ = (
        "name",
        "int_args",
        "float_args",
        "int_rets",
        "float_rets",
        "callee_saved",
        "stack_pointer",
        "frame_pointer",
        "stack_align",
        "red_zone",
        "counts",
    )

    def __init__(
        self,
        name: str,
        *,
        int_args: tuple[int, ...],
        float_args: tuple[int, ...],
        int_rets: tuple[int, ...],
        float_rets: tuple[int, ...],
        callee_saved: tuple[int, ...],
        stack_pointer: int,
        frame_pointer: int,
        stack_align: int,
        red_zone: int,
    ) -> None:
        self.name = name
        self.int_args = int_args
        self.float_args = float_args
        self.int_rets = int_rets
        self.float_rets = float_rets
        self.callee_saved = callee_saved
        self.stack_pointer = stack_pointer
        self.frame_pointer = frame_pointer
        self.stack_align = stack_align
        self.red_zone = red_zone
        self.counts = HostCallConv(len(int_args), len(float_args), len(int_rets), len(float_rets))

    def __repr__(self) -> str:
        return f"<CallConv {self.name}>"


def _align(n: int, a: int) -> int:
    return (n + a - 1) & -a


class Abi:
    """ABI lowering for one generated ISA module (``isa.abi``)."""

    def __init__(self, isa: Any) -> None:
        self.isa = isa
        self.t = isa.templates
        self.value_class = isa.value_class
        self.int_class = isa.value_class(int_type(isa.POINTER_BITS))[0]
        try:
            from heron.ir.types import F64

            self.float_class = isa.value_class(F64)[0]
        except CompileError:
            self.float_class = -1
        self.part_type = int_type(isa.CLASS_BITS[self.int_class])
        self.part_bytes = isa.CLASS_BITS[self.int_class] // 8  # one register part in memory
        self.word = isa.POINTER_BITS // 8  # the stack's unit for arguments
        self.op_args = isa.OP_ABI_ARGS
        self.op_return = isa.OP_ABI_RETURN
        self.is_call_op = [info.is_call for info in isa.INSTS]
        self.lowerers = {
            op.BR_TABLE: self.lower_br_table,
            op.STACK_ADDR: self.lower_stack_addr,
            op.FUNC_ADDR: self.lower_func_addr,
            op.GLOBAL_VALUE: self.lower_global_value,
            op.GET_FRAME_POINTER: self._simple(self.t.frame_pointer),
            op.GET_STACK_POINTER: self._simple(self.t.stack_pointer),
            op.GET_RETURN_ADDRESS: self._simple(self.t.return_address),
            op.NOP: self.lower_nop,
            op.FENCE: self.lower_fence,
        }

    # -- conventions ------------------------------------------------------------------
    def conv(self, name: str, ctx: Any = None) -> CallConv:
        convs = self.isa.CALL_CONVS
        if name in convs:
            return convs[name]
        if name in CONV_ALIASES:
            return convs[self.isa.DEFAULT_CALL_CONV]
        raise CompileError(f"{self.isa.NAME}: calling convention {name} is not supported", target=self.isa.NAME)

    def assign_args(self, types: list[Type], conv: CallConv, hidden: bool) -> tuple[list[tuple[str, Any]], int]:
        """Locations of arguments of ``types``: ``('reg', (preg, ...))`` or ``('stack',
        offset)`` (register parts at consecutive words), and the bytes of stack arguments.
        ``hidden``: the first integer register carries the return area's address."""
        ni = 1 if hidden else 0
        nf = 0
        stack = 0
        out: list[tuple[str, Any]] = []
        for ty in types:
            cls, n = self.value_class(ty)
            if cls == self.float_class:
                if nf + n <= len(conv.float_args):
                    out.append(("reg", conv.float_args[nf : nf + n]))
                    nf += n
                    continue
            elif ni + n <= len(conv.int_args):
                out.append(("reg", conv.int_args[ni : ni + n]))
                ni += n
                continue
            word = self.word
            size = max(word, ty.bytes if n == 1 else self.part_bytes * n)
            stack = _align(stack, 2 * word if size >= 2 * word else word)
            out.append(("stack", stack))
            stack += _align(size, word)
        return out, stack

    def assign_results(self, types: list[Type], conv: CallConv, plan: ReturnPlan) -> list[tuple[str, Any]]:
        """Locations of results: ``('reg', (preg, ...))`` or ``('area', offset)``."""
        ni = nf = 0
        regs_of: dict[int, tuple[int, ...]] = {}
        for i in plan.in_registers:
            cls, n = self.value_class(types[i])
            if cls == self.float_class:
                regs_of[i] = conv.float_rets[nf : nf + n]
                nf += n
            else:
                regs_of[i] = conv.int_rets[ni : ni + n]
                ni += n
        return [("reg", regs_of[i]) if i in regs_of else ("area", plan.area_offsets[i]) for i in range(len(types))]

    def _parts(self, ty: Type) -> list[Type]:
        """The IR types of a value's register parts (an i128: two i64)."""
        _cls, n = self.value_class(ty)
        return [ty] if n == 1 else [self.part_type] * n

    def _load(self, ctx: Any, ty: Type, regs: tuple[int, ...], base: int, offset: Any) -> None:
        for k, pty in enumerate(self._parts(ty)):
            delta = self.part_bytes * k
            off = offset + delta if isinstance(offset, int) else SlotRef(offset.area, offset.index, offset.offset + delta)
            for mi in self._template(ctx, self.t.load, pty, regs[k], base, off):
                ctx.emit(mi)

    def _store(self, ctx: Any, ty: Type, regs: tuple[int, ...], base: int, offset: Any) -> None:
        for k, pty in enumerate(self._parts(ty)):
            delta = self.part_bytes * k
            off = offset + delta if isinstance(offset, int) else SlotRef(offset.area, offset.index, offset.offset + delta)
            for mi in self._template(ctx, self.t.store, pty, regs[k], base, off):
                ctx.emit(mi)

    def _template(self, ctx: Any, fn: Any, ty: Type, *args: Any) -> list[MInst]:
        try:
            return fn(ty, *args)
        except KeyError:
            raise CompileError(f"{self.isa.NAME}: no stack load/store template for {ty} values", type_name=str(ty), target=self.isa.NAME) from None

    def _ret_area(self, ctx: Any) -> int:
        """The virtual register holding the return area's address (made on first use)."""
        v = ctx.abi_state.get("ret_area")
        if v is None:
            v = ctx.abi_state["ret_area"] = ctx.temp(self.int_class)
        return v

    # -- the entry block, returns -------------------------------------------------------
    def lower_params(self, ctx: Any, block: int) -> None:
        fn = ctx.func
        sig = fn.signature
        conv = self.conv(sig.call_conv)
        plan = ReturnPlan(sig, conv.counts)
        hidden = bool(plan.area_offsets)
        locs, _size = self.assign_args([p.type for p in sig.params], conv, hidden)
        extra: list[tuple[int, int, int]] = []
        if hidden:
            extra.append((self._ret_area(ctx), conv.int_args[0], DEF))
        params = fn.dfg.block_params[block]
        if len(params) != len(locs):
            raise CompileError(f"{fn.name}: the entry block has {len(params)} parameters, the signature {len(locs)}", target=self.isa.NAME)
        stack_params = []
        for p, ty, (kind, where) in zip(params, (q.type for q in sig.params), locs):
            if not ctx.value_used[p]:
                continue
            regs = ctx.regs(p)
            if kind == "reg":
                extra.extend((r, pr, DEF) for r, pr in zip(regs, where))
            else:
                stack_params.append((ty, regs, where))
        ctx.emit(MInst(self.op_args, [], extra))
        for ty, regs, offset in stack_params:
            self._load(ctx, ty, regs, conv.stack_pointer, SlotRef("incoming", 0, offset))

    def lower_return(self, ctx: Any, inst: int, data: InstData) -> None:
        values = data.args
        self._return(ctx, [ctx.regs(v) for v in values], [ctx.value_type(v) for v in values])

    def _return(self, ctx: Any, regs: list[tuple[int, ...]], types: list[Type]) -> None:
        sig = ctx.func.signature
        conv = self.conv(sig.call_conv)
        plan = ReturnPlan(sig, conv.counts)
        if [r.type for r in sig.returns] != types:
            raise CompileError(f"{ctx.func.name}: returns {', '.join(map(str, types))}, the signature says {sig}", target=self.isa.NAME)
        extra = []
        for vregs, ty, (kind, where) in zip(regs, types, self.assign_results(types, conv, plan)):
            if kind == "reg":
                extra.extend((r, pr, USE) for r, pr in zip(vregs, where))
            else:
                self._store(ctx, ty, vregs, self._ret_area(ctx), where)
        ctx.emit(MInst(self.op_return, [], extra))

    # -- calls -------------------------------------------------------------------------------
    def lower_call(self, ctx: Any, inst: int, data: InstData) -> None:
        fn = ctx.func
        info = opcode_info(data.opcode)
        if info.format == "Call":
            ext = fn.func_refs[data.aux]
            sig = fn.sig_refs[ext.signature]
            args = data.args
            callee: Any = SymbolRef(ext.name)
        elif info.format == "CallIndirect":
            sig = fn.sig_refs[data.aux]
            callee = ctx.reg(data.args[0])
            args = data.args[1:]
        else:
            raise CompileError(f"{self.isa.NAME}: {info.name} is not supported yet (in {fn.name})", opcode=info.name, target=self.isa.NAME)
        conv = self.conv(sig.call_conv)
        sp = conv.stack_pointer
        plan = ReturnPlan(sig, conv.counts)
        hidden = bool(plan.area_offsets)
        locs, stack_size = self.assign_args([p.type for p in sig.params], conv, hidden)
        state = ctx.abi_state
        state["outgoing"] = max(state.get("outgoing", 0), stack_size)
        state["calls"] = state.get("calls", 0) + 1
        extra: list[tuple[int, int, int]] = []
        for a, (kind, where) in zip(args, locs):
            regs = ctx.regs(a)
            if kind == "reg":
                extra.extend((r, pr, USE) for r, pr in zip(regs, where))
            else:
                self._store(ctx, ctx.value_type(a), regs, sp, where)
        if hidden:
            state["retarea"] = max(state.get("retarea", 0), plan.area_size)
            t = ctx.temp(self.int_class)
            for mi in self.t.stack_address(t, SlotRef("retarea", 0, 0)):
                ctx.emit(mi)
            extra.append((t, conv.int_args[0], USE))
        types = [r.type for r in sig.returns]
        tail = info.is_return
        if tail:
            results = [tuple(ctx.temp(self.value_class(ty)[0]) for _ in range(self.value_class(ty)[1])) for ty in types]
            used = [True] * len(types)
        else:
            values = ctx.dfg.results[inst]
            results = [ctx.outs(inst, i) for i in range(len(values))]
            used = [bool(ctx.value_used[v]) for v in values]
        loads = []
        for vregs, ty, live, (kind, where) in zip(results, types, used, self.assign_results(types, conv, plan)):
            if not live:
                continue
            if kind == "reg":
                extra.extend((r, pr, DEF) for r, pr in zip(vregs, where))
            else:
                loads.append((ty, vregs, where))
        seq = self.t.call(callee) if isinstance(callee, SymbolRef) else self.t.call_indirect(callee)
        for mi in seq:
            if self.is_call_op[mi.op]:
                mi.extra = extra
            ctx.emit(mi)
        for ty, vregs, offset in loads:
            self._load(ctx, ty, vregs, sp, SlotRef("retarea", 0, offset))
        if tail:
            self._return(ctx, results, types)

    # -- IR opcodes the framework lowers ------------------------------------------------------
    def lower_br_table(self, ctx: Any, inst: int, data: InstData) -> bool:
        """A compare chain (legalization made the index as wide as an address); a jump
        table later."""
        index = ctx.reg(data.args[0])
        labels = ctx.targets[inst]
        for i, label in enumerate(labels[1:]):
            for mi in self.t.branch_if_equal_imm(index, i, label):
                ctx.emit(mi)
        ctx.emit(self.t.jump(labels[0]))
        return True

    def lower_stack_addr(self, ctx: Any, inst: int, data: InstData) -> bool:
        self._pointer_result(ctx, data)
        for mi in self.t.stack_address(ctx.out(inst), SlotRef("explicit", data.aux, data.imm)):
            ctx.emit(mi)
        return True

    def lower_func_addr(self, ctx: Any, inst: int, data: InstData) -> bool:
        self._pointer_result(ctx, data)
        ext = ctx.func.func_refs[data.aux]
        for mi in self.t.symbol_address(ctx.out(inst), SymbolRef(ext.name)):
            ctx.emit(mi)
        return True

    def lower_global_value(self, ctx: Any, inst: int, data: InstData) -> bool:
        """Only ``symbol`` global values are left after legalization."""
        gv = ctx.func.global_values[data.aux]
        if gv is None or gv.kind != "symbol" or gv.tls:
            kind = "a thread-local symbol" if gv is not None and gv.tls else gv.kind if gv is not None else "undeclared"
            raise CompileError(f"{self.isa.NAME}: global value gv{data.aux} ({kind}) is not supported", opcode="global_value", target=self.isa.NAME)
        self._pointer_result(ctx, data)
        for mi in self.t.symbol_address(ctx.out(inst), SymbolRef(gv.name or "", gv.offset)):
            ctx.emit(mi)
        return True

    def lower_nop(self, ctx: Any, inst: int, data: InstData) -> bool:
        return True

    def lower_fence(self, ctx: Any, inst: int, data: InstData) -> bool:
        for mi in self.t.fence():
            ctx.emit(mi)
        return True

    def _simple(self, template: Any) -> Any:
        def lower(ctx: Any, inst: int, data: InstData) -> bool:
            self._pointer_result(ctx, data)
            for mi in template(ctx.out(inst)):
                ctx.emit(mi)
            return True

        return lower

    def _pointer_result(self, ctx: Any, data: InstData) -> None:
        ty = data.ctrl_type
        if ty is None or ty.bits != self.isa.POINTER_BITS:
            name = opcode_info(data.opcode).name
            raise CompileError(f"{self.isa.NAME}: no lowering rule for {name}.{ty} (addresses are {self.isa.POINTER_BITS} bits)",
                               opcode=name, type_name=str(ty), target=self.isa.NAME)
