"""The data-flow graph: instructions, values and block parameters, as numbered tables.

Values, instructions and blocks are small integers (``v3``, ``inst5``,
``block2``) indexing flat lists; there is no object per value.  A value is
either the ``i``-th result of an instruction, the ``i``-th parameter of a block,
or an alias of another value (``v1 -> v0`` in CLIF text).  Numbers can have
holes (the CLIF parser keeps the numbers of the text), so unused slots are
marked ``VALUE_UNUSED``.

Example::

    >>> from heron.ir import opcodes as op
    >>> from heron.ir.types import I32
    >>> dfg = DataFlowGraph()
    >>> b0 = dfg.make_block()
    >>> x = dfg.append_block_param(b0, I32)
    >>> y = dfg.append_block_param(b0, I32)
    >>> inst = dfg.make_inst(InstData(op.IADD, I32, [x, y]))
    >>> [z] = dfg.make_inst_results(inst, I32)
    >>> dfg.value_type[z].name, dfg.value_def(z)
    ('i32', ('result', 0, 0))
"""

from __future__ import annotations

from heron.ir.instructions import BlockCall, InstData, opcode_info, resolve_type_expr
from heron.ir.types import Type

__all__ = [
    "DataFlowGraph",
    "InstData",
    "BlockCall",
    "VALUE_UNUSED",
    "VALUE_RESULT",
    "VALUE_PARAM",
    "VALUE_ALIAS",
]

VALUE_UNUSED = 0
VALUE_RESULT = 1
VALUE_PARAM = 2
VALUE_ALIAS = 3


class DataFlowGraph:
    """Instructions, their results, block parameters and value types.

    The tables are public for fast reads by passes; mutate through the methods.

    - ``insts[i]``: the :class:`InstData` of instruction i
    - ``results[i]``: list of result values of instruction i
    - ``value_type[v]``: the :class:`Type` of value v (None if unused)
    - ``value_kind[v]``: VALUE_RESULT / VALUE_PARAM / VALUE_ALIAS / VALUE_UNUSED
    - ``value_owner[v]``: defining instruction, block, or aliased value
    - ``value_index[v]``: position among the owner's results or parameters
    - ``block_params[b]``: list of parameter values of block b
    """

    __slots__ = (
        "insts",
        "results",
        "value_type",
        "value_kind",
        "value_owner",
        "value_index",
        "block_params",
        "block_valid",
        "ext_signature_of",
    )

    def __init__(self) -> None:
        self.insts: list[InstData] = []
        self.results: list[list[int]] = []
        self.value_type: list[Type | None] = []
        self.value_kind: list[int] = []
        self.value_owner: list[int] = []
        self.value_index: list[int] = []
        self.block_params: list[list[int]] = []
        self.block_valid: list[bool] = []
        # Set by Function: maps an InstData of a call to the signature of its callee, so
        # results of calls can be typed here without the DFG knowing about the preamble.
        self.ext_signature_of = None

    # -- sizes ------------------------------------------------------------
    @property
    def num_values(self) -> int:
        return len(self.value_type)

    @property
    def num_insts(self) -> int:
        return len(self.insts)

    @property
    def num_blocks(self) -> int:
        return len(self.block_params)

    # -- blocks -----------------------------------------------------------
    def make_block(self) -> int:
        """A new block with no parameters (not yet in the layout)."""
        self.block_params.append([])
        self.block_valid.append(True)
        return len(self.block_params) - 1

    def make_block_numbered(self, block: int) -> int:
        """Create block number ``block`` exactly (the parser keeps source numbers)."""
        while len(self.block_params) <= block:
            self.block_params.append([])
            self.block_valid.append(False)
        self.block_valid[block] = True
        return block

    def block_exists(self, block: int) -> bool:
        return 0 <= block < len(self.block_valid) and self.block_valid[block]

    def append_block_param(self, block: int, ty: Type, value: int | None = None) -> int:
        """Add a parameter of type ``ty`` to ``block``; returns its value."""
        params = self.block_params[block]
        v = self._new_value(ty, VALUE_PARAM, block, len(params), value)
        params.append(v)
        return v

    # -- values -------------------------------------------------------------
    def _new_value(self, ty: Type | None, kind: int, owner: int, index: int, number: int | None) -> int:
        if number is None:
            number = len(self.value_type)
        else:
            self.reserve_values(number + 1)
            if self.value_kind[number] != VALUE_UNUSED:
                raise ValueError(f"value v{number} is already defined")
        if number == len(self.value_type):
            self.value_type.append(ty)
            self.value_kind.append(kind)
            self.value_owner.append(owner)
            self.value_index.append(index)
        else:
            self.value_type[number] = ty
            self.value_kind[number] = kind
            self.value_owner[number] = owner
            self.value_index[number] = index
        return number

    def reserve_values(self, count: int) -> None:
        """Make sure value numbers below ``count`` exist (unused ones stay VALUE_UNUSED)."""
        while len(self.value_type) < count:
            self.value_type.append(None)
            self.value_kind.append(VALUE_UNUSED)
            self.value_owner.append(-1)
            self.value_index.append(-1)

    def value_exists(self, v: int) -> bool:
        return 0 <= v < len(self.value_kind) and self.value_kind[v] != VALUE_UNUSED

    def make_alias(self, alias: int, original: int) -> None:
        """Define value number ``alias`` as an alias of ``original`` (``v1 -> v0``)."""
        self._new_value(None, VALUE_ALIAS, original, 0, alias)
        self.value_type[alias] = self.value_type[original] if self.value_exists(original) else None

    def resolve_alias(self, v: int) -> int:
        """Follow aliases to the defining value."""
        kinds = self.value_kind
        seen = 0
        while kinds[v] == VALUE_ALIAS:
            v = self.value_owner[v]
            seen += 1
            if seen > len(kinds):
                raise ValueError("alias cycle")
        return v

    def value_def(self, v: int) -> tuple[str, int, int]:
        """``('result', inst, i)``, ``('param', block, i)``, ``('alias', value, 0)`` or ``('unused', -1, -1)``."""
        kind = self.value_kind[v]
        name = ("unused", "result", "param", "alias")[kind]
        return (name, self.value_owner[v], self.value_index[v])

    def remove_block_param(self, v: int) -> None:
        """Remove block parameter ``v`` from its block (the value stays defined: make it an alias)."""
        block = self.value_owner[v]
        params = self.block_params[block]
        i = self.value_index[v]
        del params[i]
        for j in range(i, len(params)):
            self.value_index[params[j]] = j
        self.value_index[v] = -1

    def change_to_alias(self, v: int, original: int) -> None:
        """Turn value ``v`` (a removed parameter or a result) into an alias of ``original``."""
        self.value_kind[v] = VALUE_ALIAS
        self.value_owner[v] = original
        self.value_index[v] = 0
        self.value_type[v] = self.value_type[original]

    def set_value_type(self, v: int, ty: Type) -> None:
        self.value_type[v] = ty

    # -- instructions ---------------------------------------------------------
    def make_inst(self, data: InstData) -> int:
        """Add an instruction (no results yet, not in the layout); returns its number."""
        self.insts.append(data)
        self.results.append([])
        return len(self.insts) - 1

    def result_types(self, inst: int, ctrl_type: Type | None) -> list[Type]:
        """The result types an instruction has for the given controlling type."""
        data = self.insts[inst]
        info = opcode_info(data.opcode)
        # A try_call (a call that branches) defines no values: its normal-return block
        # receives the callee's results, as in Cranelift.
        if info.is_call and self.ext_signature_of is not None and not info.is_return and not info.is_branch:
            sig = self.ext_signature_of(data)
            if sig is not None:
                return [p.type for p in sig.returns]
        if not info.results:
            return []
        bindings: dict[str, Type] = {}
        if info.ctrl is not None and ctrl_type is not None:
            bindings[info.ctrl] = ctrl_type
        out = []
        for name, expr in info.results:
            ty = resolve_type_expr(expr, bindings)
            if ty is None:
                raise ValueError(f"cannot derive the type of result '{name}' of {info.name} from {ctrl_type}")
            out.append(ty)
        return out

    def make_inst_results(self, inst: int, ctrl_type: Type | None, numbers: list[int] | None = None) -> list[int]:
        """Create the result values of ``inst``; ``numbers`` fixes their value numbers."""
        types = self.result_types(inst, ctrl_type)
        if numbers is not None and len(numbers) != len(types):
            raise ValueError(f"instruction has {len(types)} results, {len(numbers)} given")
        res = self.results[inst]
        for i, ty in enumerate(types):
            num = numbers[i] if numbers is not None else None
            res.append(self._new_value(ty, VALUE_RESULT, inst, i, num))
        return res

    def first_result(self, inst: int) -> int:
        return self.results[inst][0]

    def inst_values(self, inst: int) -> list[int]:
        """All values an instruction reads: its operands, then its block-call arguments."""
        data = self.insts[inst]
        if not data.dests:
            return data.args
        out = list(data.args)
        for bc in data.dests:
            out.extend(a for a in bc.args if a >= 0)
        return out

    def replace_inst_args(self, inst: int, mapping: dict[int, int]) -> None:
        """Rewrite operand values of ``inst`` (also in block calls) through ``mapping``."""
        data = self.insts[inst]
        data.args = [mapping.get(a, a) for a in data.args]
        if data.dests:
            for bc in data.dests:
                bc.args = [mapping.get(a, a) for a in bc.args]
