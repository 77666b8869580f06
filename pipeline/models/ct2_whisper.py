"""A CTranslate2 / faster-whisper whisper folder as a ggml ``ModelSource``.

The folder holds ``model.bin`` (read by ``ct2_file``), ``config.json`` and the
vocabulary (``vocabulary.txt`` or ``vocabulary.json``, byte-level BPE strings
as in GPT-2). Tensor names map to OpenAI's (= ggml's) as CTranslate2's
converter built them: ``self_attention/linear_0`` fuses query, key and value
by rows, the cross-attention's ``linear_1`` fuses key and value; the key
projections' zero biases are dropped (a key bias adds the same amount to every
score of a query, which softmax cancels, so OpenAI's model has none). Values
are copied as they are: CTranslate2 does not pre-scale whisper's queries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.models.ct2_file import Ct2FormatError, Ct2Index, Ct2Variable, read_index
from pipeline.models.ggml_file import HParams, MelFilters
from pipeline.models.ggml_writer import ModelSource, ModelSourceError, SourceTensor
from pipeline.models.mel_filters import mel_filters

# The byte-level BPE tokens whisper.cpp keeps in a ggml file: the text vocabulary and <|endoftext|>;
# whisper.cpp adds the special tokens past it itself.
GGML_TEXT_TOKENS = 50257
_GELU = 3  # CTranslate2's ActivationType::GELU, the one whisper uses and whisper.cpp hard-codes


def is_ct2_folder(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file()


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's map from printable stand-in characters back to bytes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for c, b in zip(chars, printable)}


def read_vocabulary(folder: Path) -> list[str]:
    js, txt = folder / "vocabulary.json", folder / "vocabulary.txt"
    try:
        if js.is_file():
            tokens = json.loads(js.read_text(encoding="utf-8"))
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise ModelSourceError(f"{js.name} is not a list of tokens")
            return tokens
        if txt.is_file():
            lines = txt.read_text(encoding="utf-8").split("\n")
            return lines[:-1] if lines and lines[-1] == "" else lines
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelSourceError(f"cannot read the vocabulary in {folder}: {e}") from e
    raise ModelSourceError(f"{folder} has model.bin but no vocabulary.txt or vocabulary.json: the model is incomplete")


def token_bytes(tokens: list[str]) -> list[bytes]:
    dec = _byte_decoder()
    out: list[bytes] = []
    for i, t in enumerate(tokens[:GGML_TEXT_TOKENS]):
        try:
            out.append(bytes(dec[c] for c in t))
        except KeyError:
            raise ModelSourceError(
                f"vocabulary token {i} ({t!r}) is not byte-level BPE: not a whisper vocabulary"
            ) from None
    return out


def _slicer(index: Ct2Index, var: Ct2Variable, first: int, count: int) -> Callable[[int, int], np.ndarray]:
    """Elements [first, first + count) of `var` (a run of rows or of a bias) as its own tensor."""

    def read(start: int, n: int) -> np.ndarray:
        return index.read(var, first + start, n)

    return read


def load_ct2_whisper(folder: Path) -> ModelSource:
    try:
        index = read_index(folder / "model.bin")
    except Ct2FormatError as e:
        raise ModelSourceError(str(e)) from e
    if index.spec != "WhisperSpec":
        what = f"a CTranslate2 {index.spec or 'model'}" + (
            " (a translation or language model)" if "Transformer" in index.spec else ""
        )
        raise ModelSourceError(f"{folder} holds {what}, not a whisper speech model")
    weight_types = {v.dtype_name for v in index.variables.values() if v.name.endswith("weight")}
    if weight_types & {"int8", "int16"}:
        raise ModelSourceError(
            f"{folder} is quantised to {'/'.join(sorted(weight_types & {'int8', 'int16'}))} by CTranslate2, which "
            "cannot be turned back into whisper's weights exactly: re-export it as float16 (ct2-transformers-converter "
            "--quantization float16), or import it and pass --quantize q8_0 for a small model"
        )
    act = index.scalars.get("decoder/activation")
    if act is not None and act != _GELU:
        raise ModelSourceError(f"{folder}: this whisper variant uses activation {act}, which whisper.cpp cannot run")

    def var(name: str) -> Ct2Variable:
        v = index.get(name)
        if v is None:
            raise ModelSourceError(f"{folder.name}/model.bin lacks {name}: not a complete whisper model")
        return v

    def layers(side: str) -> int:
        found = {int(m.group(1)) for n in index.variables if (m := re.match(rf"{side}/layer_(\d+)/", n))}
        if not found or found != set(range(len(found))):
            raise ModelSourceError(f"{folder.name}/model.bin: the {side} layers are incomplete")
        return len(found)

    emb, conv1 = var("decoder/embeddings/weight"), var("encoder/conv1/weight")
    enc_pos, dec_pos = var("encoder/position_encodings/encodings"), var("decoder/position_encodings/encodings")
    for v in (emb, conv1, enc_pos, dec_pos):
        if v.dtype_name not in ("float16", "float32", "bfloat16"):
            raise ModelSourceError(f"{v.name} is {v.dtype_name}: only float models can be converted")
    n_vocab, n_text_state = emb.shape
    try:
        heads = int(index.scalars["encoder/num_heads"]), int(index.scalars["decoder/num_heads"])
    except KeyError:
        raise ModelSourceError(f"{folder.name}/model.bin does not say its number of attention heads") from None
    hp = HParams(
        n_vocab=n_vocab,
        n_audio_ctx=enc_pos.shape[0],
        n_audio_state=conv1.shape[0],
        n_audio_head=heads[0],
        n_audio_layer=layers("encoder"),
        n_text_ctx=dec_pos.shape[0],
        n_text_state=n_text_state,
        n_text_head=heads[1],
        n_text_layer=layers("decoder"),
        n_mels=conv1.shape[1],
        ftype=1 if emb.dtype_name == "float16" else 0,
    )
    tokens = read_vocabulary(folder)
    if len(tokens) != n_vocab:
        raise ModelSourceError(
            f"the vocabulary has {len(tokens)} tokens but the model has {n_vocab}: they do not belong together"
        )

    tensors: dict[str, SourceTensor] = {}

    def put(ggml: str, v: Ct2Variable, part: int = 0, parts: int = 1, ne: tuple[int, ...] | None = None) -> None:
        """`part` of `parts` equal runs of rows (or bias values) of `v`, as ggml tensor `ggml`."""
        rows = v.shape[0]
        if rows % parts:
            raise ModelSourceError(f"{v.name} has {rows} rows, not {parts} equal parts")
        per = v.size // parts
        shape = ((rows // parts,) + v.shape[1:])[::-1] if ne is None else ne
        tensors[ggml] = SourceTensor(ggml, tuple(shape), _slicer(index, v, part * per, per))

    def linear(ggml: str, ct2: str, part: int = 0, parts: int = 1, bias: bool = True) -> None:
        put(f"{ggml}.weight", var(f"{ct2}/weight"), part, parts)
        if bias:
            put(f"{ggml}.bias", var(f"{ct2}/bias"), part, parts)

    def norm(ggml: str, ct2: str) -> None:
        put(f"{ggml}.weight", var(f"{ct2}/gamma"))
        put(f"{ggml}.bias", var(f"{ct2}/beta"))

    def block(ggml: str, ct2: str, cross: bool) -> None:
        norm(f"{ggml}.attn_ln", f"{ct2}/self_attention/layer_norm")
        qkv = f"{ct2}/self_attention/linear_0"
        linear(f"{ggml}.attn.query", qkv, 0, 3)
        linear(f"{ggml}.attn.key", qkv, 1, 3, bias=False)
        linear(f"{ggml}.attn.value", qkv, 2, 3)
        linear(f"{ggml}.attn.out", f"{ct2}/self_attention/linear_1")
        if cross:
            norm(f"{ggml}.cross_attn_ln", f"{ct2}/attention/layer_norm")
            linear(f"{ggml}.cross_attn.query", f"{ct2}/attention/linear_0")
            linear(f"{ggml}.cross_attn.key", f"{ct2}/attention/linear_1", 0, 2, bias=False)
            linear(f"{ggml}.cross_attn.value", f"{ct2}/attention/linear_1", 1, 2)
            linear(f"{ggml}.cross_attn.out", f"{ct2}/attention/linear_2")
        norm(f"{ggml}.mlp_ln", f"{ct2}/ffn/layer_norm")
        linear(f"{ggml}.mlp.0", f"{ct2}/ffn/linear_0")
        linear(f"{ggml}.mlp.2", f"{ct2}/ffn/linear_1")

    put("encoder.positional_embedding", enc_pos)
    put("encoder.conv1.weight", conv1)
    put("encoder.conv1.bias", var("encoder/conv1/bias"), ne=(1, hp.n_audio_state))
    put("encoder.conv2.weight", var("encoder/conv2/weight"))
    put("encoder.conv2.bias", var("encoder/conv2/bias"), ne=(1, hp.n_audio_state))
    for i in range(hp.n_audio_layer):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")
    put("decoder.positional_embedding", dec_pos)
    put("decoder.token_embedding.weight", emb)
    for i in range(hp.n_text_layer):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")

    notes: dict[str, object] = {"ct2_version": index.version, "spec_revision": index.revision}
    config = folder / "config.json"
    if config.is_file():
        try:
            heads_cfg = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads")
            if isinstance(heads_cfg, list):
                notes["alignment_heads"] = heads_cfg
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            pass  # optional: the weights and vocabulary are what matter
    bank = mel_filters(hp.n_mels)
    return ModelSource(
        format="ctranslate2",
        hparams=hp,
        mel=MelFilters(hp.n_mels, bank.shape[1], bank),
        vocab=token_bytes(tokens),
        tensors=tensors,
        dtype=emb.dtype_name,
        notes=notes,
    )
