"""heron.meta: the meta-compiler.  Specs in, proven rules and generated Python out.

Pipeline (DESIGN.md §1)::

    isa_specs/ir.yaml, isa_specs/<isa>/  --load-->  dataclasses (heron.meta.irspec, heron.meta.isa)
        --check-->  --verify (Z3: heron.meta.verify, heron.meta.smt)-->  --render (Jinja2)-->  generated/*.py

Encoders come from the encoding notations (heron.meta.encoding), rule patterns are
parsed by heron.meta.patterns; z3 is imported only by smt and verify.

meta reads only ``isa_specs/`` and its templates; it imports no runtime module
except the leaf ``heron.errors`` (for ``SpecError``), so a broken backend can
always be regenerated.

Example::

    $ heron meta build      # regenerate generated/
    $ heron meta check      # exit 1 naming each stale generated file
    $ heron meta verify     # prove every lowering rule of every ISA
"""
