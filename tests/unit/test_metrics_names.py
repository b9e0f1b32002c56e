"""Beam counter names map to Prometheus names by the table in pipelines/metrics/names.py, and any other
name to a valid one."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipelines.metrics.names import RULES, prometheus_name

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def test_the_issues_examples():
    assert prometheus_name("kafka.records_read")[::2] == ("newsflow_records_read_total", {"io": "kafka"})
    assert prometheus_name("kafka.records_written")[::2] == ("newsflow_records_written_total", {})
    assert prometheus_name("dedup.near")[::2] == ("newsflow_dedup_verdicts_total", {"method": "near"})
    assert prometheus_name("dlq.parse")[::2] == ("newsflow_dead_letters_total", {"stage": "parse"})


def test_first_rule_wins_and_labels_keep_odd_characters():
    assert prometheus_name("dlq.originals_cut")[::2] == (
        "newsflow_dead_letter_originals_total",
        {"outcome": "cut"},
    )
    assert prometheus_name("boilerplate.blocks.html:outside-main-content")[::2] == (
        "newsflow_boilerplate_blocks_removed_total",
        {"reason": "html:outside-main-content"},
    )
    assert prometheus_name("entities.ok")[::2] == ("newsflow_records_processed_total", {"stage": "entities"})
    assert prometheus_name("files.records_read")[2] == {"io": "files"}


def test_other_names_follow_the_general_rule():
    assert prometheus_name("parse.repaired_chars")[::2] == ("newsflow_parse_repaired_chars_total", {})
    assert prometheus_name("files.warc-odd name")[0] == "newsflow_files_warc_odd_name_total"
    # a name that would land in a labelled family without its labels gets a family of its own
    assert prometheus_name("records_read")[::2] == ("newsflow_beam_records_read_total", {})


def test_every_rule_has_one_label_set_and_a_distinct_name():
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    assert all(METRIC_NAME.fullmatch(n) and n.endswith("_total") for n in names)


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4).map(".".join))
def test_any_counter_name_gives_a_valid_metric(beam_name):
    name, help_text, labels = prometheus_name(beam_name)
    assert METRIC_NAME.fullmatch(name) and name.startswith("newsflow_") and name.endswith("_total")
    assert help_text
    assert all(LABEL_NAME.fullmatch(label) for label in labels)
    rule = next((r for r in RULES if r.name == name), None)
    assert rule is None or tuple(labels) == rule.labels, "a family always has its rule's labels"
