"""Make torchaudio importable next to CPU-only torch: remove its CUDA-linked native libraries.

Every torchaudio wheel for Linux on PyPI is a CUDA build: `torchaudio/lib/*.so` link
libcudart and libtorch_cuda and fail to load with torch's CPU build, which breaks
`import torchaudio`. pyannote.audio uses only torchaudio's pure-Python parts
(resampling, Kaldi fbank, MFCC), which work once those libraries are gone.

Idempotent; does nothing when torchaudio is absent or its libraries are CPU builds.
Exit status 1 when torchaudio still cannot be imported afterwards.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

CUDA_MARKERS = (b"libcudart", b"libtorch_cuda", b"libc10_cuda")


def links_cuda(lib: Path) -> bool:
    data = lib.read_bytes()
    return any(m in data for m in CUDA_MARKERS)


def main() -> int:
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or not spec.submodule_search_locations:
        return 0
    lib_dir = Path(next(iter(spec.submodule_search_locations))) / "lib"
    removed = [p for p in sorted(lib_dir.glob("*.so*")) if links_cuda(p)]
    for p in removed:
        p.unlink()
    if removed:
        print(f"setup: removed {len(removed)} CUDA-linked torchaudio libraries from {lib_dir}", file=sys.stderr)
    # Import in a child: this process must not keep a half-imported torchaudio.
    check = subprocess.run(
        [sys.executable, "-c", "import torchaudio.compliance.kaldi, torchaudio.functional"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        print("setup: torchaudio still does not import:\n" + check.stderr[-2000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
