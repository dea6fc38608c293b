"""Load and check ``isa_specs/ir.yaml``: formats, enums, type sets and opcodes.

The result is plain data (:class:`IRSpec`) that the renderers and the verifier
read; every error is a :class:`~heron.errors.SpecError` naming ``file:line``.

Example::

    >>> spec = load_ir_spec_text('''
    ... formats: {Binary: [value, value]}
    ... enums: {}
    ... type_sets: {Int: [i8, i32]}
    ... opcodes:
    ...   iadd:
    ...     doc: Wrapping addition.
    ...     format: Binary
    ...     typevars: {T: Int}
    ...     operands: {x: T, y: T}
    ...     results: {a: T}
    ...     semantics: a = x + y
    ... ''')
    >>> op = spec.opcodes[0]
    >>> op.name, op.ctrl, op.infer, op.typevars["T"]
    ('iadd', 'T', 0, ('i8', 'i32'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.errors import SpecError
from heron.meta.yamlload import LDict, LList, describe, load_yaml, load_yaml_text

__all__ = [
    "IRSpec",
    "FormatSpec",
    "FieldSpec",
    "EnumSpec",
    "EnumValue",
    "OpcodeSpec",
    "load_ir_spec",
    "load_ir_spec_text",
    "default_specs_dir",
    "IMMEDIATE_KINDS",
    "OPCODE_FLAGS",
    "DERIVED_TYPES",
    "type_names",
]

# Immediate kinds a format field may have (each has parse/print support in heron.ir.parser).
IMMEDIATE_KINDS = frozenset(
    {
        "imm64",
        "uimm8",
        "uimm128",
        "offset32",
        "ieee16",
        "ieee32",
        "ieee64",
        "constant",
        "intcc",
        "floatcc",
        "atomic_rmw_op",
        "memflags",
        "trapcode",
        "stack_slot",
        "func_ref",
        "sig_ref",
        "global_value",
        "block_call",
        "jump_table",
        "exception_table",
    }
)
OPCODE_FLAGS = frozenset(
    {"terminator", "branch", "call", "return", "can_trap", "can_load", "can_store", "side_effects", "nan_any"}
)
DERIVED_TYPES = frozenset(
    {"lane", "as_truthy", "as_int", "half_width", "double_width", "merge_lanes", "split_lanes", "half_vector", "static"}
)
CONSTRAINT_PREDICATES = frozenset({"narrower", "same_bits", "same_lanes"})
OPCODE_KEYS = (
    "doc",
    "format",
    "typevars",
    "ctrl",
    "infer",
    "operands",
    "results",
    "constraints",
    "flags",
    "lanewise",
    "semantics",
)

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPEVAR = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def type_names() -> list[str]:
    """Every IR type name meta knows (scalars, fixed vectors, dynamic vectors)."""
    names = ["i8", "i16", "i32", "i64", "i128", "f16", "f32", "f64", "f128"]
    for lane, bits in (("i8", 8), ("i16", 16), ("i32", 32), ("i64", 64), ("f16", 16), ("f32", 32), ("f64", 64)):
        lanes = 2
        while bits * lanes <= 128:
            names.append(f"{lane}x{lanes}")
            names.append(f"{lane}x{lanes}xN")
            lanes *= 2
    return names


_TYPE_NAMES = frozenset(type_names())


@dataclass
class FieldSpec:
    """One field of a format: ``value`` / ``values`` (operands) or a named immediate."""

    kind: str
    name: str | None = None


@dataclass
class FormatSpec:
    name: str
    fields: list[FieldSpec]
    line: int

    @property
    def num_values(self) -> int:
        return sum(1 for f in self.fields if f.kind == "value")

    @property
    def has_varargs(self) -> bool:
        return any(f.kind == "values" for f in self.fields)

    @property
    def immediates(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.kind not in ("value", "values")]


@dataclass
class EnumValue:
    name: str
    semantics: str | None
    semantics_line: int
    inverse: str | None = None
    swapped: str | None = None


@dataclass
class EnumSpec:
    name: str
    doc: str
    values: list[EnumValue]
    line: int


@dataclass
class OpcodeSpec:
    """One opcode.  ``typevars`` maps each type variable to its expanded type names."""

    name: str
    doc: str
    format: str
    typevars: dict[str, tuple[str, ...]]
    ctrl: str | None
    infer: int
    operands: list[tuple[str, str]]
    varargs: str | None
    results: list[tuple[str, str]]
    constraints: list[tuple[str, str, str]]
    flags: frozenset[str]
    lanewise: bool
    semantics: str | None
    semantics_line: int
    line: int
    file: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class IRSpec:
    formats: dict[str, FormatSpec]
    enums: dict[str, EnumSpec]
    type_sets: dict[str, tuple[str, ...]]
    opcodes: list[OpcodeSpec]
    file: str
    source_text: str = ""

    def opcode(self, name: str) -> OpcodeSpec:
        for op in self.opcodes:
            if op.name == name:
                return op
        raise KeyError(name)


def default_specs_dir() -> Path:
    """``isa_specs/`` of the source checkout this meta package lives in."""
    return Path(__file__).resolve().parent.parent / "isa_specs"


def load_ir_spec(path: str | Path | None = None) -> IRSpec:
    """Load and check ``ir.yaml`` (default: the checkout's ``isa_specs/ir.yaml``)."""
    p = Path(path) if path is not None else default_specs_dir() / "ir.yaml"
    doc = load_yaml(p)
    return _build(doc, str(p), p.read_text(encoding="utf-8"))


def load_ir_spec_text(text: str, file: str = "<ir.yaml>") -> IRSpec:
    return _build(load_yaml_text(text, file), file, text)


# -- checking helpers ---------------------------------------------------------


def _expect_map(parent: LDict, key: str, value: Any) -> LDict:
    if not isinstance(value, LDict):
        raise parent.error(f"'{key}' must be a mapping, found {describe(value)}", key)
    return value


def _expect_str(parent: LDict, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise parent.error(f"'{key}' must be a string, found {describe(value)}", key)
    return value


def _build(doc: Any, file: str, text: str) -> IRSpec:
    if not isinstance(doc, LDict):
        raise SpecError("ir.yaml must be a mapping with formats, enums, type_sets and opcodes", file, 1)
    for key in doc:
        if key not in ("formats", "enums", "type_sets", "opcodes"):
            raise doc.error(f"unknown top-level key '{key}' (expected formats, enums, type_sets, opcodes)", key)
    for key in ("formats", "enums", "type_sets", "opcodes"):
        if key not in doc:
            raise SpecError(f"missing top-level key '{key}'", file, 1)
    formats = _load_formats(_expect_map(doc, "formats", doc["formats"]))
    enums = _load_enums(_expect_map(doc, "enums", doc["enums"]))
    type_sets = _load_type_sets(_expect_map(doc, "type_sets", doc["type_sets"]))
    opcodes_doc = _expect_map(doc, "opcodes", doc["opcodes"])
    opcodes = [_load_opcode(name, opcodes_doc, formats, type_sets) for name in opcodes_doc]
    return IRSpec(formats, enums, type_sets, opcodes, file, text)


def _load_formats(doc: LDict) -> dict[str, FormatSpec]:
    out: dict[str, FormatSpec] = {}
    for name, fields in doc.items():
        if not isinstance(fields, LList):
            raise doc.error(f"format '{name}' must be a list of fields, found {describe(fields)}", name)
        specs: list[FieldSpec] = []
        for i, f in enumerate(fields):
            if f in ("value", "values"):
                specs.append(FieldSpec(f))
            elif isinstance(f, LDict) and len(f) == 1:
                [(fname, kind)] = f.items()
                if kind not in IMMEDIATE_KINDS:
                    raise fields.error(
                        f"format '{name}': unknown immediate kind '{kind}' (expected one of {', '.join(sorted(IMMEDIATE_KINDS))})",
                        i,
                    )
                specs.append(FieldSpec(kind, fname))
            else:
                raise fields.error(f"format '{name}': a field is 'value', 'values' or 'name: kind', found {describe(f)}", i)
        out[name] = FormatSpec(name, specs, doc.key_line(name))
    return out


def _load_enums(doc: LDict) -> dict[str, EnumSpec]:
    out: dict[str, EnumSpec] = {}
    for name, body in doc.items():
        body = _expect_map(doc, name, body)
        values_doc = _expect_map(body, "values", body.get("values"))
        values: list[EnumValue] = []
        for vname, vbody in values_doc.items():
            vbody = _expect_map(values_doc, vname, vbody)
            for k in vbody:
                if k not in ("semantics", "inverse", "swapped", "doc"):
                    raise vbody.error(f"enum value '{vname}': unknown key '{k}'", k)
            values.append(
                EnumValue(
                    vname,
                    vbody.get("semantics"),
                    vbody.value_line("semantics") if "semantics" in vbody else vbody.line,
                    vbody.get("inverse"),
                    vbody.get("swapped"),
                )
            )
        names = {v.name for v in values}
        for v in values:
            for rel in ("inverse", "swapped"):
                other = getattr(v, rel)
                if other is not None and other not in names:
                    raise values_doc.error(f"enum {name}.{v.name}: {rel} '{other}' is not a value of {name}", v.name)
        out[name] = EnumSpec(name, str(body.get("doc", "")), values, doc.key_line(name))
    return out


def _load_type_sets(doc: LDict) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name, items in doc.items():
        if not isinstance(items, LList):
            raise doc.error(f"type set '{name}' must be a list, found {describe(items)}", name)
        out[name] = _expand_set(items, out, doc.file)
    return out


def _expand_set(items: LList, sets: dict[str, tuple[str, ...]], file: str) -> tuple[str, ...]:
    names: list[str] = []
    for i, item in enumerate(items):
        if item in sets:
            names.extend(sets[item])
        elif item in _TYPE_NAMES:
            names.append(item)
        else:
            raise items.error(f"'{item}' is neither a type nor a type set defined above", i)
    seen: set[str] = set()
    return tuple(n for n in names if not (n in seen or seen.add(n)))  # type: ignore[func-returns-value]


def _check_type_expr(expr: Any, typevars: dict[str, Any], where: LDict, key: str) -> str:
    if not isinstance(expr, str):
        raise where.error(f"type of '{key}' must be a type expression, found {describe(expr)}", key)
    base, _, derived = expr.partition(".")
    if base in typevars:
        if derived and derived not in DERIVED_TYPES:
            raise where.error(
                f"'{expr}': unknown derived type '{derived}' (expected one of {', '.join(sorted(DERIVED_TYPES))})", key
            )
        return expr
    if not derived and base in _TYPE_NAMES:
        return expr
    raise where.error(f"'{expr}' is neither a type variable of this opcode nor a type", key)


def _load_opcode(name: str, parent: LDict, formats: dict[str, FormatSpec], type_sets: dict[str, tuple[str, ...]]) -> OpcodeSpec:
    body = parent[name]
    if not _NAME.match(str(name)):
        raise parent.error(f"opcode name '{name}' must be lower_snake_case", name)
    if not isinstance(body, LDict):
        raise parent.error(f"opcode '{name}' must be a mapping, found {describe(body)}", name)
    order = [k for k in body]
    for k in order:
        if k not in OPCODE_KEYS:
            raise body.error(f"opcode '{name}': unknown key '{k}' (expected {', '.join(OPCODE_KEYS)})", k)
    ranks = [OPCODE_KEYS.index(k) for k in order]
    if ranks != sorted(ranks):
        raise body.error(f"opcode '{name}': keys must appear in the order {', '.join(OPCODE_KEYS)}", order[0])
    for required in ("doc", "format"):
        if required not in body:
            raise parent.error(f"opcode '{name}': missing '{required}'", name)
    doc = _expect_str(body, "doc", body["doc"])
    fmt_name = _expect_str(body, "format", body["format"])
    if fmt_name not in formats:
        raise body.error(f"opcode '{name}': unknown format '{fmt_name}'", "format")
    fmt = formats[fmt_name]

    typevars: dict[str, tuple[str, ...]] = {}
    if "typevars" in body:
        tv_doc = _expect_map(body, "typevars", body["typevars"])
        for tv, tset in tv_doc.items():
            if not isinstance(tv, str) or not _TYPEVAR.match(tv):
                raise tv_doc.error(f"type variable '{tv}' must be Capitalized", tv)
            if isinstance(tset, str):
                if tset not in type_sets:
                    raise tv_doc.error(f"unknown type set '{tset}'", tv)
                typevars[tv] = type_sets[tset]
            elif isinstance(tset, LList):
                typevars[tv] = _expand_set(tset, type_sets, body.file)
            else:
                raise tv_doc.error(f"type variable '{tv}' needs a type set name or a list, found {describe(tset)}", tv)

    operands: list[tuple[str, str]] = []
    varargs: str | None = None
    if "operands" in body:
        op_doc = _expect_map(body, "operands", body["operands"])
        for oname, texpr in op_doc.items():
            if texpr == "varargs":
                if varargs is not None:
                    raise op_doc.error("only one varargs operand is allowed", oname)
                varargs = oname
                continue
            if varargs is not None:
                raise op_doc.error("the varargs operand must come last", oname)
            operands.append((oname, _check_type_expr(texpr, typevars, op_doc, oname)))
    if len(operands) != fmt.num_values:
        raise body.error(
            f"opcode '{name}': format {fmt_name} has {fmt.num_values} value operands, {len(operands)} declared",
            "operands" if "operands" in body else "format",
        )
    if (varargs is not None) != fmt.has_varargs:
        raise body.error(
            f"opcode '{name}': format {fmt_name} {'has' if fmt.has_varargs else 'has no'} variable operand list",
            "operands" if "operands" in body else "format",
        )

    results: list[tuple[str, str]] = []
    if "results" in body:
        res_doc = _expect_map(body, "results", body["results"])
        for rname, texpr in res_doc.items():
            results.append((rname, _check_type_expr(texpr, typevars, res_doc, rname)))

    ctrl: str | None = body.get("ctrl")
    if ctrl is not None and ctrl not in typevars:
        raise body.error(f"opcode '{name}': ctrl '{ctrl}' is not one of its type variables", "ctrl")
    infer = -1
    names = [o for o, _ in operands]
    if "infer" in body:
        if body["infer"] not in names:
            raise body.error(f"opcode '{name}': infer '{body['infer']}' is not a fixed operand", "infer")
        infer = names.index(body["infer"])
        if ctrl is None:
            ctrl = next(iter(typevars), None)
        if operands[infer][1] != ctrl:
            raise body.error(f"opcode '{name}': operand '{body['infer']}' does not have type {ctrl}", "infer")
    elif ctrl is None and typevars:
        # Default: the first type variable, inferred from the first operand of exactly that type.
        ctrl = next(iter(typevars))
        infer = next((i for i, (_, t) in enumerate(operands) if t == ctrl), -1)
    if ctrl is not None and infer < 0:
        used_in_results = any(t.split(".")[0] == ctrl for _, t in results)
        if not used_in_results and not any(t.split(".")[0] == ctrl for _, t in operands):
            raise body.error(f"opcode '{name}': ctrl type '{ctrl}' is used by no operand or result", "typevars")

    constraints: list[tuple[str, str, str]] = []
    if "constraints" in body:
        cons = body["constraints"]
        if not isinstance(cons, LList):
            raise body.error("'constraints' must be a list", "constraints")
        for i, c in enumerate(cons):
            m = re.match(r"^(\w+)\((\w+),\s*(\w+)\)$", str(c))
            if not m or m.group(1) not in CONSTRAINT_PREDICATES:
                raise cons.error(
                    f"constraint '{c}' must be one of {', '.join(sorted(CONSTRAINT_PREDICATES))} of two type variables", i
                )
            for tv in (m.group(2), m.group(3)):
                if tv not in typevars:
                    raise cons.error(f"constraint '{c}': '{tv}' is not a type variable", i)
            constraints.append((m.group(1), m.group(2), m.group(3)))

    flags: frozenset[str] = frozenset()
    if "flags" in body:
        fl = body["flags"]
        if not isinstance(fl, LList):
            raise body.error("'flags' must be a list", "flags")
        for i, f in enumerate(fl):
            if f not in OPCODE_FLAGS:
                raise fl.error(f"unknown flag '{f}' (expected one of {', '.join(sorted(OPCODE_FLAGS))})", i)
        flags = frozenset(fl)

    lanewise = body.get("lanewise", True)
    if not isinstance(lanewise, bool):
        raise body.error("'lanewise' must be true or false", "lanewise")
    semantics = body.get("semantics")
    if semantics is not None and not isinstance(semantics, str):
        raise body.error("'semantics' must be a string", "semantics")
    return OpcodeSpec(
        name=name,
        doc=doc,
        format=fmt_name,
        typevars=typevars,
        ctrl=ctrl,
        infer=infer,
        operands=operands,
        varargs=varargs,
        results=results,
        constraints=constraints,
        flags=flags,
        lanewise=lanewise,
        semantics=semantics,
        semantics_line=body.value_line("semantics") if semantics is not None else body.line,
        line=parent.key_line(name),
        file=body.file,
        raw=body,
    )
