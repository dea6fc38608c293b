"""ir.yaml loading: the real spec loads; every malformed spec gives its located error.

Each file in ir_spec_fail/ starts with ``# error: <text>``: the SpecError message
(rendered as ``ir.yaml:LINE: error: ...``, with the file's name shortened) must
contain that text.  Line numbers count the ``# error`` line, as the loader sees it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.errors import SpecError
from heron.meta.irspec import load_ir_spec, load_ir_spec_text

FAIL = Path(__file__).parent / "ir_spec_fail"


def test_real_ir_spec_loads() -> None:
    spec = load_ir_spec()
    names = [o.name for o in spec.opcodes]
    assert len(names) == len(set(names)) >= 135
    for must in ("iadd", "icmp", "brif", "load", "call", "shuffle", "fcvt_to_sint_sat", "atomic_rmw"):
        assert must in names


@pytest.mark.parametrize("path", sorted(FAIL.glob("*.yaml")), ids=lambda p: p.stem)
def test_malformed_ir_spec(path: Path) -> None:
    text = path.read_text()
    first = text.splitlines()[0]
    assert first.startswith("# error: ")
    expected = first[len("# error: "):]
    with pytest.raises(SpecError) as info:
        load_ir_spec_text(text, "ir.yaml")
    assert expected in str(info.value)


def test_enough_malformed_cases() -> None:
    assert len(list(FAIL.glob("*.yaml"))) >= 15
