"""A recording's result: the one layer every producer and consumer shares.

Producers (``pipeline`` for recorded videos, ``live`` for monitoring sessions) make
:class:`~spasm_cv.results.recording.Recording` objects and write them; consumers (``report``,
``export``, ``batch``, the Python API) read them. Nothing here knows about cameras, MediaPipe
or HTML.

- :mod:`~spasm_cv.results.recording`: ``Recording`` (events, signals or per-minute
  aggregates, summary, provenance) and its constructors.
- :mod:`~spasm_cv.results.summary`: ``Summary`` (summary.json, typed), built in one place.
- :mod:`~spasm_cv.results.rates`: ``Rate`` and the rate groups of a summary.
- :mod:`~spasm_cv.results.pooled`: numbers over several recordings (pooled in one place).
- :mod:`~spasm_cv.results.files`: the result folder's files (the output contract).
- :mod:`~spasm_cv.results.frames`: events and signals as pandas DataFrames.
- :mod:`~spasm_cv.results.atomic`: writing files and folders atomically.
"""
