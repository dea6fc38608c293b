"""The Z3 back end proves identities of the IR's own semantics at every integer width,
refutes false ones with concrete counterexamples, and reports timeouts as unknown."""

from __future__ import annotations

import pytest
import z3

from heron.meta import smt
from heron.meta.dsl import BV, instantiate, parse_semantics
from heron.meta.dsl.irsem import IRSemantics
from heron.meta.irspec import load_ir_spec
from heron.meta.irtypes import ir_type

WIDTHS = (8, 16, 32, 64, 128)
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def ir() -> IRSemantics:
    return IRSemantics(load_ir_spec())


def run(ir: IRSemantics, opcode: str, w: int, **inputs: object) -> smt.SmtEval:
    """The Z3 meaning of ``opcode`` at the scalar type of ``w`` bits (all typevars iW)."""
    op = ir.ops[opcode]
    bindings = {tv: ir_type(f"i{w}") for tv in op.typevars}
    return smt.smt_eval(ir.program(opcode, bindings), inputs)


@pytest.mark.parametrize("w", WIDTHS)
def test_iadd_commutes(ir: IRSemantics, w: int) -> None:
    assert smt.prove_equal(run(ir, "iadd", w, x="x", y="y").outputs["a"], run(ir, "iadd", w, x="y", y="x").outputs["a"])


@pytest.mark.parametrize("w", WIDTHS)
def test_isub_of_itself_is_zero(ir: IRSemantics, w: int) -> None:
    assert smt.prove_equal(run(ir, "isub", w, x="x", y="x").outputs["a"], z3.BitVecVal(0, w))


@pytest.mark.parametrize("w", WIDTHS)
def test_bnot_is_an_involution(ir: IRSemantics, w: int) -> None:
    inner = run(ir, "bnot", w, x="x").outputs["a"]
    assert smt.prove_equal(run(ir, "bnot", w, x=inner).outputs["a"], z3.BitVec("x", w))


@pytest.mark.parametrize("w", WIDTHS)
def test_isub_is_iadd_of_ineg(ir: IRSemantics, w: int) -> None:
    neg = run(ir, "ineg", w, x="y").outputs["a"]
    assert smt.prove_equal(run(ir, "isub", w, x="x", y="y").outputs["a"], run(ir, "iadd", w, x="x", y=neg).outputs["a"])


@pytest.mark.parametrize("w", WIDTHS)
def test_rotl_is_rotr_by_the_complement(ir: IRSemantics, w: int) -> None:
    n = z3.BitVec("n", w)
    complement = z3.URem(z3.BitVecVal(w, w) - n, z3.BitVecVal(w, w))
    assert smt.prove_equal(run(ir, "rotl", w, x="x", y=n).outputs["a"], run(ir, "rotr", w, x="x", y=complement).outputs["a"])


@pytest.mark.parametrize("w", WIDTHS)
def test_sdiv_traps_exactly_on_zero_and_overflow(ir: IRSemantics, w: int) -> None:
    x, y = z3.BitVecs("x y", w)
    ev = run(ir, "sdiv", w, x=x, y=y)
    expected = z3.Or(y == 0, z3.And(x == 1 << (w - 1), y == -1))
    assert smt.prove(ev.trapped == expected, TIMEOUT_MS)
    assert [code for _, code in ev.traps] == ["int_divz", "int_ovf"]
    # and when it does not trap, it agrees with Z3's signed division
    assert smt.prove_equal(ev.outputs["a"], x / y, TIMEOUT_MS, assuming=z3.Not(ev.trapped))


@pytest.mark.parametrize("w", WIDTHS)
def test_a_false_identity_gives_a_counterexample(ir: IRSemantics, w: int) -> None:
    result = smt.prove_equal(run(ir, "isub", w, x="x", y="y").outputs["a"], run(ir, "isub", w, x="y", y="x").outputs["a"])
    assert result.status == "refuted" and not result
    cex = result.counterexample
    assert set(cex) == {"x", "y", "lhs", "rhs"}
    mask = (1 << w) - 1
    assert cex["lhs"] == (cex["x"] - cex["y"]) & mask and cex["rhs"] == (cex["y"] - cex["x"]) & mask
    assert cex["lhs"] != cex["rhs"]
    assert str(result).startswith("refuted: ")


def test_a_timeout_is_unknown_never_proved() -> None:
    x, y = z3.BitVecs("x y", 128)
    hard = z3.Implies(z3.And(y != 0, z3.Extract(255, 128, z3.ZeroExt(128, x) * z3.ZeroExt(128, y)) == 0), z3.UDiv(x * y, y) == x)
    result = smt.prove(hard, timeout_ms=1)
    assert result.status == "unknown" and not result


def test_equivalence_of_an_ir_pattern_and_a_machine_sequence(ir: IRSemantics) -> None:
    """The shape of a lowering-rule proof: IR `iadd x (iconst k)` vs `add r, imm32`."""
    k = z3.BitVec("k", 32)
    const = run(ir, "iconst", 64, imm=z3.SignExt(32, k)).outputs["a"]
    ir_side = run(ir, "iadd", 64, x="x", y=const)
    machine = instantiate(
        parse_semantics("dst = src + sext(imm, width(src))"), {"src": BV(64), "imm": BV(32)}, {"dst": BV(64)}
    )
    mach_side = smt.smt_eval(machine, {"src": "x", "imm": k})
    assert smt.prove_equivalent(ir_side, mach_side, {"a": "dst"})
    wrong = smt.smt_eval(instantiate(
        parse_semantics("dst = src + zext(imm, width(src))"), {"src": BV(64), "imm": BV(32)}, {"dst": BV(64)}
    ), {"src": "x", "imm": k})
    result = smt.prove_equivalent(ir_side, wrong, {"a": "dst"})
    assert result.status == "refuted" and result.counterexample["k"] >> 31 == 1


def test_traps_must_agree(ir: IRSemantics) -> None:
    """A division without the overflow check is not equivalent to sdiv."""
    ir_side = run(ir, "sdiv", 32, x="x", y="y")
    machine = instantiate(
        parse_semantics("trap d == 0 : int_divz; q = sdiv(n, d)"), {"n": BV(32), "d": BV(32)}, {"q": BV(32)}
    )
    result = smt.prove_equivalent(ir_side, smt.smt_eval(machine, {"n": "x", "d": "y"}), {"a": "q"})
    assert result.status == "refuted"
    assert result.counterexample["x"] == 0x80000000 and result.counterexample["y"] == 0xFFFFFFFF


def test_memory_threads_through_stores(ir: IRSemantics) -> None:
    """store then load of the same address gives the stored value (i32 at an i64 address)."""
    mem = z3.Array("m", z3.BitVecSort(64), z3.BitVecSort(8))
    b = {"T": ir_type("i32"), "P": ir_type("i64")}
    stored = smt.smt_eval(ir.program("store", b), {"x": "v", "p": "p", "offset": 8}, memory=mem)
    loaded = smt.smt_eval(ir.program("load", b), {"p": "p", "offset": 8}, memory=stored.memory)
    assert smt.prove_equal(loaded.outputs["a"], z3.BitVec("v", 32))
    # a one-byte store inside the word changes the loaded value
    b8 = {"T": ir_type("i16"), "P": ir_type("i64")}
    poked = smt.smt_eval(ir.program("istore8", b8), {"x": "w", "p": "p", "offset": 9}, memory=stored.memory)
    again = smt.smt_eval(ir.program("load", b), {"p": "p", "offset": 8}, memory=poked.memory)
    assert smt.prove_equal(z3.Extract(15, 8, again.outputs["a"]), z3.Extract(7, 0, z3.BitVec("w", 16)))


def test_symbolic_enum_immediate_is_an_ite_chain(ir: IRSemantics) -> None:
    """icmp with a symbolic condition code: `cond = k` selects the k-th IntCC value."""
    ev = run(ir, "icmp", 32, x="x", y="y", cond="cc")
    cc = z3.BitVec("cc", 8)
    x, y = z3.BitVecs("x y", 32)
    ult_index = [v.name for v in load_ir_spec().enums["IntCC"].values].index("ult")
    assert smt.prove_equal(ev.outputs["a"], z3.If(z3.ULT(x, y), z3.BitVecVal(1, 8), z3.BitVecVal(0, 8)), assuming=cc == ult_index)
