"""``heron compile [--target T] [--disasm] [--timings] FILE...``: compile CLIF functions
and show the result.

For each function: its final VCode (physical registers, prologue and epilogues, the
spec's assembly syntax) and the size of the machine code; with ``--disasm`` also the
bytes as capstone disassembles them (capstone is a test dependency, not the runtime's:
without it ``--disasm`` says so and exits 1), relocations and trap sites marked; with
``--timings`` the CPU time of each pipeline phase.  The target defaults to this
machine's.  A function that does not compile is reported with its CompileError
(opcode, type, target) and the exit status is 1; the other functions still print.

Example::

    $ heron compile --target x86_64 id.clif
    ; %id: x86_64, 9 bytes, frame 16
    block0:
        push rbp
        mov rbp, rsp
        ; abi_args: defs rsi
        mov rax, rsi
        pop rbp
        ret
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from heron.cli.common import read_text
from heron.errors import HeronError

__all__ = ["run_compile", "disassemble"]


def disassemble(isa: Any, code: bytes, relocs: Any = (), traps: Any = (), address: int = 0) -> list[str]:
    """``offset: bytes  text`` lines of ``code`` as capstone reads it for ``isa``."""
    try:
        capstone = importlib.import_module("capstone")
    except ImportError:
        raise HeronError("--disasm needs capstone (pip install capstone, or pip install -e '.[dev]')") from None
    spec = getattr(isa, "DISASSEMBLER", None) or {}
    if not spec:
        raise HeronError(f"the {isa.NAME} spec names no disassembler (isa.yaml `disassembler`)")
    cs = capstone.Cs(getattr(capstone, spec["capstone_arch"]), getattr(capstone, spec["capstone_mode"]))
    notes: dict[int, list[str]] = {}
    for r in relocs:
        notes.setdefault(r.offset, []).append(f"reloc {r.kind} {r.symbol}{r.addend:+d}" if r.addend else f"reloc {r.kind} {r.symbol}")
    for t in traps:
        notes.setdefault(t.offset, []).append(f"trap {t.code}")
    out = []
    end = 0
    for ins in cs.disasm(code, address):
        start = ins.address - address
        end = start + ins.size
        marks = [n for off in range(start, end) for n in notes.get(off, [])]
        text = f"{ins.mnemonic} {ins.op_str}".rstrip()
        line = f"  {start:04x}: {ins.bytes.hex(' '):<30} {text}"
        out.append(line + (f"  ; {'; '.join(marks)}" if marks else ""))
    if end < len(code):
        out.append(f"  {end:04x}: {code[end:].hex(' ')}  ; not decoded")
    return out


def run_compile(files: list[str], target: str | None, disasm: bool, timings: bool) -> int:
    from heron.backend.compile import CompileOptions, compile_function
    from heron.backend.isa import host_isa, lookup_isa
    from heron.ir.parser import parse_test_file

    isa = lookup_isa(target) if target else host_isa()
    status = 0
    for name in files:
        tf = parse_test_file(read_text(name), name)
        for fn in tf.functions:
            try:
                cf = compile_function(fn, isa, options=CompileOptions(disasm=True, timings=timings))
            except HeronError as err:
                print(f"; {fn.name}: error: {err}")
                status = 1
                continue
            code = cf.code
            print(f"; {fn.name}: {isa.NAME}, {len(code.code)} bytes, frame {cf.frame['frame_size']}")
            sys.stdout.write(cf.text or "")
            if disasm:
                print("; disassembly")
                for line in disassemble(isa, bytes(code.code), code.relocs, code.traps):
                    print(line)
            if timings:
                total = sum(cf.timings.values())
                phases = ", ".join(f"{k} {v * 1e3:.2f}" for k, v in cf.timings.items())
                print(f"; timings (ms): {phases}; total {total * 1e3:.2f}")
            print()
    return status
