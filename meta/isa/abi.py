"""Load ``abi.yaml``: the calling conventions (argument, return and callee-saved
registers, stack pointer, frame pointer, stack alignment, red zone).

Example::

    >>> from heron.meta.isa import load_isa
    >>> sv = load_isa("x86_64").call_convs["system_v"]
    >>> sv.int_args[:2], sv.int_rets, sv.stack_align
    (['rdi', 'rsi'], ['rax', 'rdx'], 16)
"""

from __future__ import annotations

from typing import Any

from heron.errors import SpecError
from heron.meta.isa import schema as sch
from heron.meta.isa.model import ISA, CallConv
from heron.meta.yamlload import LDict

__all__ = ["CALL_CONV_KEYS", "load_abi"]

CALL_CONV_KEYS = (
    "doc",
    "int_args",
    "float_args",
    "int_rets",
    "float_rets",
    "callee_saved",
    "stack_pointer",
    "frame_pointer",
    "stack_align",
    "red_zone",
)


def load_abi(doc: Any, isa: ISA) -> None:
    if not isinstance(doc, LDict):
        raise SpecError("abi.yaml must be a mapping with the key call_convs", getattr(doc, "file", "abi.yaml"), 1)
    sch.check_keys(doc, ("call_convs",), "abi.yaml", required=("call_convs",))
    convs = sch.expect_map(doc, "call_convs", "call_convs")
    if not convs:
        raise convs.error("call_convs: an ISA needs at least one calling convention")
    for name in convs:
        sch.expect_name(convs, name, "calling convention", name)
        what = f"calling convention '{name}'"
        body = sch.expect_map(convs, name, what)
        sch.check_keys(body, CALL_CONV_KEYS, what, required=CALL_CONV_KEYS)

        def regs(key: str, kind: str | None) -> list[str]:
            items = sch.expect_list(body, key, f"{what}: {key}")
            cls = isa.value_classes.get(kind) if kind else None
            seen = set()
            for i, r in enumerate(items):
                reg = isa.registers.get(r)
                if reg is None:
                    raise items.error(f"{what}: {key}: '{r}' is not a register", i)
                if cls is not None and reg.regclass != cls:
                    raise items.error(f"{what}: {key}: '{r}' is in class {reg.regclass}, not {cls} (value_classes.{kind})", i)
                if r in seen:
                    raise items.error(f"{what}: {key}: '{r}' is listed twice", i)
                seen.add(r)
            return list(items)

        def one(key: str) -> str:
            r = body[key]
            if r not in isa.registers:
                raise body.error(f"{what}: {key}: '{r}' is not a register", key)
            return r

        align = sch.expect_int(body, "stack_align", f"{what}: stack_align", 1)
        if align & (align - 1):
            raise body.error(f"{what}: stack_align must be a power of two, not {align}", "stack_align")
        isa.call_convs[name] = CallConv(
            name=name,
            doc=sch.expect_str(body, "doc", f"{what}: doc"),
            int_args=regs("int_args", "int"),
            float_args=regs("float_args", "float"),
            int_rets=regs("int_rets", "int"),
            float_rets=regs("float_rets", "float"),
            callee_saved=regs("callee_saved", None),
            stack_pointer=one("stack_pointer"),
            frame_pointer=one("frame_pointer"),
            stack_align=align,
            red_zone=sch.expect_int(body, "red_zone", f"{what}: red_zone", 0),
            line=convs.key_line(name),
        )
