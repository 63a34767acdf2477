"""The clinician's report: recordings in, one self-contained HTML page out.

- :mod:`~spasm_cv.report.html`: the page, one module per section.
- :mod:`~spasm_cv.report.aggregate`: the numbers a report adds to the pooled summary
  (episode details, wall-clock hours and days, treatment periods).
- :mod:`~spasm_cv.report.scales`: suggested clinical grades (Jankovic, SMC) with their rules.
- :mod:`~spasm_cv.report.plots`: the figures (matplotlib, as inline SVG).
- :mod:`~spasm_cv.report.cli`: ``spasm-cv report``.

Recordings and their pooled numbers come from :mod:`spasm_cv.results`.
"""
