"""An IR function: name, signature, preamble entities, data-flow graph and layout.

Preamble tables are lists indexed by entity number (``ss2`` is
``stack_slots[2]``); a hole (``None``) is a number the text skipped.

Example::

    >>> from heron.ir.entities import AbiParam, Signature
    >>> from heron.ir.types import I32
    >>> fn = Function("%id", Signature([AbiParam(I32)], [AbiParam(I32)]))
    >>> b0 = fn.dfg.make_block(); fn.layout.append_block(b0)
    >>> v0 = fn.dfg.append_block_param(b0, I32)
    >>> fn.entry_block(), fn.dfg.block_params[b0]
    (0, [0])
"""

from __future__ import annotations

from typing import TypeVar

from heron.ir.dfg import DataFlowGraph
from heron.ir.entities import (
    DynamicTypeData,
    ExtFuncData,
    GlobalValueData,
    Signature,
    StackSlotData,
)
from heron.ir.instructions import InstData, opcode_info
from heron.ir.layout import Layout

__all__ = ["Function"]

E = TypeVar("E")


def _put(table: list[E | None], index: int | None, item: E) -> int:
    """Store ``item`` at ``index`` (growing with holes), or append when index is None."""
    if index is None:
        table.append(item)
        return len(table) - 1
    while len(table) <= index:
        table.append(None)
    if table[index] is not None:
        raise ValueError(f"entity {index} is already declared")
    table[index] = item
    return index


class Function:
    """One function of the IR."""

    __slots__ = (
        "name",
        "signature",
        "stack_slots",
        "global_values",
        "sig_refs",
        "func_refs",
        "dynamic_types",
        "stack_limit",
        "dfg",
        "layout",
    )

    def __init__(self, name: str = "%noname", signature: Signature | None = None) -> None:
        self.name = name
        self.signature = signature if signature is not None else Signature()
        self.stack_slots: list[StackSlotData | None] = []
        self.global_values: list[GlobalValueData | None] = []
        self.sig_refs: list[Signature | None] = []
        self.func_refs: list[ExtFuncData | None] = []
        self.dynamic_types: list[DynamicTypeData | None] = []
        self.stack_limit: int | None = None
        self.dfg = DataFlowGraph()
        self.dfg.ext_signature_of = self._call_signature
        self.layout = Layout()

    # -- preamble ---------------------------------------------------------
    def create_stack_slot(self, data: StackSlotData, number: int | None = None) -> int:
        return _put(self.stack_slots, number, data)

    def create_global_value(self, data: GlobalValueData, number: int | None = None) -> int:
        return _put(self.global_values, number, data)

    def import_signature(self, sig: Signature, number: int | None = None) -> int:
        return _put(self.sig_refs, number, sig)

    def import_function(self, data: ExtFuncData, number: int | None = None) -> int:
        return _put(self.func_refs, number, data)

    def create_dynamic_type(self, data: DynamicTypeData, number: int | None = None) -> int:
        return _put(self.dynamic_types, number, data)

    def _call_signature(self, data: InstData) -> Signature | None:
        """The signature a call instruction's results follow (hook used by the DFG)."""
        fmt = opcode_info(data.opcode).format
        if fmt == "Call":
            ext = self.func_refs[data.aux] if 0 <= data.aux < len(self.func_refs) else None  # type: ignore[operator]
            if ext is None:
                return None
            return self.sig_refs[ext.signature]
        if fmt == "CallIndirect":
            return self.sig_refs[data.aux] if 0 <= data.aux < len(self.sig_refs) else None  # type: ignore[operator]
        if fmt == "TryCall":
            fref, _sig = data.aux  # type: ignore[misc]
            ext = self.func_refs[fref] if 0 <= fref < len(self.func_refs) else None
            return self.sig_refs[ext.signature] if ext is not None else None
        return None

    # -- convenience ---------------------------------------------------------
    def entry_block(self) -> int | None:
        return self.layout.entry_block()

    def num_insts(self) -> int:
        return self.layout.num_insts()

    def __repr__(self) -> str:
        return f"<Function {self.name} {self.signature}>"

    def __str__(self) -> str:
        from heron.ir.printer import function_to_text

        return function_to_text(self)
