"""Every setting as a command-line flag and a ``NEWSFLOW_*`` environment variable, and the settings objects
built from them.

Flags win over the environment, the environment over defaults. The settings that transforms take
(:class:`~transforms.settings.KafkaSettings`, :class:`~transforms.settings.Limits`) are defined in
:mod:`transforms.settings`, below the transforms; the ones only the pipelines use (topics, processing,
consumption) are defined here. Every Kafka client (reader, writer, admin, offset committer) is built from
``KafkaSettings``, so security settings apply everywhere at once. Secrets are never printed: not in
``--help``, not in ``repr``, not in logs.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.failures import BadUsage
from transforms.settings import KafkaSettings, setting
from transforms.settings import Limits as Limits  # re-exported: commands build it with resolve(Limits, ...)

ENV_PREFIX = "NEWSFLOW_"
DIRECT_RUNNERS = (None, "DirectRunner", "SwitchingDirectRunner")  # --runner values meaning the local runner
DEFAULT_TOPICS = {
    "input_topic": "articles.raw",
    "output_topic": "articles.clean",
    "duplicates_topic": "articles.duplicates",
    "dlq_topic": "articles.dlq",
}


@dataclass
class Topics:
    input_topic: str = setting(DEFAULT_TOPICS["input_topic"], "Raw articles topic.")
    output_topic: str = setting(DEFAULT_TOPICS["output_topic"], "Clean articles topic.")
    duplicates_topic: str = setting(DEFAULT_TOPICS["duplicates_topic"], "Dedup verdicts topic.")
    dlq_topic: str = setting(DEFAULT_TOPICS["dlq_topic"], "Dead-letter topic.")

    def all(self) -> list[str]:
        return [self.input_topic, self.output_topic, self.duplicates_topic, self.dlq_topic]


def add_arguments(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    """Add one flag per field of a settings dataclass; defaults resolve later, so env can fill them."""
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        env = ENV_PREFIX + f.name.upper()
        help_text = f.metadata.get("help", "")
        if f.metadata.get("secret"):
            help_text += f" Secret: prefer the environment variable {env}; never shown."
        else:
            shown = f.metadata.get("shown") or f.default
            help_text += f" (env {env}; default: {shown})"
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": help_text}
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        convert = _converter(f)
        if convert is not str:
            kwargs["type"] = convert
            kwargs["metavar"] = _base_type(f).upper()
        group.add_argument(flag, **kwargs)


_BOOLS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _parse_bool(value: str) -> bool:
    try:
        return _BOOLS[value.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"not a boolean: {value!r} (true or false)") from None


def _base_type(f: dataclasses.Field) -> str:
    return str(f.type).replace(" | None", "").strip()


def _converter(f: dataclasses.Field) -> Any:
    """str -> value for a field annotated ``int``, ``float | None``, ``bool``... (annotations are strings),
    refusing a number outside the field's ``minimum`` and ``maximum`` with a message argparse shows as it is."""
    base = _base_type(f)
    if base == "bool":
        return _parse_bool
    if (check := f.metadata.get("check")) is not None:
        return _checked(check)
    if base not in ("int", "float"):
        return str
    return number_type(int if base == "int" else float, f.metadata.get("minimum"), f.metadata.get("maximum"))


def _checked(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse ``type`` of a field's ``check``: its ``ValueError`` is the message argparse shows."""

    def convert(value: str) -> str:
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def number_type(
    number: type[int] | type[float], minimum: float | None = None, maximum: float | None = None
) -> Any:
    """An argparse ``type``: ``number`` in [minimum, maximum], out of range a message argparse shows as it
    is (the settings' flags and the commands' own numeric flags alike)."""

    def convert(value: str) -> int | float:
        try:
            parsed = number(value)
        except ValueError:
            kind = "an integer" if number is int else "a number"
            raise argparse.ArgumentTypeError(f"not {kind}: {value!r}") from None
        if not math.isfinite(parsed):  # "inf" seconds waited for ever, "nan" compared as in range
            raise argparse.ArgumentTypeError(f"not a finite number: {value!r}")
        if minimum is not None and not parsed >= minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the least allowed, {minimum:g}")
        if maximum is not None and not parsed <= maximum:
            raise argparse.ArgumentTypeError(f"{value} is above the most allowed, {maximum:g}")
        return parsed

    return convert


def resolve(cls: type, args: argparse.Namespace | None = None, env: dict[str, str] | None = None) -> Any:
    """Build a settings dataclass: flag if given, else ``NEWSFLOW_<FIELD>``, else the default. A variable
    with a value the flag would refuse raises :class:`~pipelines.failures.BadUsage` naming the variable."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        given = getattr(args, f.name, None) if args is not None else None
        name = ENV_PREFIX + f.name.upper()
        if given is None and name in env:
            try:
                given = _converter(f)(env[name])
            except argparse.ArgumentTypeError as exc:
                raise BadUsage(f"environment variable {name}: {exc}") from None
            if f.metadata.get("choices") and given not in f.metadata["choices"]:
                choices = ", ".join(f.metadata["choices"])
                raise BadUsage(f"environment variable {name}: {given!r} is not one of {choices}")
        if given is not None:
            values[f.name] = given
    return cls(**values)


@dataclass
class Processing:
    """What the chain does to each article, and where durable state lives."""

    state_dir: str | None = setting(
        None,
        "Directory for the local stream's durable state (dedup index, crash journal); default "
        "<user data dir>/newsflow/state/<group id>--<input topic> (~/.local/share on Linux). Unused on "
        "Flink/Dataflow (runner state).",
    )
    dedup_threshold: float | None = setting(
        None,
        "Estimated Jaccard at or above which articles are near duplicates, in (0, 1].",
        minimum=0.001,
        shown="0.5, the dedup settings' threshold",
    )
    learn_boilerplate: bool = setting(
        True, "Remove paragraphs that recur across articles of the same source."
    )
    entities: bool = setting(True, "Run named-entity recognition.")
    passthrough: bool = setting(False, "Parse and write only (a baseline for benchmarks; no cleaning).")


@dataclass
class Consumption:
    """How ``stream`` consumes the raw topic, and when a local run stops."""

    group_id: str = setting("newsflow", "Consumer group whose committed offsets mark the progress.")
    auto_offset_reset: str = setting(
        "earliest", "Where to start when the group has no committed offset.", choices=("earliest", "latest")
    )
    idle_timeout: float | None = setting(
        None, "Stop once the input has been idle this many seconds.", minimum=0, shown="never"
    )
    max_records: int | None = setting(
        None,
        "Stop after reading this many records (local runs: in all; other runners: per worker process).",
        minimum=1,
        shown="no limit",
    )
    connect_timeout: float = setting(
        60.0, "Seconds to wait for the brokers at start-up before exiting non-zero (exit 4).", minimum=0.001
    )
    batch_records: int = setting(
        500,
        "Local runs (no runner or the DirectRunner): most records per micro-batch, i.e. what a crash can "
        "deliver twice.",
        minimum=1,
    )
    max_poll_records: int = setting(
        500,
        "Local runs: most records one read of a partition takes at a time (Kafka's max.poll.records): "
        "a batch's records reach the chain in bundles of at most this many per partition, which bounds "
        "the memory one read holds.",
        minimum=1,
    )
    poll_interval: float = setting(
        1.0,
        "Local runs: seconds between looks for a new batch when caught up; records coming in meanwhile "
        "end the wait once the end offsets hold still for 0.1 s (they are watched).",
        minimum=0.001,
    )
    dedup_changelog: str | None = setting(
        None,
        "Local runs: compacted topic that backs the dedup index, created if missing; a new or wiped "
        "--state-dir is restored from it. 'none' keeps the index in --state-dir only.",
        shown="<group id>-dedup-changelog",
    )
    workers: int = setting(
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        "Local runs: processes that parse, clean and annotate each micro-batch's articles (dedup and "
        "learned boilerplate stay in the main process, so any count decides the same); 1 runs all in it.",
        minimum=1,
        shown="the number of cores",
    )


@dataclass
class Monitoring:
    """The metrics server of a long run (:mod:`pipelines.metrics`)."""

    metrics_port: int | None = setting(
        None,
        "Serve Prometheus metrics on /metrics, and /healthz and /readyz, on this port (0: any free port).",
        minimum=0,
        maximum=65535,
        shown="off",
    )
    metrics_host: str = setting(
        "127.0.0.1", "Address the metrics server listens on (0.0.0.0: every interface)."
    )


def add_common(parser: argparse.ArgumentParser, *groups: tuple[type, str]) -> None:
    """Kafka settings on every Kafka-facing command, plus the given groups."""
    add_arguments(parser, KafkaSettings, "Kafka connection and security")
    for cls, title in groups:
        add_arguments(parser, cls, title)
