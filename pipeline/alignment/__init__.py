"""Word timing: how good a transcript's word times are, and (to come, issue 13) forced alignment.

Pure functions over (text, start, end) words, no audio or Qt: `timing_eval` scores word times
against reference timings such as human TextGrids. Imports only the standard library and numpy.
"""
