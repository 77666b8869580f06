"""Write output files so that a crash or a full disk never leaves half a file."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from audio.errors import HarkError


class OutputError(HarkError):
    pass


def _current_umask() -> int:
    mask = os.umask(0o022)  # read it (the only portable way) and put it back at once
    os.umask(mask)
    return mask


# Read once at import (on the main thread): mkstemp makes files only their owner can read, but
# what Hark writes for the user (captions, exports, projects) should get the usual permissions.
FILE_MODE = 0o666 & ~_current_umask()


def write_text_atomic(path: str | Path, text: str) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        try:
            os.fchmod(fd, FILE_MODE)
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
