"""Files, shown and written: the one display form of a path and the one atomic write.

Ground floor: imports nothing of torcheck. Every command shows a path the way the user gave it
(`display_path`) and writes a file so that a partial write never replaces a good one
(`atomic_write`): a temporary file beside the target, then one rename. A new file gets the mode the
umask gives (mkstemp alone would make it 0600); an existing one keeps its mode.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def display_path(p: str) -> str:
    """A path as the user gave it, with `/` separators and no trailing slash."""
    s = p.replace("\\", "/")
    return s.rstrip("/") or s


def umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def atomic_write(target: str | os.PathLike, data: str | bytes, mode: int | None = None) -> None:
    """Write DATA to TARGET through a temporary file and one rename; raises OSError, the old file intact.

    MODE, when given, is the new file's mode; otherwise an existing file's mode is kept and a new one
    gets 0666 less the umask.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if mode is None:
        mode = target.stat().st_mode & 0o7777 if target.is_file() else 0o666 & ~umask()
    fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", dir=folder)
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(data)
        os.chmod(tmp, mode)  # mkstemp makes 0600
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
