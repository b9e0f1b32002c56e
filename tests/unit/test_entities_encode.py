"""The straight-run token encoder gives bitwise the vectors of the model's own first layer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.shared_data import reference_body
from transforms.entities.encode import TokenEncoder

STORY = reference_body()


@pytest.fixture(scope="module")
def tok2vec(nlp):
    return nlp.get_pipe("ner").model.layers[0]


@pytest.fixture(scope="module")
def encoder(tok2vec):
    encoder = TokenEncoder.of(tok2vec)
    assert encoder is not None
    return encoder


def same_vectors(nlp, tok2vec, encoder, text: str) -> bool:
    with nlp.memory_zone():
        doc = nlp.make_doc(text)
        return np.array_equal(encoder.encode(doc), tok2vec.predict([doc]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from("aZ .,'\n-1é"), min_size=1, max_size=80))
def test_any_text_gets_the_models_vectors(nlp, tok2vec, encoder, text):
    assert same_vectors(nlp, tok2vec, encoder, text)


@pytest.mark.parametrize("text", ["Paris", "Angela Merkel", "a b c", " ", STORY])
def test_short_texts_and_an_article_get_the_models_vectors(nlp, tok2vec, encoder, text):
    # Fewer tokens than the window layers' padding, and a whole article.
    assert same_vectors(nlp, tok2vec, encoder, text)


def test_another_structure_is_left_to_thinc(nlp):
    assert TokenEncoder.of(nlp.get_pipe("ner").model.layers[1]) is None
