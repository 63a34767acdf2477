"""Many videos at once: ``spasm-cv batch`` (resumable, local process pool or Ray).

- :mod:`~spasm_cv.batch.plan`: which videos, their result folders, which are done.
- :mod:`~spasm_cv.batch.engines`: one task per video on a local pool or a Ray cluster.
- :mod:`~spasm_cv.batch.table`: the combined table ``batch.tsv``.
"""

from spasm_cv.batch.engines import VideoOutcome, VideoTask, run_batch, run_task
from spasm_cv.batch.plan import BatchItem, plan_batch, read_done
from spasm_cv.batch.table import TABLE_FILE, read_table, write_table

__all__ = [
    "TABLE_FILE",
    "BatchItem",
    "VideoOutcome",
    "VideoTask",
    "plan_batch",
    "read_done",
    "read_table",
    "run_batch",
    "run_task",
    "write_table",
]
