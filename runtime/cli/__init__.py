"""The ``heron`` command line (verbs after Cranelift's clif-util).

Example::

    $ heron cat tests/data/example.clif       # parse and print
    $ heron interpret tests/data/example.clif # run every `; run:` line on the interpreter
    $ heron test --interpret DIR              # filetests; ends with "N passed, M failed"
    $ heron meta build|check|verify           # the meta-compiler
"""

from heron.cli.main import main

__all__ = ["main"]
