"""Flex Template entry point: template parameters -> ``newsflow stream`` flags, the rest -> Beam options.

The Dataflow launcher runs ``python main.py --<name>=<value> ...`` with one flag per template parameter
(snake_case names from ``metadata.json``) mixed with Dataflow's own pipeline options (``--project``,
``--region``, ``--temp_location``, ``--sdk_container_image``...). Parameters that are newsflow settings become
``--kebab-case`` flags of ``newsflow stream``; everything else goes to Beam after a literal ``--``.

``sasl_password_secret`` names a Secret Manager secret version; its value is put in
``NEWSFLOW_SASL_PASSWORD`` so the password is never a template parameter, a flag or a log line.
"""

from __future__ import annotations

import os
import sys

SECRET_PARAMETER = "sasl_password_secret"


def stream_flags() -> set[str]:
    """The snake_case names of every flag that ``newsflow stream`` accepts."""
    from pipelines.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    stream = sub.choices["stream"]
    return {
        opt[2:].replace("-", "_")
        for action in stream._actions
        for opt in action.option_strings
        if opt.startswith("--")
    } - {"help"}


def split_arguments(argv: list[str], known: set[str]) -> tuple[list[str], list[str], str | None]:
    """(newsflow stream flags, Beam flags, secret name) from the launcher's ``--name=value`` arguments."""
    ours: list[str] = []
    beam: list[str] = []
    secret: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            beam.append(arg)
            i += 1
            continue
        name, eq, value = arg[2:].partition("=")
        if not eq and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            value, i = argv[i + 1], i + 1
            eq = "="
        if name == SECRET_PARAMETER:
            secret = value
        elif name in known:
            ours.append(f"--{name.replace('_', '-')}={value}" if eq else f"--{name.replace('_', '-')}")
        else:
            beam.append(f"--{name}={value}" if eq else f"--{name}")
        i += 1
    return ours, beam, secret


def read_secret(name: str) -> str:
    from google.cloud import secretmanager  # installed in the template image (requirements.txt)

    client = secretmanager.SecretManagerServiceClient()
    return client.access_secret_version(name=name).payload.data.decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    from pipelines.cli import main as newsflow

    argv = list(sys.argv[1:] if argv is None else argv)
    ours, beam, secret = split_arguments(argv, stream_flags())
    if secret:
        os.environ["NEWSFLOW_SASL_PASSWORD"] = read_secret(secret)
    if not any(b.startswith("--runner") for b in beam):
        beam.append("--runner=DataflowRunner")
    return newsflow(["--log-format=json", "stream", *ours, "--", *beam])


if __name__ == "__main__":
    sys.exit(main())
