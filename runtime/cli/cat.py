"""``heron cat FILE...``: parse CLIF files and print them in canonical form.

Example::

    $ heron cat add.clif
    test interpret
    <BLANKLINE>
    function %add(i32, i32) -> i32 fast {
    block0(v0: i32, v1: i32):
        v2 = iadd v0, v1
        return v2
    }
    ; run: %add(1, 2) == 3
"""

from __future__ import annotations

import sys

from heron.cli.common import read_text

__all__ = ["run_cat"]


def run_cat(files: list[str]) -> int:
    from heron.ir.parser import parse_test_file
    from heron.ir.printer import test_file_to_text

    for i, name in enumerate(files):
        tf = parse_test_file(read_text(name), name)
        if i:
            sys.stdout.write("\n")
        sys.stdout.write(test_file_to_text(tf))
    return 0
