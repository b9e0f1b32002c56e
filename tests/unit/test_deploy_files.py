"""Static checks of the deployment files in deploy/ (they cannot run here: no Docker engine, no cloud).

Every YAML and JSON file parses (duplicate keys are errors); compose services name real images with
explicit tags and a command; every ``newsflow`` flag used in the compose file, the Kubernetes manifests,
the Flex Template and the docs is accepted by that sub-command of our CLI; every Beam option after the
literal ``--`` is a Beam Python pipeline option (or one the Flink job server adds, listed below); and the
Beam, Flink and Python versions named across the files agree with each other and with our pins.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import re
import shlex
import subprocess
from pathlib import Path

import apache_beam
import pytest
import yaml
from apache_beam.options import pipeline_options as po

from pipelines import options as nf_options
from pipelines.cli import build_parser
from transforms.settings import KafkaSettings, Limits

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
FLINK, K8S, DATAFLOW = DEPLOY / "flink", DEPLOY / "k8s", DEPLOY / "dataflow"
BEAM_VERSION = apache_beam.__version__
FLINK_MINOR = "1.19"  # the Flink line of every file here; must be one Beam publishes a job server for
SDK_IMAGE = f"apache/beam_python3.11_sdk:{BEAM_VERSION}"
LOCAL_IMAGES = {"newsflow-flink"}  # built from deploy/flink/Dockerfile

# Pipeline options that Beam's Flink job server adds (Java FlinkPipelineOptions, snake_case). The Python
# PortableRunner asks the job server for them (DescribePipelineOptions) and the Flink uber-jar submission
# keeps unknown options, so they are valid after `--` with a Flink runner only.
FLINK_JOB_SERVER_OPTIONS = {
    "checkpointing_interval",
    "checkpointing_mode",
    "checkpoint_timeout_millis",
    "externalized_checkpoints_enabled",
    "retain_externalized_checkpoints_on_cancellation",
    "max_bundle_size",
    "max_bundle_time_mills",
    "number_of_execution_retries",
    "execution_retry_delay",
}


# ---------------------------------------------------------------------------------------------- parsing


class _UniqueKeyLoader(yaml.SafeLoader):
    pass


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
            continue  # `<<: *anchor` merges may be overridden by explicit keys
        if key_node.value in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
            )
        seen.add(key_node.value)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_yaml_all(path: Path) -> list:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=_UniqueKeyLoader) if doc is not None]


def yaml_files() -> list[Path]:
    return sorted(p for d in (FLINK, K8S, DATAFLOW) for p in d.rglob("*") if p.suffix in (".yml", ".yaml"))


def json_files() -> list[Path]:
    return sorted(p for d in (FLINK, K8S, DATAFLOW) for p in d.rglob("*.json"))


def compose() -> dict:
    return load_yaml_all(FLINK / "docker-compose.yml")[0]


def k8s_docs() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in load_yaml_all(path)]


def k8s_kind(kind: str) -> list[dict]:
    return [d for d in k8s_docs() if d.get("kind") == kind]


def metadata() -> dict:
    return json.loads((DATAFLOW / "metadata.json").read_text())


def dataflow_main():
    spec = importlib.util.spec_from_file_location("newsflow_dataflow_main", DATAFLOW / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------- argument checks


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def check_newsflow_argv(argv: list[str]) -> tuple[str, list[str]]:
    """Parse ``newsflow [global options] COMMAND [flags] [-- beam flags]`` with our real parser.

    Returns (command, beam flags). Fails the test on an unknown command or flag, or a bad value.
    """
    cut = argv.index("--") if "--" in argv else len(argv)
    ours, beam = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(ours)
    except SystemExit:
        pytest.fail(f"newsflow rejects {ours}")
    assert not unknown, f"flags not accepted by `newsflow {args.command}`: {unknown}"
    # argparse also accepts unambiguous prefixes (--max-record): the files must spell flags in full
    spelled = {o for a in parser._actions for o in a.option_strings}
    spelled |= {o for a in subcommands()[args.command]._actions for o in a.option_strings}
    for word in ours:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in spelled, f"`newsflow {args.command}` has no flag {word}"
    return args.command, beam


def beam_option_names() -> set[str]:
    """Every option that a Beam Python PipelineOptions subclass defines (dest names)."""
    names: set[str] = set()
    todo = [po.PipelineOptions]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        parser = argparse.ArgumentParser(add_help=False)
        try:
            cls._add_argparse_args(parser)
        except Exception:  # noqa: BLE001 - an option class of an optional extra that cannot build
            continue
        for action in parser._actions:
            names.add(action.dest)
            names.update(o.lstrip("-") for o in action.option_strings)
    return names


BEAM_OPTIONS = beam_option_names()


def check_beam_flags(flags: list[str]) -> dict:
    """Every ``--name[=value]`` is a Beam option (or a Flink job server option on a Flink runner)."""
    assert flags, "no Beam options after `--`"
    runner = next((f.split("=", 1)[1] for f in flags if f.startswith("--runner=")), "")
    for flag in flags:
        assert flag.startswith("--"), f"Beam arguments are --name[=value] flags: {flag!r}"
        name = flag[2:].split("=", 1)[0]
        if name in BEAM_OPTIONS:
            continue
        if runner in ("FlinkRunner", "PortableRunner") and name in FLINK_JOB_SERVER_OPTIONS:
            continue
        pytest.fail(f"--{name} is not a Beam pipeline option (runner {runner or 'default'})")
    options = po.PipelineOptions(flags)
    parsed = options.get_all_options(retain_unknown_options=False)
    if runner in ("FlinkRunner", "PortableRunner"):
        portable = options.view_as(po.PortableOptions)
        assert portable.environment_type in ("EXTERNAL", "DOCKER", "PROCESS", "LOOPBACK")
        if portable.environment_type == "EXTERNAL":
            assert re.fullmatch(r"[\w.-]+:\d+", portable.environment_config or "")
    if runner == "PortableRunner":
        assert parsed["job_endpoint"], "PortableRunner needs --job_endpoint"
    if runner == "FlinkRunner":
        flink = options.view_as(po.FlinkRunnerOptions)
        assert flink.flink_version == FLINK_MINOR, "the job server jar must match the cluster's Flink"
        assert flink.flink_version in po.FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    return parsed


def newsflow_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `newsflow`) for every newsflow invocation in the deployment files."""
    found = []
    for name, service in compose()["services"].items():
        entry = service.get("entrypoint")
        if entry in (["newsflow"], "newsflow"):
            found.append((f"compose:{name}", [str(a) for a in service["command"]]))
    for doc in k8s_kind("Job") + k8s_kind("Deployment"):
        for c in doc["spec"]["template"]["spec"]["containers"]:
            if c.get("command") == ["newsflow"]:
                found.append((f"k8s:{doc['metadata']['name']}/{c['name']}", [str(a) for a in c["args"]]))
    return found


def doc_commands() -> list[tuple[str, list[str]]]:
    """``newsflow ...`` command lines in DEPLOY.md's shell blocks (continuation lines joined)."""
    text = (DEPLOY / "DEPLOY.md").read_text()
    found = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            words = shlex.split(line) if line else []
            if words and words[0] == "newsflow":
                found.append((f"DEPLOY.md: {line[:60]}", words[1:]))
    return found


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_parses_without_duplicate_keys(path):
    assert load_yaml_all(path), f"{path} is empty"


@pytest.mark.parametrize("path", json_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_json_file_parses(path):
    json.loads(path.read_text())


def test_the_expected_files_are_there():
    for path in [
        FLINK / "docker-compose.yml",
        FLINK / "Dockerfile",
        K8S / "flink-deployment.yaml",
        K8S / "configmap.yaml",
        K8S / "secret.example.yaml",
        K8S / "submit-job.yaml",
        K8S / "kustomization.yaml",
        DATAFLOW / "metadata.json",
        DATAFLOW / "requirements.txt",
        DATAFLOW / "Dockerfile",
        DATAFLOW / "launch.sh",
        DATAFLOW / "main.py",
        DEPLOY / "DEPLOY.md",
    ]:
        assert path.is_file(), path
    for entry in load_yaml_all(K8S / "kustomization.yaml")[0]["resources"]:
        assert (K8S / entry).is_file(), entry


IMAGE = re.compile(r"^(?P<repo>[a-z0-9][a-z0-9._/-]*):(?P<tag>[A-Za-z0-9][A-Za-z0-9._-]*)$")
KNOWN_IMAGES = {
    # official image repository -> tag pattern (explicit versions, never "latest")
    "apache/kafka": r"4\.\d+\.\d+",
    "flink": rf"{re.escape(FLINK_MINOR)}\.\d+-scala_2\.12-java(11|17)",
    f"apache/beam_flink{FLINK_MINOR}_job_server": re.escape(BEAM_VERSION),
    "apache/beam_python3.11_sdk": re.escape(BEAM_VERSION),
}


def check_image(image: str) -> None:
    m = IMAGE.match(image)
    assert m, f"{image!r}: name:tag with an explicit tag"
    repo, tag = m["repo"], m["tag"]
    assert tag != "latest", image
    if repo in LOCAL_IMAGES:
        return
    assert repo in KNOWN_IMAGES, f"{image}: not one of the images this deployment is built from"
    assert re.fullmatch(KNOWN_IMAGES[repo], tag), f"{image}: tag does not match {KNOWN_IMAGES[repo]}"


def test_compose_services_use_real_images_with_explicit_tags_and_a_command():
    services = compose()["services"]
    assert {"kafka", "jobmanager", "taskmanager", "jobserver", "worker-pool", "newsflow"} <= set(services)
    for name, service in services.items():
        check_image(service["image"])
        assert service.get("command"), f"{name} has no command"
        if service["image"].split(":")[0] in LOCAL_IMAGES:
            build = service.get("build")
            if build:
                assert (FLINK / build["context"] / build["dockerfile"]).resolve() == FLINK / "Dockerfile"
        for dep in service.get("depends_on", []):
            assert dep in services, f"{name} depends on unknown service {dep}"
    assert services["worker-pool"]["command"] == ["--worker_pool"]
    assert services["worker-pool"]["network_mode"] == "service:taskmanager"


def test_compose_wiring_is_consistent():
    services = compose()["services"]
    jobserver = dict(a.lstrip("-").split("=", 1) for a in services["jobserver"]["command"])
    assert jobserver["flink-master"].split(":")[0] in services
    command, beam = check_newsflow_argv([str(a) for a in services["newsflow"]["command"]])
    assert command == "stream"
    parsed = check_beam_flags(beam)
    host, port = parsed["job_endpoint"].split(":")
    assert host == "jobserver" and port == jobserver["job-port"]
    assert parsed["artifact_endpoint"] == f"jobserver:{jobserver['artifact-port']}"
    kafka = services["kafka"]["environment"]
    env = services["newsflow"]["environment"]
    assert env["NEWSFLOW_BOOTSTRAP_SERVERS"] in kafka["KAFKA_ADVERTISED_LISTENERS"]
    conf = services["jobmanager"]["environment"]["FLINK_PROPERTIES"]
    assert "state.backend.type: rocksdb" in conf and "state.backend.incremental: true" in conf
    # parallelism <= partitions of the input topic
    partitions = int(re.search(r"--partitions (\d+)", services["topics"]["command"][0])[1])
    assert int(parsed["parallelism"]) <= partitions


NEWSFLOW_FIELDS = {
    f.name
    for cls in (
        KafkaSettings,
        Limits,
        nf_options.Topics,
        nf_options.Processing,
        nf_options.Consumption,
    )
    for f in dataclasses.fields(cls)
}
SECRET_FIELDS = {
    f.name for cls in (KafkaSettings,) for f in dataclasses.fields(cls) if f.metadata.get("secret")
}


def check_env_names(env: dict | list, where: str) -> None:
    names = env.keys() if isinstance(env, dict) else [e["name"] for e in env]
    for name in names:
        if name.startswith(nf_options.ENV_PREFIX):
            field = name.removeprefix(nf_options.ENV_PREFIX).lower()
            assert field in NEWSFLOW_FIELDS, f"{where}: {name} is not a newsflow setting"


def test_environment_variables_name_real_settings_and_secrets_come_from_secrets():
    check_env_names(compose()["services"]["newsflow"]["environment"], "compose")
    (config,) = k8s_kind("ConfigMap")
    check_env_names(config["data"], "ConfigMap")
    assert not {n.removeprefix("NEWSFLOW_").lower() for n in config["data"]} & SECRET_FIELDS
    (job,) = k8s_kind("Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    check_env_names(container["env"], "submit Job")
    password = next(e for e in container["env"] if e["name"] == "NEWSFLOW_SASL_PASSWORD")
    ref = password["valueFrom"]["secretKeyRef"]
    secrets = {s["metadata"]["name"]: s for s in k8s_kind("Secret")}
    assert ref["key"] in secrets[ref["name"]]["stringData"]
    assert {"configMapRef": {"name": config["metadata"]["name"]}} in container["envFrom"]
    # the CA bundle named by the config is mounted where the workers and the submitter look for it
    ca_dir = str(Path(config["data"]["NEWSFLOW_SSL_CAFILE"]).parent)
    assert any(m["mountPath"] == ca_dir for m in container["volumeMounts"])


@pytest.mark.parametrize("where,argv", newsflow_commands() + doc_commands(), ids=lambda x: str(x)[:70])
def test_newsflow_flags_exist_in_the_cli(where, argv):
    command, beam = check_newsflow_argv(argv)
    assert command in subcommands(), where
    if beam:
        check_beam_flags(beam)


def test_documented_commands_include_stream_and_backfill():
    commands = {check_newsflow_argv(argv)[0] for _, argv in doc_commands()}
    assert {"stream", "backfill"} <= commands


def test_flink_deployment_uses_rocksdb_incremental_checkpoints_and_a_worker_pool_sidecar():
    (dep,) = k8s_kind("FlinkDeployment")
    assert dep["apiVersion"] == "flink.apache.org/v1beta1"
    spec = dep["spec"]
    assert spec["flinkVersion"] == "v" + FLINK_MINOR.replace(".", "_")
    check_image(spec["image"])
    conf = spec["flinkConfiguration"]
    assert all(isinstance(v, str) for v in conf.values()), "the CRD's flinkConfiguration is map[string]string"
    assert conf["state.backend.type"] == "rocksdb"
    assert str(conf["state.backend.incremental"]).lower() == "true"
    assert conf["execution.checkpointing.interval"]
    assert conf["state.checkpoints.dir"]
    sidecars = spec["taskManager"]["podTemplate"]["spec"]["containers"]
    pool = next(c for c in sidecars if c["name"] == "beam-worker-pool")
    check_image(pool["image"])
    assert pool["args"] == ["--worker_pool"]
    assert {"containerPort": 50000, "name": "beam-pool"} in pool["ports"]


def test_submit_job_targets_the_flink_deployment():
    (dep,) = k8s_kind("FlinkDeployment")
    (job,) = k8s_kind("Job")
    assert job["spec"]["backoffLimit"] == 0, "a retried submission would start a second copy of the job"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    command, beam = check_newsflow_argv([str(a) for a in container["args"]])
    assert command == "stream"
    parsed = check_beam_flags(beam)
    # the operator exposes the REST API as the service <name>-rest
    assert parsed["flink_master"] == f"{dep['metadata']['name']}-rest:8081"
    assert parsed["environment_config"] == "localhost:50000"


def test_flex_template_parameters_are_stream_flags():
    main = dataflow_main()
    flags = main.stream_flags()
    meta = metadata()
    assert meta["streaming"] is True
    names = [p["name"] for p in meta["parameters"]]
    assert len(names) == len(set(names))
    for param in meta["parameters"]:
        assert {"name", "label", "helpText"} <= set(param)
        if param["name"] != main.SECRET_PARAMETER:
            assert param["name"] in flags, f"--{param['name'].replace('_', '-')} is not a stream flag"
            assert param["name"] not in SECRET_FIELDS, "secrets are never template parameters"
        for regex in param.get("regexes", []):
            re.compile(regex)


def test_launch_script_parameters_are_template_parameters_or_beam_options():
    script = (DATAFLOW / "launch.sh").read_text()
    subprocess.run(["bash", "-n", str(DATAFLOW / "launch.sh")], check=True)
    assert "gcloud dataflow flex-template build" in script and "gcloud dataflow flex-template run" in script
    names = {p["name"] for p in metadata()["parameters"]}
    used = re.findall(r'--parameters "([a-z_]+)=', script)
    assert used
    for name in used:
        assert name in names or name in BEAM_OPTIONS, name
    assert "--metadata-file" in script and "metadata.json" in script


def test_flex_template_entry_point_maps_parameters_to_stream_and_beam():
    main = dataflow_main()
    argv = [
        "--bootstrap_servers=b:9093",
        "--input_topic=raw",
        "--entities=false",
        "--sasl_password_secret=projects/p/secrets/s/versions/latest",
        "--project=p",
        "--region",
        "europe-west1",
        "--sdk_container_image=img:1",
        "--streaming",
    ]
    ours, beam, secret = main.split_arguments(argv, main.stream_flags())
    assert ours == ["--bootstrap-servers=b:9093", "--input-topic=raw", "--entities=false"]
    assert beam == ["--project=p", "--region=europe-west1", "--sdk_container_image=img:1", "--streaming"]
    assert secret == "projects/p/secrets/s/versions/latest"
    command, _ = check_newsflow_argv(["stream", *ours])
    assert command == "stream"
    check_beam_flags(["--runner=DataflowRunner", *beam])


@pytest.mark.parametrize("dockerfile", [FLINK / "Dockerfile", DATAFLOW / "Dockerfile"], ids=str)
def test_dockerfiles_build_on_the_beam_sdk_image_of_our_version(dockerfile):
    text = dockerfile.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.M)
    assert SDK_IMAGE in froms, f"{dockerfile}: FROM {SDK_IMAGE}"
    for src in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", text, flags=re.M):
        for path in src.split():
            assert (ROOT / path).exists(), f"{dockerfile}: COPY {path} does not exist"
    assert "requirements-model.txt" in text and "--require-hashes" in text


def test_dataflow_requirements_keep_the_beam_pin():
    lines = [ln.strip() for ln in (DATAFLOW / "requirements.txt").read_text().splitlines()]
    pins = [ln for ln in lines if ln.startswith("apache-beam")]
    assert pins == [f"apache-beam[gcp]=={BEAM_VERSION}"]


def test_published_flink_version_matches_every_file():
    assert FLINK_MINOR in po.FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    text = (FLINK / "docker-compose.yml").read_text() + (K8S / "flink-deployment.yaml").read_text()
    versions = set(re.findall(r"(?<![\w-])flink:(\d+\.\d+)\.\d+", text))
    versions |= set(re.findall(r"beam_flink(\d+\.\d+)_job_server", text))
    versions |= set(re.findall(r"flink-s3-fs-presto-(\d+\.\d+)\.\d+", text))
    assert versions == {FLINK_MINOR}
