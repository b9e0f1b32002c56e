"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.java_avro import JavaAvro


@pytest.fixture(scope="session")
def nlp():
    """The news NER model, loaded once for the tests that run it directly."""
    from transforms.entities.recognize import load_model

    return load_model()


@pytest.fixture(scope="session")
def gaz():
    """The place gazetteer, as the pipeline loads it."""
    from transforms.entities.gazetteer import gazetteer

    return gazetteer()


@pytest.fixture(scope="session")
def java_avro() -> Iterator[JavaAvro]:
    """Apache Avro's Java library in one JVM for the whole session (built by Maven on first use)."""
    java = JavaAvro()
    try:
        yield java
    finally:
        java.close()
