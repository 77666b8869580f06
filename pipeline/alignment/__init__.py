"""Word timing: forced alignment of recognised words, and how good a transcript's word times are.

`aligner` is what callers see (an `Aligner` protocol and `aligner_for(language)`; the types it
re-exports live in `types`); `sphinx_aligner` is the PocketSphinx implementation, `pronounce`
turns written words into dictionary words, `apply` fits rough words between aligned ones,
`file_align` aligns a whole file in source time with flat memory, `realign` re-aligns captions
after a correction. `timing_eval` and `textgrid_words` score word times against references
(human TextGrids, synthesised speech).
Imports audio/ and pipeline's own modules only; no Qt.
"""
