"""Instruction selection: IR function -> VCode, driven by the generated lowering rules.

The driver (as Cranelift's ``machinst/lower.rs``):

1. Lowering order: the reachable blocks in reverse post-order, cold blocks last,
   and every critical edge (a branch with several successors to a block with several
   predecessors) split by an *edge block* placed right after its source.  Block
   parameters become moves: at the end of a block that jumps, or in the edge block.
2. Blocks are lowered last to first, and each block's instructions backwards.  An
   instruction is lowered when it has an effect (stores, calls, traps, loads,
   terminators) or when a later instruction used one of its results through
   ``ctx.reg``; otherwise it is dead or was merged into its users.
3. The generated matcher of each IR opcode (``isa.LOWER[opcode]``) tries its rules in
   priority order and emits machine instructions through ``ctx.emit``.  A rule may
   look through an operand to its producer (``ctx.producer``) and fold it: a constant
   into an immediate, a compare into a branch, an address computation into an
   addressing mode, and a single-use load into an ALU operand (``ctx.sink``) when no
   effect lies between the two.

The ISA module (``heron.generated.<isa>``) provides, besides ``LOWER``: ``value_class(ty)``
(register class index of an IR type, and how many registers an i128 takes),
``templates`` (move, jump), and ``abi`` (:mod:`heron.backend.abi`): the lowering of
parameters, returns and calls, and of the IR opcodes the framework lowers itself
(``abi.lowerers``: br_table, stack_addr, func_addr, global_value, get_frame_pointer,
get_stack_pointer, get_return_address, nop, fence).  A rule for one of these opcodes
takes precedence.  What the ABI learns while lowering (outgoing-argument bytes, return
area bytes, number of calls) ends up in ``vcode.meta``.

Example (the x86-64 backend; ``heron.backend.compile.vcode_to_text`` prints VCode)::

    >>> from heron.backend.isa import lookup_isa
    >>> from heron.backend.legalize import legalize_function
    >>> from heron.ir.parser import parse_functions
    >>> [fn] = parse_functions('''
    ... function %f(i64, i64) -> i64 {
    ... block0(v0: i64, v1: i64):
    ...     v2 = iadd_imm v0, 5
    ...     v3 = imul v2, v1
    ...     return v3
    ... }''')
    >>> _ = legalize_function(fn)
    >>> isa = lookup_isa("x86_64")
    >>> vcode = lower_function(fn, isa)
    >>> [isa.INSTS[mi.op].name for mi in vcode.blocks[0].insts]
    ['abi_args', 'add_ri8.64', 'imul_rr.64', 'abi_return']
"""

from __future__ import annotations

from typing import Any

from heron.errors import CompileError
from heron.ir import opcodes as op
from heron.ir.cfg import ControlFlowGraph
from heron.ir.function import Function
from heron.ir.instructions import InstData, opcode_info
from heron.ir.types import Type
from heron.backend.vcode import VREG_BASE, MInst, VCode

__all__ = ["LowerCtx", "lower_function", "is_pure"]


def _effect_flags() -> list[bool]:
    out = []
    for info in op.OPCODES:
        out.append(info.side_effects or info.can_store or info.can_trap or info.is_call
                   or info.is_terminator or info.can_load)
    return out


_EFFECTFUL: list[bool] = _effect_flags()
_PURE: list[bool] = [not e for e in _EFFECTFUL]


def is_pure(opcode: int) -> bool:
    """An opcode without effects: it may be merged into any number of users."""
    return _PURE[opcode]


class LowerCtx:
    """What a lowering rule sees: the function, value registers, producers, emission.

    Generated matchers call ``reg``/``regs`` for operand registers, ``out``/``outs`` for
    result registers, ``temp`` for scratch registers, ``producer`` to look through an
    operand, ``sink`` to take a load over, ``target`` for branch destinations and
    ``emit`` to append a machine instruction to the current IR instruction's sequence;
    ``arg_type``/``result_type`` read type variables of a matched instruction and
    ``same_value`` compares operands (a pattern variable used twice).  A matcher calls
    ``reg``/``out``/``sink`` only once its rule applies: they have effects.
    ``abi_state`` is what the ABI lowering records for the frame (``vcode.meta``).
    """

    __slots__ = (
        "func",
        "isa",
        "vcode",
        "dfg",
        "value_regs",
        "value_used",
        "use_count",
        "color",
        "inst_block",
        "sunk",
        "cur",
        "cur_inst",
        "targets",
        "block_label",
        "abi_state",
    )

    def __init__(self, func: Function, isa: Any, vcode: VCode) -> None:
        self.func = func
        self.isa = isa
        self.vcode = vcode
        self.dfg = func.dfg
        n = func.dfg.num_values
        self.value_regs: list[Any] = [None] * n
        self.value_used = bytearray(n)
        self.use_count = [0] * n
        self.color: dict[int, tuple[int, int]] = {}  # inst -> (color before, color after)
        self.inst_block: dict[int, int] = {}
        self.sunk: set[int] = set()
        self.cur: list[MInst] = []
        self.cur_inst = -1
        self.targets: dict[int, list[int]] = {}  # branch inst -> labels of its destinations
        self.block_label: dict[int, int] = {}
        self.abi_state: dict[str, Any] = {}  # what the ABI lowering records (see heron.backend.abi)

    # -- registers of values ---------------------------------------------------------
    def _value_regs(self, v: int) -> Any:
        v = self.dfg.resolve_alias(v)
        regs = self.value_regs[v]
        if regs is None:
            ty = self.dfg.value_type[v]
            assert ty is not None
            cls, count = self.isa.value_class(ty)
            if count == 1:
                regs = self.vcode.new_vreg(cls)
            else:
                regs = tuple(self.vcode.new_vreg(cls) for _ in range(count))
            self.value_regs[v] = regs
        return regs

    def reg(self, v: int) -> int:
        """The virtual register holding IR value ``v`` (marks ``v`` used)."""
        v = self.dfg.resolve_alias(v)
        self.value_used[v] = 1
        regs = self._value_regs(v)
        if isinstance(regs, tuple):
            raise CompileError(f"value v{v} of type {self.dfg.value_type[v]} takes several registers; use regs()",
                               opcode=self._cur_name(), type_name=str(self.dfg.value_type[v]), target=self.isa.NAME)
        return regs

    def regs(self, v: int) -> tuple[int, ...]:
        """The registers of a multi-register value (an i128: low, high)."""
        v = self.dfg.resolve_alias(v)
        self.value_used[v] = 1
        regs = self._value_regs(v)
        return regs if isinstance(regs, tuple) else (regs,)

    def out(self, inst: int, i: int = 0) -> int:
        """The register of result ``i`` of ``inst``."""
        regs = self._value_regs(self.dfg.results[inst][i])
        if isinstance(regs, tuple):
            raise CompileError("a multi-register result needs outs()", opcode=self._cur_name(), target=self.isa.NAME)
        return regs

    def outs(self, inst: int, i: int = 0) -> tuple[int, ...]:
        regs = self._value_regs(self.dfg.results[inst][i])
        return regs if isinstance(regs, tuple) else (regs,)

    def temp(self, regclass: int) -> int:
        return self.vcode.new_vreg(regclass)

    def value_type(self, v: int) -> Type:
        ty = self.dfg.value_type[self.dfg.resolve_alias(v)]
        assert ty is not None
        return ty

    def arg_type(self, data: InstData, j: int) -> Type | None:
        """The type of operand ``j`` of an instruction (matchers read type variables so)."""
        dfg = self.dfg
        return dfg.value_type[dfg.resolve_alias(data.args[j])]

    def result_type(self, inst: int, k: int) -> Type | None:
        """The type of result ``k`` of ``inst``."""
        return self.dfg.value_type[self.dfg.results[inst][k]]

    def same_value(self, a: int, b: int) -> bool:
        """Whether two operands are the same IR value (a pattern variable used twice)."""
        return self.dfg.resolve_alias(a) == self.dfg.resolve_alias(b)

    # -- looking through operands ------------------------------------------------------
    def producer(self, v: int) -> tuple[int, InstData] | None:
        """The instruction defining ``v`` if a rule may merge it into the current one.

        Pure producers always qualify; a load qualifies when ``v`` is its only use, it is
        in the current block and no effect lies between it and the current instruction.
        """
        dfg = self.dfg
        v = dfg.resolve_alias(v)
        if dfg.value_kind[v] != 1:  # not an instruction result
            return None
        inst = dfg.value_owner[v]
        data = dfg.insts[inst]
        if _PURE[data.opcode]:
            return inst, data
        info = opcode_info(data.opcode)
        if info.can_load and not info.can_store and not info.side_effects and not info.is_call:
            cur = self.cur_inst
            if (self.use_count[v] == 1 and self.inst_block.get(inst) == self.inst_block.get(cur)
                    and inst not in self.sunk and self.color[inst][1] == self.color[cur][0]):
                return inst, data
        return None

    def sink(self, inst: int) -> None:
        """Take over a load found by ``producer``: it will not be lowered on its own."""
        self.sunk.add(inst)

    def target(self, inst: int, i: int) -> int:
        """The label of destination ``i`` of branch ``inst`` (an edge block if split)."""
        return self.targets[inst][i]

    # -- emission -----------------------------------------------------------------------
    def emit(self, minst: MInst) -> None:
        self.cur.append(minst)

    def _cur_name(self) -> str:
        if self.cur_inst < 0:
            return ""
        return opcode_info(self.dfg.insts[self.cur_inst].opcode).name


def _lowering_order(fn: Function, cfg: ControlFlowGraph) -> tuple[list[int], dict[tuple[int, int], bool]]:
    """RPO with cold blocks last, and which edges are critical."""
    hot = [b for b in cfg.rpo if not fn.layout.is_cold(b)]
    cold = [b for b in cfg.rpo if fn.layout.is_cold(b)]
    critical: dict[tuple[int, int], bool] = {}
    for b in cfg.rpo:
        if len(cfg.succs[b]) > 1:
            for s in cfg.succs[b]:
                critical[(b, s)] = len(cfg.preds[s]) > 1
    return hot + cold, critical


_DISPATCH: dict[int, dict[int, Any]] = {}


def _dispatch(isa: Any) -> dict[int, Any]:
    """IR opcode -> lowering function: the framework's, then the rules' (which win)."""
    table = _DISPATCH.get(id(isa))
    if table is None:
        table = dict(isa.abi.lowerers) if isa.abi is not None else {}
        table.update(isa.LOWER)
        _DISPATCH[id(isa)] = table
    return table


def lower_function(fn: Function, isa: Any) -> VCode:
    """Select instructions for ``fn`` (legalized IR) with the ISA's generated rules."""
    if isa.abi is None:
        raise CompileError(f"{isa.NAME}: the backend has no framework templates (abi.yaml) yet", target=isa.NAME)
    cfg = ControlFlowGraph(fn)
    order, critical = _lowering_order(fn, cfg)
    vcode = VCode(list(isa.CLASS_NAMES))
    ctx = LowerCtx(fn, isa, vcode)
    lowerers = _dispatch(isa)
    dfg = fn.dfg
    layout = fn.layout

    # Labels: one VBlock per IR block, plus edge blocks after their source.
    edge_blocks: dict[tuple[int, int, int], int] = {}  # (src block, dest index, dest block) -> label
    for b in order:
        ctx.block_label[b] = vcode.add_block(ir_block=b, cold=layout.is_cold(b))
        term = layout.last_inst(b)
        data = dfg.insts[term] if term is not None else None
        if data is not None and data.dests and data.opcode != op.JUMP:
            # A jump copies its arguments itself; any other branch passes them (and
            # takes a critical edge) through an edge block of its own.
            for i, bc in enumerate(data.dests):
                if bc.args or critical.get((b, bc.block), False):
                    edge_blocks[(b, i, bc.block)] = vcode.add_block(cold=layout.is_cold(b))

    # Static facts: use counts, effect colors, the block of each instruction.
    use_count = ctx.use_count
    for b in order:
        color = 0
        for inst in layout.block_insts(b):
            data = dfg.insts[inst]
            for a in dfg.inst_values(inst):
                use_count[dfg.resolve_alias(a)] += 1
            before = color
            if _EFFECTFUL[data.opcode]:
                color += 1
            ctx.color[inst] = (before, color)
            ctx.inst_block[inst] = b

    # Branch destinations as labels.
    for b in order:
        term = layout.last_inst(b)
        if term is None:
            raise CompileError(f"block{b} of {fn.name} is empty", target=isa.NAME)
        data = dfg.insts[term]
        if data.dests:
            labels = []
            for i, bc in enumerate(data.dests):
                edge = edge_blocks.get((b, i, bc.block))
                labels.append(edge if edge is not None else ctx.block_label[bc.block])
            ctx.targets[term] = labels

    # Lower blocks last to first in reverse post-order (a use is met before its
    # definition, whatever the final placement of cold blocks), instructions backwards.
    per_block: dict[int, list[MInst]] = {}
    entry = cfg.rpo[0]
    insts = dfg.insts
    results = dfg.results
    value_used = ctx.value_used
    sunk = ctx.sunk
    for b in reversed(cfg.rpo):
        seqs: list[list[MInst]] = []
        for inst in reversed(layout.block_insts(b)):
            data = insts[inst]
            if inst in sunk:
                continue
            if not _EFFECTFUL[data.opcode]:
                for r in results[inst]:
                    if value_used[r]:
                        break
                else:
                    continue  # dead, or merged into every user
            if data.dests is not None:
                # Arguments passed on edges are copied in edge blocks made after this
                # walk: their producers must be lowered all the same.
                for i, bc in enumerate(data.dests):
                    if (b, i, bc.block) in edge_blocks:
                        for a in bc.args:
                            ctx.regs(a)
            ctx.cur = []
            ctx.cur_inst = inst
            _lower_inst(ctx, inst, data, lowerers)
            seqs.append(ctx.cur)
        if b == entry:
            ctx.cur = []
            ctx.cur_inst = -1
            isa.abi.lower_params(ctx, b)
            seqs.append(ctx.cur)
        out: list[MInst] = []
        for seq in reversed(seqs):
            out.extend(seq)
        per_block[b] = out

    # Fill the VCode blocks: IR blocks and the edge blocks (param moves + jump).
    for b in order:
        vb = vcode.blocks[ctx.block_label[b]]
        vb.insts = per_block[b]
        term = layout.last_inst(b)
        assert term is not None
        vb.succs = list(dict.fromkeys(ctx.targets.get(term, [])))
    for (src, i, dest), label in edge_blocks.items():
        term = layout.last_inst(src)
        assert term is not None
        bc = dfg.insts[term].dests[i]  # type: ignore[index]
        ctx.cur = []
        ctx.cur_inst = term
        _edge_moves(ctx, dest, bc.args)
        ctx.emit(isa.templates.jump(ctx.block_label[dest]))
        vb = vcode.blocks[label]
        vb.insts = ctx.cur
        vb.succs = [ctx.block_label[dest]]
    vcode.entry = ctx.block_label[entry]
    vcode.compute_preds()
    vcode.meta.update(ctx.abi_state)
    return vcode


def _lower_inst(ctx: LowerCtx, inst: int, data: InstData, lowerers: dict[int, Any]) -> None:
    isa = ctx.isa
    opcode = data.opcode
    if opcode == op.JUMP:
        [bc] = data.dests  # type: ignore[misc]
        _edge_moves(ctx, bc.block, bc.args)
        ctx.emit(isa.templates.jump(ctx.block_label[bc.block]))
        return
    if opcode == op.RETURN:
        isa.abi.lower_return(ctx, inst, data)
        return
    info = opcode_info(opcode)
    if info.is_call:
        isa.abi.lower_call(ctx, inst, data)
        return
    matcher = lowerers.get(opcode)
    if matcher is None or not matcher(ctx, inst, data):
        ty = data.ctrl_type
        if ty is None and data.args:
            ty = ctx.value_type(data.args[0])
        name = info.name
        raise CompileError(
            f"{isa.NAME}: no lowering rule for {name}.{ty} (in {ctx.func.name})" if ty is not None
            else f"{isa.NAME}: no lowering rule for {name} (in {ctx.func.name})",
            opcode=name, type_name=str(ty) if ty is not None else "", target=isa.NAME,
        )


def _edge_moves(ctx: LowerCtx, dest: int, args: list[int]) -> None:
    """Parallel copies of branch arguments into the destination's parameter registers."""
    params = ctx.func.dfg.block_params[dest]
    if not params:
        return
    templates = ctx.isa.templates
    dsts: list[int] = []
    srcs: list[int] = []
    for p, a in zip(params, args):
        dsts.extend(ctx.regs(p))
        srcs.extend(ctx.regs(a))
    pairs = [(d, s) for d, s in zip(dsts, srcs) if d != s]
    if not pairs:
        return
    dst_set = {d for d, _ in pairs}
    if any(s in dst_set for _, s in pairs):
        # A source is also a destination (a loop rotating its parameters): copy through
        # fresh registers first so no source is overwritten before it is read.
        temps = []
        for d, s in pairs:
            cls = ctx.vcode.vreg_class[s - VREG_BASE]
            t = ctx.temp(cls)
            ctx.emit(templates.move(cls, t, s))
            temps.append((d, t))
        pairs = temps
    for d, s in pairs:
        ctx.emit(templates.move(ctx.vcode.vreg_class[d - VREG_BASE], d, s))
