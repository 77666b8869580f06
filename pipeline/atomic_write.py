"""Write output files so that a crash or a full disk never leaves half a file."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from audio.errors import HarkError


class OutputError(HarkError):
    pass


def write_text_atomic(path: str | Path, text: str) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise OutputError(f"disk full: could not write {p}") from e
        raise OutputError(f"could not write {p}: {e.strerror or e}") from e
    return p
