"""whisper.cpp functions pywhispercpp 1.5.1 does not bind, called in its own libwhisper through ctypes.

Only `whisper_full_get_segment_no_speech_prob` is needed: whisper's own test for a segment decoded
from no speech. pywhispercpp hands out its context as a pybind11 object holding a pointer to a
struct whose first field is the `whisper_context *`; the pointer is read from there and then
checked against pywhispercpp's own answers (vocabulary size, segment count) before it is used. Where
any of that does not hold (another pywhispercpp, another platform), `NativeContext.open` gives None
and the no-speech test is skipped: nothing else depends on it.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.metadata
import logging
import os
from typing import Any

import _pywhispercpp as pw

log = logging.getLogger(__name__)
_KNOWN_LAYOUT = "1.5.1"  # the pywhispercpp whose object layout was checked
_PYOBJECT_HEAD = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
_lib: list[ctypes.CDLL | None] = []  # empty until looked for; then the library, or None


def _library() -> ctypes.CDLL | None:
    if not _lib:
        _lib.append(None)
        here = os.path.dirname(pw.__file__)
        candidates = sorted(
            glob.glob(os.path.join(here, "pywhispercpp.libs", "libwhisper*.so*"))
            + glob.glob(os.path.join(here, "libwhisper*.dylib"))
        )
        for path in candidates:
            try:
                lib = ctypes.CDLL(path)
                for name, args, res in (
                    ("whisper_full_get_segment_no_speech_prob", [ctypes.c_void_p, ctypes.c_int], ctypes.c_float),
                    ("whisper_full_n_segments", [ctypes.c_void_p], ctypes.c_int),
                    ("whisper_n_vocab", [ctypes.c_void_p], ctypes.c_int),
                ):
                    fn = getattr(lib, name)
                    fn.argtypes, fn.restype = args, res
                _lib[0] = lib
                break
            except (OSError, AttributeError):
                continue
    return _lib[0]


class NativeContext:
    """The raw `whisper_context *` behind a pywhispercpp context, for the calls it does not bind."""

    def __init__(self, lib: ctypes.CDLL, ctx: Any, raw: int) -> None:
        self._lib, self._ctx, self._raw = lib, ctx, raw

    @classmethod
    def open(cls, ctx: Any) -> NativeContext | None:
        try:
            if importlib.metadata.version("pywhispercpp") != _KNOWN_LAYOUT:
                return None
        except importlib.metadata.PackageNotFoundError:
            return None
        lib = _library()
        if lib is None or ctx is None:
            return None
        holder = ctypes.c_void_p.from_address(id(ctx) + _PYOBJECT_HEAD).value
        raw = ctypes.c_void_p.from_address(holder).value if holder else None
        if not raw or lib.whisper_n_vocab(raw) != pw.whisper_n_vocab(ctx):
            log.info("no-speech probabilities unavailable: pywhispercpp's context layout is not the one expected")
            return None
        return cls(lib, ctx, raw)

    def no_speech_probs(self) -> list[float] | None:
        """Each segment's no-speech probability after the last whisper_full; None if the counts disagree."""
        n = pw.whisper_full_n_segments(self._ctx)
        if self._lib.whisper_full_n_segments(self._raw) != n:
            return None
        return [float(self._lib.whisper_full_get_segment_no_speech_prob(self._raw, i)) for i in range(n)]
