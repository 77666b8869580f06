"""Models on disk: the download catalog, the store (downloaded and imported models), the ggml file format,
and importing models a user already has (CTranslate2 / faster-whisper folders, ggml files, OpenAI
checkpoints), with numpy quantisation to q8_0 / q5_0 and the built-in tiny.en. Imports only
pipeline.errors, pipeline.atomic_write, pipeline.http_fetch and audio.errors: no engine, no Qt."""
