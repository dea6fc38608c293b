"""FunctionBuilder: build IR functions with variables, SSA constructed on the fly.

After cranelift-frontend's ``FunctionBuilder``.  Blocks are created, switched
to, filled with instructions through ``fb.ins.<opcode>(...)`` (one checked
method per opcode, generated into :class:`heron.generated.ir_builder.InstBuilder`)
and *sealed* once all their predecessors are known.  Variables are declared
with a type and then defined and used anywhere; ``use_var`` returns the SSA
value reaching the current position, adding block parameters (and the matching
branch arguments) where definitions meet.  The algorithm is Braun et al.,
"Simple and Efficient Construction of Static Single Assignment Form" (CC
2013), in the iterative form cranelift-frontend uses:

- in a block with a local definition, ``use_var`` returns it;
- in a sealed block with one predecessor, it asks the predecessor;
- otherwise it adds a block parameter.  In a sealed block the predecessors
  are asked at once; in an unsealed one the parameter is *incomplete* and is
  completed by ``seal_block``.  When all predecessors pass the same value the
  parameter is trivial: it is removed and becomes an alias of that value.
  ``finalize`` repeats the trivial-parameter removal until nothing changes (a
  removal can make other parameters trivial, as the paper's ``tryRemoveTrivialPhi``
  recursion does) and rewrites every use of an alias to its value;
- jump-table entries are ordinary block calls (as in current Cranelift), so
  arguments are appended to ``br_table`` entries directly and no edge is split.

Decisions:

- ``declare_var(ty)`` returns a fresh variable number (Cranelift's current
  API); using or defining an undeclared variable raises :class:`BuilderError`.
- A variable used where it was never defined on some path reads as zero (as
  cranelift-frontend does: this only happens in code no valid program reaches,
  such as unreachable blocks); the zero is materialized at the top of the block
  where the search ended.
- ``switch_to_block`` requires the current block to be filled (ended by a
  terminator) or still empty; branches may not target sealed blocks or the
  entry block; user block parameters come before any a variable added, and
  before the first branch to the block.
- ``position_before(inst)`` inserts before an existing instruction (for
  passes); variables and terminators need the cursor at the end of a block.
- Immediates are given the friendly way and stored the IR's way:
  ``iconst(I8, -1)`` stores the bit pattern 255, ``f32const(1.5)`` the float's
  bits, ``shuffle(a, b, [0, 17, ...])`` the 16 mask bytes as one int; a
  ``br_table`` entry is a block or a ``(block, args)`` pair.
- Every ``ins`` method checks its operands first and raises
  :class:`BuilderError` naming the opcode, the operand and both types
  (``iadd: operand y is i64 but x is i32``); the checks are the verifier's
  (:func:`heron.ir.verifier.typecheck_operands`), so the two agree.

Example (``x = 0; while x < n: x += 1; return x``)::

    >>> from heron.ir.entities import AbiParam, Signature
    >>> from heron.ir.function import Function
    >>> from heron.ir.types import I32
    >>> fn = Function("%count", Signature([AbiParam(I32)], [AbiParam(I32)]))
    >>> fb = FunctionBuilder(fn)
    >>> entry, head, body, done = (fb.create_block() for _ in range(4))
    >>> fb.append_block_params_for_function_params(entry)
    >>> x = fb.declare_var(I32)
    >>> fb.switch_to_block(entry); fb.seal_block(entry)
    >>> n = fb.block_params(entry)[0]
    >>> fb.def_var(x, fb.ins.iconst(I32, 0)); _ = fb.ins.jump(head)
    >>> fb.switch_to_block(head)
    >>> c = fb.ins.icmp("slt", fb.use_var(x), n)
    >>> _ = fb.ins.brif(c, body, [], done, [])
    >>> fb.switch_to_block(body); fb.seal_block(body)
    >>> fb.def_var(x, fb.ins.iadd(fb.use_var(x), fb.ins.iconst(I32, 1)))
    >>> _ = fb.ins.jump(head)
    >>> fb.seal_block(head)
    >>> fb.switch_to_block(done); fb.seal_block(done)
    >>> _ = fb.ins.return_(fb.use_var(x))
    >>> fb.finalize()                     # checks, cleans up and verifies
    >>> len(fn.dfg.block_params[head])    # x became a parameter of the loop header
    1
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from heron.errors import BuilderError
from heron.generated.ir_builder import InstBuilder
from heron.ir import opcodes as op
from heron.ir.dfg import VALUE_ALIAS, VALUE_PARAM
from heron.ir.instructions import BlockCall, InstData, OpcodeInfo, opcode_info, resolve_type_expr
from heron.ir.memflags import MemFlags
from heron.ir.types import F16, F32, F64, F128, I128, Type
from heron.ir.verifier import format_type_set, is_trap_code, typecheck_operands, verify_function

if TYPE_CHECKING:
    from heron.ir.function import Function

__all__ = ["FunctionBuilder", "Variable"]

Variable = int
_FLOAT_FORMATS = {"UnaryIeee16": ("<e", "<H", 16), "UnaryIeee32": ("<f", "<I", 32), "UnaryIeee64": ("<d", "<Q", 64)}
_ZERO_CONST = {F16: op.F16CONST, F32: op.F32CONST, F64: op.F64CONST}


class _Inserter(InstBuilder):
    """The ``fb.ins`` object: the generated opcode methods, inserting at the builder's cursor."""

    __slots__ = ("fb",)

    def __init__(self, fb: FunctionBuilder) -> None:
        self.fb = fb

    def _insert(self, opcode: int, ctrl_type: Type | None, args: list[int], imm: object, aux: object, dests: list[BlockCall] | None) -> int:
        return self.fb._insert(opcode, ctrl_type, args, imm, aux, dests)

    def _value_type(self, v: int) -> Type | None:
        dfg = self.fb.dfg
        return dfg.value_type[v] if type(v) is int and dfg.value_exists(v) else None

    def _results(self, inst: int) -> list[int]:
        return self.fb.dfg.results[inst]

    def _enum_index(self, opcode: int, names: tuple[str, ...], item: str | int) -> int:
        what = "atomic operation" if names is op.ATOMICRMWOP else "condition code"
        if isinstance(item, str):
            if item in names:
                return names.index(item)
        elif type(item) is int and 0 <= item < len(names):
            return item
        raise BuilderError(f"{opcode_info(opcode).name}: unknown {what} {item!r} (one of {', '.join(names)})")

    def _memflags(self, opcode: int, flags: MemFlags | str) -> MemFlags:
        if isinstance(flags, MemFlags):
            return flags
        if isinstance(flags, str):
            try:
                return MemFlags.parse_words(flags.split())
            except ValueError as err:
                raise BuilderError(f"{opcode_info(opcode).name}: {err}") from None
        raise BuilderError(f"{opcode_info(opcode).name}: memory flags must be MemFlags or a string of words, got {flags!r}")

    def _block_call(self, target: object) -> BlockCall:
        if isinstance(target, BlockCall):
            return target
        if isinstance(target, tuple) and len(target) == 2:
            return BlockCall(target[0], list(target[1]))
        return BlockCall(target)  # type: ignore[arg-type]


class FunctionBuilder:
    """Builds the body of ``func``; see the module docstring for the rules."""

    __slots__ = (
        "func",
        "dfg",
        "layout",
        "ins",
        "_block",
        "_before",
        "_filled",
        "_pristine",
        "_sealed",
        "_preds",
        "_undef",
        "_single_pred",
        "_user_params",
        "_var_types",
        "_defs",
        "_ssa_params",
        "_calls",
        "_results",
    )

    def __init__(self, func: Function) -> None:
        self.func = func
        self.dfg = func.dfg
        self.layout = func.layout
        self.ins = _Inserter(self)
        self._block: int | None = None
        self._before: int | None = None
        # Per-block state, indexed by block number.  Blocks that exist already are taken
        # as finished: sealed, and filled when they end in a terminator.
        self._filled: list[bool] = []
        self._pristine: list[bool] = []
        self._sealed: list[bool] = []
        self._preds: list[list[int]] = []  # branch instructions targeting the block
        self._undef: list[list[tuple[int, int]]] = []  # incomplete (variable, parameter) pairs
        self._single_pred: list[int] = []  # the one predecessor block once sealed, else -1
        self._user_params: list[int] = []
        for b in range(self.dfg.num_blocks):
            self._add_block_state(b, existing=True)
        self._var_types: list[Type] = []
        self._defs: list[dict[int, int]] = []  # per variable: block -> its value at the block's end
        self._ssa_params: set[int] = set()
        self._calls: list[tuple[int, int, int]] = []
        self._results: list[int] = []

    # -- blocks -----------------------------------------------------------------
    def _add_block_state(self, b: int, existing: bool = False) -> None:
        inserted = self.layout.is_block_inserted(b)
        last = self.layout.last_inst(b) if inserted else None
        self._filled.append(last is not None and opcode_info(self.dfg.insts[last].opcode).is_terminator)
        self._pristine.append(last is None)
        self._sealed.append(existing)
        self._preds.append([])
        self._undef.append([])
        self._single_pred.append(-1)
        self._user_params.append(len(self.dfg.block_params[b]) if b < self.dfg.num_blocks else 0)

    def _sync_blocks(self) -> None:
        """Track blocks made directly through the DFG since the builder was created."""
        while len(self._filled) < self.dfg.num_blocks:
            self._add_block_state(len(self._filled))

    def _check_block(self, block: int, what: str) -> None:
        if type(block) is not int or not self.dfg.block_exists(block):
            raise BuilderError(f"{what}: block{block} does not exist")
        if block >= len(self._filled):
            self._sync_blocks()

    def create_block(self) -> int:
        """A new empty block; it enters the layout with its first instruction."""
        self._sync_blocks()
        b = self.dfg.make_block()
        self._add_block_state(b)
        return b

    def append_block_param(self, block: int, ty: Type) -> int:
        """Add a parameter of type ``ty`` to ``block``; returns its value."""
        self._check_block(block, "append_block_param")
        if not isinstance(ty, Type):
            raise BuilderError(f"append_block_param: {ty!r} is not a type")
        if self._preds[block]:
            raise BuilderError(f"append_block_param: block{block} already has predecessors; add parameters before branching to it")
        if self._user_params[block] != len(self.dfg.block_params[block]):
            raise BuilderError(f"append_block_param: block{block} already has parameters added for variables")
        self._user_params[block] += 1
        return self.dfg.append_block_param(block, ty)

    def append_block_params_for_function_params(self, block: int) -> None:
        """Give ``block`` one parameter per parameter of the function's signature."""
        for p in self.func.signature.params:
            self.append_block_param(block, p.type)

    def block_params(self, block: int) -> list[int]:
        return self.dfg.block_params[block]

    def current_block(self) -> int | None:
        return self._block

    def is_filled(self, block: int) -> bool:
        return self._filled[block]

    def is_sealed(self, block: int) -> bool:
        return self._sealed[block]

    def is_pristine(self, block: int) -> bool:
        """Whether ``block`` has no instructions yet."""
        return self._pristine[block]

    def switch_to_block(self, block: int) -> None:
        """Append the following instructions to the end of ``block``."""
        self._check_block(block, "switch_to_block")
        cur = self._block
        if cur is not None and self._before is None and not self._pristine[cur] and not self._filled[cur]:
            raise BuilderError(f"switch_to_block(block{block}): block{cur} is not filled (end it with a terminator first)")
        if self._filled[block]:
            raise BuilderError(f"switch_to_block: block{block} is already filled")
        self._block = block
        self._before = None

    def position_before(self, inst: int) -> None:
        """Insert the following instructions before ``inst`` (which must be in the layout)."""
        block = self.layout.inst_block(inst)
        if block is None:
            raise BuilderError(f"position_before: inst{inst} is not in the layout")
        self._sync_blocks()
        self._block = block
        self._before = inst

    def seal_block(self, block: int) -> None:
        """Declare that every predecessor of ``block`` is known; completes its variables."""
        self._check_block(block, "seal_block")
        if self._sealed[block]:
            raise BuilderError(f"seal_block: block{block} is already sealed")
        self._seal_one(block)

    def seal_all_blocks(self) -> None:
        """Seal every block not sealed yet (simpler, but sealing early is cheaper)."""
        self._sync_blocks()
        for b in range(len(self._sealed)):
            if not self._sealed[b]:
                self._seal_one(b)

    # -- instructions --------------------------------------------------------------
    def _insert(self, opcode: int, ctrl_type: Type | None, args: list[int], imm: object, aux: object, dests: list[BlockCall] | None) -> int:
        info = opcode_info(opcode)
        block = self._block
        if block is None:
            raise BuilderError(f"{info.name}: no current block (call switch_to_block first)")
        before = self._before
        if before is None:
            if self._filled[block]:
                raise BuilderError(f"{info.name}: block{block} is already filled (it ends with a terminator)")
        elif info.is_terminator:
            raise BuilderError(f"{info.name}: cannot insert a terminator before inst{before}")
        imm = self._check_inst(info, ctrl_type, args, imm, aux, dests)
        dfg = self.dfg
        inst = dfg.make_inst(InstData(opcode, ctrl_type, args, imm, aux, dests))
        dfg.make_inst_results(inst, ctrl_type)
        layout = self.layout
        if not layout.is_block_inserted(block):
            layout.append_block(block)
        if before is None:
            layout.append_inst(inst, block)
        else:
            layout.insert_inst_before(inst, before)
        self._pristine[block] = False
        if dests:
            # One predecessor entry per distinct target (a br_table may repeat blocks).
            preds = self._preds
            for d in dict.fromkeys(bc.block for bc in dests):
                preds[d].append(inst)
        if info.is_terminator:
            self._filled[block] = True
        return inst

    def _check_inst(self, info: OpcodeInfo, ctrl_type: Type | None, args: list[int], imm: object, aux: object, dests: list[BlockCall] | None) -> object:
        """Raise BuilderError unless the instruction is well typed; returns the immediate to store."""
        name = info.name
        dfg = self.dfg
        if ctrl_type is not None and not isinstance(ctrl_type, Type):
            raise BuilderError(f"{name}: {ctrl_type!r} is not a type")
        operands = info.operands
        nfixed = len(operands)
        exists = dfg.value_exists
        for i, v in enumerate(args):
            if type(v) is not int or not exists(v):
                label = operands[i][0] if i < nfixed else f"{info.varargs}[{i - nfixed}]"
                raise BuilderError(f"{name}: operand {label} is not a value: {v!r}")
        vt = dfg.value_type
        bindings: dict[str, Type] = {}
        if info.ctrl is not None:
            if ctrl_type is None:
                raise BuilderError(f"{name}: needs a controlling type")
            bindings, problems = typecheck_operands(info, ctrl_type, [vt[a] for a in args[:nfixed]])  # type: ignore[misc]
            if problems:
                raise BuilderError(f"{name}: " + "; ".join(problems))
        fmt = info.format
        if info.is_call:
            self._check_call(info, args[nfixed:], aux)
        elif info.results:
            for rname, expr in info.results:
                if resolve_type_expr(expr, bindings) is None:
                    raise BuilderError(f"{name}: result {rname} has no type {expr} for {format_type_set(frozenset(t.name for t in bindings.values()))}")
        if name == "return":
            self._check_returns(name, [vt[a] for a in args])
        if dests:
            self._check_dests(info, dests)
        return self._check_immediate(info, fmt, ctrl_type, imm, aux, dests)

    def _check_immediate(
        self, info: OpcodeInfo, fmt: str, ctrl_type: Type | None, imm: object, aux: object, dests: list[BlockCall] | None
    ) -> object:
        name = info.name
        func = self.func
        if fmt == "UnaryImm":
            imm_arg = imm
            if type(imm) is not int:
                raise BuilderError(f"{name}: immediate must be an int, got {type(imm).__name__}")
            imm = _iconst_bits(imm, ctrl_type)  # type: ignore[arg-type]
            if imm is None:
                raise BuilderError(f"{name}: immediate {imm_arg} does not fit in {ctrl_type}")
        elif fmt in _FLOAT_FORMATS:
            pack, unpack, bits = _FLOAT_FORMATS[fmt]
            if type(imm) is float:
                try:
                    imm = struct.unpack(unpack, struct.pack(pack, imm))[0]
                except OverflowError:
                    raise BuilderError(f"{name}: {imm} overflows f{bits}") from None
            elif type(imm) is not int or not 0 <= imm < (1 << bits):
                raise BuilderError(f"{name}: immediate must be a float or a {bits}-bit pattern, got {imm!r}")
        elif fmt == "UnaryConst":
            if type(imm) is not int or not 0 <= imm < (1 << ctrl_type.bits):  # type: ignore[union-attr]
                raise BuilderError(f"{name}: constant must be the {ctrl_type} bits as a non-negative int, got {imm!r}")
        elif fmt in ("BinaryImm8", "TernaryImm8"):
            if type(imm) is not int or not 0 <= imm < 256:
                raise BuilderError(f"{name}: lane must be an int in 0..255, got {imm!r}")
            if name in ("extractlane", "insertlane") and imm >= ctrl_type.lanes:  # type: ignore[union-attr, operator]
                raise BuilderError(f"{name}: lane {imm} is out of range for {ctrl_type}")
        elif fmt == "Shuffle":
            if isinstance(imm, (bytes, bytearray, list, tuple)):
                if len(imm) != 16:
                    raise BuilderError(f"{name}: mask must have 16 bytes, got {len(imm)}")
                imm = int.from_bytes(bytes(imm), "little")
            if type(imm) is not int or not 0 <= imm < (1 << 128):
                raise BuilderError(f"{name}: mask must be 16 bytes or a 128-bit int, got {imm!r}")
            for k in range(16):
                byte = (imm >> (8 * k)) & 0xFF
                if byte >= 32:
                    raise BuilderError(f"{name}: mask byte {k} is {byte}, must be below 32")
        elif fmt in ("Load", "Store", "StackLoad", "StackStore"):
            if type(imm) is not int or not -(1 << 31) <= imm < (1 << 31):
                raise BuilderError(f"{name}: offset must be a 32-bit signed int, got {imm!r}")
        elif fmt == "TryCall":
            handlers = len(dests) - 1  # type: ignore[arg-type]
            if len(imm) != handlers or not all(t is None or (type(t) is int and t >= 0) for t in imm):  # type: ignore[arg-type]
                raise BuilderError(f"{name}: needs one tag (an int, or None for default) per handler block; {handlers} blocks, tags {imm!r}")
        if fmt in ("StackLoad", "StackStore"):
            if not _declared(func.stack_slots, aux):
                raise BuilderError(f"{name}: stack slot ss{aux} is not declared")
        elif fmt == "UnaryGlobalValue":
            if not _declared(func.global_values, aux):
                raise BuilderError(f"{name}: global value gv{aux} is not declared")
        elif fmt == "FuncAddr":
            if not _declared(func.func_refs, aux):
                raise BuilderError(f"{name}: function reference fn{aux} is not declared")
        elif fmt in ("Trap", "CondTrap"):
            if not is_trap_code(aux):
                raise BuilderError(f"{name}: unknown trap code {aux!r} (stk_ovf, heap_oob, int_ovf, int_divz, bad_toint or user1..user250)")
        elif fmt in ("Store", "StoreNoOffset") and aux.readonly:  # type: ignore[union-attr]
            raise BuilderError(f"{name}: a store cannot have the readonly flag")
        return imm

    def _check_call(self, info: OpcodeInfo, args: list[int], aux: object) -> None:
        name = info.name
        func = self.func
        fmt = info.format
        if fmt == "CallIndirect":
            if not _declared(func.sig_refs, aux):
                raise BuilderError(f"{name}: signature sig{aux} is not declared")
            sig = func.sig_refs[aux]  # type: ignore[index]
            callee = f"sig{aux}"
        else:
            fref = aux[0] if fmt == "TryCall" else aux  # type: ignore[index]
            if not _declared(func.func_refs, fref):
                raise BuilderError(f"{name}: function reference fn{fref} is not declared")
            ext = func.func_refs[fref]  # type: ignore[index]
            if not _declared(func.sig_refs, ext.signature):
                raise BuilderError(f"{name}: fn{fref} names the undeclared signature sig{ext.signature}")
            if fmt == "TryCall" and not _declared(func.sig_refs, aux[1]):  # type: ignore[index]
                raise BuilderError(f"{name}: signature sig{aux[1]} is not declared")  # type: ignore[index]
            sig = func.sig_refs[ext.signature]
            callee = f"fn{fref} {ext.name}"
        assert sig is not None
        params = sig.params
        if len(args) != len(params):
            raise BuilderError(f"{name}: {callee} takes {len(params)} argument(s), {len(args)} given")
        vt = self.dfg.value_type
        for i, a in enumerate(args):
            if vt[a] is not params[i].type:
                raise BuilderError(f"{name}: argument {i} is {vt[a]}, {callee} expects {params[i].type}")
        if info.is_return:
            self._check_returns(name, [r.type for r in sig.returns], what=f"{callee} returns")

    def _check_returns(self, name: str, types: list[Type | None], what: str = "got") -> None:
        expected = [r.type for r in self.func.signature.returns]
        if types != expected:
            show = ", ".join(map(str, types))
            raise BuilderError(f"{name}: the function returns ({', '.join(map(str, expected))}), {what} ({show})")

    def _check_dests(self, info: OpcodeInfo, dests: list[BlockCall]) -> None:
        name = info.name
        dfg = self.dfg
        entry = self.layout.entry_block()
        if entry is None:
            entry = self._block
        vt = dfg.value_type
        exists = dfg.value_exists
        for k, bc in enumerate(dests):
            d = bc.block
            self._check_block(d, name)
            if d == entry:
                raise BuilderError(f"{name}: cannot branch to the entry block block{d}")
            if self._sealed[d]:
                raise BuilderError(f"{name}: block{d} is sealed; no new predecessors can be added")
            params = dfg.block_params[d]
            n = self._user_params[d]
            if len(bc.args) != n:
                want = ", ".join(str(vt[p]) for p in params[:n])
                raise BuilderError(f"{name}: block{d} takes {n} argument(s) ({want}), {len(bc.args)} given")
            for i, a in enumerate(bc.args):
                if type(a) is not int:
                    raise BuilderError(f"{name}: argument {i} to block{d} is not a value: {a!r}")
                if a < 0 and info.format == "TryCall" and k > 0:
                    continue  # an exception payload
                if not exists(a):
                    raise BuilderError(f"{name}: argument {i} to block{d} is not a value: v{a}")
                if vt[a] is not vt[params[i]]:
                    raise BuilderError(f"{name}: argument {i} to block{d} is {vt[a]}, expected {vt[params[i]]}")

    # -- variables ---------------------------------------------------------------------
    def declare_var(self, ty: Type) -> Variable:
        """A new variable of type ``ty``; returns its number."""
        if not isinstance(ty, Type):
            raise BuilderError(f"declare_var: {ty!r} is not a type")
        self._var_types.append(ty)
        self._defs.append({})
        return len(self._var_types) - 1

    def _var_block(self, what: str, var: Variable) -> int:
        if type(var) is not int or not 0 <= var < len(self._var_types):
            raise BuilderError(f"{what}: variable {var!r} was never declared")
        if self._block is None:
            raise BuilderError(f"{what}: no current block (call switch_to_block first)")
        if self._before is not None:
            raise BuilderError(f"{what}: variables need the cursor at the end of a block (switch_to_block)")
        return self._block

    def def_var(self, var: Variable, value: int) -> None:
        """From here on, ``var`` holds ``value``."""
        block = self._var_block("def_var", var)
        if type(value) is not int or not self.dfg.value_exists(value):
            raise BuilderError(f"def_var: {value!r} is not a value")
        ty = self.dfg.value_type[value]
        if ty is not self._var_types[var]:
            raise BuilderError(f"def_var: variable {var} is {self._var_types[var]}, value v{value} is {ty}")
        self._defs[var][block] = value

    def use_var(self, var: Variable) -> int:
        """The value ``var`` holds here (see the module docstring for undefined variables)."""
        block = self._var_block("use_var", var)
        ty = self._var_types[var]
        self._use_var_nonlocal(var, ty, block)
        value = self._run(var, ty)
        return self.dfg.resolve_alias(value)

    def _use_var_nonlocal(self, var: int, ty: Type, block: int) -> None:
        defs = self._defs[var]
        v = defs.get(block)
        if v is not None:
            self._results.append(v)
            return
        val, origin = self._find_var(var, ty, block)
        # Record the definition along the single-predecessor chain walked.
        single = self._single_pred
        while block != origin:
            defs[block] = val
            block = single[block]

    def _find_var(self, var: int, ty: Type, block: int) -> tuple[int, int]:
        defs = self._defs[var]
        single = self._single_pred
        visited: set[int] = set()
        while single[block] >= 0:
            if block in visited:
                break  # a cycle of single-predecessor blocks: unreachable code
            visited.add(block)
            block = single[block]
            v = defs.get(block)
            if v is not None:
                self._results.append(v)
                return v, block
        val = self.dfg.append_block_param(block, ty)
        self._ssa_params.add(val)
        defs[block] = val
        if self._sealed[block]:
            self._begin_lookup(val, block)
        else:
            self._undef[block].append((var, val))
            self._results.append(val)
        return val, block

    def _begin_lookup(self, sentinel: int, block: int) -> None:
        calls = self._calls
        calls.append((1, sentinel, block))
        for inst in reversed(self._preds[block]):
            calls.append((0, inst, 0))

    def _run(self, var: int, ty: Type) -> int:
        """The explicit-stack form of the paper's recursion (no Python recursion limit)."""
        calls = self._calls
        inst_block = self.layout.inst_block
        while calls:
            kind, a, b = calls.pop()
            if kind == 0:
                self._use_var_nonlocal(var, ty, inst_block(a))  # type: ignore[arg-type]
            else:
                self._results.append(self._finish_lookup(a, b))
        return self._results.pop()

    def _finish_lookup(self, sentinel: int, block: int) -> int:
        dfg = self.dfg
        preds = self._preds[block]
        results = self._results
        n = len(preds)
        vals = results[len(results) - n :] if n else []
        del results[len(results) - n :]
        resolve = dfg.resolve_alias
        same: int | None = None
        for v in vals:
            r = resolve(v)
            if r == sentinel:
                continue
            if same is None:
                same = r
            elif r != same:
                break
        else:
            # Trivial: every predecessor passes `same` (or the parameter itself).
            if same is None:
                same = self._emit_zero(dfg.value_type[sentinel], block)  # type: ignore[arg-type]
            dfg.remove_block_param(sentinel)
            dfg.change_to_alias(sentinel, same)
            self._ssa_params.discard(sentinel)
            return same
        insts = dfg.insts
        for inst, v in zip(preds, vals):
            for bc in insts[inst].dests:  # type: ignore[union-attr]
                if bc.block == block:
                    bc.args.append(v)
        return sentinel

    def _seal_one(self, block: int) -> None:
        self._sealed[block] = True
        preds = self._preds[block]
        if len(preds) == 1:
            self._single_pred[block] = self.layout.inst_block(preds[0])  # type: ignore[assignment]
        undef = self._undef[block]
        self._undef[block] = []
        for var, val in undef:
            self._begin_lookup(val, block)
            self._run(var, self._var_types[var])

    def _emit_zero(self, ty: Type, block: int) -> int:
        """Materialize a zero of ``ty`` at the top of ``block``."""
        saved = (self._block, self._before)
        self._block = block
        self._before = self.layout.first_inst(block) if self.layout.is_block_inserted(block) else None
        try:
            ins = self.ins
            if ty.is_vector:
                return ins.splat(ty, self._emit_scalar_zero(ty.lane_type))
            return self._emit_scalar_zero(ty)
        finally:
            self._block, self._before = saved

    def _emit_scalar_zero(self, ty: Type) -> int:
        if ty.is_int:
            return self.ins.iconst(ty, 0)
        if ty is F128:
            return self.ins.bitcast(F128, "", self.ins.iconst(I128, 0))
        inst = self._insert(_ZERO_CONST[ty], ty, [], 0, None, None)
        return self.dfg.results[inst][0]

    # -- finishing ------------------------------------------------------------------------
    def finalize(self, verify: bool = True) -> None:
        """Check every block is sealed and filled, clean up variables' parameters, verify."""
        self._sync_blocks()
        problems = []
        for b in range(len(self._filled)):
            if not self.dfg.block_exists(b):
                continue
            if self._pristine[b]:
                if self._preds[b]:
                    problems.append(f"block{b} is the target of a branch but has no instructions")
                continue
            if not self._filled[b]:
                problems.append(f"block{b} is not filled (it does not end with a terminator)")
            if not self._sealed[b]:
                problems.append(f"block{b} is not sealed")
        if problems:
            raise BuilderError("finalize: " + "; ".join(problems))
        self._remove_trivial_params()
        self._resolve_aliases()
        if verify:
            verify_function(self.func)

    def _remove_trivial_params(self) -> None:
        """Drop variable parameters whose incoming values are all one value (or themselves)."""
        dfg = self.dfg
        insts = dfg.insts
        kind = dfg.value_kind
        resolve = dfg.resolve_alias
        changed = True
        while changed:
            changed = False
            for p in sorted(self._ssa_params):
                if kind[p] != VALUE_PARAM:
                    continue
                block = dfg.value_owner[p]
                i = dfg.value_index[p]
                calls = [bc for inst in self._preds[block] for bc in insts[inst].dests if bc.block == block]  # type: ignore[union-attr]
                same = None
                for bc in calls:
                    r = resolve(bc.args[i])
                    if r == p:
                        continue
                    if same is None:
                        same = r
                    elif r != same:
                        break
                else:
                    if same is None:
                        continue
                    for bc in calls:
                        del bc.args[i]
                    dfg.remove_block_param(p)
                    dfg.change_to_alias(p, same)
                    self._ssa_params.discard(p)
                    changed = True

    def _resolve_aliases(self) -> None:
        """Rewrite every operand that is an alias to the value it stands for."""
        dfg = self.dfg
        kind = dfg.value_kind
        resolve = dfg.resolve_alias
        insts = dfg.insts
        for _b, inst in self.layout.insts():
            data = insts[inst]
            args = data.args
            for k, a in enumerate(args):
                if kind[a] == VALUE_ALIAS:
                    args[k] = resolve(a)
            if data.dests:
                for bc in data.dests:
                    bargs = bc.args
                    for k, a in enumerate(bargs):
                        if a >= 0 and kind[a] == VALUE_ALIAS:
                            bargs[k] = resolve(a)


def _iconst_bits(imm: int, ty: Type) -> int | None:
    """The stored (unsigned bit pattern) form of an iconst immediate, or None if it does not fit.

    Up to 64 bits, a signed or an unsigned reading must fit (``iconst(I8, -1)`` and
    ``iconst(I8, 255)`` are both 255).  An i128 immediate is a signed 64-bit value.
    """
    bits = min(ty.bits, 64)
    if ty.bits > 64:
        return imm & ty.mask if -(1 << 63) <= imm < (1 << 63) else None
    return imm & ty.mask if -(1 << (bits - 1)) <= imm < (1 << bits) else None


def _declared(table: list, index: object) -> bool:
    return type(index) is int and 0 <= index < len(table) and table[index] is not None
