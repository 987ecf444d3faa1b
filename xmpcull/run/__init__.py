"""``xmpcull run`` as a library: the whole pipeline in one call.

scan and analyse -> duplicates and similar sets -> bursts -> crops -> quality ->
decide -> sidecars -> report. Nothing is moved here: moving is the separate,
explicit ``xmpcull move`` step, which accepts this run's report.

* ``pipeline``: the stages, wired together (``run_pipeline``);
* ``result``: the run's options, each shot's outcome, the result and its summary;
* ``sections``: group results as sidecar sections per file (shared with ``dupes`` and ``bursts``);
* ``sidecars``: the sidecar pass (memo, parallel writes, the previous decision);
* ``report``: report.json, report.csv and where they go.
"""

from xmpcull.run.pipeline import follows_a_raw, run_pipeline
from xmpcull.run.report import report_dir_for
from xmpcull.run.result import ImageOutcome, ReportNotWritten, RunOptions, RunResult
from xmpcull.run.sections import burst_fields_by_path, dupe_fields_by_path, similar_fields_by_path

__all__ = [
    "ImageOutcome",
    "ReportNotWritten",
    "RunOptions",
    "RunResult",
    "burst_fields_by_path",
    "dupe_fields_by_path",
    "follows_a_raw",
    "report_dir_for",
    "run_pipeline",
    "similar_fields_by_path",
]
