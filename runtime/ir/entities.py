"""The entities a function declares in its preamble, and signatures.

In CLIF text these are the lines before the first block::

    function %f(i64 vmctx, i32) -> i32 system_v {
        ss0 = explicit_slot 16, align = 8      ; StackSlotData
        gv0 = vmctx                            ; GlobalValueData
        gv1 = load.i64 notrap aligned gv0+8
        sig0 = (i32) -> i32 fast               ; Signature
        fn0 = colocated %g sig0                ; ExtFuncData
        dt0 = i32x4*gv0                        ; DynamicTypeData

Example::

    >>> from heron.ir.types import I32, I64
    >>> sig = Signature([AbiParam(I64, ("vmctx",)), AbiParam(I32)], [AbiParam(I32)], "system_v")
    >>> str(sig)
    '(i64 vmctx, i32) -> i32 system_v'
"""

from __future__ import annotations

from heron.ir.memflags import MemFlags
from heron.ir.types import Type

__all__ = [
    "AbiParam",
    "Signature",
    "ExtFuncData",
    "StackSlotData",
    "GlobalValueData",
    "DynamicTypeData",
    "CALL_CONVS",
    "ABI_PARAM_WORDS",
]

# Calling conventions CLIF text may name.
CALL_CONVS: frozenset[str] = frozenset(
    {
        "fast",
        "cold",
        "tail",
        "system_v",
        "windows_fastcall",
        "apple_aarch64",
        "probestack",
        "winch",
        "preserve_all",
        "patchable",
    }
)

# Words that may follow a parameter's type: extension and purpose.
ABI_PARAM_WORDS: frozenset[str] = frozenset({"uext", "sext", "vmctx", "sret", "sigid", "stack_limit"})


class AbiParam:
    """A parameter or return of a signature: its type and attribute words (``sext``, ``vmctx``)."""

    __slots__ = ("type", "words")

    def __init__(self, ty: Type, words: tuple[str, ...] = ()) -> None:
        self.type = ty
        self.words = words

    @property
    def extension(self) -> str | None:
        for w in self.words:
            if w in ("uext", "sext"):
                return w
        return None

    @property
    def purpose(self) -> str:
        for w in self.words:
            if w not in ("uext", "sext"):
                return w
        return "normal"

    def __str__(self) -> str:
        return " ".join((self.type.name, *self.words))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbiParam) and other.type is self.type and other.words == self.words

    def __hash__(self) -> int:
        return hash((self.type.name, self.words))


class Signature:
    """Parameters, returns and calling convention of a function."""

    __slots__ = ("params", "returns", "call_conv")

    def __init__(self, params: list[AbiParam] | None = None, returns: list[AbiParam] | None = None, call_conv: str = "fast") -> None:
        self.params = params if params is not None else []
        self.returns = returns if returns is not None else []
        self.call_conv = call_conv

    def __str__(self) -> str:
        text = "(" + ", ".join(str(p) for p in self.params) + ")"
        if self.returns:
            text += " -> " + ", ".join(str(r) for r in self.returns)
        return f"{text} {self.call_conv}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Signature)
            and other.params == self.params
            and other.returns == self.returns
            and other.call_conv == self.call_conv
        )

    def __hash__(self) -> int:
        return hash((tuple(self.params), tuple(self.returns), self.call_conv))


class ExtFuncData:
    """A function this one can call: its name (``%g`` or ``u1:2``), signature ref, colocation."""

    __slots__ = ("name", "signature", "colocated")

    def __init__(self, name: str, signature: int, colocated: bool = False) -> None:
        self.name = name
        self.signature = signature
        self.colocated = colocated


class StackSlotData:
    """An explicit stack slot: ``size`` bytes aligned to ``2**align_shift`` (None: natural)."""

    __slots__ = ("kind", "size", "align_shift", "key")

    def __init__(self, size: int, kind: str = "explicit_slot", align_shift: int | None = None, key: int | None = None) -> None:
        self.kind = kind
        self.size = size
        self.align_shift = align_shift
        self.key = key


class GlobalValueData:
    """A global value: ``vmctx``, ``load``, ``iadd_imm``, ``symbol`` or ``dyn_scale_target_const``.

    Fields used per kind: ``load``: type, flags, base, offset; ``iadd_imm``: type,
    base, offset; ``symbol``: name, offset, colocated, tls;
    ``dyn_scale_target_const``: type (the vector type scaled).
    """

    __slots__ = ("kind", "type", "base", "offset", "flags", "name", "colocated", "tls")

    def __init__(
        self,
        kind: str,
        ty: Type | None = None,
        base: int | None = None,
        offset: int = 0,
        flags: MemFlags | None = None,
        name: str | None = None,
        colocated: bool = False,
        tls: bool = False,
    ) -> None:
        self.kind = kind
        self.type = ty
        self.base = base
        self.offset = offset
        self.flags = flags
        self.name = name
        self.colocated = colocated
        self.tls = tls


class DynamicTypeData:
    """A dynamic vector type ``dtN = i32x4*gvM``: a fixed vector scaled by a global value."""

    __slots__ = ("base", "scale")

    def __init__(self, base: Type, scale: int) -> None:
        self.base = base
        self.scale = scale

    @property
    def type(self) -> Type:
        dyn = self.base.dynamic()
        assert dyn is not None
        return dyn
