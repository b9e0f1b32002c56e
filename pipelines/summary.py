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
    totals = counters(result)
    log.info("run_summary", seconds=round(seconds, 1), **totals)
    if stream.isatty() and totals:
        width = max(len(k) for k in totals)
        print(f"\n{'counter':<{width}}  {'value':>10}", file=stream)
        for name, value in totals.items():
            print(f"{name:<{width}}  {value:>10}", file=stream)
        print(f"{'seconds':<{width}}  {seconds:>10.1f}", file=stream)
    return totals
