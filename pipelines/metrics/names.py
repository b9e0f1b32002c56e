"""Beam counter names -> Prometheus metric names and labels, by convention.

Beam counters in the ``newsflow`` namespace are dotted paths: ``area.what`` or ``area.what.detail``
(``kafka.records_read``, ``dlq.parse``, ``boilerplate.blocks.html:nav``). Prometheus wants one metric
family per quantity, with what varies as labels, and a ``_total`` suffix on counters. The table below
says which dotted names are one family with a label; every other name becomes
``newsflow_<dots as underscores>_total``, so a counter added later is exported without a change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "newsflow_"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


@dataclass(frozen=True)
class Rule:
    """Beam counters whose full name matches ``pattern`` are the family ``PREFIX + family + "_total"``,
    labelled by the pattern's named groups."""

    pattern: re.Pattern[str]
    family: str
    help: str

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.family}_total"

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.pattern.groupindex)


def _rule(pattern: str, family: str, help_text: str) -> Rule:
    return Rule(re.compile(pattern), family, help_text)


RULES: tuple[Rule, ...] = (
    _rule(r"(?P<io>kafka|files)\.records_read", "records_read", "Input records read, by where from."),
    _rule(r"kafka\.records_written", "records_written", "Output records written to Kafka and acknowledged."),
    _rule(r"kafka\.offset_commits", "offset_commits", "Offset commits of the consumer group."),
    _rule(r"dedup\.(?P<method>url|exact|near|unique)", "dedup_verdicts", "Dedup decisions, by method."),
    _rule(
        r"dlq\.originals_(?P<outcome>stored|cut)",
        "dead_letter_originals",
        "Dead letters' originals too large for the DLQ topic: stored aside, or cut.",
    ),
    _rule(r"dlq\.(?P<stage>[^.]+)", "dead_letters", "Dead letters, by the stage that failed."),
    _rule(r"(?P<stage>[^.]+)\.ok", "records_processed", "Inputs a stage processed without failing."),
    _rule(
        r"boilerplate\.blocks\.(?P<reason>.+)", "boilerplate_blocks_removed", "Boilerplate blocks removed."
    ),
    _rule(
        r"boilerplate\.chars\.(?P<reason>.+)",
        "boilerplate_chars_removed",
        "Characters of boilerplate removed.",
    ),
    _rule(r"files\.warc_skipped\.(?P<reason>.+)", "warc_records_skipped", "WARC records skipped, by why."),
)
"""First match wins: ``dlq.originals_cut`` is not a dead letter of a stage called ``originals_cut``."""
_RULE_NAMES = frozenset(rule.name for rule in RULES)


def prometheus_name(beam_name: str) -> tuple[str, str, dict[str, str]]:
    """(metric family, help text, labels) of a ``newsflow`` Beam counter."""
    for rule in RULES:
        match = rule.pattern.fullmatch(beam_name)
        if match:
            return rule.name, rule.help, match.groupdict()
    family = PREFIX + _INVALID.sub("_", beam_name) + "_total"
    if family in _RULE_NAMES:  # "records_read" with no area: never a series of a labelled family
        family = PREFIX + "beam_" + family.removeprefix(PREFIX)
    return family, f"Beam counter newsflow/{beam_name}.", {}
