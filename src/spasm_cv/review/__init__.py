"""``spasm-cv review``: annotated copies of an analysed video, to check each detection.

- :mod:`~spasm_cv.review.render`: :func:`review_video` (the whole video) and
  :func:`review_episodes` (one clip per episode and an index page);
- :mod:`~spasm_cv.review.source`: the result folder, its video, per frame what was measured;
- :mod:`~spasm_cv.review.overlay`: drawing one review frame (pure);
- :mod:`~spasm_cv.review.writer`: H.264 (else MPEG-4 Part 2) MP4 files, written atomically;
- :mod:`~spasm_cv.review.plots` and :mod:`~spasm_cv.review.page`: the episodes' index page.

A peer of ``report`` and ``export``: it reads recordings through ``results`` only, and
re-reads the video (``analyze`` writes none, so reviewing never slows an analysis).
"""
