from hypothesis import given
from hypothesis import strategies as st

from transforms.normalize import normalize_text, strip_controls


def test_spaces_controls_and_lines():
    assert normalize_text("  A\u00a0\u2009b\t c \x00\x07\u200b\r\nd\u2028e\n\n\n\nf ") == "A b c\nd\ne\n\nf"


def test_nfc():
    assert normalize_text("e\u0301") == "\u00e9"


def test_html_keeps_whitespace_but_loses_nul():
    assert strip_controls("<p>a\x00  b</p>\n") == "<p>a  b</p>\n"


@given(st.text())
def test_normalize_is_idempotent_and_never_grows(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert len(once) <= len(text) or len(once) <= len(__import__("unicodedata").normalize("NFC", text))
