"""Hydra callback of ``grit-eval -m``: the sweep's report, written when the multirun ends.

Registered in ``conf/config.yaml`` under ``hydra.callbacks``. It only hands the sweep
directory to ``results.report.write_report`` (imported when needed, so a single run never
loads pandas or matplotlib for it); ``grit-eval-report SWEEP_DIR --out DIR`` makes the same
report offline.

Hydra does not call ``on_multirun_end`` when a job raised (the sweeper re-raises the job's
error after the batch). For that case ``on_job_end`` writes ``job_error.txt`` into the failed
job's directory, so an offline report shows the job as FAILED with its error.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

log = logging.getLogger(__name__)

REPORT_SUBDIR = "report"


class SweepReport(Callback):
    """Write ``<sweep dir>/<subdir>/`` (tables, plots, report.md) at the end of a multirun.

    Args:
        subdir: folder inside the sweep directory.
        plots: also write the PNG plots.
        formats: table formats (md, csv, tex).
    """

    def __init__(self, subdir: str = REPORT_SUBDIR, plots: bool = True,
                 formats: tuple[str, ...] | list[str] = ("md", "csv", "tex")) -> None:
        self.subdir = subdir
        self.plots = plots
        self.formats = tuple(formats)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if job_return.status != JobStatus.FAILED or config.hydra.mode != RunMode.MULTIRUN:
            return  # a single run's directory holds only what the run writes
        from results.collect import JOB_ERROR_FILE

        try:
            output_dir = Path(config.hydra.runtime.output_dir)
            error = job_return._return_value  # the exception; .return_value would re-raise it
            (output_dir / JOB_ERROR_FILE).write_text(f"{type(error).__name__}: {error}\n")
        except Exception as exc:  # a report helper must never mask the job's own error
            log.warning("could not record the failed job's error: %s", exc)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from results.report import write_report

        sweep_dir = Path(config.hydra.sweep.dir)
        out = sweep_dir / self.subdir
        try:
            report = write_report([sweep_dir], out, formats=self.formats, plots=self.plots)
        except Exception:
            # The jobs' results are safe on disk; the report can be remade offline.
            log.exception("sweep report failed; run `grit-eval-report %s --out %s`", sweep_dir, out)
            return
        counts = ", ".join(f"{n} {s}" for s, n in report.status_counts().items())
        log.info("sweep report (%s): %s", counts, out / "report.md")
