"""A local single-node Kafka broker (KRaft, broker and controller in one JVM) run from ``deploy/kafka/lib``.

No Docker: ``deploy/kafka/fetch-jars.sh`` puts the jars there and this module runs ``java kafka.Kafka``.
Developers use it through ``newsflow kafka up|down|status``; the integration tests use it to stop and start
one broker on the same data to test faults. A data dir holds everything of one broker: ``server.properties``
(its whole configuration, re-read as is by :func:`start`), the log4j2 config, the KRaft storage, the logs
and the pid file. :func:`up` renders the configuration and formats the storage only if it is not formatted
yet, so data survives every stop and start.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipelines.options import Topics
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / ".kafka"
DEFAULT_LIB_DIR = REPO_ROOT / "deploy" / "kafka" / "lib"
DEFAULT_PORT = 9092
DEFAULT_PARTITIONS = 4
DEFAULT_HEAP = "512m"
HOST = "127.0.0.1"
NODE_ID = 1
MAX_MESSAGE_BYTES = 20 * 1024 * 1024
"""Above the pipeline's largest accepted message and its producer's request size, so that an oversized
article reaches the pipeline (which dead-letters it) instead of being refused by the broker."""

_PROPERTIES = "server.properties"
_LOG4J = "log4j2.properties"
_PID = "broker.pid"
_STORAGE = "storage"
_LOGS = "logs"
_CDS_ARCHIVE = "kafka.jsa"
_CDS_PENDING = "cds-archive.pending"


class BrokerError(RuntimeError):
    """The local broker could not be started, reached or stopped; the message says why."""


@dataclass(frozen=True)
class SslListener:
    """An extra ``SSL://127.0.0.1:<port>`` listener; stores are PKCS12 files (see ``pipelines.devkafka.tls``)."""

    port: int
    keystore: Path
    password: str = field(repr=False)
    truststore: Path | None = None
    client_auth: str = "none"

    def __post_init__(self) -> None:
        if self.client_auth not in ("none", "requested", "required"):
            raise ValueError(f"client_auth must be none, requested or required, not {self.client_auth!r}")
        if self.client_auth != "none" and self.truststore is None:
            raise ValueError("client authentication needs a truststore holding the client CA")


@dataclass(frozen=True)
class BrokerConfig:
    """Everything that goes into one broker's ``server.properties``."""

    port: int
    controller_port: int
    data_dir: Path
    partitions: int = DEFAULT_PARTITIONS
    ssl: SslListener | None = None

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / _STORAGE

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class BrokerStatus:
    """What ``status`` reports: whether the broker runs, where, and its topics with partition counts."""

    running: bool
    data_dir: Path
    pid: int | None = None
    bootstrap: str | None = None
    ssl_bootstrap: str | None = None
    topics: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalBroker:
    """A handle on one local broker, for tests and benchmarks: its addresses and its fault controls."""

    data_dir: Path
    port: int
    ssl_port: int | None = None
    lib_dir: Path = DEFAULT_LIB_DIR

    @classmethod
    def launch(
        cls,
        data_dir: Path | str,
        *,
        port: int | None = None,
        partitions: int = DEFAULT_PARTITIONS,
        topics: Sequence[str] | None = None,
        ssl: SslListener | None = None,
        lib_dir: Path | str = DEFAULT_LIB_DIR,
    ) -> LocalBroker:
        """:func:`up` on ``port`` (a free one if None) and a handle on the running broker."""
        port = free_port() if port is None else port
        up(port, data_dir, partitions, topics, ssl, lib_dir=lib_dir)
        return cls(Path(data_dir).resolve(), port, ssl.port if ssl else None, Path(lib_dir))

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ssl_bootstrap(self) -> str:
        if self.ssl_port is None:
            raise BrokerError("this broker has no SSL listener")
        return f"{HOST}:{self.ssl_port}"

    def settings(self) -> KafkaSettings:
        """Plain-text client settings for this broker."""
        return KafkaSettings(bootstrap_servers=self.bootstrap)

    def status(self) -> BrokerStatus:
        return status(self.data_dir)

    def create_topics(self, names: Iterable[str], partitions: int = DEFAULT_PARTITIONS) -> list[str]:
        return ensure_topics(self.bootstrap, names, partitions)

    def stop(self, *, force: bool = False) -> bool:
        """Clean stop, or a crash (SIGKILL) with ``force``; data stays for :meth:`start`."""
        return down(self.data_dir, force=force)

    def start(self) -> BrokerStatus:
        return start(self.data_dir, lib_dir=self.lib_dir)

    def restart(self) -> BrokerStatus:
        return restart(self.data_dir, lib_dir=self.lib_dir)

    def stopped(self, *, force: bool = False) -> contextlib.AbstractContextManager[None]:
        return stopped(self.data_dir, force=force, lib_dir=self.lib_dir)

    def stop_for(self, seconds: float, *, force: bool = False) -> None:
        stop_for(seconds, self.data_dir, force=force, lib_dir=self.lib_dir)


def render_properties(config: BrokerConfig) -> str:
    """The broker's configuration: one node, loopback only, single-replica everything, no auto-created topics."""
    listeners = [f"PLAINTEXT://{HOST}:{config.port}", f"CONTROLLER://{HOST}:{config.controller_port}"]
    advertised = [f"PLAINTEXT://{HOST}:{config.port}"]
    if config.ssl is not None:
        listeners.append(f"SSL://{HOST}:{config.ssl.port}")
        advertised.append(f"SSL://{HOST}:{config.ssl.port}")
    props: dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{config.controller_port}",
        "controller.listener.names": "CONTROLLER",
        "listeners": ",".join(listeners),
        "advertised.listeners": ",".join(advertised),
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL",
        "log.dirs": config.storage_dir,
        "num.partitions": config.partitions,
        "auto.create.topics.enable": "false",
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 8,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 4,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        # After a crash the restarted broker may only register once its old session expired (default 9 s).
        "broker.session.timeout.ms": 3000,
        "broker.heartbeat.interval.ms": 500,
        "message.max.bytes": MAX_MESSAGE_BYTES,
        "replica.fetch.max.bytes": MAX_MESSAGE_BYTES,
        "log.segment.bytes": 32 * 1024 * 1024,
        "log.retention.hours": 168,
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        "num.network.threads": 2,
        "num.io.threads": 4,
        "num.recovery.threads.per.data.dir": 1,
    }
    if config.ssl is not None:
        props.update(
            {
                "ssl.keystore.type": "PKCS12",
                "ssl.keystore.location": config.ssl.keystore,
                "ssl.keystore.password": config.ssl.password,
                "ssl.key.password": config.ssl.password,
                "ssl.client.auth": config.ssl.client_auth,
            }
        )
        if config.ssl.truststore is not None:
            props.update(
                {
                    "ssl.truststore.type": "PKCS12",
                    "ssl.truststore.location": config.ssl.truststore,
                    "ssl.truststore.password": config.ssl.password,
                }
            )
    return "".join(f"{key}={_escape(str(value))}\n" for key, value in props.items())


def render_log4j(log_dir: Path) -> str:
    """log4j2 configuration: everything the JVM logs goes to ``<log_dir>/server.log``, rolled at 10 MB."""
    log_file = _escape(str(log_dir / "server.log"))
    return (
        "status = warn\n"
        "shutdownHook = disable\n"
        "appender.file.type = RollingFile\n"
        "appender.file.name = file\n"
        f"appender.file.fileName = {log_file}\n"
        f"appender.file.filePattern = {log_file}.%i\n"
        "appender.file.layout.type = PatternLayout\n"
        "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
        "appender.file.policies.type = Policies\n"
        "appender.file.policies.size.type = SizeBasedTriggeringPolicy\n"
        "appender.file.policies.size.size = 10MB\n"
        "appender.file.strategy.type = DefaultRolloverStrategy\n"
        "appender.file.strategy.max = 3\n"
        "rootLogger.level = INFO\n"
        "rootLogger.appenderRef.file.ref = file\n"
    )


def parse_properties(text: str) -> dict[str, str]:
    """Read back a ``key=value`` file as written by :func:`render_properties`."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = _unescape(value.strip())
    return props


def listener_ports(props: dict[str, str]) -> dict[str, int]:
    """Port of each listener name (PLAINTEXT, CONTROLLER, SSL) in a parsed ``server.properties``."""
    ports: dict[str, int] = {}
    for listener in props.get("listeners", "").split(","):
        name, _, address = listener.partition("://")
        if address:
            ports[name.strip()] = int(address.rsplit(":", 1)[1])
    return ports


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as ``kafka-storage random-uuid``),
    never starting with "-", which the storage tool would read as an option (Kafka's ``Uuid.randomUuid``
    draws again in that case too; one start in 64 failed without this)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def up(
    port: int = DEFAULT_PORT,
    data_dir: Path | str = DEFAULT_DATA_DIR,
    partitions: int = DEFAULT_PARTITIONS,
    topics: Sequence[str] | None = None,
    ssl: SslListener | None = None,
    *,
    timeout: float = 90.0,
    lib_dir: Path | str = DEFAULT_LIB_DIR,
    heap: str = DEFAULT_HEAP,
) -> BrokerStatus:
    """Start the broker (formatting its storage on first use) and create the topics; a no-op if it runs.

    The controller keeps the port it was first given, so a data dir can be stopped and brought up again.
    """
    data_dir = Path(data_dir).resolve()
    topics = list(Topics().all() if topics is None else topics)
    running = _running_pid(data_dir)
    if running is not None:
        props = _read_properties(data_dir)
        if listener_ports(props).get("PLAINTEXT") != port:
            raise BrokerError(
                f"a broker already runs from {data_dir} on {props.get('listeners')}; stop it first"
            )
        log.info("kafka.already_running", pid=running, data_dir=str(data_dir))
    else:
        config = BrokerConfig(
            port=port,
            controller_port=_controller_port(data_dir),
            data_dir=data_dir,
            partitions=partitions,
            ssl=ssl,
        )
        _write_config(config)
        if not (config.storage_dir / "meta.properties").exists():
            _format_storage(data_dir, _jars(lib_dir))
        start(data_dir, timeout=timeout, lib_dir=lib_dir, heap=heap)
    ensure_topics(f"{HOST}:{port}", topics, partitions)
    return status(data_dir)


def start(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    *,
    timeout: float = 90.0,
    lib_dir: Path | str = DEFAULT_LIB_DIR,
    heap: str = DEFAULT_HEAP,
) -> BrokerStatus:
    """Start an already configured and formatted broker as it was, and wait until it serves requests."""
    data_dir = Path(data_dir).resolve()
    props = _read_properties(data_dir)
    ports = listener_ports(props)
    if _running_pid(data_dir) is not None:
        raise BrokerError(f"a broker already runs from {data_dir}")
    for name, port in ports.items():
        if not _port_free(port):
            raise BrokerError(f"port {port} for the {name} listener is in use by another process")
    lib_dir = _jars(lib_dir)
    logs_dir = data_dir / _LOGS
    logs_dir.mkdir(parents=True, exist_ok=True)
    command = [
        "java",
        f"-Xmx{heap}",
        "-Xms128m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        *_log_flags(data_dir),
        *_cds_flags(data_dir, lib_dir),
        "-cp",
        f"{lib_dir}/*",
        "kafka.Kafka",
        str(data_dir / _PROPERTIES),
    ]
    started = time.monotonic()
    with open(logs_dir / "stdout.log", "ab") as out:
        process = subprocess.Popen(
            command,
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (data_dir / _PID).write_text(f"{process.pid}\n")
    bootstrap = f"{HOST}:{ports['PLAINTEXT']}"
    _wait_ready(bootstrap, process.pid, data_dir, time.monotonic() + timeout)
    log.info(
        "kafka.ready",
        pid=process.pid,
        bootstrap=bootstrap,
        seconds=round(time.monotonic() - started, 2),
        data_dir=str(data_dir),
    )
    return status(data_dir)


def down(data_dir: Path | str = DEFAULT_DATA_DIR, *, timeout: float = 30.0, force: bool = False) -> bool:
    """Stop the broker: SIGTERM for a clean shutdown, SIGKILL if it is not gone after ``timeout`` seconds.

    ``force=True`` sends SIGKILL at once, as a crash would. Returns whether a broker was running.
    """
    data_dir = Path(data_dir).resolve()
    pid = _running_pid(data_dir)
    if pid is None:
        (data_dir / _PID).unlink(missing_ok=True)
        return False
    if not force:
        os.kill(pid, signal.SIGTERM)
        if _wait_exit(pid, timeout):
            log.info("kafka.stopped", pid=pid, data_dir=str(data_dir))
            (data_dir / _PID).unlink(missing_ok=True)
            _settle_cds_archive(data_dir, complete=True)
            return True
        log.warning("kafka.stop_timeout", pid=pid, seconds=timeout)
    os.kill(pid, signal.SIGKILL)
    if not _wait_exit(pid, 10.0):
        raise BrokerError(f"broker {pid} survived SIGKILL")
    log.info("kafka.killed", pid=pid, data_dir=str(data_dir))
    (data_dir / _PID).unlink(missing_ok=True)
    _settle_cds_archive(data_dir, complete=False)
    return True


def restart(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    *,
    timeout: float = 90.0,
    lib_dir: Path | str = DEFAULT_LIB_DIR,
    heap: str = DEFAULT_HEAP,
) -> BrokerStatus:
    """A clean stop and a start on the same configuration and data (no SIGKILL unless the stop hangs)."""
    down(data_dir, timeout=timeout)
    return start(data_dir, timeout=timeout, lib_dir=lib_dir, heap=heap)


@contextlib.contextmanager
def stopped(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    *,
    force: bool = False,
    timeout: float = 90.0,
    lib_dir: Path | str = DEFAULT_LIB_DIR,
) -> Iterator[None]:
    """The broker is down inside the block and serving again after it, on the same port and data."""
    down(data_dir, timeout=timeout, force=force)
    try:
        yield
    finally:
        start(data_dir, timeout=timeout, lib_dir=lib_dir)


def stop_for(
    seconds: float,
    data_dir: Path | str = DEFAULT_DATA_DIR,
    *,
    force: bool = False,
    lib_dir: Path | str = DEFAULT_LIB_DIR,
) -> None:
    """An outage of ``seconds`` (plus the stop and start times); run it in a thread beside a pipeline."""
    with stopped(data_dir, force=force, lib_dir=lib_dir):
        time.sleep(seconds)


def status(data_dir: Path | str = DEFAULT_DATA_DIR, *, timeout: float = 10.0) -> BrokerStatus:
    """Whether the broker of ``data_dir`` runs, and its topics with their partition counts."""
    data_dir = Path(data_dir).resolve()
    pid = _running_pid(data_dir)
    if pid is None:
        return BrokerStatus(running=False, data_dir=data_dir)
    ports = listener_ports(_read_properties(data_dir))
    bootstrap = f"{HOST}:{ports['PLAINTEXT']}"
    ssl_bootstrap = f"{HOST}:{ports['SSL']}" if "SSL" in ports else None
    try:
        topics = describe_topics(bootstrap, timeout=timeout)
    except KafkaError as exc:
        raise BrokerError(f"broker {pid} runs but does not answer on {bootstrap}: {exc!r}") from exc
    return BrokerStatus(
        running=True,
        data_dir=data_dir,
        pid=pid,
        bootstrap=bootstrap,
        ssl_bootstrap=ssl_bootstrap,
        topics=topics,
    )


def describe_topics(bootstrap: str, *, timeout: float = 10.0) -> dict[str, int]:
    """Partition count of every topic but Kafka's internal ones."""
    with _admin(bootstrap, timeout) as admin:
        described = admin.describe_topics()
    return {
        t["name"]: len(t["partitions"])
        for t in sorted(described, key=lambda t: t["name"])
        if not t.get("is_internal") and not t["name"].startswith("__")
    }


def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    partitions: int = DEFAULT_PARTITIONS,
    *,
    settings: KafkaSettings | None = None,
    timeout: float = 30.0,
) -> list[str]:
    """Create the topics that do not exist yet (single replica) and wait until each has a leader.

    Existing topics are left as they are, whatever their partition count. Returns the names created.
    """
    names = list(dict.fromkeys(topics))
    if not names:
        return []
    kwargs = (settings or KafkaSettings(bootstrap_servers=bootstrap)).client_kwargs()
    kwargs.update(bootstrap_servers=[bootstrap], request_timeout_ms=int(timeout * 1000))
    with contextlib.closing(KafkaAdminClient(**kwargs)) as admin:
        response = admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": 1} for name in names},
            timeout_ms=int(timeout * 1000),
            raise_errors=False,
        )
        created, failed = [], {}
        for topic in response["topics"]:
            if topic["error_code"] == 0:
                created.append(topic["name"])
            elif topic["error_code"] != TopicAlreadyExistsError.errno:
                failed[topic["name"]] = topic.get("error_message") or topic["error_code"]
        if failed:
            raise BrokerError(f"could not create topics: {failed}")
        admin.wait_for_topics(names, timeout_ms=int(timeout * 1000))
    if created:
        log.info("kafka.topics_created", topics=created, partitions=partitions)
    return created


def log_tail(data_dir: Path | str = DEFAULT_DATA_DIR, lines: int = 40) -> str:
    """The last lines of the broker's logs (JVM output first), for error messages."""
    parts = []
    for name in ("stdout.log", "server.log"):
        path = Path(data_dir) / _LOGS / name
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            if tail:
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
    return "\n".join(parts) or "(no broker log yet)"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append("\n" if nxt == "n" else nxt)
        else:
            out.append(ch)
    return "".join(out)


def _read_properties(data_dir: Path) -> dict[str, str]:
    path = data_dir / _PROPERTIES
    if not path.exists():
        raise BrokerError(f"no broker configured in {data_dir}: run `newsflow kafka up` first")
    return parse_properties(path.read_text())


def _controller_port(data_dir: Path) -> int:
    """The controller port this data dir already uses, so the KRaft voter set stays valid, else a new one."""
    path = data_dir / _PROPERTIES
    if path.exists():
        port = listener_ports(parse_properties(path.read_text())).get("CONTROLLER")
        if port is not None:
            return port
    return free_port()


def _write_config(config: BrokerConfig) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / _LOGS).mkdir(exist_ok=True)
    props = config.data_dir / _PROPERTIES
    props.touch(mode=0o600)  # it may hold the keystore password
    props.write_text(render_properties(config))
    (config.data_dir / _LOG4J).write_text(render_log4j(config.data_dir / _LOGS))


def _log_flags(data_dir: Path) -> list[str]:
    return [f"-Dlog4j2.configurationFile={data_dir / _LOG4J}", f"-Dkafka.logs.dir={data_dir / _LOGS}"]


def _jars(lib_dir: Path | str) -> Path:
    lib_dir = Path(lib_dir).resolve()
    if not any(lib_dir.glob("kafka_2.13-*.jar")):
        raise BrokerError(f"no Kafka jars in {lib_dir}: run `make kafka-jars`")
    return lib_dir


def _cds_flags(data_dir: Path, lib_dir: Path) -> list[str]:
    """Class-data sharing: the JVM maps the classes a previous broker loaded and starts about twice as fast.

    With no archive yet, this run writes one when it exits; :func:`down` adopts it after a clean stop only,
    since a killed JVM leaves a partial file. Each run writes its own file, so parallel brokers do not clash.
    """
    _settle_cds_archive(data_dir, complete=False)  # left by a broker that died on its own
    quiet = "-Xlog:cds*=off"
    archive = lib_dir / _CDS_ARCHIVE
    if archive.exists():
        return [f"-XX:SharedArchiveFile={archive}", quiet]
    if not os.access(lib_dir, os.W_OK):
        return []
    pending = lib_dir / f"{_CDS_ARCHIVE}.{uuid.uuid4().hex}.tmp"
    (data_dir / _CDS_PENDING).write_text(f"{pending}\n")
    return [f"-XX:ArchiveClassesAtExit={pending}", quiet]


def _settle_cds_archive(data_dir: Path, *, complete: bool) -> None:
    marker = data_dir / _CDS_PENDING
    if not marker.exists():
        return
    pending = Path(marker.read_text().strip())
    if complete and pending.exists():
        os.replace(pending, pending.parent / _CDS_ARCHIVE)
        log.info("kafka.cds_archive_saved", path=str(pending.parent / _CDS_ARCHIVE))
    else:
        pending.unlink(missing_ok=True)
    marker.unlink()


def _format_storage(data_dir: Path, lib_dir: Path) -> None:
    cluster_id = new_cluster_id()
    command = [
        "java",
        *_log_flags(data_dir),
        "-cp",
        f"{lib_dir}/*",
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        cluster_id,
        "--config",
        str(data_dir / _PROPERTIES),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise BrokerError(
            f"formatting {data_dir / _STORAGE} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    log.info("kafka.formatted", cluster_id=cluster_id, data_dir=str(data_dir))


def _running_pid(data_dir: Path) -> int | None:
    """The pid in the pid file if that process is alive and is this data dir's broker (not a reused pid)."""
    try:
        pid = int((data_dir / _PID).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not _alive(pid):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        args = cmdline.read_bytes().split(b"\0")
        if b"kafka.Kafka" not in args or str(data_dir / _PROPERTIES).encode() not in args:
            return None
    return pid


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that exited: reap it
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((HOST, port)) == 0


def _admin(bootstrap: str, timeout: float) -> contextlib.closing[KafkaAdminClient]:
    ms = int(timeout * 1000)
    return contextlib.closing(
        KafkaAdminClient(bootstrap_servers=[bootstrap], request_timeout_ms=ms, bootstrap_timeout_ms=ms)
    )


def _wait_ready(bootstrap: str, pid: int, data_dir: Path, deadline: float) -> None:
    """Poll until a metadata request succeeds; fail early, with the log, if the JVM dies."""
    port = int(bootstrap.rsplit(":", 1)[1])
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not _alive(pid):
            (data_dir / _PID).unlink(missing_ok=True)
            raise BrokerError(f"the broker exited during start-up\n{log_tail(data_dir)}")
        if _accepts(port):
            try:
                with _admin(bootstrap, 5.0) as admin:
                    admin.list_topics()
                return
            except KafkaError as exc:
                last_error = exc
        time.sleep(0.25)
    down(data_dir, timeout=10.0)
    raise BrokerError(
        f"the broker did not serve requests on {bootstrap} in time (last error: {last_error!r}), "
        f"so it was stopped\n{log_tail(data_dir)}"
    )
