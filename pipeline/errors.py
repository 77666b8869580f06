"""Errors of the pipeline layer (media errors come from audio.errors)."""

from __future__ import annotations

from audio.errors import HarkError


class ModelError(HarkError):
    """A model is missing, corrupt, unsuitable, or could not be downloaded."""


class EngineError(HarkError):
    """The engine could not run the request (e.g. a language it does not have)."""
