"""Describe the ``ins.<opcode>(...)`` builder method of every opcode, per format.

The template ``ir_builder.py.j2`` renders these descriptions; this module only
decides each method's parameters and how they fill an ``InstData``.

Example::

    >>> from heron.meta.irspec import load_ir_spec
    >>> m = {d.name: d for d in builder_methods(load_ir_spec())}
    >>> m["iadd"].params, m["iconst"].params
    ('x: Value, y: Value', 'ty: Type, imm: int')
"""

from __future__ import annotations

from dataclasses import dataclass

from heron.meta.irspec import IRSpec, OpcodeSpec

__all__ = ["BuilderMethod", "builder_methods"]

_KEYWORDS = {"return", "and", "or", "not", "if", "else", "in", "is", "lambda"}


@dataclass
class BuilderMethod:
    name: str  # Python method name (``return_`` for ``return``)
    opcode: str
    doc: str
    params: str  # parameter list without ``self``
    ctrl: str  # Python expression for the controlling type
    args: str  # Python expression for the value operand list
    imm: str
    aux: str
    dests: str
    returns: str  # "inst", "value", "values"
    return_type: str


def _ctrl_expr(op: OpcodeSpec, spec: IRSpec) -> tuple[str, bool]:
    """(expression for the controlling type, whether a ``ty`` parameter is needed)."""
    if op.ctrl is None:
        return "None", False
    if op.infer >= 0:
        return f"self._value_type({op.operands[op.infer][0]})", False
    types = op.typevars[op.ctrl]
    if len(types) == 1:
        return f"_types.{types[0].upper()}", False
    return "ty", True


def builder_methods(spec: IRSpec) -> list[BuilderMethod]:
    out = []
    for op in spec.opcodes:
        out.append(_method(op, spec))
    return out


def _method(op: OpcodeSpec, spec: IRSpec) -> BuilderMethod:
    ctrl, needs_ty = _ctrl_expr(op, spec)
    fmt = op.format
    opconst = f"_ops.{op.name.upper()}"
    operand_names = [n for n, _ in op.operands]
    params: list[str] = ["ty: Type"] if needs_ty else []
    imm = aux = dests = "None"
    args = "[" + ", ".join(operand_names) + "]"
    vals = [f"{n}: Value" for n in operand_names]

    if fmt in ("Nullary", "Unary", "Binary", "Ternary"):
        params += vals
    elif fmt == "UnaryImm":
        params += ["imm: int"]
        imm = "imm"
    elif fmt.startswith("UnaryIeee"):
        params += ["bits: int"]
        imm = "bits"
    elif fmt == "UnaryConst":
        params += ["value: int"]
        imm = "value"
    elif fmt == "UnaryGlobalValue":
        params += ["gv: int"]
        aux = "gv"
    elif fmt in ("BinaryImm8", "TernaryImm8"):
        params += vals + ["lane: int"]
        imm = "lane"
    elif fmt == "BinaryImm64":
        params += vals + ["imm: int"]
        imm = "imm & 0xFFFF_FFFF_FFFF_FFFF"
    elif fmt == "Shuffle":
        params += vals + ["mask: int"]
        imm = "mask"
    elif fmt == "IntCompare":
        params += ["cond: str | int"] + vals
        imm = f"self._enum_index({opconst}, _ops.INTCC, cond)"
    elif fmt == "FloatCompare":
        params += ["cond: str | int"] + vals
        imm = f"self._enum_index({opconst}, _ops.FLOATCC, cond)"
    elif fmt == "Jump":
        params += ["block: int", "args: Sequence[Value] = ()"]
        dests = "[BlockCall(block, list(args))]"
    elif fmt == "Brif":
        params += vals + ["then_block: int", "then_args: Sequence[Value]", "else_block: int", "else_args: Sequence[Value]"]
        dests = "[BlockCall(then_block, list(then_args)), BlockCall(else_block, list(else_args))]"
    elif fmt == "BranchTable":
        params += vals + ["default: BlockTarget", "table: Sequence[BlockTarget]"]
        dests = "[self._block_call(default), *(self._block_call(b) for b in table)]"
    elif fmt == "MultiAry":
        params += [f"*{op.varargs}: Value"]
        args = f"list({op.varargs})"
    elif fmt == "Call":
        params += ["func_ref: int", f"{op.varargs}: Sequence[Value] = ()"]
        aux = "func_ref"
        args = f"list({op.varargs})"
    elif fmt == "CallIndirect":
        params += ["sig_ref: int"] + vals + [f"{op.varargs}: Sequence[Value] = ()"]
        aux = "sig_ref"
        args = f"[{operand_names[0]}, *{op.varargs}]"
    elif fmt == "TryCall":
        # destinations: the normal-return block, then one handler block per tag
        # (a tag number, or None for ``default``).
        params += [
            "func_ref: int",
            f"{op.varargs}: Sequence[Value]",
            "sig_ref: int",
            "destinations: Sequence[BlockCall]",
            "tags: Sequence[int | None] = ()",
        ]
        imm = "tuple(tags)"
        aux = "(func_ref, sig_ref)"
        args = f"list({op.varargs})"
        dests = "list(destinations)"
    elif fmt == "FuncAddr":
        params += ["func_ref: int"]
        aux = "func_ref"
    elif fmt == "Load":
        params += ["flags: MemFlags | str"] + vals + ["offset: int = 0"]
        imm, aux = "offset", f"self._memflags({opconst}, flags)"
    elif fmt == "Store":
        params += ["flags: MemFlags | str"] + vals + ["offset: int = 0"]
        imm, aux = "offset", f"self._memflags({opconst}, flags)"
    elif fmt in ("LoadNoOffset", "StoreNoOffset", "AtomicCas"):
        params += ["flags: MemFlags | str"] + vals
        aux = f"self._memflags({opconst}, flags)"
    elif fmt == "AtomicRmw":
        params += ["flags: MemFlags | str", "op: str | int"] + vals
        imm, aux = f"self._enum_index({opconst}, _ops.ATOMICRMWOP, op)", f"self._memflags({opconst}, flags)"
    elif fmt == "StackLoad":
        params += ["slot: int", "offset: int = 0"]
        imm, aux = "offset", "slot"
    elif fmt == "StackStore":
        params += vals + ["slot: int", "offset: int = 0"]
        imm, aux = "offset", "slot"
    elif fmt == "Trap":
        params += ["code: str"]
        aux = "code"
    elif fmt == "CondTrap":
        params += vals + ["code: str"]
        aux = "code"
    else:  # pragma: no cover - a new format needs a case here
        raise ValueError(f"no builder shape for format {fmt}")

    if op.format in ("Call", "CallIndirect"):
        returns, rtype = "values", "tuple[Value, ...]"
    elif len(op.results) == 0:
        returns, rtype = "inst", "Inst"
    elif len(op.results) == 1:
        returns, rtype = "value", "Value"
    else:
        returns, rtype = "values", "tuple[Value, ...]"
    name = op.name + "_" if op.name in _KEYWORDS else op.name
    return BuilderMethod(name, op.name, op.doc, ", ".join(params), ctrl, args, imm, aux, dests, returns, rtype)
