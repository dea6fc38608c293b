"""Small helpers shared by the CLI verbs: reading files, collecting filetests.

Example::

    >>> collect_clif_files(["tests/data"])   # doctest: +SKIP
    [PosixPath('tests/data/example.clif')]
"""

from __future__ import annotations

from pathlib import Path

from heron.errors import HeronError

__all__ = ["read_text", "collect_clif_files"]


def read_text(path: str | Path) -> str:
    """The text of a file, or a HeronError naming the file and the reason."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HeronError(f"cannot read {p}: no such file") from None
    except IsADirectoryError:
        raise HeronError(f"cannot read {p}: it is a directory") from None
    except UnicodeDecodeError as err:
        raise HeronError(f"cannot read {p}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise HeronError(f"cannot read {p}: {err.strerror}") from None


def collect_clif_files(paths: list[str]) -> list[Path]:
    """Files as given, and the ``*.clif`` files under folders (sorted)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(p.rglob("*.clif")))
        elif p.exists():
            out.append(p)
        else:
            raise HeronError(f"no such file or folder: {p}")
    return out
