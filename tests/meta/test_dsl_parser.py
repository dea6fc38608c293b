"""The semantics DSL front end: parsing, width inference and their located errors.

Malformed semantics are data: tests/meta/dsl_errors.yaml lists each with the error
(file:line, what was expected) it must give.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from heron.errors import SpecError
from heron.meta.dsl import BV, EnumImm, FlagsImm, TrapCodeImm, instantiate, parse_expression, parse_semantics
from heron.meta.dsl import ast
from heron.meta.dsl import typed as t

CASES = yaml.safe_load((Path(__file__).parent / "dsl_errors.yaml").read_text())


@pytest.mark.parametrize("case", CASES["parse"], ids=lambda c: c["semantics"][:30])
def test_malformed_semantics(case: dict) -> None:
    with pytest.raises(SpecError) as info:
        parse_semantics(case["semantics"], "ops.yaml", 10)
    assert case["error"] in str(info.value)


@pytest.mark.parametrize("case", CASES["check"], ids=lambda c: c["semantics"][:30])
def test_ill_typed_semantics(case: dict) -> None:
    sem = parse_semantics(case["semantics"], "ops.yaml", 10)
    inputs = {n: BV(w) for n, w in case["inputs"].items()}
    outputs = {n: BV(w) for n, w in case["outputs"].items()}
    with pytest.raises(SpecError) as info:
        instantiate(sem, inputs, outputs)
    assert case["error"] in str(info.value)


def test_enough_error_cases() -> None:
    assert len(CASES["parse"]) >= 15 and len(CASES["check"]) >= 15


def test_precedence_follows_the_table() -> None:
    # lowest to highest: ?: || && | ^ & ==/!= << +/- * unary postfix
    [s] = parse_semantics("a = c ? x | y ^ z & w == v << 1 + 2 * -u[3] : b").stmts
    e = s.expr
    assert isinstance(e, ast.Cond)
    assert e.then == ast.Binary(
        "|",
        ast.Name("x"),
        ast.Binary(
            "^",
            ast.Name("y"),
            ast.Binary(
                "&",
                ast.Name("z"),
                ast.Binary(
                    "==",
                    ast.Name("w"),
                    ast.Binary(
                        "<<",
                        ast.Name("v"),
                        ast.Binary(
                            "+",
                            ast.Num(1),
                            ast.Binary("*", ast.Num(2), ast.Unary("-", ast.Index(ast.Name("u"), ast.Num(3)))),
                        ),
                    ),
                ),
            ),
        ),
    )


def test_conditional_is_right_associative_and_binary_left() -> None:
    [s] = parse_semantics("a = p ? x : q ? y : z").stmts
    assert s.expr == ast.Cond(ast.Name("p"), ast.Name("x"), ast.Cond(ast.Name("q"), ast.Name("y"), ast.Name("z")))
    [s] = parse_semantics("a = x - y - z").stmts
    assert s.expr == ast.Binary("-", ast.Binary("-", ast.Name("x"), ast.Name("y")), ast.Name("z"))


def test_literals_statements_and_comments() -> None:
    sem = parse_semantics(
        "# a comment line\n"
        "trap y == 0 : int_divz   # trailing comment\n"
        "store(p, x); t = 0x_ff + 0b1010 + 1_000\n"
        "a = vec(i: 4, lane(x, i))\n"
        "b = concat(\n  x,\n  y)\n"
    )
    kinds = [type(s).__name__ for s in sem.stmts]
    assert kinds == ["Trap", "Store", "Assign", "Assign", "Assign"]
    assert sem.stmts[0].code == "int_divz"
    total = sem.stmts[2].expr
    assert total.left.left.value == 0xFF and total.left.right.value == 10 and total.right.value == 1000
    comp = sem.stmts[3].expr
    assert isinstance(comp, ast.Comprehension) and comp.var == "i"


def test_error_lines_count_from_the_yaml_line() -> None:
    with pytest.raises(SpecError) as info:
        parse_semantics("a = x\n\n\nb = (y", "ir.yaml", 100)
    assert info.value.location.line == 103 and info.value.location.file == "ir.yaml"


def test_parse_expression_for_enum_values() -> None:
    expr, source = parse_expression("funord(x, y) || flt(x, y)", "ir.yaml", 7)
    assert isinstance(expr, ast.Binary) and source.line == 7
    with pytest.raises(SpecError, match="expected the end of the expression"):
        parse_expression("x == y; z", "ir.yaml", 7)


# -- width inference ---------------------------------------------------------------------


def _prog(text: str, inputs: dict, outputs: dict, consts: dict | None = None) -> t.Program:
    return instantiate(parse_semantics(text), inputs, outputs, consts)


def test_literals_take_the_width_of_their_context() -> None:
    prog = _prog("a = x + 1; b = 1 + x; c = 3; d = x == 0xff", {"x": BV(8)}, {"a": BV(8), "b": BV(8), "c": BV(16), "d": BV(1)})
    a, b, c, d = (s.expr for s in prog.stmts)
    assert a.args[1] == t.Const(1, 8) and b.args[0] == t.Const(1, 8)
    assert c == t.Const(3, 16) and d.width == 1
    # negative literals wrap to the width; const() gives a width explicitly
    prog = _prog("a = x + -1; b = concat(const(1, 4), const(-1, 4))", {"x": BV(8)}, {"a": BV(8), "b": BV(8)})
    assert prog.stmts[0].expr.args[1] == t.Const(0xFF, 8)
    assert prog.stmts[1].expr.args == (t.Const(1, 4), t.Const(0xF, 4))


def test_compile_time_values_fold() -> None:
    prog = _prog(
        "n = width(x) - 1; a = x[n:4]; b = is_vector ? -1 : 1; c = lshr(x, n); d = ule(width(x), 4) ? zext(x, 99) : x",
        {"x": BV(8)},
        {"a": BV(4), "b": BV(8), "c": BV(8), "d": BV(8)},
        {"is_vector": 1},
    )
    a, b, c, d = (s.expr for s in prog.stmts)
    assert a.attrs == (7, 4)
    assert b == t.Const(0xFF, 8)
    assert c.args[1] == t.Const(7, 8)
    assert d == t.Var("x", 8)  # the untaken branch is never typed


def test_outputs_width_is_known_before_assignment() -> None:
    prog = _prog("a = trunc(x, width(a))", {"x": BV(64)}, {"a": BV(16)})
    assert prog.stmts[0].expr.attrs == (15, 0)


def test_comprehensions_unroll() -> None:
    prog = _prog(
        "a = vec(i: lanes(x), lane(x, lanes(x) - 1 - i)); b = zext(all(i: 4, lane(x, i) != 0), 8); c = any(j: 2, x[j])",
        {"x": BV(32, 8)},
        {"a": BV(32), "b": BV(8), "c": BV(1)},
    )
    a, b, c = (s.expr for s in prog.stmts)
    assert a.op == "concat" and [p.attrs for p in a.args] == [(7, 0), (15, 8), (23, 16), (31, 24)]
    assert b.op == "zext" and b.args[0].op == "land" and len(b.args[0].args) == 4
    assert c.op == "lor"


def test_shift_amounts_may_have_any_width() -> None:
    prog = _prog("a = x << y; b = rotl(x, y); c = lshr(x, 3)", {"x": BV(32), "y": BV(8)}, {"a": BV(32), "b": BV(32), "c": BV(32)})
    assert [s.expr.width for s in prog.stmts] == [32, 32, 32]


def test_enum_immediates_are_called_like_functions() -> None:
    values = tuple(
        (name, *parse_expression(text)) for name, text in (("eq", "x == y"), ("ult", "ult(x, y)"), ("nz", "bool(x ^ y)"))
    )
    cc = EnumImm("IntCC", values)
    prog = _prog("a = cond(x, y) ? 1 : 0", {"x": BV(32), "y": BV(32), "cond": cc}, {"a": BV(8)})
    call = prog.stmts[0].expr.args[0]
    assert isinstance(call, t.EnumCall) and call.value_names == ("eq", "ult", "nz") and call.width == 1


def test_trap_codes_from_immediates_and_flags() -> None:
    prog = _prog(
        "trap c == 0; trap c == 1 : int_ovf; a = big_endian(flags) ? c : 0",
        {"c": BV(8), "code": TrapCodeImm(), "flags": FlagsImm()},
        {"a": BV(8)},
    )
    first, second, third = prog.stmts
    assert first.code == "code" and first.code_is_imm
    assert second.code == "int_ovf" and not second.code_is_imm
    assert isinstance(third.expr.args[0], t.FlagTest)
