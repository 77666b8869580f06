"""Tests for pipeline.models.ggml_file: whisper.cpp ggml header reader and random-model writer."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from bench.random_ggml import write_random_model
from pipeline.models import ggml_file as gf
from pipeline.models.ggml_file import GgmlFormatError, model_kind, read_header, tensor_specs

SHARED = Path(os.environ.get("HARK_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FOR_TESTS = SHARED / "models" / "whisper.cpp-for-tests"
TINY = FOR_TESTS / "for-tests-ggml-tiny.bin"
TINY_EN = FOR_TESTS / "for-tests-ggml-tiny.en.bin"
JFK_WAV = SHARED / "data" / "whisper.cpp" / "jfk.wav"

# The .bin files store the 50257 BPE tokens (GPT-2 ranks + <|endoftext|>); whisper.cpp
# synthesises the remaining special/timestamp tokens up to n_vocab at load time.
STORED_VOCAB = 50257

# With random weights whisper.cpp's closing timestamp is arbitrary (it is not clamped to the
# audio length): some seeds end a segment at 15-23 s on the 11 s clip. Seed 1 gives one
# segment ending at ~8.4 s, the same with 1-8 threads.
MODEL_SEED = 1

needs_fixtures = pytest.mark.skipif(not TINY_EN.is_file(), reason=f"no whisper.cpp test models in {FOR_TESTS}")


@pytest.fixture(scope="session")
def random_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TINY_EN.is_file():
        pytest.skip(f"no whisper.cpp test models in {FOR_TESTS}")
    out = tmp_path_factory.mktemp("ggml") / "random-tiny.en.bin"
    return write_random_model(TINY_EN, out, kind="tiny", seed=MODEL_SEED)


# --- reading the for-tests headers -------------------------------------------


@needs_fixtures
@pytest.mark.parametrize(("path", "n_vocab", "kind"), [(TINY_EN, 51864, "tiny.en"), (TINY, 51865, "tiny")])
def test_read_for_tests_header(path: Path, n_vocab: int, kind: str) -> None:
    h = read_header(path)
    hp = h.hparams
    assert hp.n_vocab == n_vocab
    assert (hp.n_audio_ctx, hp.n_audio_state, hp.n_audio_head, hp.n_audio_layer) == (1500, 384, 6, 4)
    assert (hp.n_text_ctx, hp.n_text_state, hp.n_text_head, hp.n_text_layer) == (448, 384, 6, 4)
    assert hp.n_mels == 80 and hp.ftype == 1
    assert (h.mel.n_mel, h.mel.n_fft) == (80, 201)
    assert h.mel.data.dtype == np.float32 and h.mel.data.shape == (80, 201)
    assert np.isfinite(h.mel.data).all() and h.mel.data.max() > 0
    assert len(h.vocab) == STORED_VOCAB < hp.n_vocab
    assert h.vocab[:3] == [b"!", b'"', b"#"]
    assert h.n_tensors == 0 and h.tensor_bytes == 0
    assert h.tensor_offset == h.file_size == path.stat().st_size
    assert model_kind(h) == kind
    assert gf.problems(h) and "no weights" in gf.problems(h)[0]


def test_model_kind_names() -> None:
    assert model_kind(gf.hparams_for("base", 51864)) == "base.en"
    assert model_kind(gf.hparams_for("small", 51865)) == "small"
    assert model_kind(gf.hparams_for("large", 51866)) == "large-v3"
    odd = gf.HParams(51865, 1500, 100, 2, 3, 448, 100, 2, 3, 80, 1)
    assert model_kind(odd) == "unknown"
    with pytest.raises(ValueError, match="unknown model kind"):
        gf.hparams_for("huge", 51865)


# --- rejecting files that are not (complete) models ---------------------------


def test_not_a_model(tmp_path: Path) -> None:
    text = tmp_path / "notes.bin"
    text.write_text("this is not a model\n" * 10)
    with pytest.raises(GgmlFormatError, match="not a whisper.cpp ggml model"):
        read_header(text)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(GgmlFormatError, match="not a whisper.cpp ggml model"):
        read_header(empty)
    gguf = tmp_path / "llm.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(GgmlFormatError, match="GGUF"):
        read_header(gguf)
    with pytest.raises(GgmlFormatError, match="cannot open"):
        read_header(tmp_path / "missing.bin")
    assert issubclass(GgmlFormatError, ValueError)


@needs_fixtures
@pytest.mark.parametrize("cut", [30, 48 + 8 + 1000, 200_000])  # in hparams, in mel filters, in vocab
def test_truncated_header(tmp_path: Path, cut: int) -> None:
    bad = tmp_path / "cut.bin"
    bad.write_bytes(TINY_EN.read_bytes()[:cut])
    with pytest.raises(GgmlFormatError, match="truncated"):
        read_header(bad)


def test_truncated_tensor(tmp_path: Path, random_tiny: Path) -> None:
    h = read_header(random_tiny)
    bad = tmp_path / "cut.bin"
    with random_tiny.open("rb") as f:
        bad.write_bytes(f.read(h.tensors[3].data_offset + 10))
    with pytest.raises(GgmlFormatError, match="truncated"):
        read_header(bad)


# --- the random model --------------------------------------------------------


def test_tensor_spec_counts() -> None:
    # 7 encoder globals + 15 per encoder layer + 4 decoder globals + 24 per decoder layer
    for kind, layers in [("tiny", 4), ("base", 6), ("small", 12)]:
        specs = tensor_specs(gf.hparams_for(kind, 51864))
        assert len(specs) == 7 + 15 * layers + 4 + 24 * layers
        assert len({s.name for s in specs}) == len(specs)
    by_name = {s.name: s for s in tensor_specs(gf.hparams_for("tiny", 51864))}
    assert by_name["encoder.conv1.bias"].ne == (1, 384)
    assert by_name["encoder.conv1.weight"].ne == (3, 80, 384)
    assert by_name["decoder.token_embedding.weight"].ne == (384, 51864)
    assert by_name["encoder.blocks.0.mlp.0.weight"].ne == (384, 1536)
    assert "encoder.blocks.0.attn.key.bias" not in by_name  # whisper has no key bias
    assert {s.ttype for s in by_name.values() if len(s.ne) == 1} == {gf.TYPE_F32}


def test_random_model_round_trip(random_tiny: Path) -> None:
    tmpl = read_header(TINY_EN)
    h = read_header(random_tiny)
    assert h.hparams == tmpl.hparams  # kind="tiny" equals the template's real shapes
    assert np.array_equal(h.mel.data, tmpl.mel.data)
    assert h.vocab == tmpl.vocab
    assert h.tensor_offset == tmpl.tensor_offset
    specs = tensor_specs(h.hparams)
    assert h.n_tensors == len(specs) == 167
    assert [(t.name, t.ne, t.ttype) for t in h.tensors] == [(s.name, s.ne, s.ttype) for s in specs]
    assert h.file_size == h.tensor_offset + h.tensor_bytes + sum(12 + 4 * len(s.ne) + len(s.name) for s in specs)
    assert 77_000_000 < h.file_size < 78_500_000
    assert gf.problems(h) == []
    assert model_kind(h) == "tiny.en"

    # small values, layer norms at 1
    with random_tiny.open("rb") as f:
        for name in ("decoder.token_embedding.weight", "encoder.blocks.0.attn_ln.weight"):
            t = next(t for t in h.tensors if t.name == name)
            f.seek(t.data_offset)
            data = np.frombuffer(f.read(min(t.nbytes, 1 << 16)), dtype="<f2" if t.ttype == gf.TYPE_F16 else "<f4")
            assert np.isfinite(data).all()
            if name.endswith("ln.weight"):
                assert (data == 1).all()
            else:
                assert 0.01 < float(data.std()) < 0.03


def test_write_validates_arguments(tmp_path: Path) -> None:
    if not TINY_EN.is_file():
        pytest.skip("no fixtures")
    with pytest.raises(ValueError, match="ftype"):
        write_random_model(TINY_EN, tmp_path / "x.bin", ftype=2)
    with pytest.raises(ValueError, match="unknown model kind"):
        write_random_model(TINY_EN, tmp_path / "x.bin", kind="huge")
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_cli(random_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gf.main(["info", str(random_tiny)]) == 0
    out = capsys.readouterr().out
    assert "tiny.en" in out and "167" in out and "WARNING" not in out
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"nope")
    assert gf.main(["info", str(bad)]) == 2
    assert "not a whisper.cpp ggml model" in capsys.readouterr().err


# --- pywhispercpp runs it ----------------------------------------------------


def _jfk() -> np.ndarray:
    with wave.open(str(JFK_WAV)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def test_pywhispercpp_transcribes(random_tiny: Path) -> None:
    pytest.importorskip("pywhispercpp")
    if not JFK_WAV.is_file():
        pytest.skip(f"missing {JFK_WAV}")
    from pywhispercpp.model import Model

    audio = _jfk()
    model = Model(str(random_tiny.resolve()), n_threads=2, print_realtime=False, print_progress=False)
    segments = model.transcribe(audio)
    # An empty model (header only, "no tensors loaded") decodes nothing; real weights decode something.
    # (whisper.cpp's load log is not checked: once our engine has run, it goes to Python logging.)
    assert len(segments) >= 1
    duration = len(audio) / 16000  # 11.0 s
    for s in segments:  # pywhispercpp times are in centiseconds
        assert 0 <= s.t0 / 100 <= s.t1 / 100 <= duration + 0.1, (s.t0, s.t1)
        assert isinstance(s.text, str)
