"""A producer that is not ours, for the tests: Apache Kafka's Java client (``tests/java/outside``), run with
Java's single-file source launcher and the broker's own jars (``deploy/kafka/lib``: kafka-clients with its
lz4-java, snappy-java and zstd-jni), as Kafka Connect and the other teams' Java services write."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

from pipelines.devkafka.broker import DEFAULT_LIB_DIR

SOURCE = Path(__file__).resolve().parent / "java" / "outside" / "OutsideProducer.java"
Header = tuple[bytes, bytes | None]


def _hex(data: bytes | None) -> str:
    """A field of a SEND line: hex, "-" for null, "." for empty."""
    return "-" if data is None else (data.hex() or ".")


class JavaProducer:
    """One ``OutsideProducer`` process writing ``topic``; ``config`` is kafka-clients' producer config."""

    def __init__(self, bootstrap: str, topic: str, **config: str) -> None:
        args = [f"{k.replace('_', '.')}={v}" for k, v in {**config, "newsflow_topic": topic}.items()]
        self._proc = subprocess.Popen(
            ["java", "-Xshare:auto", "-cp", f"{DEFAULT_LIB_DIR}/*", str(SOURCE), bootstrap, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _say(self, line: str, answered: bool) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        if answered:
            answer = self._proc.stdout.readline().strip()
            if answer != "ok":
                self._proc.kill()
                raise RuntimeError(f"OutsideProducer failed at {line!r}: {self._proc.stderr.read()[-3000:]}")

    def send(
        self,
        partition: int,
        value: bytes | None,
        key: bytes | None = None,
        timestamp_ms: int | None = None,
        headers: Iterable[Header] = (),
    ) -> None:
        """Queue one record (empty keys and values are sent as empty, ``None`` as null)."""
        encoded = " ".join(
            [
                "SEND",
                str(partition),
                _hex(key),
                _hex(value),
                "-" if timestamp_ms is None else str(timestamp_ms),
            ]
            + [f"{_hex(k)}={_hex(v)}" for k, v in headers]
        )
        self._say(encoded, answered=False)

    def begin(self) -> None:
        self._say("BEGIN", answered=False)

    def flush(self) -> None:
        """Wait until every record sent so far is on the broker."""
        self._say("FLUSH", answered=True)

    def commit(self) -> None:
        self._say("COMMIT", answered=True)

    def abort(self) -> None:
        self._say("ABORT", answered=True)

    def close(self) -> None:
        """End the producer (an open transaction is left to the transaction coordinator)."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.returncode != 0:
            raise RuntimeError(
                f"OutsideProducer exited {self._proc.returncode}: {self._proc.stderr.read()[-3000:]}"
            )

    def kill(self) -> None:
        """End the process at once, as a crash: no commit, no abort."""
        self._proc.kill()
        self._proc.wait()
