"""Live monitoring: a camera, stream or real-time file through the detection core into SQLite.

The flow, one module per step:

- :mod:`~spasm_cv.live.sources`: camera / stream / file-at-real-time, one interface yielding
  frames with session times, bounded lag (oldest frames dropped and counted), gaps recorded
  and reconnection with backoff.
- :mod:`~spasm_cv.live.monitor`: the loop (source -> FaceTracker -> ``signals_row`` ->
  ``StreamingDetector`` -> store), per-minute aggregates, clean stop.
- :mod:`~spasm_cv.live.store`: the SQLite file (WAL, versioned schema, writer thread that never
  loses measured data) and :func:`~spasm_cv.live.store.load_recordings` for reports.
- :mod:`~spasm_cv.live.preview`: the OpenCV window and the headless status line.
- :mod:`~spasm_cv.live.clips`: opt-in MP4 clips around episodes from an in-memory ring buffer.
- :mod:`~spasm_cv.live.cli`: ``spasm-cv monitor``.
"""
