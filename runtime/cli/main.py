"""Argument parsing and error handling for every ``heron`` verb.

A user's mistake (bad file, bad text, bad arguments) prints one clear message
and exits 1; run failures exit 1 after the report; an internal error prints a
one-line summary and exits 2 (set ``HERON_DEBUG=1`` for the traceback).

Example::

    >>> main(["cat", "/no/such/file.clif"])   # doctest: +SKIP
    heron: error: cannot read /no/such/file.clif: No such file or directory
    1
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from heron.errors import HeronError, ParseError, SpecError

__all__ = ["main", "build_parser"]


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so errors go through one path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="heron", description="Heron: a retargetable code generator in the mold of Cranelift")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    sub.required = True

    cat = sub.add_parser("cat", help="parse CLIF files and print them back")
    cat.add_argument("files", nargs="+", help="CLIF files")

    interp = sub.add_parser("interpret", help="run the `; run:` lines of CLIF files on the interpreter")
    interp.add_argument("files", nargs="+", help="CLIF files")
    interp.add_argument("-v", "--verbose", action="store_true", help="print every run line")

    test = sub.add_parser("test", help="run filetests (`; run:` lines) in files and folders")
    test.add_argument("paths", nargs="+", help="CLIF files or folders")
    test.add_argument("--interpret", action="store_true", help="run every file on the interpreter")
    test.add_argument("--expect-fail", metavar="LIST", default=None,
                      help="expected-failure list: run lines that must fail (an expected failure that passes is an error)")
    test.add_argument("-v", "--verbose", action="store_true", help="print every run line")
    test.add_argument("-q", "--quiet", action="store_true", help="print only the summary and failures")

    run = sub.add_parser("run", help="compile CLIF files for this machine and run their `; run:` lines natively")
    run.add_argument("files", nargs="+", help="CLIF files or folders")
    run.add_argument("-v", "--verbose", action="store_true", help="print every run line")

    comp = sub.add_parser("compile", help="compile CLIF functions and print the VCode (and the disassembly)")
    comp.add_argument("files", nargs="+", help="CLIF files")
    comp.add_argument("--target", default=None, help="target ISA (x86_64, riscv64, a triple...; default: this machine)")
    comp.add_argument("--disasm", action="store_true", help="also disassemble the machine code (capstone)")
    comp.add_argument("--timings", action="store_true", help="print the CPU time of each pipeline phase")

    from heron.meta.cli import add_meta_parser

    add_meta_parser(sub)
    return p


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "cat":
        from heron.cli.cat import run_cat

        return run_cat(args.files)
    if args.command == "interpret":
        from heron.cli.filetest import run_filetests

        return run_filetests(args.files, interpret=True, verbose=args.verbose)
    if args.command == "test":
        from heron.cli.filetest import run_filetests

        return run_filetests(args.paths, interpret=args.interpret, expect_fail=args.expect_fail,
                             verbose=args.verbose, quiet=args.quiet)
    if args.command == "run":
        from heron.cli.filetest import run_filetests

        return run_filetests(args.files, verbose=args.verbose, native=True)
    if args.command == "compile":
        from heron.cli.compile import run_compile

        return run_compile(args.files, args.target, args.disasm, args.timings)
    if args.command == "meta":
        from heron.meta.cli import run_meta

        return run_meta(args)
    raise _UsageError(f"heron: unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (the console script exits with it)."""
    try:
        args = build_parser().parse_args(list(argv) if argv is not None else None)
        return _dispatch(args)
    except _UsageError as err:
        print(f"{err}\nrun `heron --help` for usage", file=sys.stderr)
        return 2
    except (ParseError, SpecError) as err:
        print(err, file=sys.stderr)  # already "file:line:col: error: ..."
        return 1
    except HeronError as err:
        print(f"heron: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("heron: interrupted", file=sys.stderr)
        return 130
    except SystemExit as err:  # --help
        return int(err.code or 0) if not isinstance(err.code, str) else 2
    except BrokenPipeError:
        return 0
    except Exception as err:  # noqa: BLE001 - the last line of defence: never a raw traceback
        if os.environ.get("HERON_DEBUG"):
            traceback.print_exc()
        print(f"heron: internal error: {type(err).__name__}: {err} (set HERON_DEBUG=1 for the traceback)", file=sys.stderr)
        return 2
