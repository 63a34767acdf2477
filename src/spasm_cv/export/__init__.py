"""Exports for research tools: BIDS events, ELAN annotation files, CSV/JSON tables.

* :mod:`spasm_cv.export.bids`: validate events.tsv against its sidecar; BIDS file names.
* :mod:`spasm_cv.export.elan`: ``.eaf`` with one tier per side and event type, video linked.
* :mod:`spasm_cv.export.tables`: pandas DataFrames and CSV/JSON files of events and summaries.

The command line is ``spasm-cv export RESULT --format bids|elan|csv|json``.
"""
