"""Python back end: a typed program -> the source text of a Python function.

One function per instance (opcode x concrete type): masks and sign bits are literal
constants, so the code reads like what a person would write and runs fast in the
interpreter.  Values are unsigned ints below ``2**width``; 1-bit values may be bools.
Helpers that are not one-liners live in ``heron.ir.bits`` (``_b``), floats in
``heron.ir.softfloat`` (``_sf``); traps raise ``heron.errors.Trap``.  This module only
writes text: it never imports the runtime (the generated module does).

Example (``iadd`` at i32)::

    >>> from heron.meta.dsl import parse_semantics, instantiate, BV
    >>> prog = instantiate(parse_semantics("a = x + y"), {"x": BV(32), "y": BV(32)}, {"a": BV(32)})
    >>> print(function_source(prog, "iadd_i32", ModuleHelpers()))
    def iadd_i32(x, y):
        a = (x + y) & 0xffffffff
        return (a,)
    <BLANKLINE>

:func:`render_evaluators` renders the whole evaluator module (``heron.generated.ir_eval``);
:func:`function_source` renders one program.
"""

from __future__ import annotations

import keyword

from heron.meta.dsl import typed as t

__all__ = ["function_source", "expression_source", "lanewise_source", "render_evaluators", "ModuleHelpers", "PRELUDE", "py_name"]

PRELUDE = '''\
from heron.errors import Trap
from heron.ir import bits as _b
from heron.ir import softfloat as _sf


def _fp_to_int(result, mask):
    """A float-to-int conversion whose result is unspecified (None) gives 0."""
    return 0 if result is None else result & mask


def _lanewise(lane_fn, lanes, in_bits, out_bits):
    """The vector function applying ``lane_fn`` to each lane: input i is cut into lanes of
    ``in_bits[i]`` bits (0: passed whole to every lane), output k joins lanes of
    ``out_bits[k]`` bits.  Lane 0 is in the low bits."""
    cuts = [(i, b, (1 << b) - 1) for i, b in enumerate(in_bits) if b]

    def run(*args):
        lane_args = list(args)
        outs = [0] * len(out_bits)
        for lane in range(lanes):
            for i, b, m in cuts:
                lane_args[i] = (args[i] >> (lane * b)) & m
            for k, v in enumerate(lane_fn(*lane_args)):
                outs[k] |= v << (lane * out_bits[k])
        return tuple(outs)

    return run
'''

_RESERVED = frozenset({"mem", "min", "max", "int", "range", "Trap", "True", "False", "None"})
_BITWISE = {"and": "&", "or": "|", "xor": "^"}
_COMPARE = {"eq": "==", "ne": "!=", "ult": "<", "ule": "<=", "ugt": ">", "uge": ">="}
_SCOMPARE = {"slt": "<", "sle": "<=", "sgt": ">", "sge": ">="}
_BOOLISH = frozenset(
    {"eq", "ne", "ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge", "land", "lor", "lnot",
     "feq", "flt", "fle", "funord", "fisnan", "fptosi_ok", "fptoui_ok"}
)
_SF_SAME = frozenset(
    {"fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fsqrt", "ffma", "fceil", "ffloor", "ftrunc",
     "fnearest", "feq", "flt", "fle", "funord"}
)


def py_name(name: str) -> str:
    """The Python identifier of a DSL name (keywords and names the code uses get a '_')."""
    return name + "_" if keyword.iskeyword(name) or name in _RESERVED else name


def _num(v: int) -> str:
    return str(v) if v < 10 else hex(v)


def _mask(w: int) -> str:
    return _num((1 << w) - 1)


class ModuleHelpers:
    """Module-level definitions shared by the functions of one module (enum tables)."""

    def __init__(self) -> None:
        self.defs: dict[str, str] = {}
        self.keys: dict[tuple[str, tuple[int, ...]], str] = {}  # (enum, argument widths) -> table
        self._by_text: dict[str, str] = {}

    def enum_table(self, call: t.EnumCall) -> str:
        params = ", ".join(py_name(p) for p in call.params)
        lambdas = []
        for value, case in zip(call.value_names, call.cases):
            body = _Emitter(self, inline=True).expr(case, top=True)
            lambdas.append(f"    lambda {params}: {body},  # {value}")
        text = "(\n" + "\n".join(lambdas) + "\n)"
        if text not in self._by_text:
            widths = "_".join(str(a.width) for a in call.args)
            name = f"_{call.enum.upper()}_{widths}"
            while name in self.defs:
                name += "_"
            self._by_text[text] = name
            self.defs[name] = f"{name} = {text}"
        self.keys.setdefault((call.enum, tuple(a.width for a in call.args)), self._by_text[text])
        return self._by_text[text]

    def source(self) -> str:
        return "\n\n".join(self.defs.values()) + ("\n" if self.defs else "")


class _Emitter:
    """Writes the statements of one function; expressions come back as strings."""

    def __init__(self, helpers: ModuleHelpers, inline: bool = False) -> None:
        self.helpers = helpers
        self.inline = inline  # inside a lambda: no statements, duplicate instead of binding
        self.lines: list[str] = []
        self.temps = 0
        self.bools: set[str] = set()  # locals that may hold a bool

    # -- helpers -------------------------------------------------------------
    def temp(self, text: str) -> str:
        self.temps += 1
        name = f"_t{self.temps}"
        self.lines.append(f"{name} = {text}")
        return name

    def atom(self, e: t.TExpr) -> str:
        """``e`` as text that may be repeated (a name, a number, or a new temporary)."""
        text = self.expr(e, top=True)
        if isinstance(e, (t.Const, t.Var)):
            return text
        if self.inline:
            return f"({text})"
        return self.temp(text)

    def is_bool(self, e: t.TExpr) -> bool:
        if isinstance(e, t.Op):
            if e.op in _BOOLISH:
                return True
            return e.op == "ite" and (self.is_bool(e.args[1]) or self.is_bool(e.args[2]))
        if isinstance(e, t.Var):
            return e.name in self.bools
        return isinstance(e, (t.FlagTest, t.EnumCall)) and e.width == 1

    def biased(self, e: t.TExpr, text: str | None = None) -> str:
        """``e`` with its sign bit flipped: signed order becomes unsigned order."""
        sign = 1 << (e.width - 1)
        if isinstance(e, t.Const):
            return _num(e.value ^ sign)
        return f"({text if text is not None else self.expr(e)} ^ {_num(sign)})"

    def receiver(self, e: t.TExpr) -> str:
        """``e`` as the target of a method call (``(5).bit_count()``, not ``5.bit_count()``)."""
        text = self.expr(e)
        return f"({text})" if isinstance(e, t.Const) else text

    def as_int(self, e: t.TExpr, text: str) -> str:
        return f"int({text})" if self.is_bool(e) else text

    # -- statements --------------------------------------------------------------
    def statement(self, s: t.TStmt) -> None:
        if isinstance(s, t.Assign):
            if isinstance(s.expr, t.Op) and s.expr.op == "load":  # already its own statement
                addr = self.expr(s.expr.args[0], top=True)
                self.lines.append(f"{py_name(s.name)} = mem.load({addr}, {s.expr.width // 8})")
                return
            text = self.expr(s.expr, top=True)
            if s.is_output and s.expr.width == 1:
                text = self.as_int(s.expr, text)
            elif self.is_bool(s.expr):
                self.bools.add(s.name)
            self.lines.append(f"{py_name(s.name)} = {text}")
        elif isinstance(s, t.Trap):
            code = py_name(s.code) if s.code_is_imm else repr(s.code)
            if isinstance(s.cond, t.Const):
                if s.cond.value:
                    self.lines.append(f"raise Trap({code})")
                return
            cond = self.expr(s.cond, top=True)
            self.lines.append(f"if {cond}:\n    raise Trap({code})")
        else:
            addr = self.expr(s.addr, top=True)
            value = self.expr(s.value, top=True)
            self.lines.append(f"mem.store({addr}, {s.value.width // 8}, {value})")

    # -- expressions -------------------------------------------------------------
    def expr(self, e: t.TExpr, top: bool = False) -> str:
        """Python text of ``e``; compound texts are parenthesized unless ``top``."""
        if isinstance(e, t.Const):
            return _num(e.value)
        if isinstance(e, t.Var):
            return py_name(e.name)
        if isinstance(e, t.FlagTest):
            return f"{py_name(e.imm)}.endianness == 'big'" if top else f"({py_name(e.imm)}.endianness == 'big')"
        if isinstance(e, t.EnumCall):
            table = self.helpers.enum_table(e)
            args = ", ".join(self.expr(a, top=True) for a in e.args)
            return f"{table}[{py_name(e.imm)}]({args})"
        text, compound = self.op(e)
        return f"({text})" if compound and not top else text

    def op(self, e: t.Op) -> tuple[str, bool]:
        """(text, needs parentheses when nested)."""
        o, w, a = e.op, e.width, e.args
        x = lambda i: self.expr(a[i])  # noqa: E731 - a short local reader
        m = _mask(w)
        if o in ("add", "sub", "mul"):
            sym = {"add": "+", "sub": "-", "mul": "*"}[o]
            return f"({x(0)} {sym} {x(1)}) & {m}", True
        if o in ("and", "or", "xor"):
            return f"{x(0)} {_BITWISE[o]} {x(1)}", True
        if o == "neg":
            return f"-{x(0)} & {m}", True
        if o == "not":
            return f"{x(0)} ^ {m}", True
        if o == "udiv":
            d = self.atom(a[1])
            return f"{x(0)} // {d} if {d} else {m}", True
        if o == "urem":
            n, d = self.atom(a[0]), self.atom(a[1])
            return f"{n} % {d} if {d} else {n}", True
        if o in ("sdiv", "srem", "smulhi"):
            return f"_b.{o}({self.expr(a[0], True)}, {self.expr(a[1], True)}, {w})", False
        if o == "umulhi":
            return f"({x(0)} * {x(1)}) >> {w}", True
        if o in ("umin", "umax"):
            return f"{o[1:]}({self.expr(a[0], True)}, {self.expr(a[1], True)})", False
        if o in ("smin", "smax"):
            p, q = self.atom(a[0]), self.atom(a[1])
            rel = "<" if o == "smin" else ">"
            return f"{p} if {self.biased(a[0], p)} {rel} {self.biased(a[1], q)} else {q}", True
        if o in ("shl", "lshr", "ashr", "rotl", "rotr"):
            return self.shift(e)
        if o in _COMPARE:
            return f"{x(0)} {_COMPARE[o]} {x(1)}", True
        if o in _SCOMPARE:
            return f"{self.biased(a[0])} {_SCOMPARE[o]} {self.biased(a[1])}", True
        if o in ("land", "lor"):
            return f" {o[1:]} ".join(self.expr(arg) for arg in a), True
        if o == "lnot":
            inner = a[0]
            if isinstance(inner, t.Op) and inner.op in ("fptosi_ok", "fptoui_ok"):
                arg = self.expr(inner.args[0], True)
                return f"_sf.{inner.op[:6]}({inner.args[0].width}, {inner.attrs[0]}, {arg}) is None", True
            return f"not {x(0)}", True
        if o == "clz":
            return f"{w} - {self.receiver(a[0])}.bit_length()", True
        if o == "popcnt":
            return f"{self.receiver(a[0])}.bit_count()", False
        if o in ("ctz", "cls", "bswap", "bitrev"):
            return f"_b.{o}({self.expr(a[0], True)}, {w})", False
        if o == "ite":
            return f"{x(1)} if {x(0)} else {x(2)}", True
        if o == "extract":
            hi, lo = e.attrs
            src = x(0)
            if hi == a[0].width - 1:
                return f"{src} >> {lo}", True  # lo > 0: a full-width extract is never built
            return (f"({src} >> {lo}) & {m}" if lo else f"{src} & {m}"), True
        if o == "concat":
            parts, shift = [], w
            for p in a:
                shift -= p.width
                parts.append(f"{self.expr(p)} << {shift}" if shift else self.expr(p))
            if len(parts) > 2 and sum(len(p) for p in parts) > 80:
                return "(\n    " + "\n    | ".join(parts) + "\n)", False  # one part per line
            return " | ".join(parts), True
        if o == "zext":
            if self.is_bool(a[0]):
                return f"int({self.expr(a[0], True)})", False
            return self.expr(a[0]), False  # the nested form: parenthesized when compound
        if o == "sext":
            s = _num(1 << (a[0].width - 1))
            return f"(({x(0)} ^ {s}) - {s}) & {m}", True
        if o == "lane_dyn":
            (lb,) = e.attrs
            return f"({x(0)} >> ({x(1)} * {lb})) & {m}", True
        if o == "undef":  # unspecified: any value is right; 0 is the simplest
            return "0", False
        if o == "load":
            text = f"mem.load({self.expr(a[0], True)}, {w // 8})"
            return (text, False) if self.inline else (self.temp(text), False)
        return self.float_op(e)

    def shift(self, e: t.Op) -> tuple[str, bool]:
        o, w = e.op, e.width
        m = _mask(w)
        value, amount = e.args
        if isinstance(amount, t.Const):
            n = amount.value
            if o in ("rotl", "rotr"):
                n %= w
                if n == 0:
                    return self.expr(value, True), False
                v = self.atom(value)
                left, right = (n, w - n) if o == "rotl" else (w - n, n)
                return f"(({v} << {left}) | ({v} >> {right})) & {m}", True
            if o == "shl":
                return (f"({self.expr(value)} << {n}) & {m}", True) if n < w else ("0", False)
            if o == "lshr":
                return (f"{self.expr(value)} >> {n}", True) if n < w else ("0", False)
        if o in ("rotl", "rotr"):
            return f"_b.{o}({self.expr(value, True)}, {self.expr(amount, True)}, {w})", False
        if o == "ashr":
            s = _num(1 << (w - 1))
            return f"((({self.expr(value)} ^ {s}) - {s}) >> {self.expr(amount)}) & {m}", True
        if o == "lshr":
            return f"{self.expr(value)} >> {self.expr(amount)}", True
        n = self.atom(amount)
        return f"({self.expr(value)} << {n}) & {m} if {n} < {w} else 0", True

    def float_op(self, e: t.Op) -> tuple[str, bool]:
        o, w, a = e.op, e.width, e.args
        fw = a[0].width
        sign = _num(1 << (fw - 1))
        if o == "fneg":
            return f"{self.expr(a[0])} ^ {sign}", True
        if o == "fabs":
            return f"{self.expr(a[0])} & {_mask(fw - 1)}", True
        if o == "fcopysign":
            return f"({self.expr(a[0])} & {_mask(fw - 1)}) | ({self.expr(a[1])} & {sign})", True
        args = [self.expr(arg, True) for arg in a]
        if o in _SF_SAME:
            return f"_sf.{o}({fw}, {', '.join(args)})", False
        if o == "fisnan":
            return f"_sf.is_nan({fw}, {args[0]})", False
        if o in ("fcvt", "sitofp", "uitofp"):
            return f"_sf.{o}({fw}, {w}, {args[0]})", False
        if o in ("fptosi", "fptoui"):
            return f"_fp_to_int(_sf.{o}({fw}, {w}, {args[0]}), {_mask(w)})", False
        if o in ("fptosi_sat", "fptoui_sat"):
            return f"_sf.{o}({fw}, {w}, {args[0]})", False
        if o in ("fptosi_ok", "fptoui_ok"):
            return f"_sf.{o[:6]}({fw}, {e.attrs[0]}, {args[0]}) is not None", True
        raise AssertionError(f"no Python for op {o}")


def _params(prog: t.Program) -> list[str]:
    params = [py_name(n) for n, _ in prog.inputs]
    if prog.uses_memory:
        params.append("mem")
    return params


def function_source(
    prog: t.Program, name: str, helpers: ModuleHelpers, doc: str | None = None, mask_inputs: frozenset[str] = frozenset()
) -> str:
    """``def name(<inputs>[, mem]): ... return (<outputs>,)`` for ``prog`` (one lane if lanewise).

    Inputs named in ``mask_inputs`` are first reduced to their width (immediates that
    callers may pass as negative ints).
    """
    em = _Emitter(helpers)
    for n, kind in prog.inputs:
        if n in mask_inputs and hasattr(kind, "width"):
            em.lines.append(f"{py_name(n)} &= {_mask(kind.width)}")  # type: ignore[attr-defined]
    for s in prog.stmts:
        em.statement(s)
        if isinstance(s, t.Trap) and isinstance(s.cond, t.Const) and s.cond.value:
            break  # an unconditional trap ends the function
    else:
        outs = [py_name(n) for n, _ in prog.outputs]
        em.lines.append(f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    head = f"def {name}({', '.join(_params(prog))}):"
    body = []
    if doc:
        body.append(f'"""{doc}"""')
    for line in em.lines:
        body.extend(line.split("\n"))
    return head + "\n" + "\n".join("    " + b for b in body) + "\n"


def expression_source(e: t.TExpr, helpers: ModuleHelpers | None = None) -> str:
    """Python text of one typed expression (a rule's predicate or immediate), without
    statements: names are the expression's variables.

    Example::

        >>> from heron.meta.dsl import parse_expression, check_expression, BV
        >>> e, src = parse_expression("sext(trunc(k, 32), 64) == k")
        >>> expression_source(check_expression(e, src, {"k": BV(64)}))
        '((((k & 0xffffffff) ^ 0x80000000) - 0x80000000) & 0xffffffffffffffff) == k'
    """
    return _Emitter(helpers if helpers is not None else ModuleHelpers(), inline=True).expr(e, top=True)


def lanewise_source(prog: t.Program, lane_fn: str) -> str:
    """A Python expression building the vector function of a lanewise ``prog`` from the
    function of one lane (``_lanewise(iadd_i32, 4, (32, 32), (32,))``).

    Split inputs are cut into lanes; the others (scalars, immediates) go to every lane.
    """
    widths = []
    for name, kind in prog.inputs:
        widths.append(str(kind.width) if name in prog.split else "0")  # type: ignore[attr-defined]
    if prog.uses_memory:
        widths.append("0")
    outs = [str(w) for _, w in prog.outputs]
    tup = lambda xs: f"({', '.join(xs)}{',' if len(xs) == 1 else ''})"  # noqa: E731
    return f"_lanewise({lane_fn}, {prog.lanes}, {tup(widths)}, {tup(outs)})"


# -- the evaluator module -------------------------------------------------------------------

EVALUATOR_DOC = '''"""The IR interpreter's evaluators: one Python function per opcode and type.

Rendered from the ``semantics`` of isa_specs/ir.yaml by heron.meta.dsl.pyback (the
Python back end of the semantics DSL); regenerate with ``heron meta build``.

Calling convention::

    EVALUATORS[opcode_name](ctrl_type, arg_types, args, imm) -> tuple[int, ...]
    EVALUATORS[opcode_name](ctrl_type, arg_types, args, imm, mem)   # opcodes in USES_MEMORY

- ``ctrl_type`` is the instruction's controlling type and ``arg_types`` the types of its
  value operands (``heron.ir.types.Type``; only ``.name`` is read).  A type variable is
  read from the first operand whose type is exactly that variable, else from
  ``ctrl_type``.  A type the opcode does not allow raises KeyError.
- ``args`` are the operand values: unsigned ints below ``2**bits`` (floats and vectors
  as bit patterns, lane 0 in the low bits).
- ``imm`` is the format's immediate (``InstData.imm``): imm64/uimm8/offset32 ints, the
  float's bits, the constant's bits, the index of an IntCC/FloatCC/AtomicRmwOp value in
  ir.yaml order, a trap-code string, the shuffle mask (byte i = mask byte i), or a
  MemFlags object (``.endianness``) for formats whose only immediate is memflags.
- ``mem`` has ``load(addr, size) -> int`` and ``store(addr, size, value)`` (little-endian).
- The result is the tuple of the opcode's results in ir.yaml order; branches return
  ``(taken,)``.  Traps raise ``heron.errors.Trap(code)``.

Each opcode has one function per type (``iadd_i32``), with its masks as constants.  A
lanewise opcode at a vector type loops over the lanes calling its lane function.
"""
'''


def _type_key(op, names: list[str]) -> str:
    """Python text computing the dispatch key from ``ctrl`` and ``arg_types``."""
    parts = []
    for tv in names:
        index = next((i for i, (_, expr) in enumerate(op.operands) if expr == tv), None)
        if index is not None:
            parts.append(f"arg_types[{index}].name")
        elif tv == op.ctrl:
            parts.append("ctrl.name")
        else:
            raise ValueError(f"opcode {op.name}: type variable {tv} is neither an operand's type nor ctrl")
    return ", ".join(parts)


def _key_typevars(typevars: list[str], entries: list[tuple[tuple[str, ...], str]]) -> list[int]:
    """Indexes of the type variables the dispatch key needs: drop each one whose value never
    changes which function runs (``bmask`` does not care about the type of its input)."""
    keep = list(range(len(typevars)))
    for drop in range(len(typevars)):
        trial = [k for k in keep if k != drop]
        if not trial:
            break
        chosen: dict[tuple[str, ...], str] = {}
        if all(chosen.setdefault(tuple(names[k] for k in trial), fn) == fn for names, fn in entries):
            keep = trial
    return keep


def _render_opcode(sem, op, helpers: ModuleHelpers) -> tuple[str, bool]:
    """The section of one opcode: its functions, dispatch table and evaluator."""
    functions: list[str] = []
    bodies: dict[str, str] = {}  # function text with the name blanked -> name

    def add(src: str, fname: str) -> str:
        key = src.replace(f"def {fname}(", "def @(", 1)
        if key not in bodies:
            bodies[key] = fname
            functions.append(src)
        return bodies[key]

    entries: list[tuple[tuple[str, ...], str]] = []
    uses_memory = takes_imm = False
    imm_name = sem.primary_immediate(op.format)
    masked = frozenset({imm_name}) if imm_name else frozenset()
    for inst in sem.instances(op.name, include_dynamic=False, immediates="primary"):
        prog = inst.program
        uses_memory |= prog.uses_memory
        takes_imm |= any(n == imm_name for n, _ in prog.inputs)
        fname = f"{op.name}_{'_'.join(inst.type_names) or 'untyped'}"
        if prog.lanes > 1:
            lane_name = fname + "_lane"
            lane = add(function_source(prog, lane_name, helpers, mask_inputs=masked), lane_name)
            entries.append((inst.type_names, lanewise_source(prog, lane)))
        else:
            entries.append((inst.type_names, add(function_source(prog, fname, helpers, mask_inputs=masked), fname)))
    call_args = ", ".join(["*args"] + (["imm"] if takes_imm else []) + (["mem"] if uses_memory else []))
    params = "ctrl, arg_types, args, imm" + (", mem" if uses_memory else "")
    lines = [f"# ---- {op.name}: {op.doc}", "", "\n\n".join(functions), ""]
    if op.typevars:
        typevars = list(op.typevars)
        keep = _key_typevars(typevars, entries)
        table = f"_{op.name.upper()}"
        lines.append(f"{table} = {{")
        seen = set()
        for names, fn in entries:
            key = tuple(names[k] for k in keep)
            if key not in seen:
                seen.add(key)
                lines.append(f"    {repr(key[0]) if len(key) == 1 else repr(key)}: {fn},")
        lines += ["}", "", ""]
        lines.append(f"def eval_{op.name}({params}):")
        lines.append(f"    return {table}[{_type_key(op, [typevars[k] for k in keep])}]({call_args})")
    else:
        lines.append(f"def eval_{op.name}({params}):")
        lines.append(f"    return {entries[0][1]}({call_args})")
    return "\n".join(lines) + "\n", uses_memory


def render_evaluators(spec) -> str:  # spec: heron.meta.irspec.IRSpec
    """The source of ``heron.generated.ir_eval``: evaluators of every opcode with semantics."""
    from heron.meta.dsl.irsem import IRSemantics

    sem = IRSemantics(spec)
    helpers = ModuleHelpers()
    sections: list[str] = []
    names: list[str] = []
    memory_ops: list[str] = []
    for op in spec.opcodes:
        if op.semantics is None:
            continue
        text, uses_memory = _render_opcode(sem, op, helpers)
        sections.append(text)
        names.append(op.name)
        if uses_memory:
            memory_ops.append(op.name)
    out = [EVALUATOR_DOC, PRELUDE]
    if helpers.defs:
        out.append("# ---- enumeration tables: one function per value, in ir.yaml order\n\n" + helpers.source())
        out.append(
            "# (enum, argument widths) -> that table, for callers that need one operation of an enum\n"
            "ENUM_TABLES = {\n" + "".join(f"    {k!r}: {v},\n" for k, v in helpers.keys.items()) + "}\n"
        )
    out.extend(sections)
    out.append("EVALUATORS = {\n" + "".join(f"    {n!r}: eval_{n},\n" for n in names) + "}\n")
    members = ", ".join(repr(n) for n in memory_ops)
    out.append(f"USES_MEMORY = frozenset({{{members}}})\n" if memory_ops else "USES_MEMORY = frozenset()\n")
    return "\n\n".join(s.rstrip("\n") + "\n" for s in out)
