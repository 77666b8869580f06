"""Every dictated utterance on disk before it is decoded, so a crash never loses speech.

Layout under `<data dir>/dictation/`:
  pending/<id>.rec               an utterance still being recorded: raw 16 kHz mono 16-bit PCM, appended
                                 block by block (`begin`), so a crash mid-utterance loses at most the
                                 audio not yet handed over; the next `pending()` turns it into a WAV
  pending/<id>.wav + <id>.json   recorded, not yet delivered (16 kHz mono 16-bit WAV + sidecar)
  audio/<id>.wav                 audio of the last `keep_audio` delivered utterances
  history.jsonl                  one JSON line per delivered (or failed) utterance, appended

Writes are atomic (temporary file, fsync, rename, fsync of the folder), audio
first and sidecar second: a WAV in pending/ is always complete, and its sidecar
may be missing or damaged only if the crash (or the disk) struck in between.
`mark_done` appends the history line before moving the audio, so a crash in
between leaves the utterance pending and `pending()` finishes the move instead
of offering it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import itertools
import json
import logging
import os
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.errors import HarkError

log = logging.getLogger(__name__)
SAMPLE_RATE = 16_000
_TMP = ".tmp"
_LIVE = ".rec"
# A live recording is fsynced about once a second, against power loss; a killed process loses nothing
# that write() took: it is in the kernel's page cache.
SYNC_EVERY = SAMPLE_RATE  # samples


class JournalError(HarkError):
    """The journal could not be written or read."""


class JournalFullError(JournalError):
    """The disk is full: the utterance could not be saved."""


@dataclass(frozen=True)
class PendingUtterance:
    id: str
    audio_path: Path
    created: str  # ISO 8601, UTC
    mode: str
    target_app: str | None
    sidecar_ok: bool = True  # False: the sidecar was missing or damaged (kept aside as .json.corrupt)

    def samples(self) -> np.ndarray:
        return read_wav(self.audio_path)


@dataclass(frozen=True)
class HistoryItem:
    id: str
    created: str
    finished: str
    text: str | None  # None when the decode failed
    mode: str
    target_app: str | None
    audio_path: Path | None  # None once the audio was pruned
    error: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _write_all(fd: int, data: bytes | memoryview) -> None:
    # The one place bytes meet the OS: a full disk surfaces here as ENOSPC.
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is durable enough there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_error(e: OSError, what: str) -> JournalError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return JournalFullError(f"disk full: could not save {what}; free some space so dictation can keep recordings")
    return JournalError(f"could not save {what}: {e.strerror or e}")


def _write_atomic(path: Path, data: bytes) -> None:
    """Temporary file, fsync, rename; the caller syncs the folder (once for several files)."""
    tmp = path.with_name(f".{path.name}{_TMP}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def _pcm_wav(pcm: bytes) -> bytes:
    import io

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return buf.getvalue()


def wav_bytes(samples: np.ndarray) -> bytes:
    """16 kHz mono 16-bit PCM WAV of float samples in [-1, 1]."""
    return _pcm_wav(_pcm(samples))


def _try_lock(fd: int) -> bool:
    """An exclusive lock on the open file (released by the OS when the process dies, kill -9 included);
    False when another open file holds it. Where there is no flock (Windows) every lock succeeds."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class LiveRecording:
    """An utterance on disk while it is recorded (pending/<id>.rec): `append` each block as it arrives.

    Thread-safe; after `close` (or a write error, logged once) appends do nothing. The file is locked
    while open, so another journal's `pending()` leaves a recording in progress alone.
    """

    def __init__(self, uid: str, path: Path, fd: int) -> None:
        self.id = uid
        self.path = path
        self._fd = fd
        self._lock = threading.Lock()
        self._unsynced = 0
        self.error: str | None = None

    @property
    def open(self) -> bool:
        return self._fd >= 0

    def append(self, samples: np.ndarray) -> None:
        pcm = _pcm(samples)
        with self._lock:
            if self._fd < 0 or not pcm:
                return
            try:
                _write_all(self._fd, pcm)
                self._unsynced += len(pcm) // 2
                if self._unsynced >= SYNC_EVERY:
                    self._unsynced = 0
                    os.fsync(self._fd)
            except OSError as e:  # what is on disk stays; the finished utterance is written whole at the end
                self.error = str(_os_error(e, "the audio being dictated"))
                log.warning("dictation: %s", self.error)
                self._close_locked()

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


def read_wav(path: Path) -> np.ndarray:
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != SAMPLE_RATE:
                raise JournalError(f"{path}: not a 16 kHz mono 16-bit WAV")
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    except (OSError, EOFError, wave.Error) as e:
        raise JournalError(f"cannot read {path}: {e}") from e
    return pcm.astype(np.float32) / 32767.0


class UtteranceJournal:
    def __init__(self, data_dir: Path, *, keep_audio: int = 20) -> None:
        if keep_audio < 0:
            raise ValueError("keep_audio must be >= 0")
        self.root = Path(data_dir) / "dictation"
        self.pending_dir = self.root / "pending"
        self.audio_dir = self.root / "audio"
        self.history_file = self.root / "history.jsonl"
        self.keep_audio = keep_audio
        self._lock = threading.Lock()  # the recorder and the decoder thread both write
        self._counter = itertools.count()
        self._live: dict[str, LiveRecording] = {}  # recordings this journal has in progress
        try:
            self.pending_dir.mkdir(parents=True, exist_ok=True)
            self.audio_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _os_error(e, f"the dictation folder {self.root}") from e

    # --- writing ------------------------------------------------------------
    def begin(self, *, mode: str, target_app: str | None = None) -> LiveRecording:
        """Start an utterance on disk: append its blocks to the result while recording, then hand it to
        `write(..., live=)` when it ends (or `discard(rec.id)` when it is cancelled)."""
        with self._lock:
            uid = self._new_id()
            path = self.pending_dir / f"{uid}{_LIVE}"
            meta = {"id": uid, "created": _now(), "mode": mode, "target_app": target_app}
            try:
                _write_atomic(self.pending_dir / f"{uid}.json", json.dumps(meta).encode())
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            except OSError as e:
                raise _os_error(e, "the audio being dictated") from e
            _try_lock(fd)  # a fresh file: nobody else holds it
            with contextlib.suppress(OSError):
                _fsync_dir(self.pending_dir)
            rec = LiveRecording(uid, path, fd)
            self._live[uid] = rec
            return rec

    def write(
        self, samples: np.ndarray, *, mode: str, target_app: str | None = None, live: LiveRecording | None = None
    ) -> str:
        """Save a finished recording; returns its id. Call before decoding it.

        `live`: the recording `begin` started for it; the finished audio replaces it under its id.
        """
        with self._lock:
            uid = live.id if live is not None else self._new_id()
            meta = {"id": uid, "created": _now(), "mode": mode, "target_app": target_app}
            wav = self.pending_dir / f"{uid}.wav"
            try:
                _write_atomic(wav, wav_bytes(samples))
            except OSError as e:
                raise _os_error(e, "the dictated audio") from e  # a live recording stays, for recovery
            if live is None:
                try:
                    _write_atomic(self.pending_dir / f"{uid}.json", json.dumps(meta).encode())
                except OSError as e:  # the audio is safe; recovery works without its sidecar
                    log.warning("could not write the sidecar of dictated utterance %s: %s", uid, e)
            try:
                _fsync_dir(self.pending_dir)  # one folder sync makes both renames durable
            except OSError as e:
                raise _os_error(e, "the dictated audio") from e
            if live is not None:  # only now that the WAV is durable
                self._end_live(uid)
            return uid

    def _end_live(self, uid: str) -> None:
        rec = self._live.pop(uid, None)
        if rec is not None:
            rec.close()
        (self.pending_dir / f"{uid}{_LIVE}").unlink(missing_ok=True)

    def _new_id(self) -> str:
        # Sortable by time; the counter separates ids made in the same microsecond.
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        while True:
            uid = f"{stamp}-{next(self._counter) % 1000:03d}"
            if not any((self.pending_dir / f"{uid}{x}").exists() for x in (".wav", _LIVE)):
                return uid

    def mark_done(self, uid: str, text: str) -> HistoryItem:
        """The utterance's text was delivered: into the history, audio kept for the last few."""
        return self._finish(uid, text=text, error=None)

    def mark_failed(self, uid: str, error: str) -> HistoryItem:
        """Decoding failed for good: into the history with its audio, for a retry by hand."""
        return self._finish(uid, text=None, error=error)

    def discard(self, uid: str) -> None:
        """Forget a pending utterance (the user dismissed a recovered one, or cancelled a recording)."""
        with self._lock:
            self._end_live(uid)
            for suffix in (".wav", ".json", ".json.corrupt"):
                (self.pending_dir / f"{uid}{suffix}").unlink(missing_ok=True)

    def _finish(self, uid: str, *, text: str | None, error: str | None) -> HistoryItem:
        with self._lock:
            wav = self.pending_dir / f"{uid}.wav"
            if not wav.exists():
                raise JournalError(f"no pending utterance {uid}")
            meta = self._read_sidecar(uid) or {}
            record = {
                "id": uid,
                "created": meta.get("created") or _mtime_iso(wav),
                "finished": _now(),
                "text": text,
                "error": error,
                "mode": meta.get("mode", "unknown"),
                "target_app": meta.get("target_app"),
            }
            try:
                self._append_history(record)
            except OSError as e:
                raise _os_error(e, "the dictation history") from e
            self._move_to_history(uid)
            return self._item(record)

    def _append_history(self, record: dict[str, object]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        fd = os.open(self.history_file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a torn last line (crash mid-append) stays on its own line
            _write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _move_to_history(self, uid: str) -> None:
        src = self.pending_dir / f"{uid}.wav"
        try:
            if self.keep_audio > 0:
                os.replace(src, self.audio_dir / f"{uid}.wav")
            else:
                src.unlink(missing_ok=True)
            for suffix in (".json", ".json.corrupt"):
                (self.pending_dir / f"{uid}{suffix}").unlink(missing_ok=True)
            _fsync_dir(self.pending_dir)
            self._prune_audio()
        except OSError as e:  # the text is safe in the history; the move is redone at next start
            log.warning("could not move %s into the history: %s", uid, e)

    def _prune_audio(self) -> None:
        kept = sorted(self.audio_dir.glob("*.wav"))
        for old in kept[: max(0, len(kept) - self.keep_audio)]:
            old.unlink(missing_ok=True)

    # --- reading ------------------------------------------------------------
    def pending(self) -> list[PendingUtterance]:
        """Utterances recorded but never delivered (a crash mid-decode), oldest first."""
        with self._lock:
            for tmp in self.pending_dir.glob(f".*{_TMP}"):  # a write the crash cut short
                tmp.unlink(missing_ok=True)
            for rec in sorted(self.pending_dir.glob(f"*{_LIVE}")):  # recordings a crash cut short
                if rec.stem not in self._live:
                    self._recover_live(rec)
            done = self._history_ids()
            out: list[PendingUtterance] = []
            for wav in sorted(self.pending_dir.glob("*.wav")):
                uid = wav.stem
                if uid in done:  # delivered; only the move was cut short
                    self._move_to_history(uid)
                    continue
                meta = self._read_sidecar(uid)
                out.append(
                    PendingUtterance(
                        id=uid,
                        audio_path=wav,
                        created=str((meta or {}).get("created") or _mtime_iso(wav)),
                        mode=str((meta or {}).get("mode") or "unknown"),
                        target_app=_opt_str((meta or {}).get("target_app")),
                        sidecar_ok=meta is not None,
                    )
                )
            return out

    def _recover_live(self, rec: Path) -> None:
        """A recording whose process died: its audio becomes a pending WAV (the finished WAV wins if the
        crash came after it was written). One still locked by a live process is left alone."""
        try:
            fd = os.open(rec, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            if not _try_lock(fd):
                return  # being recorded by another Hark right now
            wav = rec.with_suffix(".wav")
            if not wav.exists():
                pcm = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
                pcm = pcm[: len(pcm) // 2 * 2]  # a block torn mid-sample
                if pcm:
                    _write_atomic(wav, _pcm_wav(pcm))
                    _fsync_dir(self.pending_dir)
                else:  # killed before the first block: nothing was said
                    (self.pending_dir / f"{rec.stem}.json").unlink(missing_ok=True)
            rec.unlink(missing_ok=True)
        except OSError as e:  # left in place: the next start tries again
            log.warning("could not recover the interrupted dictation %s: %s", rec.name, e)
        finally:
            os.close(fd)

    def _read_sidecar(self, uid: str) -> dict[str, object] | None:
        """The sidecar, or None; a damaged one is kept aside (.json.corrupt), never deleted."""
        path = self.pending_dir / f"{uid}.json"
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(meta, dict) and meta.get("id") == uid:
                return meta
            reason = "unexpected content"
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            reason = str(e)
        log.warning("damaged sidecar for dictated utterance %s (%s); audio kept", uid, reason)
        try:
            os.replace(path, path.with_name(f"{uid}.json.corrupt"))
        except OSError:
            pass
        return None

    def _history_records(self) -> list[dict[str, object]]:
        try:
            raw = self.history_file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise JournalError(f"cannot read {self.history_file}: {e.strerror or e}") from e
        records = []
        for line in raw.splitlines():
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # a line torn by a crash mid-append
            if isinstance(rec, dict) and isinstance(rec.get("id"), str):
                records.append(rec)
        return records

    def _history_ids(self) -> set[str]:
        return {str(r["id"]) for r in self._history_records()}

    def history(self, limit: int = 50) -> list[HistoryItem]:
        """The last `limit` delivered utterances, newest first."""
        with self._lock:
            records = self._history_records()
        return [self._item(r) for r in reversed(records[-limit:])] if limit > 0 else []

    def _item(self, r: dict[str, object]) -> HistoryItem:
        audio = self.audio_dir / f"{r['id']}.wav"
        return HistoryItem(
            id=str(r["id"]),
            created=str(r.get("created") or ""),
            finished=str(r.get("finished") or ""),
            text=_opt_str(r.get("text")),
            mode=str(r.get("mode") or "unknown"),
            target_app=_opt_str(r.get("target_app")),
            audio_path=audio if audio.exists() else None,
            error=_opt_str(r.get("error")),
        )


def _opt_str(value: object) -> str | None:
    """A JSON field that holds a string or null (anything else, from a damaged file, reads as null)."""
    return value if isinstance(value, str) else None


def _mtime_iso(path: Path) -> str:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="milliseconds")
    except OSError:
        return ""
