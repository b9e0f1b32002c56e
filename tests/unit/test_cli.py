import json

import pytest

from pipelines.cli import build_parser, main, split_beam_args
from pipelines.cli.inputs import iter_messages


def _commands() -> dict:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return sub.choices


def test_every_documented_command_is_there():
    assert {"kafka", "produce", "consume", "stream", "process", "entities"} <= set(_commands())


@pytest.mark.parametrize("name", sorted(_commands()))
def test_help_on_every_command(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert "usage: newsflow" in capsys.readouterr().out


def test_stream_flag_names(capsys):
    text = _commands()["stream"].format_help()
    for flag in (
        "--bootstrap-servers",
        "--input-topic",
        "--output-topic",
        "--duplicates-topic",
        "--dlq-topic",
        "--group-id",
        "--idle-timeout",
        "--max-records",
    ):
        assert flag in text


def test_beam_args_after_double_dash():
    ours, beam = split_beam_args(["stream", "--group-id", "g", "--", "--runner=FlinkRunner", "--", "x"])
    assert ours == ["stream", "--group-id", "g"] and beam == ["--runner=FlinkRunner", "--", "x"]
    assert split_beam_args(["consume"]) == (["consume"], [])


def test_inputs_turn_files_into_envelopes(tmp_path):
    (tmp_path / "a.html").write_text("<html><body><p>Hello</p></body></html>")
    (tmp_path / "b.txt").write_bytes(
        "Caf\xe9 cr\xe8me br\xfbl\xe9e, une sp\xe9cialit\xe9 fran\xe7aise tr\xe8s appr\xe9ci\xe9e.".encode(
            "cp1252"
        )
    )
    (tmp_path / "c.jsonl").write_text('{"text": "x"}\nnot json\n\n')
    messages = list(iter_messages([str(tmp_path)], source="example.org"))
    assert len(messages) == 4
    html = json.loads(messages[0][0])
    assert html["html"].startswith("<html>") and html["source"] == "example.org"
    assert "Café" in json.loads(messages[1][0])["text"]
    assert [m for m, _ in messages[2:]] == [b'{"text": "x"}', b"not json"]
    assert messages[3][1].offset == 2
