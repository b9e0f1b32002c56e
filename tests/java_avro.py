"""Apache Avro's Java reference implementation, asked from the tests: one JVM for the test session.

``tests/java/avro-conformance`` is a small Java program that answers one JSON request per line
(fingerprint, decode, encode, compat, mentions); :class:`JavaAvro` starts it once (building it first through
``tests/java/build.sh``, which returns at once when it is up to date) and sends it requests.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT / "tests" / "java" / "avro-conformance"
JAVA_EXAMPLE = ROOT / "examples" / "consumers" / "java"


def build(*projects: Path) -> None:
    """Build the Maven projects (stamped: a no-op when pom and sources are unchanged)."""
    done = subprocess.run(
        ["bash", str(ROOT / "tests" / "java" / "build.sh"), *map(str, projects)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tests/java/build.sh failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def classpath(project: Path) -> str:
    return f"{project / 'target' / 'classes'}:{project / 'target' / 'lib' / '*'}"


class JavaError(RuntimeError):
    """The Java library refused a request (the message is the Java exception's class and text)."""


class JavaAvro:
    """A running AvroConformance process; :meth:`ask` sends one request and returns the answer."""

    def __init__(self) -> None:
        build(CONFORMANCE)
        self._proc = subprocess.Popen(
            ["java", "-Xshare:auto", "-cp", classpath(CONFORMANCE), "newsflow.conformance.AvroConformance"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._lock = threading.Lock()
        assert json.loads(self._read()) == {"ready": True}

    def _read(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Java conformance process ended (exit {self._proc.poll()})")
        return line

    def ask(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            answer = json.loads(self._read())
        if "error" in answer:
            raise JavaError(answer["error"])
        return answer

    def fingerprint(self, schema: Path) -> dict[str, Any]:
        return self.ask(cmd="fingerprint", schema=str(schema))

    def decode(self, schema: Path, value: bytes) -> dict[str, Any]:
        """BinaryMessageDecoder's record (``json``, Avro JSON encoding, parsed) and its re-encoding."""
        answer = self.ask(cmd="decode", schema=str(schema), value=base64.b64encode(value).decode())
        return {
            "full_name": answer["full_name"],
            "record": json.loads(answer["json"]),
            "reencoded": base64.b64decode(answer["reencoded"]),
        }

    def encode(self, schema: Path, avro_json: dict[str, Any]) -> bytes:
        """BinaryMessageEncoder's bytes for a record given in Avro's JSON encoding."""
        answer = self.ask(cmd="encode", schema=str(schema), json=json.dumps(avro_json))
        return base64.b64decode(answer["value"])

    def mentions(self, schema: Path, value: bytes) -> list[dict[str, str]]:
        """Each mention of an Article as a Java consumer slices it: ``text``, ``utf16``
        (``body.substring(start, end)``) and ``code_points`` (the substring between those code points)."""
        answer = self.ask(cmd="mentions", schema=str(schema), value=base64.b64encode(value).decode())
        return answer["mentions"]

    def compat(self, reader: Path, writer: Path) -> dict[str, Any]:
        return self.ask(cmd="compat", reader=str(reader), writer=str(writer))

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
