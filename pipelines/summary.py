"""The end-of-run summary: every newsflow counter, as a table on a TTY and a log line always."""

from __future__ import annotations

import sys

import structlog
from apache_beam.metrics.metric import MetricsFilter

log = structlog.get_logger(__name__)


def counters(result) -> dict[str, int]:
    """Committed (or attempted, where the runner has no committed values) newsflow counters."""
    totals: dict[str, int] = {}
    try:
        query = result.metrics().query(MetricsFilter().with_namespace("newsflow"))
    except (NotImplementedError, AttributeError):
        return totals
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + int(value or 0)
    return dict(sorted(totals.items()))


def print_summary(result, seconds: float, stream=sys.stderr) -> dict[str, int]:
    """The summary of one pipeline run's counters."""
    totals = counters(result)
    print_totals(totals, seconds, stream)
    return totals


def print_totals(totals: dict[str, int], seconds: float, stream=sys.stderr) -> None:
    """A ``run_summary`` log line, and a table on a TTY (the local stream sums its batches' counters)."""
    log.info("run_summary", seconds=round(seconds, 1), **totals)
    if stream.isatty() and totals:
        width = max(len(k) for k in totals)
        print(f"\n{'counter':<{width}}  {'value':>10}", file=stream)
        for name, value in totals.items():
            print(f"{name:<{width}}  {value:>10}", file=stream)
        print(f"{'seconds':<{width}}  {seconds:>10.1f}", file=stream)
