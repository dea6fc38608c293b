"""Instantiate the semantics of ir.yaml's opcodes: environments from opcode signatures.

For an opcode and a binding of its type variables (``{"T": i32x4}``) this module
builds the DSL environment: operands and results get the widths of their type
expressions (``T``, ``T.lane``, ``T.as_truthy``, ``i8``...), the format's immediates
their kinds, and ``is_vector`` says whether the controlling type is a vector.

A *lanewise* opcode (the default) at a vector controlling type is instantiated for
one lane: operands and results with the controlling type's lane count are split into
lanes, scalar operands are passed to every lane.  ``lanewise: false`` opcodes see
whole vectors.

Example::

    >>> from heron.meta.irspec import load_ir_spec
    >>> spec = load_ir_spec()
    >>> inst = IRSemantics(spec)
    >>> prog = inst.program("iadd", {"T": ir_type("i32x4")})
    >>> prog.lanes, dict(prog.inputs)["x"]
    (4, BV(width=32, lane_bits=32))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from heron.errors import SpecError
from heron.meta.dsl import ast
from heron.meta.dsl.check import BV, EnumImm, FlagsImm, Kind, TrapCodeImm, instantiate
from heron.meta.dsl.parser import parse_expression, parse_semantics
from heron.meta.dsl.typed import Program
from heron.meta.irtypes import IMMEDIATE_WIDTHS, IRType, ir_type, resolve_type_expr

__all__ = ["IRSemantics", "Instance"]

_CONSTRAINTS = {
    "narrower": lambda a, b: a.lanes == b.lanes and a.lane_bits < b.lane_bits and a.is_float == b.is_float,
    "same_bits": lambda a, b: a.bits == b.bits,
    "same_lanes": lambda a, b: a.lanes == b.lanes and a.is_dynamic == b.is_dynamic,
}


@dataclass(frozen=True)
class Instance:
    """One opcode at one binding of its type variables."""

    opcode: str
    bindings: tuple[tuple[str, IRType], ...]
    program: Program

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(t.name for _, t in self.bindings)


class IRSemantics:
    """Parses each opcode's semantics once and instantiates it at any binding."""

    def __init__(self, spec) -> None:  # spec: heron.meta.irspec.IRSpec
        self.spec = spec
        self.ops = {op.name: op for op in spec.opcodes}
        self._parsed: dict[str, ast.Semantics] = {}
        self._enums: dict[str, EnumImm] = {}
        for enum in spec.enums.values():
            values = []
            for v in enum.values:
                if v.semantics is None:
                    raise SpecError(f"enum {enum.name}: value '{v.name}' has no semantics", spec.file, v.semantics_line)
                expr, source = parse_expression(v.semantics, spec.file, v.semantics_line)
                values.append((v.name, expr, source))
            # An immediate kind names its enum: `atomic_rmw_op` -> AtomicRmwOp.
            self._enums[enum.name.lower()] = EnumImm(enum.name, tuple(values))

    def parsed(self, name: str) -> ast.Semantics:
        if name not in self._parsed:
            op = self.ops[name]
            self._parsed[name] = parse_semantics(op.semantics, op.file, op.semantics_line)
        return self._parsed[name]

    # -- type variable bindings ------------------------------------------------------
    def bindings(self, name: str, include_dynamic: bool = True) -> list[dict[str, IRType]]:
        """Every binding of the opcode's type variables that its constraints allow, whose
        derived types exist, and (lanewise opcodes) whose vectors match the controlling
        type's lane count."""
        op = self.ops[name]
        names = list(op.typevars)
        sets = [[ir_type(n) for n in op.typevars[v]] for v in names]
        out = []
        for combo in itertools.product(*sets):
            b = dict(zip(names, combo))
            if not include_dynamic and any(t.is_dynamic for t in combo):
                continue
            if all(_CONSTRAINTS[p](b[x], b[y]) for p, x, y in op.constraints) and self._shapes(op, b) is not None:
                out.append(b)
        return out

    def _shapes(self, op, b: dict[str, IRType]) -> dict[str, IRType] | None:
        """Types of all operands and results under ``b``; None if the binding is unusable."""
        types: dict[str, IRType] = {}
        for n, expr in list(op.operands) + list(op.results):
            ty = resolve_type_expr(expr, b)
            if ty is None:
                return None
            types[n] = ty
        ctrl = b.get(op.ctrl) if op.ctrl else None
        if op.lanewise and ctrl is not None and ctrl.lanes > 1:
            for n, ty in types.items():
                if ty.lanes not in (1, ctrl.lanes):
                    return None
                if ty.lanes == 1 and n in dict(op.results):
                    return None
        return types

    # -- environments and programs -------------------------------------------------------
    def environment(self, name: str, b: dict[str, IRType], immediates: str = "all"):
        """(inputs, outputs, consts, lanes, split) for opcode ``name`` at binding ``b``.

        ``immediates='primary'`` keeps only the immediate evaluators receive.
        """
        op = self.ops[name]
        types = self._shapes(op, b)
        if types is None:
            raise SpecError(f"opcode '{name}' cannot be instantiated at {_show(b)}", op.file, op.line)
        ctrl = b.get(op.ctrl) if op.ctrl else None
        lanes = ctrl.lanes if op.lanewise and ctrl is not None and ctrl.lanes > 1 else 1
        split = frozenset(n for n, ty in types.items() if lanes > 1 and ty.lanes == lanes)

        def bv(n: str) -> BV:
            ty = types[n]
            return BV(ty.lane_bits) if n in split else BV(ty.bits, ty.lane_bits)

        inputs: dict[str, Kind] = {n: bv(n) for n, _ in op.operands}
        fmt = self.spec.formats[op.format]
        primary = self.primary_immediate(op.format)
        for f in fmt.immediates:
            if immediates == "primary" and f.name != primary:
                continue
            kind = self._immediate_kind(f.kind, ctrl)
            if kind is not None:
                inputs[f.name] = kind
        outputs = {n: bv(n) for n, _ in op.results}
        if op.flags & {"branch"} and op.semantics and "taken" not in outputs:
            outputs["taken"] = BV(1)
        consts = {"is_vector": int(ctrl is not None and ctrl.is_vector)}
        return inputs, outputs, consts, lanes, split

    def primary_immediate(self, format_name: str) -> str | None:
        """The immediate an evaluator receives as ``imm``: the format's first usable
        immediate that is not memory flags, else its memory flags (= ``InstData.imm``)."""
        imms = [f for f in self.spec.formats[format_name].immediates if self._immediate_kind(f.kind, _ANY) is not None]
        plain = [f for f in imms if f.kind != "memflags"]
        chosen = plain[0] if plain else (imms[0] if imms else None)
        return chosen.name if chosen is not None else None

    def _immediate_kind(self, kind: str, ctrl: IRType | None) -> Kind | None:
        if kind in IMMEDIATE_WIDTHS:
            return BV(IMMEDIATE_WIDTHS[kind])
        if kind == "constant":
            return BV(ctrl.bits, ctrl.lane_bits) if ctrl is not None else None
        if kind == "trapcode":
            return TrapCodeImm()
        if kind == "memflags":
            return FlagsImm()
        return self._enums.get(kind.replace("_", ""))

    def program(self, name: str, b: dict[str, IRType], immediates: str = "all") -> Program:
        """The typed program of opcode ``name`` at binding ``b``."""
        inputs, outputs, consts, lanes, split = self.environment(name, b, immediates)
        return instantiate(
            self.parsed(name), inputs, outputs, consts, lanes=lanes, split=split, label=f"{name} at {_show(b)}"
        )

    def instances(self, name: str, include_dynamic: bool = True, immediates: str = "all") -> list[Instance]:
        op = self.ops[name]
        out = []
        for b in self.bindings(name, include_dynamic) if op.typevars else [{}]:
            out.append(Instance(name, tuple(b.items()), self.program(name, b, immediates)))
        return out


_ANY = IRType("i64", 64, 1, False)


def _show(b: dict[str, IRType]) -> str:
    return ", ".join(f"{k}={v.name}" for k, v in b.items()) or "no types"
