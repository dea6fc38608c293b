"""The checked ISA spec as plain data: what the verifier and the renderer read.

:func:`heron.meta.isa.load_isa` builds these records from the four YAML files of an
ISA folder.  Everything is resolved: register classes by name, each instruction's
variants (one per combination of its ``params``) with their typed semantics and
parsed encodings, each rule's instances (one per claimed type) with typed
predicates, immediates and emitted instructions.

Example::

    >>> from heron.meta.isa import load_isa
    >>> isa = load_isa("x86_64")
    >>> v = isa.variant("add_rr.64")
    >>> v.arg_layout, v.sizes
    ([('dst', None), ('src', None), ('rhs', None)], {'dst': 64, 'src': 64, 'rhs': 64})
    >>> inst = isa.rules["iadd_ri"].instances[3]
    >>> inst.label, [e.variant.name for e in inst.emits], inst.emits[0].args["dst"]
    ('i64', ['add_ri.64'], RegArg(value='out', role='result', part=None))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from heron.meta.dsl import typed as t
from heron.meta.dsl.check import EnumImm, Kind
from heron.meta.irtypes import IRType

__all__ = [
    "RegClass",
    "Register",
    "StateVar",
    "IsaEnumValue",
    "IsaEnum",
    "AddrField",
    "AddressingForm",
    "ImmKind",
    "Operand",
    "Instruction",
    "Variant",
    "CallConv",
    "Relocation",
    "FrameGeometry",
    "TArg",
    "TemplateInst",
    "Template",
    "PatVar",
    "PatWild",
    "PatLit",
    "PatNode",
    "RegArg",
    "ImmArg",
    "EnumArg",
    "LabelArg",
    "TrapArg",
    "MemArg",
    "EmitInst",
    "NodeInst",
    "RuleInstance",
    "Rule",
    "ISA",
]


# -- isa.yaml --------------------------------------------------------------------------


@dataclass
class RegClass:
    name: str
    bits: int
    doc: str
    index: int


@dataclass
class Register:
    """A physical register; ``index`` is its number in the generated register table."""

    name: str
    regclass: str
    encoding: int
    asm: dict[int, str]  # operand size in bits -> assembler name
    reserved: bool
    index: int
    line: int


@dataclass
class StateVar:
    name: str
    bits: int
    doc: str


@dataclass
class IsaEnumValue:
    name: str
    encoding: int
    semantics: str
    inverse: str | None
    line: int


@dataclass
class IsaEnum:
    """An operand vocabulary (x86 condition codes).  ``kind`` is its DSL environment
    entry: an implicit enum whose values' semantics read the machine state."""

    name: str
    doc: str
    values: list[IsaEnumValue]
    kind: EnumImm
    line: int

    def index(self, value: str) -> int:
        return [v.name for v in self.values].index(value)

    def value(self, name: str) -> IsaEnumValue | None:
        return next((v for v in self.values if v.name == name), None)


@dataclass
class ImmKind:
    """An immediate kind: ``sN``/``uN``, ``imm64``, or an explicit set of values."""

    text: str
    bits: int
    signed: bool
    values: tuple[int, ...] | None = None

    def fits(self, v: int) -> bool:
        """``v`` (a compile-time value) can be this immediate."""
        if self.values is not None:
            return v in self.values
        low = -(1 << (self.bits - 1)) if self.signed or self.text == "imm64" else 0
        high = (1 << self.bits) - 1 if not self.signed or self.text == "imm64" else (1 << (self.bits - 1)) - 1
        return low <= v <= high


@dataclass
class AddrField:
    name: str
    kind: str  # 'reg' | 'imm'
    regclass: str | None
    imm: ImmKind | None
    optional: bool
    default: int | None = None  # an immediate field a rule may leave out


@dataclass
class AddressingForm:
    """A memory operand form: its fields (flattened into MInst args in this order) and
    the address they denote (``address``, typed over the fields; an absent optional
    register reads as 0)."""

    name: str
    doc: str
    fields: list[AddrField]
    address: t.TExpr
    address_text: str
    line: int


# -- instructions.yaml -----------------------------------------------------------------


@dataclass
class Operand:
    """One operand of an instruction.  ``kind`` is reg, imm, mem, label, enum or trapcode."""

    name: str
    kind: str
    regclass: str | None = None
    access: str = "use"  # 'use' | 'def' | 'early' (a def written before the uses are read)
    reuse: str | None = None
    fixed: str | None = None
    size: Any = None  # int or a compile-time expression text over params (asm size), or None
    imm: ImmKind | None = None
    mem: str | None = None
    enum: str | None = None
    line: int = 0

    @property
    def is_def(self) -> bool:
        return self.access in ("def", "early")


@dataclass
class Variant:
    """One instruction at one combination of its params: one op of the generated table.

    ``arg_layout`` lists the MInst args in order: ``(operand, None)`` for a plain operand,
    ``(operand, field)`` for each field of a memory operand.
    """

    inst: Instruction
    params: dict[str, int]
    name: str  # 'add_rr.64'
    program: t.Program
    sizes: dict[str, int | None]  # operand -> asm size in bits (reg and mem operands)
    encoding_text: str
    encoding_line: int
    form: Any = None  # the notation's parsed, bound encoding (heron.meta.encoding)
    index: int = 0
    asm: str = ""  # the asm template of this variant (instructions.yaml's `asm`, or its entry for these params)

    @property
    def py_name(self) -> str:
        return self.name.replace(".", "_")

    @property
    def arg_layout(self) -> list[tuple[str, str | None]]:
        return self.inst.arg_layout

    def arg_index(self, operand: str, fld: str | None = None) -> int:
        return self.inst.arg_layout.index((operand, fld))

    @property
    def is_branch(self) -> bool:
        return any(o.kind == "label" for o in self.inst.operands)

    def writes_state(self) -> list[str]:
        """State the instruction assigns or clobbers (what flag liveness must know)."""
        assigned = [n for n, _ in self.program.outputs if n in self.inst.isa_state]
        return assigned + [c for c in self.inst.clobbers if c in self.inst.isa_state and c not in assigned]


@dataclass
class Instruction:
    name: str
    doc: str
    params: dict[str, tuple[int, ...]]
    operands: list[Operand]
    clobbers: list[str]
    fields: dict[str, str]
    asm: str
    semantics: str
    line: int
    file: str
    raw: Any = field(default=None, repr=False)
    variants: list[Variant] = field(default_factory=list)
    arg_layout: list[tuple[str, str | None]] = field(default_factory=list)
    isa_state: frozenset[str] = frozenset()

    def operand(self, name: str) -> Operand | None:
        return next((o for o in self.operands if o.name == name), None)


# -- abi.yaml --------------------------------------------------------------------------


@dataclass
class CallConv:
    name: str
    doc: str
    int_args: list[str]
    float_args: list[str]
    int_rets: list[str]
    float_rets: list[str]
    callee_saved: list[str]
    stack_pointer: str
    frame_pointer: str
    stack_align: int
    red_zone: int
    line: int


@dataclass
class Relocation:
    """A relocation kind of abi.yaml: ``size`` bytes, PC-relative or absolute; a
    ``label_field`` of the notation referring to a symbol becomes this relocation."""

    name: str
    size: int
    pc_relative: bool
    label_field: str | None
    doc: str
    line: int


@dataclass
class FrameGeometry:
    """abi.yaml ``frame``: the bytes between the caller's stack pointer at a call and the
    frame pointer (``header``), the stack bytes one ``save`` of each class takes, and the
    bytes a call instruction pushes (``call_pushes``: the return address; 0 with a link register)."""

    header: int
    save_bytes: dict[str, int]
    call_pushes: int = 0


@dataclass(frozen=True)
class TArg:
    """One operand value of a framework template: ``kind`` is ``reg`` (a physical
    register, ``value`` its name), ``ph`` (a placeholder, ``value`` its name), ``int``,
    ``enum`` (``value`` the ISA enum value's encoding), ``trapcode`` or ``mem``
    (``value``: ``((field, TArg | None), ...)`` in the addressing form's order)."""

    kind: str
    value: object


@dataclass
class TemplateInst:
    """One instruction of a template; ``reloc``: ``(kind, from_end)`` when the immediate
    given a symbol placeholder is a relocation whose field ends ``from_end`` bytes before
    the end of the instruction."""

    variant: Variant
    args: dict[str, TArg]
    reloc: tuple[str, int] | None
    line: int


@dataclass
class Template:
    """A framework template: per key (a register class, an IR type or ``None``) its
    instructions; ``placeholders`` maps each placeholder it uses to its kind."""

    name: str
    keyed_by: str | None  # 'class' | 'type' | None
    bodies: dict[str | None, list[TemplateInst]]
    placeholders: dict[str, str]
    line: int


# -- rules.yaml ------------------------------------------------------------------------


@dataclass(frozen=True)
class PatVar:
    """A pattern variable: binds an IR value or an immediate."""

    name: str
    col: int = 0


@dataclass(frozen=True)
class PatWild:
    """``_``: anything."""

    col: int = 0


@dataclass(frozen=True)
class PatLit:
    """A literal immediate: an integer, an enum value name or a trap code."""

    value: int | str
    col: int = 0


@dataclass(frozen=True)
class PatNode:
    """``(opcode arg ...)``: the args follow the text order of the opcode's format fields,
    block calls left out."""

    opcode: str
    args: tuple[PatVar | PatWild | PatLit | PatNode, ...]
    col: int = 0


@dataclass(frozen=True)
class RegArg:
    """A register operand's value: a pattern variable (a leaf IR value), ``out``/``outN``
    (a result) or a temporary, and for a value held in a register pair its ``part``."""

    value: str
    role: str  # 'leaf' | 'result' | 'temp'
    part: str | None = None  # 'lo' | 'hi'

    @property
    def key(self) -> str:
        return self.value + (f".{self.part}" if self.part else "")


@dataclass(frozen=True)
class ImmArg:
    """An immediate operand: a compile-time int or a typed expression over the rule's
    immediates (converted to ``bits``: truncated if wider, zero-extended if narrower)."""

    expr: int | t.TExpr
    bits: int
    text: str


@dataclass(frozen=True)
class EnumArg:
    """An ISA enum operand: a fixed value, or ``MAP[var]`` (looked up per IR enum value)."""

    value: str | None = None
    map: str | None = None
    var: str | None = None


@dataclass(frozen=True)
class LabelArg:
    target: str  # 'then' | 'else'


@dataclass(frozen=True)
class TrapArg:
    code: str | None = None
    var: str | None = None


@dataclass(frozen=True)
class MemArg:
    """A memory operand: its addressing form's fields (an absent optional field is None)."""

    form: str
    fields: tuple[tuple[str, RegArg | ImmArg | None], ...]


EmitArgValue = RegArg | ImmArg | EnumArg | LabelArg | TrapArg | MemArg


@dataclass
class EmitInst:
    variant: Variant
    args: dict[str, EmitArgValue]
    line: int


@dataclass
class NodeInst:
    """One pattern node at one typing: its opcode, type bindings and typed semantics.

    ``inputs`` maps each name of the program's environment to where the value comes from:
    ``('var', name)``, ``('node', index)`` (the single result of an earlier node),
    ``('wild', key)`` (a fresh unconstrained value) or ``('lit', value)``.
    """

    node: PatNode
    opcode: str
    bindings: dict[str, IRType]
    program: t.Program
    inputs: dict[str, tuple[str, Any]]
    result_types: list[IRType]


@dataclass
class RuleInstance:
    """A rule at one claimed typing: what one (or, with enum variables, several) Z3
    queries check and what one matcher arm of the generated backend does."""

    rule: Rule
    label: str  # 'i32' or 'x=i8, out=i64'
    width: int  # bits of the root's controlling type (`width` in when/let)
    nodes: list[NodeInst]  # post-order: producers first, the root last
    value_vars: dict[str, IRType]
    imm_vars: dict[str, Kind]
    results: list[tuple[str, str, IRType]]  # (rule name 'out', IR result name 'a', type)
    when: t.TExpr | None
    lets: dict[str, int | t.TExpr]
    emits: list[EmitInst]
    enum_vars: list[tuple[str, str, tuple[str, ...]]]  # (var, IR enum, value names)
    is_branch: bool
    parts: dict[str, int]  # value or result name -> registers it occupies (2: a lo/hi pair)
    destinations: list[str] = field(default_factory=list)  # a branch root's: ['then', 'else']


@dataclass
class Rule:
    name: str
    doc: str
    match: str
    pattern: PatNode
    when: str | None
    priority: int
    lets: list[tuple[str, str]]
    maps: dict[str, dict[str, str | None]]  # None: the rule does not apply to that IR value
    line: int
    file: str
    raw: Any = field(default=None, repr=False)
    instances: list[RuleInstance] = field(default_factory=list)
    unproven: str | None = None  # why the verifier assumes this rule instead of proving it


# -- the whole ISA -----------------------------------------------------------------------


@dataclass
class ISA:
    name: str
    doc: str
    folder: str
    pointer_bits: int
    endianness: str
    classes: dict[str, RegClass]
    registers: dict[str, Register]
    state: dict[str, StateVar]
    enums: dict[str, IsaEnum]
    addressing: dict[str, AddressingForm]
    encoding: dict[str, Any]  # the notation's parameters (isa.yaml `encoding:`)
    disassembler: dict[str, str] = field(default_factory=dict)  # capstone_arch, capstone_mode
    notation: Any = None  # heron.meta.encoding.Notation
    instructions: dict[str, Instruction] = field(default_factory=dict)
    value_classes: dict[str, str] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    call_convs: dict[str, CallConv] = field(default_factory=dict)
    scratch: dict[str, str] = field(default_factory=dict)  # class -> register (abi.yaml)
    relocations: dict[str, Relocation] = field(default_factory=dict)
    frame: FrameGeometry | None = None
    templates: dict[str, Template] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # file name -> its YAML document
    ir: Any = field(default=None, repr=False)  # the IRSemantics the rules were checked against

    @property
    def variants(self) -> list[Variant]:
        return [v for inst in self.instructions.values() for v in inst.variants]

    def variant(self, name: str) -> Variant:
        base = name.split(".")[0]
        for v in self.instructions[base].variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def regs_by_encoding(self, regclass: str) -> dict[int, Register]:
        return {r.encoding: r for r in self.registers.values() if r.regclass == regclass}
