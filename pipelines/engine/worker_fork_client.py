"""Stand-in for one Beam worker process: asks the fork server to fork a worker, then lives as long as it.

The multi-process DirectRunner starts each worker with a shell command and watches that process: its exit
code is the worker's, and killing it must end the worker. This program is that process. It runs with
``python -S`` (standard library only, no site-packages: it starts in milliseconds), connects to the fork
server's socket, sends its environment (the runner's control and logging endpoints, the pipeline options)
with its standard streams, and waits. The server forks a worker with them and reports its exit status,
which becomes this program's. If this program dies, the server sees the connection close and kills the
worker. Without a server to ask (none listening, or it ends before forking), it becomes an ordinary Beam
worker in place (``exec``), so a run never depends on the server to work.

Usage: ``python -S worker_fork_client.py SOCKET``. Protocol, on a Unix stream socket: the client sends an
8-byte big-endian length with its three standard descriptors attached, then that many bytes of JSON (its
environment); the server answers ``forked PID`` when the worker runs and ``exit CODE`` when it ended.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Sequence

PLAIN_WORKER = ("-m", "apache_beam.runners.worker.sdk_worker_main")


def become_plain_worker() -> None:
    """Replace this process with Beam's own worker (a new interpreter, with site-packages)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, *PLAIN_WORKER])


def ask(
    path: str, environment: dict[str, str] | None = None, fds: Sequence[int] = (0, 1, 2)
) -> socket.socket | None:
    """Connect and send the request (this process's environment and standard streams unless given); None
    when no server takes it."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        payload = json.dumps(dict(os.environ) if environment is None else environment).encode()
        socket.send_fds(conn, [struct.pack(">Q", len(payload))], list(fds))
        conn.sendall(payload)
    except OSError:
        conn.close()
        return None
    return conn


def main(argv: list[str]) -> int:
    # Ctrl-C reaches the whole process group: the worker handles it, and this process ends with the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = ask(argv[1]) if len(argv) == 2 else None
    if conn is None:
        become_plain_worker()
    lines = conn.makefile("r", encoding="ascii")
    forked = lines.readline().split()
    if forked[:1] != ["forked"]:  # the server ended before forking: nothing runs yet, so run here
        conn.close()
        become_plain_worker()
    ended = lines.readline().split()
    if ended[:1] != ["exit"]:  # the server went away: it kills its workers when it goes
        return 1
    return int(ended[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
