"""Bare pywhispercpp on one file, for the memory baseline: `python -m bench.bare_whisper MODEL WAV THREADS`."""

from __future__ import annotations

import sys

from pywhispercpp.model import Model

from bench.common import engine_preset

model_path, wav, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
kind = "base" if "base" in model_path else "tiny"
model = Model(
    model_path,
    redirect_whispercpp_logs_to=None,
    context_params={"flash_attn": False, "dtw_token_timestamps": True, "dtw_aheads_preset": engine_preset(kind)},
    n_threads=threads,
    print_progress=False,
    print_realtime=False,
    token_timestamps=True,
    language="en",
)
model.transcribe(wav)
