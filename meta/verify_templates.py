"""Proofs of the framework templates whose meaning is a simple claim (run by ``heron
meta verify`` after the rules, and by the tests).

- ``move`` of every class: the instruction's semantics give ``dst == src`` over the
  class width, without trapping;
- ``spill`` then ``reload`` of every class, at the same ``$slot``: the reloaded register
  equals the spilled one over the class width (whatever memory held before);
- ``store`` then ``load`` of every IR type of the ``load``/``store`` templates, at the
  same ``$base`` and ``$offset``: the low bits of the type are back.

Placeholders are free variables (registers of their class's width, immediates of their
field's width); a memory operand's address is its addressing form's ``address`` over
its fields.  Each claim is one Z3 query; the result is a ``heron.meta.smt.ProofResult``.

Example::

    >>> from heron.meta.isa import load_isa
    >>> [(name, str(r)) for name, r in verify_templates(load_isa("x86_64"))][:2]
    [('move gpr', 'proved'), ('move xmm', 'proved')]
"""

from __future__ import annotations

from typing import Any

import z3

from heron.meta import smt
from heron.meta.isa.model import ISA, TArg, TemplateInst

__all__ = ["verify_templates"]


class _Run:
    """Runs template instructions over symbolic placeholders, registers and memory."""

    def __init__(self, isa: ISA) -> None:
        self.isa = isa
        self.places: dict[str, z3.BitVecRef] = {}
        self.regs: dict[str, z3.BitVecRef] = {}  # physical register -> its current value
        self.memory = z3.Array("mem", z3.BitVecSort(64), z3.BitVecSort(8))
        self.traps: list[z3.BoolRef] = []

    def placeholder(self, name: str, bits: int) -> z3.BitVecRef:
        term = self.places.get(name)
        if term is None:
            term = self.places[name] = z3.BitVec(f"${name}", bits)
        return term

    def reg(self, a: TArg, bits: int) -> z3.BitVecRef:
        if a.kind == "ph":
            return self.placeholder(str(a.value), bits)
        name = str(a.value)
        if name not in self.regs:
            self.regs[name] = z3.BitVec(name, bits)
        return self.regs[name]

    def imm(self, a: TArg | None, bits: int) -> z3.BitVecRef:
        if a is None:
            return z3.BitVecVal(0, bits)
        if a.kind == "ph":
            return self.placeholder(str(a.value), bits)
        return z3.BitVecVal(int(a.value), bits)  # type: ignore[call-overload]

    def run(self, ti: TemplateInst, outputs: dict[str, Any]) -> dict[str, z3.BitVecRef]:
        """Execute one template instruction; ``outputs`` names placeholder registers its
        defs write (returned by operand name)."""
        isa = self.isa
        v = ti.variant
        inputs: dict[str, Any] = {}
        for o in v.inst.operands:
            a = ti.args[o.name]
            if o.kind == "reg" and not o.is_def:
                inputs[o.name] = self.reg(a, isa.classes[o.regclass].bits)
            elif o.kind == "imm":
                inputs[o.name] = self.imm(a, o.imm.bits)
            elif o.kind == "mem":
                form = isa.addressing[o.mem]
                fields = dict(a.value)  # type: ignore[arg-type]
                env = {}
                for f in form.fields:
                    fa = fields[f.name]
                    if f.kind == "reg":
                        env[f.name] = z3.BitVecVal(0, isa.pointer_bits) if fa is None else self.reg(fa, isa.classes[f.regclass].bits)
                    else:
                        env[f.name] = self.imm(fa, f.imm.bits)
                inputs[o.name] = smt.smt_expr(form.address, env)
            elif o.kind == "enum":
                inputs[o.name] = isa.enums[o.enum].index(next(e.name for e in isa.enums[o.enum].values if e.encoding == a.value))
        ev = smt.smt_eval(v.program, inputs, memory=self.memory, prefix=f"{v.name}.")
        if ev.memory is not None:
            self.memory = ev.memory
        self.traps += [c for c, _ in ev.traps]
        out = {}
        for o in v.inst.operands:
            if o.kind == "reg" and o.is_def:
                a = ti.args[o.name]
                value = ev.outputs[o.name]
                if a.kind == "reg":
                    self.regs[str(a.value)] = value
                out[o.name] = value
        return out


def _dst(ti: TemplateInst, placeholder: str) -> str:
    """The operand of ``ti`` a placeholder register is written through."""
    return next(o.name for o in ti.variant.inst.operands if o.kind == "reg" and o.is_def and ti.args[o.name] == TArg("ph", placeholder))


def _no_trap(run: _Run) -> z3.BoolRef:
    return z3.Not(z3.Or(*run.traps)) if run.traps else z3.BoolVal(True)


def verify_templates(isa: ISA, timeout_ms: int = 5000) -> list[tuple[str, smt.ProofResult]]:
    """Prove the claims of the module docstring; one (label, result) per claim."""
    out: list[tuple[str, smt.ProofResult]] = []
    t = isa.templates
    if not t:
        return out
    for cls, body in t["move"].bodies.items():
        bits = isa.classes[str(cls)].bits
        run = _Run(isa)
        src = run.placeholder("src", bits)
        [ti] = body
        dst = run.run(ti, {})[_dst(ti, "dst")]
        out.append((f"move {cls}", smt.prove(z3.And(_no_trap(run), z3.Extract(bits - 1, 0, dst) == src), timeout_ms)))
    for cls in t["spill"].bodies:
        bits = isa.classes[str(cls)].bits
        run = _Run(isa)
        src = run.placeholder("src", bits)
        run.run(t["spill"].bodies[cls][0], {})
        ti = t["reload"].bodies[cls][0]
        dst = run.run(ti, {})[_dst(ti, "dst")]
        out.append((f"spill/reload {cls}", smt.prove(z3.And(_no_trap(run), z3.Extract(bits - 1, 0, dst) == src), timeout_ms)))
    for ty, body in t["store"].bodies.items():
        if ty not in t["load"].bodies:
            continue
        width = int(str(ty)[1:])
        run = _Run(isa)
        cls = next(o.regclass for o in body[0].variant.inst.operands if o.kind == "reg" and body[0].args[o.name] == TArg("ph", "src"))
        src = run.placeholder("src", isa.classes[cls].bits)
        for ti in body:
            run.run(ti, {})
        dst = None
        for ti in t["load"].bodies[ty]:
            outs = run.run(ti, {})
            if any(ti.args[o.name] == TArg("ph", "dst") for o in ti.variant.inst.operands if o.kind == "reg" and o.is_def):
                dst = outs[_dst(ti, "dst")]
        assert dst is not None
        claim = z3.Extract(width - 1, 0, dst) == z3.Extract(width - 1, 0, src)
        out.append((f"store/load {ty}", smt.prove(z3.And(_no_trap(run), claim), timeout_ms)))
    return out
