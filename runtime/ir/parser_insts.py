"""Instruction operands of CLIF text, one reader per instruction format.

The parser (:mod:`heron.ir.parser`) reads the results, the opcode and the type
suffix; the reader of the opcode's format reads the rest into an
:class:`~heron.ir.instructions.InstData` (slot meanings in the docstring of
:mod:`heron.ir.instructions`)::

    v3 = load.i64 notrap aligned v1+8          Load: imm = 8, aux = MemFlags, args = [v1]
    v4 = icmp ult v2, v3                       IntCompare: imm = index of 'ult' in INTCC
    v5 = vconst.i32x4 [1 2 3 4]                UnaryConst: imm = 0x00000004_00000003_00000002_00000001
    br_table v0, block1, [block2, block3(v4)]  BranchTable: dests = [block1, block2, block3(v4)]
    try_call fn0(v0), sig0, block1, [ tag1: block2(exn0) ]
                                               TryCall: aux = (0, 0), imm = (1,), dests = [block1, block2(exn0)]

Values are recorded where they are used (undefined ones are reported once
the function is read, since CLIF allows forward references); so are branch
destinations.

Example::

    >>> from heron.ir.parser import parse_functions
    >>> [fn] = parse_functions("function %f(i64) {\\nblock0(v0: i64):\\n  store big v0, v0-4\\n  return\\n}")
    >>> data = fn.dfg.insts[0]
    >>> data.args, data.imm, str(data.aux)
    ([0, 0], -4, 'big')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from heron.generated.ir_opcodes import ATOMICRMWOP, FLOATCC, INTCC
from heron.ir.instructions import BlockCall, InstData, OpcodeInfo
from heron.ir.lexer import TokenStream
from heron.ir.memflags import MemFlags
from heron.ir.trapcode import canonical_trap_code
from heron.ir.types import F128, Type, type_by_name

if TYPE_CHECKING:
    from heron.ir.parser import Parser, _Body

__all__ = ["parse_operands", "parse_memflags", "parse_trap_code"]

_ALIAS_REGIONS = ("heap", "table", "vmctx")
_I8X16: Type = type_by_name("i8x16")  # type: ignore[assignment]
_INTCC = {name: i for i, name in enumerate(INTCC)}
_FLOATCC = {name: i for i, name in enumerate(FLOATCC)}
_ATOMICRMWOP = {name: i for i, name in enumerate(ATOMICRMWOP)}

Reader = Callable[["Parser", "_Body", OpcodeInfo, "Type | None"], InstData]


def parse_operands(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    """Read the operands of ``info``'s format; ``ctrl`` is the type suffix (if any)."""
    return _READERS[info.format](p, body, info, ctrl)


def parse_trap_code(ts: TokenStream) -> str:
    """A trap code: ``stk_ovf``, ``heap_oob``, ``int_ovf``, ``int_divz``, ``bad_toint`` or ``userN``."""
    tok = ts.tok
    code = canonical_trap_code(tok.text) if tok.kind == "ident" else None
    if code is None:
        raise ts.error_expected("expected a trap code (int_divz, heap_oob, user1, ...)")
    ts.advance()
    return code




def parse_memflags(ts: TokenStream) -> MemFlags:
    """A possibly empty run of memory flag words and at most one trap code."""
    words: list[str] = []
    trap_code: str | None = None
    while ts.tok.kind == "ident":
        word = ts.tok.text
        if MemFlags.is_word(word):
            if word in ("little", "big") and ("big" if word == "little" else "little") in words:
                raise ts.error("memory flags cannot be both 'big' and 'little'")
            if word in _ALIAS_REGIONS and any(r in words for r in _ALIAS_REGIONS if r != word):
                raise ts.error("memory flags can name only one alias region (heap, table, vmctx)")
            words.append(word)
        else:
            code = canonical_trap_code(word)
            if code is None:
                break
            if trap_code is not None and trap_code != code:
                raise ts.error(f"memory flags can have only one trap code ({trap_code} and {code})")
            trap_code = code
        if trap_code is not None and "notrap" in words:
            raise ts.error(f"memory flags cannot be both 'notrap' and trap with {trap_code}")
        ts.advance()
    flags = MemFlags.parse_words(words)
    # heap_oob is the trap code of every access that may trap: not written, as in Cranelift.
    if trap_code is not None and trap_code != "heap_oob":
        flags = MemFlags(flags.bits, trap_code)
    return flags


# -- operand pieces ------------------------------------------------------------------

def _value(p: Parser, body: _Body, message: str = "expected a value operand") -> int:
    tok = p.ts.expect("value", message)
    body.uses.append(tok)
    return tok.value  # type: ignore[return-value]


def _comma(p: Parser) -> None:
    p.ts.expect(",", "expected ',' between operands")


def _value_list(p: Parser, body: _Body) -> list[int]:
    ts = p.ts
    if not ts.at("value"):
        return []
    out = [_value(p, body)]
    while ts.optional(","):
        out.append(_value(p, body, "expected a value in the argument list"))
    return out


def _call_args(p: Parser, body: _Body) -> list[int]:
    p.ts.expect("(", "expected '(' before the arguments")
    args = _value_list(p, body)
    p.ts.expect(")", "expected ')' after the arguments")
    return args


def _block_call(p: Parser, body: _Body, message: str, allow_exn: bool = False) -> BlockCall:
    ts = p.ts
    tok = ts.expect("block", message)
    body.block_refs.append(tok)
    args: list[int] = []
    if ts.optional("("):
        while not ts.at(")"):
            arg = ts.tok
            if arg.kind == "value":
                args.append(_value(p, body))
            elif arg.kind == "exn" and allow_exn:
                ts.advance()
                args.append(-arg.value - 1)  # type: ignore[operator]
            elif arg.kind in ("exn", "ret"):
                where = "block arguments" if arg.kind == "ret" else "block arguments outside a try_call handler"
                raise ts.error(f"'{arg.text}' is not supported in {where}")
            else:
                raise ts.error_expected("expected a block argument")
            if not ts.optional(","):
                break
        ts.expect(")", "expected ')' after the block arguments")
    return BlockCall(tok.value, args)  # type: ignore[arg-type]


def _lane(p: Parser) -> int:
    ts = p.ts
    tok = ts.tok
    value = ts.int_literal(8, "an 8-bit lane index")
    if tok.text.startswith("-"):
        raise ts.error(f"lane index {tok.text} is negative", tok)
    return value


def _entity(p: Parser, body: _Body, kind: str, what: str) -> int:
    ts = p.ts
    tok = ts.expect(kind, f"expected {what}")
    if (kind, tok.value) not in body.defined:
        raise ts.error(f"undefined {what} {tok.text}", tok)
    return tok.value  # type: ignore[return-value]


def _enum(p: Parser, table: dict[str, int], what: str) -> int:
    ts = p.ts
    tok = ts.tok
    if tok.kind != "ident" or tok.text not in table:
        raise ts.error_expected(f"expected {what}")
    ts.advance()
    return table[tok.text]


# -- one reader per format -------------------------------------------------------------

def _nullary(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    return InstData(info.number)


def _unary(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    return InstData(info.number, None, [_value(p, body)])


def _unary_imm(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    assert ctrl is not None
    if ctrl.bits > 64:
        # The immediate is an Imm64, sign-extended to the wider type.
        value = p.ts.int_literal(64, f"an immediate for {info.name}.{ctrl}")
        if value >> 63:
            value |= ctrl.mask ^ ((1 << 64) - 1)
    else:
        value = p.ts.int_literal(ctrl.bits, f"an immediate for {info.name}.{ctrl}")
    return InstData(info.number, None, [], value)


def _unary_ieee(bits: int) -> Reader:
    def read(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
        return InstData(info.number, None, [], p.ts.float_literal(bits, f"an f{bits} immediate"))

    return read


def _unary_const(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    assert ctrl is not None
    ts = p.ts
    tok = ts.tok
    if tok.kind == "const":
        number = _entity(p, body, "const", "constant")
        value, size = body.constants[number]
        if size > ctrl.bytes:
            raise ts.error(f"constant {tok.text} has {size} bytes; {ctrl} has {ctrl.bytes}", tok)
    elif ctrl is F128:
        value = ts.hex_constant(16, "f128") if tok.kind == "int" else ts.float_literal(128, "an f128 immediate")
    elif ctrl.is_vector:
        value = ts.vector_literal(ctrl, f"an {ctrl} constant")
    else:
        raise ts.error(f"{info.name} needs a vector type, not {ctrl}")
    return InstData(info.number, None, [], value)


def _unary_global_value(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    ts = p.ts
    tok = ts.expect("gv", "expected a global value")
    gvs = body.fn.global_values
    if not (tok.value < len(gvs) and gvs[tok.value] is not None):  # type: ignore[operator]
        raise ts.error(f"undefined global value {tok.text}", tok)
    return InstData(info.number, None, [], None, tok.value)


def _binary(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x, _value(p, body)])


def _binary_imm8(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x], _lane(p))


def _binary_imm64(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    # An Imm64 stored as its 64-bit pattern; the semantics truncate or sign-extend it.
    return InstData(info.number, None, [x], p.ts.int_literal(64, f"a 64-bit immediate for {info.name}"))


def _ternary(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    y = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x, y, _value(p, body)])


def _ternary_imm8(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    y = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x, y], _lane(p))


def _shuffle(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    y = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x, y], p.ts.vector_literal(_I8X16, "a shuffle mask"))


def _int_compare(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    cond = _enum(p, _INTCC, "an integer condition code (eq, ne, slt, ult, ...)")
    x = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x, _value(p, body)], cond)


def _float_compare(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    cond = _enum(p, _FLOATCC, "a float condition code (eq, ne, lt, uno, ...)")
    x = _value(p, body)
    _comma(p)
    return InstData(info.number, None, [x, _value(p, body)], cond)


def _jump(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    dest = _block_call(p, body, "expected the destination block")
    return InstData(info.number, None, [], dests=[dest])


def _brif(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    c = _value(p, body, "expected the condition value")
    _comma(p)
    then = _block_call(p, body, "expected the 'then' block")
    _comma(p)
    other = _block_call(p, body, "expected the 'else' block")
    return InstData(info.number, None, [c], dests=[then, other])


def _branch_table(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    ts = p.ts
    x = _value(p, body, "expected the index value")
    _comma(p)
    dests = [_block_call(p, body, "expected the default block")]
    _comma(p)
    ts.expect("[", "expected '[' before the jump table")
    if not ts.at("]"):
        dests.append(_block_call(p, body, "expected a jump table entry"))
        while ts.optional(","):
            dests.append(_block_call(p, body, "expected a jump table entry"))
    ts.expect("]", "expected ']' after the jump table")
    return InstData(info.number, None, [x], dests=dests)


def _multi_ary(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    return InstData(info.number, None, _value_list(p, body))


def _call(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    fn_ref = _entity(p, body, "fn", "function reference")
    return InstData(info.number, None, _call_args(p, body), None, fn_ref)


def _call_indirect(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    sig_ref = _entity(p, body, "sig", "signature")
    _comma(p)
    callee = _value(p, body, "expected the callee value")
    return InstData(info.number, None, [callee, *_call_args(p, body)], None, sig_ref)


def _try_call(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    ts = p.ts
    fn_ref = _entity(p, body, "fn", "function reference")
    args = _call_args(p, body)
    _comma(p)
    sig_ref = _entity(p, body, "sig", "signature")
    _comma(p)
    dests = [_block_call(p, body, "expected the normal-return block")]
    _comma(p)
    ts.expect("[", "expected '[' before the exception handlers")
    tags: list[int | None] = []
    while not ts.at("]"):
        tok = ts.tok
        if tok.kind == "tag":
            tags.append(tok.value)  # type: ignore[arg-type]
        elif tok.kind == "ident" and tok.text == "default":
            tags.append(None)
        elif tok.kind == "ident" and tok.text == "context":
            raise ts.error("exception handler contexts are not supported")
        else:
            raise ts.error_expected("expected an exception handler (tagN: block or default: block)")
        ts.advance()
        ts.expect(":", f"expected ':' after '{tok.text}'")
        dests.append(_block_call(p, body, "expected the handler block", allow_exn=True))
        if not ts.optional(","):
            break
    ts.expect("]", "expected ']' after the exception handlers")
    return InstData(info.number, None, args, tuple(tags), (fn_ref, sig_ref), dests)


def _func_addr(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    return InstData(info.number, None, [], None, _entity(p, body, "fn", "function reference"))


def _load(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    flags = parse_memflags(p.ts)
    addr = _value(p, body, "expected the address value")
    return InstData(info.number, None, [addr], p._optional_offset(), flags)


def _store(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    flags = parse_memflags(p.ts)
    x = _value(p, body, "expected the value to store")
    _comma(p)
    addr = _value(p, body, "expected the address value")
    return InstData(info.number, None, [x, addr], p._optional_offset(), flags)


def _load_no_offset(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    flags = parse_memflags(p.ts)
    return InstData(info.number, None, [_value(p, body)], None, flags)


def _store_no_offset(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    flags = parse_memflags(p.ts)
    x = _value(p, body, "expected the value to store")
    _comma(p)
    return InstData(info.number, None, [x, _value(p, body, "expected the address value")], None, flags)


def _atomic_rmw(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    flags = parse_memflags(p.ts)
    op = _enum(p, _ATOMICRMWOP, "an atomic operation (add, sub, and, xchg, ...)")
    addr = _value(p, body, "expected the address value")
    _comma(p)
    return InstData(info.number, None, [addr, _value(p, body)], op, flags)


def _atomic_cas(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    flags = parse_memflags(p.ts)
    addr = _value(p, body, "expected the address value")
    _comma(p)
    expected = _value(p, body, "expected the expected value")
    _comma(p)
    return InstData(info.number, None, [addr, expected, _value(p, body)], None, flags)


def _stack_load(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    slot = _entity(p, body, "ss", "stack slot")
    return InstData(info.number, None, [], p._optional_offset(), slot)


def _stack_store(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    x = _value(p, body)
    _comma(p)
    slot = _entity(p, body, "ss", "stack slot")
    return InstData(info.number, None, [x], p._optional_offset(), slot)


def _trap(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    return InstData(info.number, None, [], None, parse_trap_code(p.ts))


def _cond_trap(p: Parser, body: _Body, info: OpcodeInfo, ctrl: Type | None) -> InstData:
    c = _value(p, body, "expected the condition value")
    _comma(p)
    return InstData(info.number, None, [c], None, parse_trap_code(p.ts))


_READERS: dict[str, Reader] = {
    "Nullary": _nullary,
    "Unary": _unary,
    "UnaryImm": _unary_imm,
    "UnaryIeee16": _unary_ieee(16),
    "UnaryIeee32": _unary_ieee(32),
    "UnaryIeee64": _unary_ieee(64),
    "UnaryConst": _unary_const,
    "UnaryGlobalValue": _unary_global_value,
    "Binary": _binary,
    "BinaryImm8": _binary_imm8,
    "BinaryImm64": _binary_imm64,
    "Ternary": _ternary,
    "TernaryImm8": _ternary_imm8,
    "Shuffle": _shuffle,
    "IntCompare": _int_compare,
    "FloatCompare": _float_compare,
    "Jump": _jump,
    "Brif": _brif,
    "BranchTable": _branch_table,
    "MultiAry": _multi_ary,
    "Call": _call,
    "CallIndirect": _call_indirect,
    "TryCall": _try_call,
    "FuncAddr": _func_addr,
    "Load": _load,
    "Store": _store,
    "LoadNoOffset": _load_no_offset,
    "StoreNoOffset": _store_no_offset,
    "AtomicRmw": _atomic_rmw,
    "AtomicCas": _atomic_cas,
    "StackLoad": _stack_load,
    "StackStore": _stack_store,
    "Trap": _trap,
    "CondTrap": _cond_trap,
}
