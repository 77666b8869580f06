"""The job runner's speaker step: diarize a transcribed file and put the speakers on its words.

Runs on the job's worker thread. The pipeline is loaded there too (1-8 s) and
kept for the next job while its folder and options stay the same. Anything that
stops diarization short of a cancel (no pipeline folder, torch/pyannote not
installed, a broken pipeline, an unexpected error) becomes one warning: the
transcript is never lost for want of speakers.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from app.settings import AppSettings, to_caption_rules, to_diarization_options
from audio.errors import Cancelled, HarkError
from pipeline.models.store import ModelStore
from pipeline.speakers.diarization import Diarizer, resolve_pipeline_dir
from pipeline.speakers.diarization import downloaded_pipeline_dir as pipeline_download_dir
from pipeline.speakers.diarize_media import add_speakers, diarize_media
from pipeline.transcripts.transcript import Transcript

log = logging.getLogger(__name__)
WARNING_PREFIX = "speakers not identified: "


def downloaded_pipeline_dir(store: ModelStore) -> Path:
    """Where the model manager puts pyannote's speaker-diarization-community-1."""
    return pipeline_download_dir(store.root)


def for_app(message: str) -> str:
    """Messages that name the command-line option name the setting instead."""
    message = re.sub(r"with 'hark models download diarization' or in ", "in ", message)
    return re.sub(r"pass --diarization-model DIR \(or set (\w+)\)", r"set \1", message)


class SpeakerStep:
    """Holds the loaded Diarizer between jobs. Not thread-safe: the runner runs one job at a time."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self._key: tuple[object, ...] | None = None
        self._diarizer: Diarizer | None = None

    def _diarizer_for(self, s: AppSettings) -> Diarizer:
        folder = resolve_pipeline_dir(configured=s.diarization_model, downloaded=downloaded_pipeline_dir(self.store))
        options = to_diarization_options(s)
        key = (str(folder.resolve()), options)
        if self._diarizer is None or key != self._key:
            self._diarizer = None  # let the old pipeline go before loading another
            self._diarizer = Diarizer(folder, options)
            self._key = key
        return self._diarizer

    def run(
        self,
        path: str,
        transcript: Transcript,
        s: AppSettings,
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> tuple[Transcript, str | None]:
        """`transcript` with a speaker on every word, or unchanged with the reason it has none.

        Raises Cancelled only: a cancel ends the job, whatever else goes wrong is a warning.
        """
        try:
            diarizer = self._diarizer_for(s)
            if cancel.is_set():  # loading cannot be interrupted: check once it is done
                raise Cancelled()
            diarization = diarize_media(path, diarizer, progress=progress, cancel=cancel)
            return add_speakers(transcript, diarization, diarizer, to_caption_rules(s)), None
        except Cancelled:
            raise
        except HarkError as e:  # ModelError, DiarizationUnavailable, MediaError: all worded for users
            return transcript, WARNING_PREFIX + for_app(str(e))
        except Exception as e:  # a bug or a torch failure: the transcript still counts
            log.exception("diarizing %s failed unexpectedly", path)
            return transcript, f"{WARNING_PREFIX}unexpected error: {e} (details in the log)"

    def close(self) -> None:
        self._diarizer, self._key = None, None


__all__ = ["WARNING_PREFIX", "SpeakerStep", "downloaded_pipeline_dir"]
