"""The CLIF printer: a :class:`heron.ir.function.Function` (or a test file) back to text.

The text is Cranelift's (``cranelift/codegen/src/write.rs``): the signature
with its calling convention, the preamble (stack slots, global values,
dynamic types, signatures, then functions, then the stack limit), and blocks
separated by blank lines, instructions indented by four spaces.  Constants
print inline as full-width hex (``vconst.i32x4 0x00000004...``); value
aliases print right after the value they alias.  The ``.type`` suffix is
printed only where the opcode cannot infer it.  Parsing the text gives the
same function again, so print -> parse -> print is the identity.

Example::

    >>> from heron.ir.parser import parse_functions
    >>> [fn] = parse_functions('''
    ... function %f(i32) -> i32 {
    ...     fn0 = %g(i32) -> i32
    ... block0(v0: i32):
    ...     v1 = iconst.i32 -1
    ...     v2 = call fn0(v1)
    ...     v3 = iadd.i32 v0, v2
    ...     return v3
    ... }''')
    >>> print(function_to_text(fn), end="")
    function %f(i32) -> i32 fast {
        sig0 = (i32) -> i32 fast
        fn0 = %g sig0
    <BLANKLINE>
    block0(v0: i32):
        v1 = iconst.i32 0xffff_ffff
        v2 = call fn0(v1)
        v3 = iadd v0, v2
        return v3
    }
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from heron.generated.ir_opcodes import ATOMICRMWOP, FLOATCC, INTCC
from heron.ir.dfg import VALUE_ALIAS
from heron.ir.entities import GlobalValueData, StackSlotData
from heron.ir.immediates import format_float, format_imm64, format_offset32, format_uimm
from heron.ir.instructions import BlockCall, InstData, opcode_info
from heron.ir.types import Type

if TYPE_CHECKING:
    from heron.ir.function import Function
    from heron.ir.testfile import TestFile

__all__ = ["function_to_text", "test_file_to_text", "inst_to_text", "value_to_text", "block_call_to_text"]

_INDENT = "    "


def value_to_text(v: int) -> str:
    """``v3``; a negative block-call argument ``-(i + 1)`` is the exception payload ``exn<i>``."""
    return f"v{v}" if v >= 0 else f"exn{-v - 1}"


def block_call_to_text(bc: BlockCall) -> str:
    """``block2`` or ``block2(v1, v3)``."""
    if not bc.args:
        return f"block{bc.block}"
    return f"block{bc.block}(" + ", ".join(value_to_text(a) for a in bc.args) + ")"


def function_to_text(fn: Function) -> str:
    """The CLIF text of ``fn``, ending with a newline."""
    out = [f"function {fn.name}{fn.signature} {{\n"]
    preamble = _preamble(fn)
    out.extend(preamble)
    aliases = _alias_map(fn)
    dfg = fn.dfg
    any_lines = bool(preamble)
    for block in fn.layout.blocks:
        if any_lines:
            out.append("\n")
        any_lines = True
        params = dfg.block_params[block]
        header = f"block{block}"
        if params:
            header += "(" + ", ".join(f"v{v}: {_type_name(fn, dfg.value_type[v])}" for v in params) + ")"
        if fn.layout.is_cold(block):
            header += " cold"
        out.append(header + ":\n")
        for v in params:
            _write_aliases(out, aliases, v)
        for inst in fn.layout.block_insts(block):
            out.append(_INDENT + inst_to_text(fn, inst) + "\n")
            for v in dfg.results[inst]:
                _write_aliases(out, aliases, v)
    out.append("}\n")
    return "".join(out)


def test_file_to_text(tf: TestFile) -> str:
    """A test file in canonical form: header lines, then each function and its run commands."""
    out = [str(h) + "\n" for h in tf.header]
    for item in tf.items:
        if out:
            out.append("\n")
        out.append(function_to_text(item.function))
        out.extend(f"; {cmd}\n" for cmd in item.commands)
    return "".join(out)


# -- preamble ----------------------------------------------------------------------

def _preamble(fn: Function) -> list[str]:
    lines: list[str] = []
    for i, ss in enumerate(fn.stack_slots):
        if ss is not None:
            lines.append(f"{_INDENT}ss{i} = {_stack_slot(ss)}\n")
    for i, gv in enumerate(fn.global_values):
        if gv is not None:
            lines.append(f"{_INDENT}gv{i} = {_global_value(gv)}\n")
    for i, dt in enumerate(fn.dynamic_types):
        if dt is not None:
            lines.append(f"{_INDENT}dt{i} = {dt.base}*gv{dt.scale}\n")
    for i, sig in enumerate(fn.sig_refs):
        if sig is not None:
            lines.append(f"{_INDENT}sig{i} = {sig}\n")
    for i, ext in enumerate(fn.func_refs):
        if ext is not None:
            colocated = "colocated " if ext.colocated else ""
            lines.append(f"{_INDENT}fn{i} = {colocated}{ext.name} sig{ext.signature}\n")
    if fn.stack_limit is not None:
        lines.append(f"{_INDENT}stack_limit = gv{fn.stack_limit}\n")
    return lines


def _stack_slot(ss: StackSlotData) -> str:
    text = f"{ss.kind} {ss.size}"
    if ss.align_shift:
        text += f", align = {1 << ss.align_shift}"
    if ss.key is not None:
        text += f", key = {ss.key}"
    return text


def _global_value(gv: GlobalValueData) -> str:
    kind = gv.kind
    if kind == "load":
        flags = f" {gv.flags}" if gv.flags is not None and str(gv.flags) else ""
        return f"load.{gv.type}{flags} gv{gv.base}{format_offset32(gv.offset)}"
    if kind == "iadd_imm":
        return f"iadd_imm.{gv.type} gv{gv.base}, {format_imm64(gv.offset)}"
    if kind == "symbol":
        words = ["symbol"] + (["colocated"] if gv.colocated else []) + (["tls"] if gv.tls else [])
        # A user name's index would run into a signed offset (``u1:9-16`` is one number).
        gap = " " if gv.offset and not gv.name.startswith("%") else ""  # type: ignore[union-attr]
        return " ".join(words) + f" {gv.name}{gap}{_signed_imm64(gv.offset)}"
    if kind == "dyn_scale_target_const":
        return f"dyn_scale_target_const.{gv.type}"
    return kind


def _signed_imm64(value: int) -> str:
    """An optional symbol offset that reads back: ``''``, ``+8``, ``-0x2710``."""
    if value == 0:
        return ""
    return ("+" if value > 0 else "-") + format_uimm(abs(value))


# -- instructions ---------------------------------------------------------------------

def inst_to_text(fn: Function, inst: int) -> str:
    """One instruction without indentation: ``v3 = iadd v1, v2``."""
    dfg = fn.dfg
    data = dfg.insts[inst]
    info = opcode_info(data.opcode)
    results = dfg.results[inst] if inst < len(dfg.results) else []
    text = ", ".join(f"v{v}" for v in results) + " = " if results else ""
    text += info.name
    if info.requires_type_suffix and data.ctrl_type is not None:
        text += "." + _type_name(fn, data.ctrl_type)
    return text + _OPERANDS[info.format](fn, data)


def _type_name(fn: Function, ty: Type | None) -> str:
    """A type as the text names it: a dynamic vector by its preamble entity (``dt0``)."""
    if ty is None:
        return "<untyped>"
    if ty.is_dynamic:
        for i, dt in enumerate(fn.dynamic_types):
            if dt is not None and dt.type is ty:
                return f"dt{i}"
    return ty.name


def _alias_map(fn: Function) -> dict[int, list[int]]:
    """Value -> the values that alias it directly, in value order."""
    dfg = fn.dfg
    out: dict[int, list[int]] = {}
    for v, kind in enumerate(dfg.value_kind):
        if kind == VALUE_ALIAS:
            out.setdefault(dfg.value_owner[v], []).append(v)
    return out


def _write_aliases(out: list[str], aliases: dict[int, list[int]], target: int) -> None:
    if not aliases:
        return
    todo = [target]
    while todo:
        t = todo.pop()
        for a in aliases.get(t, ()):
            out.append(f"{_INDENT}v{a} -> v{t}\n")
            todo.append(a)


def _vals(args: list[int]) -> str:
    return ", ".join(f"v{a}" for a in args)


def _flags(data: InstData) -> str:
    text = str(data.aux) if data.aux is not None else ""
    return " " + text if text else ""


def _offset(data: InstData) -> str:
    return format_offset32(data.imm) if data.imm else ""  # type: ignore[arg-type]


def _const(fn: Function, data: InstData) -> str:
    ty = data.ctrl_type
    if ty is not None and ty.is_float and ty.is_scalar:
        return " " + format_float(ty.bits, data.imm)  # type: ignore[arg-type]
    nbytes = ty.bytes if ty is not None else 16
    return f" 0x{data.imm:0{2 * nbytes}x}"


def _imm(fn: Function, data: InstData) -> str:
    ty = data.ctrl_type
    value: int = data.imm  # type: ignore[assignment]
    if ty is not None and ty.bits > 64:
        value &= (1 << 64) - 1
    return " " + format_imm64(value)


def _ieee(bits: int) -> Callable[[Function, InstData], str]:
    return lambda fn, d: " " + format_float(bits, d.imm)  # type: ignore[arg-type]


def _try_call(fn: Function, d: InstData) -> str:
    fn_ref, sig_ref = d.aux  # type: ignore[misc]
    dests = d.dests or []
    tags = d.imm or ()
    handlers = []
    for tag, bc in zip(tags, dests[1:]):  # type: ignore[arg-type]
        label = "default" if tag is None else f"tag{tag}"
        handlers.append(f"{label}: {block_call_to_text(bc)}")
    table = "[ " + ", ".join(handlers) + " ]" if handlers else "[]"
    return f" fn{fn_ref}({_vals(d.args)}), sig{sig_ref}, {block_call_to_text(dests[0])}, {table}"


_OPERANDS: dict[str, Callable[[Function, InstData], str]] = {
    "Nullary": lambda fn, d: "",
    "Unary": lambda fn, d: f" v{d.args[0]}",
    "UnaryImm": _imm,
    "UnaryIeee16": _ieee(16),
    "UnaryIeee32": _ieee(32),
    "UnaryIeee64": _ieee(64),
    "UnaryConst": _const,
    "UnaryGlobalValue": lambda fn, d: f" gv{d.aux}",
    "Binary": lambda fn, d: f" v{d.args[0]}, v{d.args[1]}",
    "BinaryImm8": lambda fn, d: f" v{d.args[0]}, {d.imm}",
    "BinaryImm64": lambda fn, d: f" v{d.args[0]}, {format_imm64(d.imm)}",  # type: ignore[arg-type]
    "Ternary": lambda fn, d: f" v{d.args[0]}, v{d.args[1]}, v{d.args[2]}",
    "TernaryImm8": lambda fn, d: f" v{d.args[0]}, v{d.args[1]}, {d.imm}",
    "Shuffle": lambda fn, d: f" v{d.args[0]}, v{d.args[1]}, 0x{d.imm:032x}",
    "IntCompare": lambda fn, d: f" {INTCC[d.imm]} v{d.args[0]}, v{d.args[1]}",  # type: ignore[index]
    "FloatCompare": lambda fn, d: f" {FLOATCC[d.imm]} v{d.args[0]}, v{d.args[1]}",  # type: ignore[index]
    "Jump": lambda fn, d: " " + block_call_to_text(d.dests[0]),  # type: ignore[index]
    "Brif": lambda fn, d: f" v{d.args[0]}, {block_call_to_text(d.dests[0])}, {block_call_to_text(d.dests[1])}",  # type: ignore[index]
    "BranchTable": lambda fn, d: (f" v{d.args[0]}, {block_call_to_text(d.dests[0])}, ["  # type: ignore[index]
                                  + ", ".join(block_call_to_text(bc) for bc in d.dests[1:]) + "]"),  # type: ignore[index]
    "MultiAry": lambda fn, d: " " + _vals(d.args) if d.args else "",
    "Call": lambda fn, d: f" fn{d.aux}({_vals(d.args)})",
    "CallIndirect": lambda fn, d: f" sig{d.aux}, v{d.args[0]}({_vals(d.args[1:])})",
    "TryCall": _try_call,
    "FuncAddr": lambda fn, d: f" fn{d.aux}",
    "Load": lambda fn, d: f"{_flags(d)} v{d.args[0]}{_offset(d)}",
    "Store": lambda fn, d: f"{_flags(d)} v{d.args[0]}, v{d.args[1]}{_offset(d)}",
    "LoadNoOffset": lambda fn, d: f"{_flags(d)} v{d.args[0]}",
    "StoreNoOffset": lambda fn, d: f"{_flags(d)} v{d.args[0]}, v{d.args[1]}",
    "AtomicRmw": lambda fn, d: f"{_flags(d)} {ATOMICRMWOP[d.imm]} v{d.args[0]}, v{d.args[1]}",  # type: ignore[index]
    "AtomicCas": lambda fn, d: f"{_flags(d)} v{d.args[0]}, v{d.args[1]}, v{d.args[2]}",
    "StackLoad": lambda fn, d: f" ss{d.aux}{_offset(d)}",
    "StackStore": lambda fn, d: f" v{d.args[0]}, ss{d.aux}{_offset(d)}",
    "Trap": lambda fn, d: f" {d.aux}",
    "CondTrap": lambda fn, d: f" v{d.args[0]}, {d.aux}",
}
