"""Write output files so that a crash or a full disk never leaves half a file.

The text goes to a hidden temporary file beside the target (`.NAME.PID.RANDOM.tmp`), is fsynced, and
renamed over the target. A process killed mid-write (kill -9, power) leaves only that temporary file;
the next write into the same folder removes such leftovers of writers that are no longer running.
"""

from __future__ import annotations

import errno
import os
import re
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process; Windows: no signal 0
        return True
    return True


_TEMP = re.compile(r"^\..+\.(\d+)\.[a-z0-9_]{8}\.tmp$")  # what mkstemp makes of the prefix below


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files in `folder` that writers killed mid-write left; returns them."""
    gone: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    for name in names:
        m = _TEMP.match(name)
        if m and int(m[1]) != os.getpid() and not _alive(int(m[1])):
            try:
                (folder / name).unlink()
                gone.append(folder / name)
            except OSError:
                pass
    return gone


def write_text_atomic(path: str | Path, text: str) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(p.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.{os.getpid()}.", suffix=".tmp", dir=p.parent)
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
