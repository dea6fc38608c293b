"""The CLIF parser: text to :class:`heron.ir.function.Function` (and whole test files).

It reads Cranelift's CLIF as ``cranelift/reader/src/parser.rs`` does: a test
file's header lines (``test``, ``set``, ``target``, ``feature``), then
functions; a function is a name, a signature, a preamble of declared entities
and blocks of instructions::

    function %sum(i64 vmctx, i32) -> i32 system_v {
        ss0 = explicit_slot 16, align = 8
        gv0 = vmctx
        sig0 = (i32) -> i32 fast
        fn0 = colocated %g sig0

    block0(v0: i64, v1: i32):
        v2 = call fn0(v1)
        v3 = iadd v2, v1          ; the type comes from v2
        brif v3, block1(v3), block1(v1)

    block1(v4: i32) cold:
        return v4
    }

Entities keep the numbers of the text.  Values may be used before their
definition; types are inferred once the whole function is read (the
``.type`` suffix is needed only where the opcode cannot infer it).  Every
malformed input raises :class:`heron.errors.ParseError` with
``file:line:col`` and a caret.  Instruction operands are read per format in
:mod:`heron.ir.parser_insts`; run commands in :mod:`heron.ir.testfile`.

Example::

    >>> [fn] = parse_functions("function %f(i32) -> i32 {\\nblock0(v0: i32):\\n    v1 = iadd v0, v0\\n    return v1\\n}")
    >>> fn.name, str(fn.signature), fn.dfg.value_type[1].name
    ('%f', '(i32) -> i32 fast', 'i32')
"""

from __future__ import annotations

import re
from bisect import bisect_right

from heron.ir.dfg import VALUE_ALIAS
from heron.ir.entities import (
    ABI_PARAM_WORDS,
    CALL_CONVS,
    AbiParam,
    DynamicTypeData,
    ExtFuncData,
    GlobalValueData,
    Signature,
    StackSlotData,
)
from heron.ir.function import Function
from heron.ir.immediates import parse_int
from heron.ir.instructions import InstData, OpcodeInfo, opcode_by_name, opcode_info
from heron.ir.lexer import Token, TokenStream, tokenize
from heron.ir.parser_insts import parse_memflags, parse_operands
from heron.ir.testfile import HeaderLine, TestFile, TestItem, is_run_comment, parse_run_command
from heron.ir.types import Type, type_by_name

__all__ = ["parse_functions", "parse_test_file", "Parser"]

# Entity numbers above these limits are refused (tables grow to the largest number).
MAX_BLOCKS = 100_000          # as Cranelift's MAX_BLOCKS_IN_A_FUNCTION
MAX_ENTITIES = 100_000        # stack slots, global values, signatures, ...
MAX_VALUES = 1_000_000

_EXTENSIONS = ("uext", "sext")
_DECIMAL = re.compile(r"[0-9]+")
_HEADER_WORDS = ("test", "set", "target", "feature")
# Preamble tokens a function cannot declare in Heron (Cranelift's newer entities).
_UNSUPPORTED_PREAMBLE = {"dss": "dynamic stack slots", "mt": "memory types", "jt": "jump table declarations"}


def parse_functions(text: str, file: str = "<input>") -> list[Function]:
    """All functions of ``text`` (header lines are allowed and ignored, run commands skipped)."""
    return Parser(text, file).parse_test_file(run_commands=False).functions


def parse_test_file(text: str, file: str = "<input>") -> TestFile:
    """A whole test file: header lines, functions and each function's run commands."""
    return Parser(text, file).parse_test_file()


class _Body:
    """What the parser tracks while reading one function."""

    __slots__ = (
        "fn",
        "defined",
        "value_tok",
        "inst_tok",
        "uses",
        "block_refs",
        "pending",
        "checks",
        "aliases",
        "constants",
        "gv_refs",
    )

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        # (kind, number) -> token of the definition, for every entity but values.
        self.defined: dict[tuple[str, int], Token] = {}
        self.value_tok: dict[int, Token] = {}           # value -> its defining token
        self.inst_tok: dict[int, Token] = {}            # inst -> its opcode token
        self.uses: list[Token] = []                     # value operand tokens, in text order
        self.block_refs: list[Token] = []               # block tokens of branch destinations
        self.pending: list[tuple[int, list[Token]]] = []  # insts whose type waits for an operand
        self.checks: list[tuple[int, Type, Token]] = []  # explicit suffixes to compare with inference
        self.aliases: list[int] = []
        self.constants: dict[int, tuple[int, int]] = {}  # const number -> (value, byte size)
        self.gv_refs: list[Token] = []                  # gv tokens used in the preamble


class Parser:
    """Parses one CLIF text; see the module docstring."""

    __slots__ = ("ts", "comments", "source", "file")

    def __init__(self, text: str, file: str = "<input>") -> None:
        tokens, comments = tokenize(text, file)
        self.ts = TokenStream(tokens, text, file)
        self.comments = comments
        self.source = text
        self.file = file

    # -- the file -------------------------------------------------------------
    def parse_test_file(self, run_commands: bool = True) -> TestFile:
        header = self._parse_header()
        items: list[TestItem] = []
        starts: list[int] = []
        while not self.ts.at("eof"):
            starts.append(self.ts.tok.pos)
            line = self.ts.tok.line
            items.append(TestItem(self._parse_function(), line))
        if run_commands:
            self._attach_run_commands(items, starts)
        return TestFile(self.file, header, items)

    def _parse_header(self) -> list[HeaderLine]:
        ts = self.ts
        header: list[HeaderLine] = []
        dangling_set: Token | None = None
        seen_target = False
        while ts.tok.kind == "ident" and ts.tok.text in _HEADER_WORDS:
            tok = ts.advance()
            line_end = self.source.find("\n", tok.pos)
            if line_end < 0:
                line_end = len(self.source)
            rest = self.source[tok.pos + len(tok.text):line_end].split(";", 1)[0]
            words = rest.split()
            while ts.tok.line == tok.line and not ts.at("eof"):
                ts.advance()
            if not words:
                raise ts.error(f"expected {_HEADER_EXPECT[tok.text]} after '{tok.text}'", tok)
            if tok.text == "set":
                dangling_set = tok
            elif tok.text == "target":
                dangling_set = None
                seen_target = True
            header.append(HeaderLine(tok.text, words, tok.line))
        if seen_target and dangling_set is not None:
            raise ts.error("dangling 'set' command after the last 'target' has no effect", dangling_set)
        return header

    def _attach_run_commands(self, items: list[TestItem], starts: list[int]) -> None:
        for comment in self.comments:
            if not is_run_comment(comment.text):
                continue
            index = bisect_right(starts, comment.pos) - 1
            if index < 0:
                raise self.ts.error("run command before the first function", comment)
            item = items[index]
            cmd = parse_run_command(comment, self.source, self.file, item.function)
            item.commands.append(cmd)

    # -- a function -----------------------------------------------------------
    def _parse_function(self) -> Function:
        ts = self.ts
        if not ts.at_ident("function"):
            raise ts.error_expected("expected 'function'")
        ts.advance()
        name = self._function_name()
        sig = self._signature()
        fn = Function(name, sig)
        body = _Body(fn)
        ts.expect("{", "expected '{' before the function body")
        self._parse_preamble(body)
        while not ts.at("}"):
            if ts.at("eof"):
                raise ts.error_expected(f"expected '}}' at the end of function {name}")
            self._parse_block(body)
        ts.advance()
        self._finish_body(body)
        return fn

    def _function_name(self) -> str:
        ts = self.ts
        if ts.at("name"):
            return "%" + ts.advance().text
        if ts.at("user"):
            return self._user_name()
        raise ts.error_expected("expected a function name (%name or uN:M)")

    def _user_name(self) -> str:
        ts = self.ts
        namespace = ts.advance().value
        ts.expect(":", "expected ':' in a user name uN:M")
        tok = ts.expect("int", "expected the index of a user name uN:M")
        if not _DECIMAL.fullmatch(tok.text) or int(tok.text) >= 1 << 32:
            raise ts.error(f"invalid index {tok.text} in a user name (a decimal u32)", tok)
        return f"u{namespace}:{int(tok.text)}"

    def _external_name(self) -> str:
        ts = self.ts
        if ts.at("name"):
            return "%" + ts.advance().text
        if ts.at("user"):
            return self._user_name()
        raise ts.error_expected("expected an external name (%name or uN:M)")

    def _signature(self) -> Signature:
        ts = self.ts
        ts.expect("(", "expected function signature: ( args... )")
        params = [] if ts.at(")") else self._abi_params()
        ts.expect(")", "expected ')' after the parameters")
        returns = self._abi_params() if ts.optional("->") else []
        call_conv = "fast"
        tok = ts.tok
        if tok.kind == "ident":
            if tok.text in CALL_CONVS:
                call_conv = ts.advance().text
            elif tok.line == ts.tokens[ts.index - 1].line and ts.peek().kind != "=":
                raise ts.error(f"unknown calling convention '{tok.text}'", tok)
        return Signature(params, returns, call_conv)

    def _abi_params(self) -> list[AbiParam]:
        ts = self.ts
        out = [self._abi_param()]
        while ts.optional(","):
            out.append(self._abi_param())
        return out

    def _abi_param(self) -> AbiParam:
        ts = self.ts
        ty = ts.expect_type("expected a parameter type")
        extension = purpose = None
        while ts.tok.kind == "ident" and (ts.tok.text in ABI_PARAM_WORDS or ts.tok.text == "normal"):
            word = ts.advance().text
            if word in _EXTENSIONS:
                extension = word
            else:
                purpose = None if word == "normal" else word
        words = tuple(w for w in (extension, purpose) if w is not None)
        return AbiParam(ty, words)

    # -- the preamble -----------------------------------------------------------
    def _parse_preamble(self, body: _Body) -> None:
        ts = self.ts
        while True:
            kind = ts.tok.kind
            if kind == "ss":
                self._stack_slot_decl(body)
            elif kind == "gv":
                self._global_value_decl(body)
            elif kind == "dt":
                self._dynamic_type_decl(body)
            elif kind == "sig":
                tok = self._entity_def(body, "sig")
                body.fn.import_signature(self._signature(), tok.value)  # type: ignore[arg-type]
            elif kind == "fn":
                self._function_decl(body)
            elif kind == "const":
                self._constant_decl(body)
            elif kind == "ident" and ts.tok.text == "stack_limit" and ts.peek().kind == "=":
                tok = ts.advance()
                ts.advance()
                if body.fn.stack_limit is not None:
                    raise ts.error("stack limit defined twice", tok)
                body.fn.stack_limit = self._gv_ref(body, "expected a global value after 'stack_limit ='")
            elif kind in _UNSUPPORTED_PREAMBLE and ts.peek().kind == "=":
                raise ts.error(f"{_UNSUPPORTED_PREAMBLE[kind]} ({ts.tok.text}) are not supported")
            else:
                break
        fn = body.fn
        for tok in body.gv_refs:
            gv = tok.value
            if not (gv < len(fn.global_values) and fn.global_values[gv] is not None):  # type: ignore[operator]
                raise ts.error(f"undefined global value {tok.text}", tok)

    def _entity_def(self, body: _Body, kind: str) -> Token:
        """Read ``<entity> =`` of a declaration; checks the number and duplicates."""
        ts = self.ts
        tok = ts.advance()
        if tok.value >= MAX_ENTITIES:  # type: ignore[operator]
            raise ts.error(f"{tok.text}: entity numbers must be below {MAX_ENTITIES}", tok)
        first = body.defined.get((kind, tok.value))  # type: ignore[arg-type]
        if first is not None:
            where = f"first defined on line {first.line}"
            if first.kind == "fn":
                where = f"the signature of {first.text} on line {first.line}"
            raise ts.error(f"duplicate definition of {tok.text} ({where})", tok)
        body.defined[(kind, tok.value)] = tok  # type: ignore[index]
        ts.expect("=", f"expected '=' after {tok.text}")
        return tok

    def _gv_ref(self, body: _Body, message: str) -> int:
        tok = self.ts.expect("gv", message)
        body.gv_refs.append(tok)
        return tok.value  # type: ignore[return-value]

    def _stack_slot_decl(self, body: _Body) -> None:
        ts = self.ts
        tok = self._entity_def(body, "ss")
        if not ts.at_ident("explicit_slot"):
            raise ts.error_expected("expected stack slot kind 'explicit_slot'")
        ts.advance()
        size = self._uint("the byte size of a stack slot", 1 << 32)
        align_shift: int | None = None
        key: int | None = None
        while ts.optional(","):
            if ts.at_ident("align"):
                ts.advance()
                ts.expect("=", "expected '=' after 'align'")
                align_tok = ts.tok
                align = self._uint("a stack slot alignment", 1 << 32)
                if align == 0 or align & (align - 1):
                    raise ts.error("stack slot alignment is not a power of two", align_tok)
                align_shift = align.bit_length() - 1
            elif ts.at_ident("key"):
                ts.advance()
                ts.expect("=", "expected '=' after 'key'")
                key = self._uint("a stack slot key", 1 << 64)
            else:
                raise ts.error_expected("expected a stack slot flag ('align = N' or 'key = N')")
        body.fn.create_stack_slot(StackSlotData(size, "explicit_slot", align_shift, key), tok.value)  # type: ignore[arg-type]

    def _uint(self, what: str, limit: int) -> int:
        """A non-negative integer below ``limit``."""
        ts = self.ts
        tok = ts.tok
        if tok.kind != "int":
            raise ts.error_expected(f"expected {what}")
        value = ts.int_literal(128, what)
        if tok.text.startswith("-") or value >= limit:
            raise ts.error(f"{tok.text} is out of range for {what}", tok)
        return value

    def _global_value_decl(self, body: _Body) -> None:
        ts = self.ts
        tok = self._entity_def(body, "gv")
        if ts.at("!"):
            raise ts.error("facts on global values are not supported")
        kind_tok = ts.expect("ident", "expected a global value kind (vmctx, load, iadd_imm, symbol, "
                                      "dyn_scale_target_const)")
        kind = kind_tok.text
        if kind == "vmctx":
            data = GlobalValueData("vmctx")
        elif kind == "load":
            ty = self._dot_type(kind)
            flags_tok = ts.tok
            flags = parse_memflags(ts)
            base = self._gv_ref(body, "expected the base global value of the load")
            offset = self._optional_offset()
            if not (flags.notrap and flags.aligned):
                raise ts.error("a global value load must be 'notrap aligned'", flags_tok)
            data = GlobalValueData("load", ty, base, offset, flags)
        elif kind == "iadd_imm":
            ty = self._dot_type(kind)
            base = self._gv_ref(body, "expected the base global value of iadd_imm")
            ts.expect(",", "expected ',' after the base global value")
            offset = self._imm64("the iadd_imm immediate")
            data = GlobalValueData("iadd_imm", ty, base, offset)
        elif kind == "symbol":
            colocated = tls = False
            if ts.at_ident("colocated"):
                ts.advance()
                colocated = True
            if ts.at_ident("tls"):
                ts.advance()
                tls = True
            name = self._external_name()
            offset = 0
            if ts.at("int") and ts.tok.text[0] in "+-":
                offset = self._imm64("a symbol offset")
            data = GlobalValueData("symbol", None, None, offset, None, name, colocated, tls)
        elif kind == "dyn_scale_target_const":
            ty = self._dot_type(kind)
            if not ty.is_vector or ty.is_dynamic:
                raise ts.error(f"dyn_scale_target_const needs a vector type, not {ty}")
            data = GlobalValueData("dyn_scale_target_const", ty)
        else:
            raise ts.error(f"unknown global value kind '{kind}'", kind_tok)
        body.fn.create_global_value(data, tok.value)  # type: ignore[arg-type]

    def _dot_type(self, what: str) -> Type:
        ts = self.ts
        ts.expect(".", f"expected '.' and a type after '{what}'")
        return ts.expect_type(f"expected a type after '{what}.'")

    def _imm64(self, what: str) -> int:
        """A signed 64-bit immediate (hex may give the unsigned bits); returns the signed value."""
        value = self.ts.int_literal(64, what)
        return value - (1 << 64) if value >> 63 else value

    def _optional_offset(self) -> int:
        """An optional signed ``+8`` / ``-0x10`` offset (an Offset32)."""
        ts = self.ts
        tok = ts.tok
        if tok.kind != "int" or tok.text[0] not in "+-":
            return 0
        try:
            value = parse_int(tok.text)
        except ValueError as err:
            raise ts.error(str(err), tok) from None
        if not -(1 << 31) <= value < (1 << 31):
            raise ts.error(f"offset {tok.text} is out of range for a 32-bit offset", tok)
        ts.advance()
        return value

    def _dynamic_type_decl(self, body: _Body) -> None:
        ts = self.ts
        tok = self._entity_def(body, "dt")
        ty_tok = ts.tok
        ty = ts.expect_type("expected the vector type a dynamic type scales")
        if not ty.is_vector:
            raise ts.error(f"a dynamic type scales a vector type, not {ty}", ty_tok)
        ts.expect("*", "expected '*' and a scale global value")
        scale = self._gv_ref(body, "expected the global value of the dynamic scale")
        body.fn.create_dynamic_type(DynamicTypeData(ty, scale), tok.value)  # type: ignore[arg-type]

    def _function_decl(self, body: _Body) -> None:
        ts = self.ts
        tok = self._entity_def(body, "fn")
        colocated = False
        if ts.at_ident("colocated"):
            ts.advance()
            colocated = True
        name = self._external_name()
        fn = body.fn
        if ts.at("("):
            sig = self._signature()
            number = len(fn.sig_refs)
            if number >= MAX_ENTITIES:
                raise ts.error(f"too many signatures (the limit is {MAX_ENTITIES})", tok)
            # The inline signature becomes the next signature, as Cranelift declares it.
            body.defined[("sig", number)] = tok
            sig_ref = fn.import_signature(sig, number)
        elif ts.at("sig"):
            sig_tok = ts.advance()
            sig_ref = sig_tok.value  # type: ignore[assignment]
            if ("sig", sig_ref) not in body.defined:
                raise ts.error(f"undefined signature {sig_tok.text}", sig_tok)
        else:
            raise ts.error_expected("expected a signature or sigN after the function name")
        fn.import_function(ExtFuncData(name, sig_ref, colocated), tok.value)  # type: ignore[arg-type]

    def _constant_decl(self, body: _Body) -> None:
        ts = self.ts
        tok = self._entity_def(body, "const")
        if ts.at("type"):
            ty: Type = ts.advance().value  # type: ignore[assignment]
            if ty.is_vector:
                value = ts.vector_literal(ty, f"the {ty} constant")
            else:
                value = ts.hex_constant(ty.bytes, str(ty))
            size = ty.bytes
        else:
            digits = ts.tok.text[2:].replace("_", "")
            value = ts.hex_constant(16, "a constant")
            size = len(digits) // 2
        body.constants[tok.value] = (value, size)  # type: ignore[index]

    # -- blocks and instructions -------------------------------------------------
    def _parse_block(self, body: _Body) -> None:
        ts = self.ts
        fn = body.fn
        tok = ts.tok
        if tok.kind != "block":
            raise ts.error_expected("expected a block header (blockN:)")
        ts.advance()
        block: int = tok.value  # type: ignore[assignment]
        if block >= MAX_BLOCKS:
            raise ts.error(f"too many blocks: {tok.text} (block numbers must be below {MAX_BLOCKS})", tok)
        first = body.defined.get(("block", block))
        if first is not None:
            raise ts.error(f"duplicate definition of {tok.text} (first defined on line {first.line})", tok)
        body.defined[("block", block)] = tok
        fn.dfg.make_block_numbered(block)
        fn.layout.append_block(block)
        if ts.optional("("):
            if not ts.at(")"):
                self._block_param(body, block)
                while ts.optional(","):
                    self._block_param(body, block)
            ts.expect(")", "expected ')' after the block parameters")
        if ts.at_ident("cold"):
            ts.advance()
            fn.layout.set_cold(block)
        ts.expect(":", f"expected ':' after the header of {tok.text}")
        while ts.tok.kind in ("value", "ident", "srcloc"):
            self._parse_instruction(body, block)

    def _block_param(self, body: _Body, block: int) -> None:
        ts = self.ts
        tok = ts.expect("value", "expected a block parameter (vN: type)")
        if ts.at("!"):
            raise ts.error("facts on values are not supported")
        ts.expect(":", f"expected ':' and a type after {tok.text}")
        ty = ts.expect_type(f"expected the type of {tok.text}")
        self._define_value(body, tok)
        body.fn.dfg.append_block_param(block, ty, tok.value)  # type: ignore[arg-type]

    def _define_value(self, body: _Body, tok: Token) -> None:
        v: int = tok.value  # type: ignore[assignment]
        if v >= MAX_VALUES:
            raise self.ts.error(f"{tok.text}: value numbers must be below {MAX_VALUES}", tok)
        first = body.value_tok.get(v)
        if first is not None:
            raise self.ts.error(f"duplicate definition of {tok.text} (first defined on line {first.line})", tok)
        body.value_tok[v] = tok

    def _parse_instruction(self, body: _Body, block: int) -> None:
        ts = self.ts
        fn = body.fn
        ts.optional("srcloc")  # source locations are accepted and dropped
        results: list[Token] = []
        if ts.at("value"):
            results.append(ts.advance())
            if ts.at("!"):
                raise ts.error("facts on values are not supported")
            while ts.optional(","):
                results.append(ts.expect("value", "expected a result value"))
            if ts.at("->"):
                ts.advance()
                self._parse_alias(body, results)
                return
            ts.expect("=", "expected '=' or '->' after the result values")
        op_tok = ts.tok
        if op_tok.kind != "ident":
            raise ts.error_expected("expected an instruction opcode")
        info = opcode_by_name(op_tok.text)
        if info is None:
            raise ts.error(f"unknown opcode '{op_tok.text}'", op_tok)
        ts.advance()
        for tok in results:
            self._define_value(body, tok)
        explicit, type_tok = self._type_suffix(body, info)
        if info.ctrl is not None and explicit is None and info.infer < 0:
            choices = info.typevars[info.ctrl]
            if len(choices) != 1:
                raise ts.error(f"'{info.name}' needs a type suffix, e.g. '{info.name}.{_example_type(info)}'", op_tok)
            explicit = type_by_name(next(iter(choices)))

        data = parse_operands(self, body, info, explicit)
        inst = fn.dfg.make_inst(data)
        fn.layout.append_inst(inst, block)
        body.inst_tok[inst] = op_tok
        if not ts.at("}") and not ts.at("eof") and ts.tok.line == ts.tokens[ts.index - 1].line:
            raise ts.error_expected(f"unexpected text after the operands of '{info.name}'")

        if info.ctrl is None or info.infer < 0:
            self._make_results(body, inst, explicit, results)
        elif explicit is not None:
            # Inference is checked once every value has its type (operands may be defined later).
            body.checks.append((inst, explicit, type_tok))  # type: ignore[arg-type]
            self._make_results(body, inst, explicit, results)
        else:
            ty = self._known_type(body, data.args[info.infer])
            if ty is None:
                body.pending.append((inst, results))
            else:
                self._make_results(body, inst, self._check_inferred(body, inst, ty), results)

    def _type_suffix(self, body: _Body, info: OpcodeInfo) -> tuple[Type | None, Token | None]:
        ts = self.ts
        if not ts.optional("."):
            return None, None
        tok = ts.tok
        if tok.kind == "dt":
            dts = body.fn.dynamic_types
            dt = tok.value
            if not (dt < len(dts) and dts[dt] is not None):  # type: ignore[operator]
                raise ts.error(f"undefined dynamic type {tok.text}", tok)
            ty = dts[dt].type  # type: ignore[index,union-attr]
            ts.advance()
        else:
            ty = ts.expect_type(f"expected a type after '{info.name}.'")
        if info.ctrl is None:
            raise ts.error(f"'{info.name}' does not take a type suffix", tok)
        if not info.allows(info.ctrl, ty):
            raise ts.error(f"{ty} is not a valid type for '{info.name}'", tok)
        return ty, tok

    def _parse_alias(self, body: _Body, results: list[Token]) -> None:
        ts = self.ts
        dfg = body.fn.dfg
        if len(results) != 1:
            raise ts.error("an alias defines exactly one value", results[1])
        alias_tok = results[0]
        dest_tok = ts.expect("value", f"expected the value {alias_tok.text} aliases")
        alias: int = alias_tok.value  # type: ignore[assignment]
        dest: int = dest_tok.value  # type: ignore[assignment]
        if alias in body.value_tok and dfg.value_kind[alias] == VALUE_ALIAS and dfg.value_owner[alias] == dest:
            return  # a repeated identical alias, as Cranelift allows
        if dest not in body.value_tok:
            raise ts.error(f"{dest_tok.text} must be defined before an alias to it", dest_tok)
        self._define_value(body, alias_tok)
        dfg.make_alias(alias, dest)
        body.aliases.append(alias)

    def _known_type(self, body: _Body, v: int) -> Type | None:
        dfg = body.fn.dfg
        if not dfg.value_exists(v):
            return None
        return dfg.value_type[dfg.resolve_alias(v)]

    def _check_inferred(self, body: _Body, inst: int, ty: Type) -> Type:
        data = body.fn.dfg.insts[inst]
        info = _info(data)
        if not info.allows(info.ctrl, ty):  # type: ignore[arg-type]
            raise self.ts.error(f"{ty} is not a valid type for '{info.name}' "
                                f"(inferred from v{data.args[info.infer]})", body.inst_tok[inst])
        return ty

    def _make_results(self, body: _Body, inst: int, ctrl: Type | None, results: list[Token]) -> None:
        dfg = body.fn.dfg
        data = dfg.insts[inst]
        data.ctrl_type = ctrl
        try:
            types = dfg.result_types(inst, ctrl)
        except ValueError as err:
            raise self.ts.error(str(err), body.inst_tok[inst]) from None
        if len(types) != len(results):
            raise self.ts.error(f"'{_info(data).name}' produces {_count(len(types), 'result value')}, "
                                f"{len(results)} given", body.inst_tok[inst])
        dfg.make_inst_results(inst, ctrl, [tok.value for tok in results])  # type: ignore[misc]

    # -- after the body -------------------------------------------------------------
    def _finish_body(self, body: _Body) -> None:
        ts = self.ts
        fn = body.fn
        dfg = fn.dfg
        for tok in body.uses:
            if tok.value not in body.value_tok:
                raise ts.error(f"undefined value {tok.text}", tok)
        for tok in body.block_refs:
            if ("block", tok.value) not in body.defined:
                raise ts.error(f"undefined block {tok.text}", tok)
        pending = body.pending
        while pending:
            waiting = []
            for inst, results in pending:
                data = dfg.insts[inst]
                ty = self._known_type(body, data.args[_info(data).infer])
                if ty is None:
                    waiting.append((inst, results))
                else:
                    self._make_results(body, inst, self._check_inferred(body, inst, ty), results)
            if len(waiting) == len(pending):
                inst = waiting[0][0]
                data = dfg.insts[inst]
                info = _info(data)
                raise ts.error(f"cannot infer the type of '{info.name}' from v{data.args[info.infer]}, "
                               f"whose type depends on it; write '{info.name}.{_example_type(info)}'",
                               body.inst_tok[inst])
            pending = waiting
        for inst, explicit, tok in body.checks:
            data = dfg.insts[inst]
            v = data.args[_info(data).infer]
            ty = self._known_type(body, v)
            if ty is not explicit:
                raise ts.error(f"type suffix {explicit} does not match v{v}, which has type {ty}", tok)
        for alias in body.aliases:
            dfg.value_type[alias] = dfg.value_type[dfg.resolve_alias(alias)]


_HEADER_EXPECT = {"test": "a test command", "set": "a setting", "target": "a target ISA",
                  "feature": "a feature name"}


def _info(data: InstData) -> OpcodeInfo:
    return opcode_info(data.opcode)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _example_type(info: OpcodeInfo) -> str:
    """A type an error message can suggest for an opcode's suffix (``i32`` when allowed)."""
    names = info.typevars.get(info.ctrl or "", frozenset())
    for preferred in ("i32", "i64", "f32", "i32x4", "f32x4"):
        if preferred in names:
            return preferred
    return min(names) if names else "i32"

