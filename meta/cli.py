"""``heron meta build|check|verify``: the meta-compiler's command line.

Example::

    $ heron meta build
    wrote generated/ir_opcodes.py
    $ heron meta check
    generated files are up to date (3 files)
    $ heron meta verify --isa x86_64
    verified 61 rules (358 queries), 0 failed, 0 unproven in 3.4 s
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from heron.errors import HeronError

__all__ = ["add_meta_parser", "run_meta"]


def add_meta_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("meta", help="the meta-compiler: regenerate, check and verify specs")
    msub = p.add_subparsers(dest="meta_command", metavar="{build,check,verify}")
    msub.required = True
    b = msub.add_parser("build", help="regenerate generated/ from isa_specs/")
    b.add_argument("--specs", type=Path, default=None, help="spec folder (default: the checkout's isa_specs/)")
    c = msub.add_parser("check", help="exit 1 naming each stale generated file")
    c.add_argument("--specs", type=Path, default=None, help="spec folder (default: the checkout's isa_specs/)")
    v = msub.add_parser("verify", help="prove every lowering rule with Z3")
    v.add_argument("--isa", default=None, help="only this ISA")
    v.add_argument("--rule", default=None, help="only this rule")
    v.add_argument("--specs", type=Path, default=None, help="spec folder (default: the checkout's isa_specs/)")
    v.add_argument("--no-cache", action="store_true", help="ignore the proof cache")
    v.add_argument("--timeout", type=int, default=None, help="solver timeout per query in ms")


def _root_relative(p: Path) -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        return str(p.resolve().relative_to(root))
    except ValueError:
        return str(p)


def run_meta(args: argparse.Namespace) -> int:
    from heron.meta import render

    if args.meta_command == "build":
        outputs = render.plan_outputs(args.specs)
        changed = render.build(outputs)
        for p in changed:
            print(f"wrote {_root_relative(p)}")
        print(f"{len(changed)} of {len(outputs)} generated files changed")
        return 0
    if args.meta_command == "check":
        outputs = render.plan_outputs(args.specs)
        stale = render.check(outputs)
        for p in stale:
            print(f"stale: {_root_relative(p)}", file=sys.stderr)
        if stale:
            print("generated files are stale: run `heron meta build` and commit specs and generated files together", file=sys.stderr)
            return 1
        print(f"generated files are up to date ({len(outputs)} files)")
        return 0
    if args.meta_command == "verify":
        try:
            import z3  # noqa: F401 - only to say what is missing
        except ImportError:
            raise HeronError("heron meta verify needs the z3-solver package (pip install -e '.[meta]')") from None
        from heron.meta.verify import run_verify

        return run_verify(args)
    raise HeronError(f"unknown meta command {args.meta_command}")
