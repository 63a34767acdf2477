"""Live monitoring: a camera, stream or real-time file through the detection core into SQLite.

The flow, one module per step:

- :mod:`~spasm_cv.live.frames`: session clock, frames, gaps and the bounded frame queue.
- :mod:`~spasm_cv.live.sources`: camera / stream / file-at-real-time, one interface yielding
  frames with session times, bounded lag (oldest frames dropped and counted), gaps recorded
  and reconnection with backoff; :mod:`~spasm_cv.live.devices` opens the one asked for.
- :mod:`~spasm_cv.live.monitor`: the loop (source -> ``observe`` -> ``StreamingDetector``
  -> store), clean stop.
- :mod:`~spasm_cv.live.minutes`: per-minute aggregates (rows and the aggregator).
- :mod:`~spasm_cv.live.schema`, :mod:`~spasm_cv.live.store`, :mod:`~spasm_cv.live.writer`:
  the SQLite file (WAL, versioned schema), one connection, and the writer thread that never
  loses measured data.
- :mod:`~spasm_cv.live.sessions`: stored sessions as result ``Recording`` objects for reports.
- :mod:`~spasm_cv.live.preview`: the OpenCV window and the headless status line.
- :mod:`~spasm_cv.live.clips`: opt-in MP4 clips around episodes from an in-memory ring buffer.
- :mod:`~spasm_cv.live.cli`: ``spasm-cv monitor`` (and ``report --db``).
"""
