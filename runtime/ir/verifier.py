"""The IR verifier: every invariant a well-formed function keeps, every error reported.

``verify_function(fn)`` raises :class:`heron.errors.VerifierError` listing all
errors found (not just the first), each a ``(location, message)`` pair;
``verify_function_errors(fn)`` returns that list.  The rules follow Cranelift's
``cranelift/codegen/src/verifier/mod.rs`` and its wording where it has one:

- preamble: function references name declared signatures; global values name
  existing bases, have no cycles, and ``vmctx`` needs a ``vmctx`` parameter;
  dynamic types scale by an existing global value;
- entry block: its parameters match the signature's parameter types, it is not
  cold, and no branch targets it;
- layout: no empty block; every block ends with exactly one terminator and
  terminators appear only there; no instruction appears twice;
- entity references: values exist (no unused holes; aliases resolved), block
  targets are in the layout, stack slots, function and signature references and
  global values are declared; results belong to their instruction;
- types: the opcode's type variables are bound (the controlling one from
  ``InstData.ctrl_type``, the others from the operand whose type expression is
  exactly that variable), each binding is in its type set, every operand and
  result has the type its expression resolves to, and the constraints
  (``narrower``, ``same_bits``, ``same_lanes``) hold; branch, call and return
  arguments match block parameters and signatures (jump-table entries are
  ordinary block calls in current Cranelift, so they are checked the same way);
  immediates are in range (``iconst`` bounds, lanes, shuffle bytes, condition
  codes, offsets);
- SSA: every use is dominated by its definition.  As in Cranelift, uses inside
  unreachable blocks are not checked for dominance (only for existence).

Locations read ``inst5 (v3 = iadd v1, v2)`` (with the CLIF printer; without it
``inst5 iadd``), ``block2``, ``v3``, ``ss0``, ``gv1``, ``fn0``, ``sig0``,
``dt0`` or ``function``.

Example::

    >>> from heron.ir import opcodes as op
    >>> from heron.ir.function import Function
    >>> from heron.ir.instructions import InstData
    >>> from heron.ir.types import I32
    >>> fn = Function("%f")
    >>> b0 = fn.dfg.make_block(); fn.layout.append_block(b0)
    >>> i0 = fn.dfg.make_inst(InstData(op.ICONST, I32, imm=1)); fn.layout.append_inst(i0, b0)
    >>> _ = fn.dfg.make_inst_results(i0, I32)
    >>> for loc, msg in verify_function_errors(fn):
    ...     print(loc, msg, sep=": ")
    block0: block does not end in a terminator instruction
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.errors import VerifierError
from heron.ir.dfg import VALUE_ALIAS, VALUE_PARAM, VALUE_RESULT, VALUE_UNUSED
from heron.ir.domtree import DominatorTree
from heron.ir.instructions import BlockCall, InstData, OpcodeInfo, opcode_info, resolve_type_expr
from heron.ir.memflags import MemFlags
from heron.ir.trapcode import is_trap_code
from heron.ir.types import ALL_TYPES, Type

if TYPE_CHECKING:
    from heron.ir.entities import Signature
    from heron.ir.function import Function

__all__ = [
    "verify_function",
    "verify_function_errors",
    "typecheck_operands",
    "format_type_set",
    "iconst_imm_valid",
    "is_trap_code",
]

_TYPE_ORDER = {t.name: i for i, t in enumerate(ALL_TYPES)}

# Formats whose instructions carry block calls, and how many (-1: at least one).
_DEST_COUNT = {"Jump": 1, "Brif": 2, "BranchTable": -1, "TryCall": -1}
_MEMFLAG_FORMATS = frozenset({"Load", "Store", "LoadNoOffset", "StoreNoOffset", "AtomicRmw", "AtomicCas"})
_LANE_OPCODES = frozenset({"extractlane", "insertlane"})


def format_type_set(names: frozenset[str]) -> str:
    """A type set in a stable, readable order: ``i8, i16, i32, i64, i128``."""
    return ", ".join(sorted(names, key=lambda n: (_TYPE_ORDER.get(n, len(_TYPE_ORDER)), n)))


# Trap codes besides ``user1`` .. ``user250`` (Cranelift reserves the user codes above).
def iconst_imm_valid(imm: int, ty: Type) -> bool:
    """Whether ``imm`` is a stored ``iconst`` immediate of type ``ty``.

    Immediates are kept as unsigned bit patterns of the type (``iconst.i8 -1``
    holds 255); an i128 immediate is an imm64 sign-extended to 128 bits.
    """
    if not 0 <= imm <= ty.mask:
        return False
    if ty.bits > 64:
        high = imm >> 63
        return high == 0 or high == ty.mask >> 63
    return True


def typecheck_operands(
    info: OpcodeInfo,
    ctrl_type: Type | None,
    arg_types: list[Type],
    values: list[int] | None = None,
) -> tuple[dict[str, Type], list[str]]:
    """Bind the type variables of one instruction and check its fixed operands.

    ``arg_types`` are the types of the fixed operands (as many as the opcode
    has); ``values``, when given, are the operand values, named in messages
    (``y (v2)`` rather than ``y``).  Returns the bindings and the problems
    found, as messages without a location (``operand y is i64 but x is i32``).
    Shared by the verifier and the FunctionBuilder, so both say the same thing.
    """
    ctrl = info.ctrl
    if ctrl is not None and ctrl_type is not None and _is_simple(info):
        # The common case (iadd, fmul, ...): every operand has the controlling type.
        if ctrl_type.name in info.typevars[ctrl]:
            for t in arg_types:
                if t is not ctrl_type:
                    break
            else:
                return {ctrl: ctrl_type}, []
    names = [n for n, _ in info.operands]
    labels = names if values is None else [f"{n} (v{v})" for n, v in zip(names, values)]
    problems: list[str] = []
    bindings: dict[str, Type] = {}
    source: dict[str, int] = {}
    if ctrl is not None:
        if ctrl_type is None:
            problems.append(f"has no controlling type (type variable {ctrl})")
            return bindings, problems
        bindings[ctrl] = ctrl_type
        if info.infer >= 0:
            source[ctrl] = info.infer
        if ctrl_type.name not in info.typevars[ctrl]:
            allowed = format_type_set(info.typevars[ctrl])
            k = info.infer
            if 0 <= k < len(arg_types) and arg_types[k] is ctrl_type:
                problems.append(f"operand {labels[k]} has type {ctrl_type}, which is not in the type set of {ctrl} ({allowed})")
            else:
                problems.append(f"type {ctrl_type} is not in the type set of {ctrl} ({allowed})")
    operands = info.operands
    n = min(len(operands), len(arg_types))
    typevars = info.typevars
    for i in range(n):
        expr = operands[i][1]
        if expr in typevars and expr not in bindings:
            ty = arg_types[i]
            bindings[expr] = ty
            source[expr] = i
            if ty.name not in typevars[expr]:
                problems.append(
                    f"operand {labels[i]} has type {ty}, which is not in the type set of {expr} ({format_type_set(typevars[expr])})"
                )
    for i in range(n):
        expr = operands[i][1]
        actual = arg_types[i]
        expected = bindings.get(expr)
        if expected is None:
            expected = resolve_type_expr(expr, bindings)
            if expected is None:
                problems.append(f"cannot derive the type {expr} of operand {labels[i]} from {_show_bindings(bindings)}")
                continue
        if actual is expected:
            continue
        src = source.get(expr, -1)
        if src >= 0 and src != i:
            problems.append(f"operand {labels[i]} is {actual} but {labels[src]} is {expected}")
        elif expr == ctrl:
            problems.append(f"operand {labels[i]} is {actual}, expected the controlling type {expected}")
        else:
            problems.append(f"operand {labels[i]} is {actual}, expected {expected} ({expr} with {_show_bindings(bindings)})")
    for kind, x, t in info.constraints:
        tx = bindings.get(x)
        tt = bindings.get(t)
        if tx is None or tt is None:
            continue
        if kind == "narrower":
            if tx.lanes != tt.lanes or tx.lane_bits >= tt.lane_bits:
                problems.append(f"{x} = {tx} must be narrower than {t} = {tt}")
        elif kind == "same_bits":
            if tx.bits != tt.bits:
                problems.append(f"{x} = {tx} and {t} = {tt} must have the same number of bits")
        elif kind == "same_lanes":
            if tx.lanes != tt.lanes:
                problems.append(f"{x} = {tx} and {t} = {tt} must have the same number of lanes")
    return bindings, problems


_simple_cache: dict[int, bool] = {}


def _is_simple(info: OpcodeInfo) -> bool:
    """Whether every operand's type is exactly the controlling type variable, unconstrained."""
    simple = _simple_cache.get(info.number)
    if simple is None:
        simple = not info.constraints and all(expr == info.ctrl for _, expr in info.operands)
        _simple_cache[info.number] = simple
    return simple


def _show_bindings(bindings: dict[str, Type]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in bindings.items()) or "no type variables"


def verify_function_errors(fn: Function) -> list[tuple[str, str]]:
    """Every verifier error of ``fn`` as ``(location, message)`` pairs; empty when valid."""
    return _Verifier(fn).run()


def verify_function(fn: Function) -> None:
    """Raise :class:`VerifierError` with every error of ``fn``; return None when it is valid."""
    errors = verify_function_errors(fn)
    if errors:
        raise VerifierError(errors, fn.name)


def _inst_text(fn: Function, inst: int) -> str | None:
    try:
        from heron.ir.printer import inst_to_text
    except ImportError:
        return None
    try:
        return inst_to_text(fn, inst)
    except Exception:  # the printer may not cope with broken IR; fall back to the opcode
        return None


class _Verifier:
    __slots__ = ("fn", "dfg", "layout", "errors", "domtree", "entry", "inst_seen", "num_insts")

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.dfg = fn.dfg
        self.layout = fn.layout
        self.errors: list[tuple[str, str]] = []
        self.entry = fn.layout.entry_block()
        self.num_insts = fn.dfg.num_insts
        self.inst_seen = [False] * self.num_insts

    # -- reporting ----------------------------------------------------------
    def inst_loc(self, inst: int) -> str:
        text = _inst_text(self.fn, inst)
        if text is not None:
            return f"inst{inst} ({text})"
        try:
            return f"inst{inst} {opcode_info(self.dfg.insts[inst].opcode).name}"
        except (IndexError, TypeError):
            return f"inst{inst}"

    def report(self, loc: str, msg: str) -> None:
        self.errors.append((loc, msg))

    def report_inst(self, inst: int, msg: str) -> None:
        self.errors.append((self.inst_loc(inst), msg))

    # -- driver -------------------------------------------------------------
    def run(self) -> list[tuple[str, str]]:
        self.check_signature()
        self.check_preamble()
        self.check_entry_block()
        blocks_ok = self.check_layout()
        self.domtree = DominatorTree(self.fn) if blocks_ok else None
        for b in self.layout.blocks:
            if not self.dfg.block_exists(b):
                continue
            reachable = self.domtree is not None and self.domtree.is_reachable(b)
            body = self.layout.block_insts(b)
            last = len(body) - 1
            for i, inst in enumerate(body):
                if 0 <= inst < self.num_insts:
                    self.check_inst(b, inst, i == last, reachable)
        return self.errors

    # -- function level ---------------------------------------------------------
    def check_signature(self) -> None:
        sig = self.fn.signature
        for item, params in (("Parameter", sig.params), ("Return value", sig.returns)):
            for i, p in enumerate(params):
                ext = p.extension
                if ext is not None and not (p.type.is_int and p.type.is_scalar):
                    self.report("function", f"{item} at position {i} has invalid extension {ext}")

    def check_preamble(self) -> None:
        fn = self.fn
        for i, ext in enumerate(fn.func_refs):
            if ext is not None and not _valid_index(fn.sig_refs, ext.signature):
                self.report(f"fn{i}", f"invalid signature reference sig{ext.signature}")
        gvs = fn.global_values
        has_vmctx = any(p.purpose == "vmctx" for p in fn.signature.params)
        cycle_reported = False
        for i, gv in enumerate(gvs):
            if gv is None:
                continue
            if gv.kind in ("load", "iadd_imm"):
                if gv.base is None or not _valid_index(gvs, gv.base):
                    self.report(f"gv{i}", f"invalid base global value gv{gv.base}")
                    continue
                seen = [i]
                cur = gv.base
                while cur is not None and _valid_index(gvs, cur):
                    if cur in seen:
                        if not cycle_reported:
                            self.report(f"gv{i}", "global value cycle: " + ", ".join(f"gv{g}" for g in seen))
                            cycle_reported = True
                        break
                    seen.append(cur)
                    nxt = gvs[cur]
                    cur = nxt.base if nxt is not None and nxt.kind in ("load", "iadd_imm") else None
            if gv.kind == "vmctx" and not has_vmctx:
                self.report(f"gv{i}", f"undeclared vmctx reference gv{i}")
            elif gv.kind == "iadd_imm" and gv.type is not None and not gv.type.is_int:
                self.report(f"gv{i}", f"iadd_imm global value with non-int type {gv.type}")
        for i, dt in enumerate(fn.dynamic_types):
            if dt is None:
                continue
            if not _valid_index(gvs, dt.scale):
                self.report(f"dt{i}", f"invalid global value gv{dt.scale}")
            if dt.base.dynamic() is None:
                self.report(f"dt{i}", f"{dt.base} cannot be scaled into a dynamic vector type")

    def check_entry_block(self) -> None:
        entry = self.entry
        if entry is None or not self.dfg.block_exists(entry):
            return
        params = self.dfg.block_params[entry]
        expected = self.fn.signature.params
        if len(params) != len(expected):
            self.report(f"block{entry}", f"entry block parameters ({len(params)}) must match function signature ({len(expected)})")
        else:
            for i, v in enumerate(params):
                ty = self.dfg.value_type[v]
                if ty is not expected[i].type:
                    self.report(f"block{entry}", f"entry block parameter {i} expected to have type {expected[i].type}, got {ty}")
        if self.layout.is_cold(entry):
            self.report(f"block{entry}", "entry block cannot be marked as cold")

    def check_layout(self) -> bool:
        """Blocks exist, are not empty, own their parameters and instructions; no duplicates."""
        dfg = self.dfg
        ok = True
        seen = self.inst_seen
        for b in self.layout.blocks:
            if not dfg.block_exists(b):
                self.report(f"block{b}", f"block{b} is in the layout but does not exist")
                ok = False
                continue
            for i, v in enumerate(dfg.block_params[b]):
                if not dfg.value_exists(v) or dfg.value_kind[v] != VALUE_PARAM:
                    self.report(f"v{v}", f"block parameter v{v} of block{b} is not a parameter value")
                elif dfg.value_owner[v] != b or dfg.value_index[v] != i:
                    self.report(f"v{v}", f"does not belong to block{b}")
            body = self.layout.block_insts(b)
            if not body:
                self.report(f"block{b}", f"block{b} cannot be empty")
            for inst in body:
                if not 0 <= inst < self.num_insts:
                    self.report(f"block{b}", f"invalid instruction reference inst{inst}")
                    ok = False
                elif seen[inst]:
                    self.report_inst(inst, f"instruction appears twice in the layout (again in block{b})")
                    ok = False
                else:
                    seen[inst] = True
                    if self.layout.inst_block(inst) != b:
                        self.report_inst(inst, f"should belong to block{b} not block{self.layout.inst_block(inst)}")
        return ok

    # -- one instruction -----------------------------------------------------------
    def check_inst(self, b: int, inst: int, is_last: bool, reachable: bool) -> None:
        dfg = self.dfg
        data = dfg.insts[inst]
        try:
            info = opcode_info(data.opcode)
        except (IndexError, TypeError):
            self.report_inst(inst, f"invalid opcode {data.opcode!r}")
            return
        if info.is_terminator and not is_last:
            self.report_inst(inst, f"a terminator instruction was encountered before the end of block{b}")
        if is_last and not info.is_terminator:
            self.report(f"block{b}", "block does not end in a terminator instruction")

        ok = self.check_structure(inst, data, info)
        for v in data.args:
            ok = self.check_use(b, inst, v, reachable) and ok
        if data.dests:
            for k, bc in enumerate(data.dests):
                for a in bc.args:
                    if type(a) is int and a < 0:
                        if info.format != "TryCall" or k == 0:
                            self.report_inst(inst, f"exception payload exn{-a - 1} is only valid on a try_call exceptional edge")
                            ok = False
                    else:
                        ok = self.check_use(b, inst, a, reachable) and ok
        ok = self.check_results(inst) and ok
        ok = self.check_entities(inst, data, info) and ok
        if not ok:
            return  # types of broken references cannot be checked
        if self.typecheck(inst, data, info):
            self.check_immediates(inst, data, info)

    def check_structure(self, inst: int, data: InstData, info: OpcodeInfo) -> bool:
        want = _DEST_COUNT.get(info.format)
        dests = data.dests
        if want is None:
            if dests:
                self.report_inst(inst, f"{info.name} is not a branch but has block destinations")
                return False
        elif dests is None or (want > 0 and len(dests) != want) or not dests:
            self.report_inst(inst, f"{info.name} needs {'at least one' if want < 0 else want} block destination(s)")
            return False
        nfixed = len(info.operands)
        nargs = len(data.args)
        if (info.varargs is None and nargs != nfixed) or nargs < nfixed:
            self.report_inst(inst, f"{info.name} takes {nfixed} value operand(s), found {nargs}")
            return False
        return True

    def check_use(self, b: int, inst: int, v: int, reachable: bool) -> bool:
        dfg = self.dfg
        kinds = dfg.value_kind
        if type(v) is not int or not 0 <= v < len(kinds) or kinds[v] == VALUE_UNUSED:
            self.report_inst(inst, f"invalid value reference v{v}")
            return False
        orig = v
        if kinds[v] == VALUE_ALIAS:
            try:
                orig = dfg.resolve_alias(v)
            except ValueError:
                self.report_inst(inst, f"v{v} is an alias in a cycle")
                return False
            if not dfg.value_exists(orig):
                self.report_inst(inst, f"argument v{v} -> v{orig} is not attached")
                return False
        kind = dfg.value_kind[orig]
        owner = dfg.value_owner[orig]
        if kind == VALUE_RESULT:
            def_block = self.layout.inst_block(owner)
            if def_block is None:
                self.report_inst(inst, f"v{v} is defined by inst{owner} which has no block")
                return False
            if reachable and self.domtree is not None:
                if owner == inst:
                    self.report_inst(inst, f"uses value v{v} from itself")
                elif not self.domtree.inst_dominates(owner, inst):
                    self.report_inst(inst, f"uses value v{v} from non-dominating inst{owner}")
        elif kind == VALUE_PARAM:
            if not dfg.block_exists(owner) or not self.layout.is_block_inserted(owner):
                self.report_inst(inst, f"v{v} is defined by block{owner} which is not in the layout")
                return False
            if dfg.value_index[orig] < 0:
                self.report_inst(inst, f"v{v} was removed from the parameters of block{owner}")
                return False
            if reachable and self.domtree is not None and not self.domtree.dominates(owner, b):
                self.report_inst(inst, f"uses value v{v} from non-dominating block{owner}")
        return True

    def check_results(self, inst: int) -> bool:
        dfg = self.dfg
        ok = True
        for i, r in enumerate(dfg.results[inst]):
            if not dfg.value_exists(r) or dfg.value_kind[r] != VALUE_RESULT or dfg.value_owner[r] != inst or dfg.value_index[r] != i:
                self.report_inst(inst, f"instruction result v{r} is not defined by the instruction")
                ok = False
        return ok

    def check_entities(self, inst: int, data: InstData, info: OpcodeInfo) -> bool:
        fn = self.fn
        fmt = info.format
        aux = data.aux
        ok = True
        if fmt in ("Call", "FuncAddr"):
            ok = self.check_func_ref(inst, aux)
        elif fmt == "CallIndirect":
            if not _valid_index(fn.sig_refs, aux):
                self.report_inst(inst, f"invalid signature reference sig{aux}")
                ok = False
        elif fmt == "TryCall":
            if not (isinstance(aux, tuple) and len(aux) == 2):
                self.report_inst(inst, "try_call needs a (function reference, signature reference) pair")
                return False
            ok = self.check_func_ref(inst, aux[0])
            if not _valid_index(fn.sig_refs, aux[1]):
                self.report_inst(inst, f"invalid signature reference sig{aux[1]}")
                ok = False
        elif fmt in ("StackLoad", "StackStore"):
            if not _valid_index(fn.stack_slots, aux):
                self.report_inst(inst, f"invalid stack slot ss{aux}")
                ok = False
        elif fmt == "UnaryGlobalValue":
            if not _valid_index(fn.global_values, aux):
                self.report_inst(inst, f"invalid global value gv{aux}")
                ok = False
        elif fmt in _MEMFLAG_FORMATS:
            if not isinstance(aux, MemFlags):
                self.report_inst(inst, f"{info.name} needs memory flags, found {aux!r}")
                ok = False
        elif fmt in ("Trap", "CondTrap"):
            if not is_trap_code(aux):
                self.report_inst(inst, f"invalid trap code {aux!r}")
                ok = False
        if data.dests:
            for bc in data.dests:
                d = bc.block
                if type(d) is not int or not self.dfg.block_exists(d) or not self.layout.is_block_inserted(d):
                    self.report_inst(inst, f"invalid block reference block{d}")
                    ok = False
                elif d == self.entry:
                    self.report_inst(inst, f"invalid reference to entry block block{d}")
        return ok

    def check_func_ref(self, inst: int, ref: object) -> bool:
        fn = self.fn
        if not _valid_index(fn.func_refs, ref):
            self.report_inst(inst, f"invalid function reference fn{ref}")
            return False
        ext = fn.func_refs[ref]  # type: ignore[index]
        return ext is not None and _valid_index(fn.sig_refs, ext.signature)

    # -- types ----------------------------------------------------------------
    def typecheck(self, inst: int, data: InstData, info: OpcodeInfo) -> bool:
        """Report type errors; False when the controlling type is missing (immediates then unchecked)."""
        dfg = self.dfg
        vt = dfg.value_type
        args = data.args
        nfixed = len(info.operands)
        ctrl_type = data.ctrl_type
        if info.ctrl is not None:
            fixed = args[:nfixed]
            bindings, problems = typecheck_operands(info, ctrl_type, [vt[a] for a in fixed], fixed)  # type: ignore[misc]
            for p in problems:
                self.report_inst(inst, p)
            if ctrl_type is None:
                return False
            self.check_dynamic_type(inst, ctrl_type)
        else:
            bindings = {}
        sig = self.callee_signature(data, info)
        if sig is not None:
            # A tail call returns nothing here; a try_call passes its results to its
            # normal-return block instead of defining values.
            expected = [p.type for p in sig.returns] if not (info.is_return or info.is_branch) else []
            self.check_call_args(inst, info, args[nfixed:], sig)
        else:
            expected = []
            for name, expr in info.results:
                ty = resolve_type_expr(expr, bindings)
                if ty is None:
                    self.report_inst(inst, f"cannot derive the type {expr} of result {name} from {_show_bindings(bindings)}")
                    return True
                expected.append(ty)
        results = dfg.results[inst]
        if len(results) != len(expected):
            self.report_inst(inst, f"expected {len(expected)} result values, found {len(results)}")
        else:
            for i, r in enumerate(results):
                if vt[r] is not expected[i]:
                    self.report_inst(inst, f"expected result {i} (v{r}) to have type {expected[i]}, found {vt[r]}")
        if data.dests:
            for bc in data.dests:
                self.check_block_call(inst, bc)
        if info.name == "return":
            self.check_returns(inst, [vt[a] for a in args], "arguments of return must match function signature")
        elif info.is_return and sig is not None:
            if sig.call_conv != self.fn.signature.call_conv:
                self.report_inst(inst, "callee's calling convention must match caller")
            self.check_returns(inst, [p.type for p in sig.returns], "results of callee must match caller")
        return True

    def check_dynamic_type(self, inst: int, ty: Type) -> None:
        if ty.is_dynamic and not any(dt is not None and dt.type is ty for dt in self.fn.dynamic_types):
            self.report_inst(inst, f"dynamic type {ty} is not declared (dtN = {ty.static()}*gvM)")

    def callee_signature(self, data: InstData, info: OpcodeInfo) -> Signature | None:
        if not info.is_call:
            return None
        fn = self.fn
        fmt = info.format
        if fmt == "CallIndirect":
            return fn.sig_refs[data.aux]  # type: ignore[index]
        fref = data.aux[0] if fmt == "TryCall" else data.aux  # type: ignore[index]
        ext = fn.func_refs[fref]  # type: ignore[index]
        return fn.sig_refs[ext.signature] if ext is not None else None

    def check_call_args(self, inst: int, info: OpcodeInfo, args: list[int], sig: Signature) -> None:
        vt = self.dfg.value_type
        params = sig.params
        if len(args) != len(params):
            self.report_inst(inst, f"mismatched argument count for {info.name}: got {len(args)}, expected {len(params)}")
            return
        for i, a in enumerate(args):
            if vt[a] is not params[i].type:
                self.report_inst(inst, f"arg {i} (v{a}) has type {vt[a]}, expected {params[i].type}")

    def check_block_call(self, inst: int, bc: BlockCall) -> None:
        dfg = self.dfg
        params = dfg.block_params[bc.block]
        args = bc.args
        if len(args) != len(params):
            self.report_inst(inst, f"mismatched argument count for block{bc.block}: got {len(args)}, expected {len(params)}")
            return
        vt = dfg.value_type
        for i, a in enumerate(args):
            if a >= 0 and vt[a] is not vt[params[i]]:
                self.report_inst(inst, f"arg {i} (v{a}) to block{bc.block} has type {vt[a]}, expected {vt[params[i]]}")

    def check_returns(self, inst: int, actual: list[Type | None], message: str) -> None:
        expected = self.fn.signature.returns
        if len(actual) != len(expected):
            self.report_inst(inst, f"{message} (got {len(actual)} values, expected {len(expected)})")
            return
        for i, ty in enumerate(actual):
            if ty is not expected[i].type:
                self.report_inst(inst, f"result {i} has type {ty}, must match function signature of {expected[i].type}")

    # -- immediates ------------------------------------------------------------------
    def check_immediates(self, inst: int, data: InstData, info: OpcodeInfo) -> None:
        fmt = info.format
        imm = data.imm
        name = info.name
        if fmt == "UnaryImm":
            if not _is_int(imm) or not iconst_imm_valid(imm, data.ctrl_type):  # type: ignore[arg-type]
                self.report_inst(inst, "constant immediate is out of bounds")
        elif fmt.startswith("UnaryIeee"):
            bits = int(fmt[len("UnaryIeee") :])
            if not _is_int(imm) or not 0 <= imm < (1 << bits):  # type: ignore[operator]
                self.report_inst(inst, f"float immediate {imm!r} is not a {bits}-bit pattern")
        elif fmt in ("BinaryImm8", "TernaryImm8"):
            ty = data.ctrl_type
            if not _is_int(imm) or not 0 <= imm < 256:  # type: ignore[operator]
                self.report_inst(inst, f"lane immediate {imm!r} is not a uimm8")
            elif name in _LANE_OPCODES and ty is not None and imm >= ty.lanes:  # type: ignore[operator]
                self.report_inst(inst, f"The lane {imm} does not index into the type {ty}")
        elif fmt == "Shuffle":
            if not _is_int(imm) or not 0 <= imm < (1 << 128):  # type: ignore[operator]
                self.report_inst(inst, "the shuffle immediate wasn't 16-bytes long")
            else:
                for k in range(16):
                    byte = (imm >> (8 * k)) & 0xFF  # type: ignore[operator]
                    if byte >= 32:
                        self.report_inst(inst, f"shuffle immediate index {byte} is larger than the maximum 31")
                        break
        elif fmt in ("IntCompare", "FloatCompare", "AtomicRmw"):
            from heron.ir import opcodes as op

            names = {"IntCompare": op.INTCC, "FloatCompare": op.FLOATCC, "AtomicRmw": op.ATOMICRMWOP}[fmt]
            if not _is_int(imm) or not 0 <= imm < len(names):  # type: ignore[operator]
                what = "atomic operation" if fmt == "AtomicRmw" else "condition code"
                self.report_inst(inst, f"invalid {what} index {imm!r}")
        elif fmt in ("Load", "Store", "StackLoad", "StackStore"):
            if not _is_int(imm) or not -(1 << 31) <= imm < (1 << 31):  # type: ignore[operator]
                self.report_inst(inst, f"offset {imm!r} is not a 32-bit signed offset")
        elif fmt == "TryCall":
            handlers = len(data.dests) - 1  # type: ignore[arg-type]
            if not isinstance(imm, tuple) or len(imm) != handlers or not all(t is None or (_is_int(t) and t >= 0) for t in imm):
                self.report_inst(inst, f"try_call needs one handler tag per exception handler block ({handlers}), found {imm!r}")
        if fmt in ("Store", "StoreNoOffset") and data.aux.readonly:  # type: ignore[union-attr]
            self.report_inst(inst, "A store instruction cannot have the `readonly` MemFlag")
        if name == "bitcast":
            self.check_bitcast(inst, data)

    def check_bitcast(self, inst: int, data: InstData) -> None:
        flags: MemFlags = data.aux  # type: ignore[assignment]
        ty = data.ctrl_type
        arg_ty = self.dfg.value_type[data.args[0]]
        if ty is None or arg_ty is None:
            return
        endian = flags.endianness
        plain = MemFlags.parse_words([endian] if endian else [])
        if flags != plain:
            self.report_inst(inst, "The bitcast instruction only accepts the `big` or `little` memory flags")
        elif endian is None and ty.lanes != arg_ty.lanes:
            self.report_inst(inst, "Byte order specifier required for bitcast instruction changing lane count")


def _valid_index(table: list, index: object) -> bool:
    return isinstance(index, int) and 0 <= index < len(table) and table[index] is not None


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
