"""heron.meta: the meta-compiler.  Specs in, proven rules and generated Python out.

Pipeline (DESIGN.md §1)::

    isa_specs/ir.yaml, isa_specs/<isa>/  --load-->  dataclasses (heron.meta.irspec, ...)
        --check-->  --verify (Z3, heron.meta.smt)-->  --render (Jinja2)-->  generated/*.py

meta reads only ``isa_specs/`` and its templates; it imports no runtime module
except the leaf ``heron.errors`` (for ``SpecError``), so a broken backend can
always be regenerated.

Example::

    $ heron meta build      # regenerate generated/
    $ heron meta check      # exit 1 naming each stale generated file
"""
