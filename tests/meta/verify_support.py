"""Replay a counterexample of the verifier without Z3: the IR side through the
interpreter's generated evaluators, the machine side through the Python back end of the
instructions' semantics.  A counterexample is right when both replays agree with what
the verifier printed and differ from each other."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from dsl_support import DictMemory, compile_program

from heron.errors import Trap
from heron.generated.ir_eval import EVALUATORS
from heron.meta.dsl.pyback import expression_source
from heron.meta.irtypes import resolve_type_expr
from heron.meta.isa.model import EnumArg, ImmArg, LabelArg, MemArg, RegArg, TrapArg

_BITS = __import__("heron.ir.bits", fromlist=["bits"])


def _eval(texpr: Any, env: dict[str, int]) -> int:
    ns = {"_b": _BITS, **env}
    return eval(expression_source(texpr), ns)  # noqa: S307 - our own generated expression


def replay(q: Any, cex: dict[str, Any]) -> dict[str, Any]:
    """Run both sides on the counterexample's inputs (zeroed memory, undef = 0)."""
    inst, isa = q.instance, q.isa
    values = {k: v for k, (v, _) in cex["inputs"].items()}
    ir_mem, m_mem = DictMemory(), DictMemory()
    out: dict[str, Any] = {"ir": {}, "machine": {}, "ir_trap": None, "machine_trap": None}
    # IR side: the pattern's nodes, producers first.
    results: list[int] = []
    spec = isa.ir.spec
    try:
        for node in inst.nodes:
            op = spec.opcode(node.opcode)
            args, imm = [], None
            primary = isa.ir.primary_immediate(op.format)
            for name, _ in op.operands:
                src, v = node.inputs[name]
                args.append(values[v] if src == "var" else results[v] if src == "node" else 0)
            if primary in node.inputs:
                src, v = node.inputs[primary]
                imm = values.get(v, f"${v}") if src == "var" else v if src == "lit" else 0
                if src == "var" and v in q.enum_values:
                    imm = [x[0] for x in inst.imm_vars[v].values].index(q.enum_values[v])
            types = [SimpleNamespace(name=resolve_type_expr(e, node.bindings).name) for _, e in op.operands]
            ctrl = SimpleNamespace(name=node.bindings[op.ctrl].name) if op.ctrl else None
            extra = (ir_mem,) if "can_load" in op.flags or "can_store" in op.flags else ()
            res = EVALUATORS[node.opcode](ctrl, types, args, imm, *extra)
            results.append(res[0] if res else 0)
        for (o, _, _), v in zip(inst.results, res):
            out["ir"][o] = v
        if inst.is_branch:
            out["ir_dest"] = "then" if res[0] else "else"
    except Trap as trap:
        out["ir_trap"] = trap.code.lstrip("$")
    # Machine side: registers with their free bits, the incoming state.
    regs: dict[str, int] = {}
    for v, ty in inst.value_vars.items():
        full = cex["registers"].get(v, (values[v], ty.bits))[0]
        if inst.parts[v] == 2:
            regs[f"{v}.lo"], regs[f"{v}.hi"] = full & (2**64 - 1), full >> 64
        else:
            regs[v] = full
    state = dict(cex["state"])
    imm_env = {k: v for k, v in values.items() if k in inst.imm_vars}
    for name, value in inst.lets.items():
        imm_env[name] = value if isinstance(value, int) else _eval(value, imm_env)

    def imm(a: ImmArg) -> int:
        return (a.expr if isinstance(a.expr, int) else _eval(a.expr, imm_env)) & ((1 << a.bits) - 1)

    dest = None
    try:
        for em in inst.emits:
            v = em.variant
            fn = compile_program(v.program, f"sem_{v.py_name}")  # py_names may be keywords (or, not)
            args = []
            for name, kind in v.program.inputs:
                if name in state:
                    args.append(state[name])
                    continue
                a = em.args[name]
                if isinstance(a, RegArg):
                    args.append(regs[a.key])
                elif isinstance(a, ImmArg):
                    args.append(imm(a))
                elif isinstance(a, MemArg):
                    form = isa.addressing[a.form]
                    fields = {f: (regs[x.key] if isinstance(x, RegArg) else imm(x)) if x is not None else 0 for f, x in a.fields}
                    args.append(_eval(form.address, fields))
                elif isinstance(a, EnumArg):
                    value = a.value or q.rule.maps[a.map][q.enum_values[a.var]]
                    args.append(isa.enums[v.inst.operand(name).enum].index(value))
                elif isinstance(a, TrapArg):
                    args.append(a.code or f"${a.var}")
            if v.program.uses_memory:
                args.append(m_mem)
            results = dict(zip([n for n, _ in v.program.outputs], fn(*args)))
            for op in v.inst.operands:
                a = em.args[op.name]
                if op.kind == "reg" and op.is_def:
                    regs[a.key] = results[op.name]
                if isinstance(a, LabelArg) and results["taken"] and dest is None:
                    dest = a.target
            for n in state:
                state[n] = results.get(n, 0 if n in v.inst.clobbers else state[n])
        for o, _, ty in inst.results:
            if inst.parts[o] == 2:
                out["machine"][o] = ((regs[f"{o}.hi"] << 64) | regs[f"{o}.lo"]) & ((1 << ty.bits) - 1)
            else:
                out["machine"][o] = regs[o] & ((1 << ty.bits) - 1)
        if inst.is_branch:
            out["machine_dest"] = dest
    except Trap as trap:
        out["machine_trap"] = trap.code.lstrip("$")
    out["ir_memory"], out["machine_memory"] = ir_mem.bytes, m_mem.bytes
    # Bytes the machine code reads that the IR neither loads nor stores.
    out["reads_beyond"] = m_mem.read - ir_mem.read - ir_mem.written
    return out
