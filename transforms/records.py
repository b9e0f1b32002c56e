"""The records that flow through newsflow: one definition each, converted to Avro only at the edges.

``schemas/*.avsc`` is the wire contract; ``tests/unit/test_records.py`` keeps these dataclasses and the
schemas in step (every field here exists there and vice versa).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from transforms.settings import VERSION

PIPELINE_VERSION = f"newsflow/{VERSION}"
ENTITY_TYPES = ("PERSON", "ORG", "LOC", "MISC")


@dataclass(frozen=True)
class SourcePosition:
    """Where a record came from: a Kafka topic-partition-offset, or a file and line for backfills."""

    topic: str
    partition: int
    offset: int

    def key(self) -> str:
        return f"{self.topic}:{self.partition}"


Header = tuple[str, bytes | None]


@dataclass(frozen=True)
class Origin:
    """An input message exactly as read: value, key and headers. Records carry it (off the wire) through
    every stage, so a dead letter of any stage holds the input itself, never a re-encoding of it."""

    value: bytes
    key: bytes | None = None
    headers: tuple[Header, ...] = ()
    value_is_null: bool = False
    """A Kafka record with no value (a tombstone): ``value`` is then empty, and a replay sends null."""


WIRE = "wire"
"""Field metadata key: ``{WIRE: False}`` marks a field that never goes to Avro (see :func:`to_dict`)."""


@dataclass
class RawArticle:
    """A validated input envelope (``schemas/raw_article.avsc``)."""

    url: str | None = None
    source: str | None = None
    html: str | None = None
    text: str | None = None
    fetched_at: datetime | None = None
    published_at: datetime | None = None
    language: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Mention:
    text: str
    start: int
    end: int
    nested: bool = False  # inside another entity's name ("Texas" in "Texas Department of Transportation")


@dataclass
class EntityIds:
    """External identifiers; each is None when no offline source links the entity."""

    geonames: int | None = None
    iso3166: str | None = None
    wikidata: str | None = None


@dataclass
class Entity:
    name: str
    type: str
    mentions: list[Mention] = field(default_factory=list)
    count: int = 0
    first_offset: int = 0
    salience: float = 0.0
    ids: EntityIds = field(default_factory=EntityIds)
    # A place the gazetteer lacks (a street, venue): the GeoNames id of the place the article puts it in.
    located_in: int | None = None


@dataclass
class Caption:
    text: str
    credit: str | None = None


@dataclass
class Removed:
    """One block the cleaner removed, with the rule that removed it (text cut to a short excerpt)."""

    text: str
    reason: str
    chars: int


@dataclass
class Dedup:
    content_hash: str = ""
    cluster_id: str | None = None


@dataclass(frozen=True)
class Encoded:
    """An article's Avro value made ahead, where its content was final (a chain worker), for the ``dedup``
    field it would have as a survivor: the stream process then only frames it."""

    dedup: Dedup
    value: bytes


@dataclass
class Article:
    """The clean article (``schemas/article.avsc``, record ``newsflow.Article``)."""

    id: str
    body: str
    url: str | None = None
    canonical_url: str | None = None
    source: str | None = None
    title: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    dedup: Dedup = field(default_factory=Dedup)
    boilerplate: list[Removed] = field(default_factory=list)
    source_position: SourcePosition | None = None
    input_format: str = "text"
    metadata: dict[str, str] = field(default_factory=dict)
    pipeline_version: str = PIPELINE_VERSION
    origin: Origin | None = field(default=None, repr=False, compare=False, metadata={WIRE: False})
    input_hash: str = field(default="", repr=False, compare=False, metadata={WIRE: False})
    """The exact key of the input it was cleaned from (``transforms.dedup.shingles.input_hash``): dedup's
    second exact key, so copies of one input collapse even where their cleaned bodies differ; never on the
    wire."""
    body_print: Any = field(default=None, repr=False, compare=False, metadata={WIRE: False})
    """Dedup's part of the fingerprint that depends on the body alone, computed ahead where the body is final
    (``transforms.dedup.index.BodyPrint``, checked against the body before use); never on the wire."""
    encoded: Any = field(default=None, repr=False, compare=False, metadata={WIRE: False})
    """Its Avro value made ahead (:class:`Encoded`), used only while ``dedup`` is the one it was made for
    (dedup sets nothing else); never on the wire."""


@dataclass
class DuplicateVerdict:
    """Why an article was dropped as a duplicate (``schemas/duplicate.avsc``)."""

    id: str
    duplicate_of: str
    method: str  # url | exact | near
    similarity: float
    source_position: SourcePosition | None = None
    url: str | None = None
    source: str | None = None
    detected_at: datetime | None = None


LEGACY_ORIGINAL_CAP = 1024 * 1024
"""newsflow before 0.2 cut a dead letter's original to this size; such letters (no ``original_size``) are
complete only when shorter."""


@dataclass
class OriginalHeader:
    key: str
    value: bytes | None = None


@dataclass
class DeadLetter:
    """An input that could not be processed (``schemas/dead_letter.avsc``).

    ``original`` holds the complete input, unless it was too large for a Kafka message: then it is empty
    and ``original_ref`` names it in the content-addressed store under the state dir
    (:mod:`transforms.original_store`). ``original_size`` is the input's full size either way.
    ``original_is_null`` tells a Kafka tombstone (True) from an empty value (False); None only on letters
    written before ``dead_letter.avsc`` v3, where an empty ``original`` may have been either.
    """

    original: bytes
    stage: str
    error_type: str
    message: str
    source_position: SourcePosition | None = None
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 1
    original_key: bytes | None = None
    original_headers: list[OriginalHeader] = field(default_factory=list)
    original_size: int | None = None
    original_ref: str | None = None
    original_is_null: bool | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def stable_id(canonical_url: str | None, text: str) -> str:
    """A stable article id: hash of the canonical URL, or of the normalised text when there is no URL."""
    basis = f"url:{canonical_url}" if canonical_url else "text:" + " ".join(text.split()).lower()
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def wire_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of a record dataclass that its Avro schema has (all but ``{WIRE: False}`` ones)."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get(WIRE, True)]


def to_dict(record: Any) -> dict[str, Any]:
    """A dataclass record as the plain dict fastavro writes (nested records included, off-wire fields not)."""
    hidden = [f.name for f in dataclasses.fields(record) if not f.metadata.get(WIRE, True)]
    if not hidden:
        return dataclasses.asdict(record)
    data = dataclasses.asdict(dataclasses.replace(record, **dict.fromkeys(hidden)))
    for name in hidden:
        del data[name]
    return data


def _build(cls: type, value: Any) -> Any:
    if value is None or not dataclasses.is_dataclass(cls):
        return value
    kwargs = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for name, fld in hints.items():
        if name not in value:
            continue
        kwargs[name] = _convert(fld.type, value[name])
    return cls(**kwargs)


_NESTED = {
    "SourcePosition | None": SourcePosition,
    "Dedup": Dedup,
    "EntityIds": EntityIds,
    "list[Mention]": Mention,
    "list[Entity]": Entity,
    "list[Caption]": Caption,
    "list[Removed]": Removed,
    "list[OriginalHeader]": OriginalHeader,
}


def _convert(type_name: Any, value: Any) -> Any:
    target = _NESTED.get(str(type_name))
    if target is None or value is None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    if str(type_name).startswith("list["):
        return [_build(target, v) for v in value]
    return _build(target, value)


def from_dict(cls: type, value: dict[str, Any]) -> Any:
    """Rebuild a record dataclass from a decoded Avro dict (unknown fields are ignored)."""
    return _build(cls, value)
