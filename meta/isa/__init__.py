"""ISA specs: load and check ``isa_specs/<isa>/`` (four YAML files) into plain data.

An ISA folder holds ``isa.yaml`` (registers, state, enums, addressing, encoding
notation), ``instructions.yaml``, ``rules.yaml`` and ``abi.yaml``, each with the same
top-level keys in the same order in every ISA (isa_specs/README.md documents the
schema).  :func:`load_isa` reads them in that order and returns an :class:`ISA` whose
instructions are expanded into variants and whose rules are instantiated per claimed
type; every error is a :class:`~heron.errors.SpecError` naming ``file:line``.

One module per file: :mod:`.machine` (isa.yaml), :mod:`.instructions`, :mod:`.rules`
(with :mod:`heron.meta.patterns`), :mod:`.abi`; :mod:`.model` holds the dataclasses and
:mod:`.schema` the shape checks.

Example::

    >>> isa = load_isa("x86_64")
    >>> isa.registers["r12"].encoding, isa.variant("add_ri.64").form.describe()
    (12, 'REX.W 81 /0 id: rm=dst imm=imm')
    >>> [i.label for i in isa.rules["iadd_rr"].instances]
    ['i8', 'i16', 'i32', 'i64']
"""

from __future__ import annotations

from pathlib import Path

from heron.errors import SpecError
from heron.meta.dsl.irsem import IRSemantics
from heron.meta.irspec import default_specs_dir, load_ir_spec
from heron.meta.isa.model import ISA
from heron.meta.yamlload import load_yaml

__all__ = ["ISA", "ISA_FILES", "load_isa", "load_isa_folder", "isa_folders", "ir_semantics"]

ISA_FILES = ("isa.yaml", "instructions.yaml", "rules.yaml", "abi.yaml")
_IR_CACHE: dict[str, IRSemantics] = {}


def ir_semantics(ir_yaml: Path | None = None) -> IRSemantics:
    """The IR semantics of ``ir_yaml`` (default: the checkout's), loaded once."""
    path = Path(ir_yaml) if ir_yaml is not None else default_specs_dir() / "ir.yaml"
    key = str(path.resolve())
    if key not in _IR_CACHE:
        _IR_CACHE[key] = IRSemantics(load_ir_spec(path))
    return _IR_CACHE[key]


def isa_folders(specs_dir: Path | None = None) -> list[Path]:
    """The ISA folders of a spec directory: its subfolders holding an ``isa.yaml``."""
    d = Path(specs_dir) if specs_dir is not None else default_specs_dir()
    return sorted(p for p in d.iterdir() if p.is_dir() and (p / "isa.yaml").exists())


def load_isa(name: str, specs_dir: Path | None = None, ir: IRSemantics | None = None) -> ISA:
    """Load ISA ``name`` from ``specs_dir`` (default: the checkout's ``isa_specs/``)."""
    d = Path(specs_dir) if specs_dir is not None else default_specs_dir()
    if ir is None and (d / "ir.yaml").exists():
        ir = ir_semantics(d / "ir.yaml")
    return load_isa_folder(d / name, ir)


def load_isa_folder(folder: Path, ir: IRSemantics | None = None) -> ISA:
    """Load and check the four files of one ISA folder against ``ir`` (default: the
    checkout's ir.yaml)."""
    from heron.meta.isa.abi import load_abi
    from heron.meta.isa.instructions import load_instructions
    from heron.meta.isa.machine import load_machine
    from heron.meta.isa.rules import load_rules

    folder = Path(folder)
    if not folder.is_dir():
        raise SpecError(f"no ISA folder {folder}", str(folder), 0)
    for f in ISA_FILES:
        if not (folder / f).exists():
            raise SpecError(f"ISA folder {folder.name} has no {f} (an ISA is {', '.join(ISA_FILES)})", str(folder / f), 0)
    ir = ir if ir is not None else ir_semantics()
    docs = {f: load_yaml(folder / f) for f in ISA_FILES}
    isa = load_machine(docs["isa.yaml"], folder.name)
    isa.raw = docs
    isa.ir = ir
    load_instructions(docs["instructions.yaml"], isa)
    load_rules(docs["rules.yaml"], isa, ir)
    load_abi(docs["abi.yaml"], isa)
    return isa
