"""`hark models ... diarization`: the speaker diarization pipeline among the models.

It is not a catalog file but a folder fetched from a gated Hugging Face repo with
the user's token, so `hark models` hands these names over to this module. The
token comes from --token-file, $HF_TOKEN, or a hidden prompt; it is never echoed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.speakers import diarization_download as dd

ENV_TOKEN = "HF_TOKEN"
NAME = dd.NAMES[0]


def is_name(name: str) -> bool:
    return name in dd.NAMES


def add_download_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help=f"for 'diarization': a file holding your Hugging Face access token (default: ${ENV_TOKEN}, "
        "else you are asked); accept the conditions at "
        f"{dd.MODEL_PAGE} first",
    )


def read_token(token_file: Path | None) -> str:
    if token_file is not None:
        try:
            token = token_file.expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ModelError(f"cannot read the token file {token_file}: {getattr(e, 'strerror', None) or e}") from None
        if not token:
            raise ModelError(f"the token file {token_file} is empty")
        return token
    token = os.environ.get(ENV_TOKEN, "").strip()
    if token:
        return token
    if sys.stdin.isatty():
        print(
            f"{dd.REPO} is gated: accept its conditions at {dd.MODEL_PAGE}, then paste an access token "
            f"from {dd.TOKENS_PAGE}",
            file=sys.stderr,
        )
        token = getpass.getpass("Hugging Face token (not shown): ").strip()
        if token:
            return token
    raise ModelError(
        f"downloading {dd.REPO} needs a Hugging Face access token: pass --token-file FILE or set "
        f"{ENV_TOKEN} (accept the model's conditions at {dd.MODEL_PAGE} first)"
    )


def download(store_root: Path, token_file: Path | None, quiet: bool, cancel: threading.Event) -> None:
    from tqdm import tqdm

    from app.cli.common import run_cancellable

    if dd.is_installed(store_root):
        print(f"{NAME}: already installed at {dd.default_pipeline_dir(store_root)}")
        return
    token = read_token(token_file)
    with tqdm(
        total=None,
        desc=NAME,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=True if quiet else None,
        file=sys.stderr,
    ) as bar:

        def tick(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        path = run_cancellable(lambda ev: dd.download_pipeline(store_root, token, progress=tick, cancel=ev), cancel)
    print(f"{NAME}: {path}")


def list_row(store_root: Path, human: Callable[[int], str]) -> str:
    """The `hark models list` line, in its columns."""
    installed = dd.is_installed(store_root)
    size = human(dd.installed_size(store_root)) if installed else "?"
    mark = "yes" if installed else ("partial" if dd.has_partial(store_root) else "-")
    return (
        f"  {NAME:<22} {size:>9}  {mark:<9}  speaker diarization: pyannote {dd.REPO.split('/')[1]} "
        "(needs a Hugging Face token)"
    )


def path(store_root: Path) -> Path:
    if not dd.is_installed(store_root):
        raise ModelError(f"{NAME} is not downloaded; run: hark models download {NAME} --token-file FILE")
    return dd.default_pipeline_dir(store_root)


def remove(store_root: Path) -> bool:
    return dd.remove(store_root)


__all__ = [
    "ENV_TOKEN",
    "NAME",
    "add_download_arguments",
    "download",
    "is_name",
    "list_row",
    "path",
    "read_token",
    "remove",
]
