"""deploy/k8s: every overlay renders, every object is valid, the manifests agree with the code."""

import argparse
import importlib
import json
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from contracts.topics import SPECS, TopicSpec
from runtime.http import operations_app
from tools.deploy import __main__ as generator
from tools.deploy.access import ACCESS
from tools.deploy.components import BY_NAME, COMPONENTS, GATEWAY_DRAIN_S
from tools.deploy.toolbox import TOOLBOX

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod", "prod-tracing")
KUBERNETES_VERSION = "1.33"  # the oldest we support: Strimzi 1.2 needs >= 1.30, preStop sleep
CUSTOM_GROUPS = ("kafka.strimzi.io", "monitoring.coreos.com")
Manifest = dict[str, Any]


@cache
def kustomize() -> str:
    """The pinned kustomize (built once by deploy/k8s/ensure-kustomize.sh)."""
    built = subprocess.run(
        [str(K8S / "ensure-kustomize.sh")], check=True, capture_output=True, text=True
    )
    return built.stdout.strip()


@cache
def rendered(overlay: str) -> tuple[Manifest, ...]:
    out = subprocess.run(
        [kustomize(), "build", str(K8S / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    )
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def objects(kind: str | None = None) -> Iterator[tuple[str, Manifest]]:
    for overlay in OVERLAYS:
        for manifest in rendered(overlay):
            if kind is None or manifest["kind"] == kind:
                yield overlay, manifest


def containers(*, toolbox: bool = False) -> Iterator[tuple[str, Manifest, Manifest]]:
    """(overlay, workload, its container) of every component (and the toolbox if asked)."""
    for overlay, workload in objects():
        if workload["kind"] not in ("Deployment", "StatefulSet"):
            continue
        if workload["metadata"]["name"] == TOOLBOX and not toolbox:
            continue
        yield overlay, workload, workload["spec"]["template"]["spec"]["containers"][0]


def test_the_base_is_what_the_generator_writes() -> None:
    for name, text in generator.files().items():
        assert (K8S / "base" / name).read_text() == text, f"run python -m tools.deploy ({name})"
    assert {p.name for p in (K8S / "base").glob("*.yaml")} == set(generator.files())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_every_component_in_its_namespace(overlay: str) -> None:
    manifests = rendered(overlay)
    workloads = {
        m["metadata"]["name"] for m in manifests if m["kind"] in ("Deployment", "StatefulSet")
    }
    assert workloads == {c.name for c in COMPONENTS} | {TOOLBOX}
    namespaces = {m["metadata"].get("namespace") for m in manifests if m["kind"] != "Namespace"}
    assert namespaces == {"chargebus-dev" if overlay == "dev" else "chargebus"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_builtin_object_is_valid_for_the_pinned_kubernetes(overlay: str) -> None:
    checked = 0
    for manifest in rendered(overlay):
        if manifest["apiVersion"].split("/")[0] in CUSTOM_GROUPS:
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked > 40


def _closed(schema: Any) -> Any:
    """The CRD schema with unknown fields refused, as the API server's strict field validation
    does (a CRD leaves objects open unless it says otherwise)."""
    if isinstance(schema, dict):
        closed = {k: _closed(v) for k, v in schema.items()}
        if (
            "properties" in closed
            and "additionalProperties" not in closed
            and not closed.get("x-kubernetes-preserve-unknown-fields")
        ):
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    group, version = api_version.split("/")
    path = K8S / "schemas" / f"{kind.lower()}-{group.split('.')[0]}-{version}.json"
    schema = _closed(json.loads(path.read_text()))
    schema["properties"]["metadata"] = {"type": "object"}  # the API server checks it itself
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_custom_resource_is_valid_for_its_crd(overlay: str) -> None:
    kinds = set()
    for manifest in rendered(overlay):
        if manifest["apiVersion"].split("/")[0] not in CUSTOM_GROUPS:
            continue
        validator = crd_validator(manifest["apiVersion"], manifest["kind"])
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(manifest)
        ]
        assert not errors, f"{manifest['kind']} {manifest['metadata']['name']}: {errors}"
        kinds.add(manifest["kind"])
    assert kinds >= {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "ServiceMonitor"}


def test_the_crd_check_refuses_what_strimzi_refuses() -> None:
    """The schema check bites: a typo'd field, a wrong enum and a zero partition count."""
    validator = crd_validator("kafka.strimzi.io/v1", "KafkaTopic")
    bad = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "spec": {"partitions": 0, "replica": 3},
    }
    messages = " ".join(e.message for e in validator.iter_errors(bad))
    assert "'replica' was unexpected" in messages
    assert "0 is less than the minimum of 1" in messages
    user = crd_validator("kafka.strimzi.io/v1", "KafkaUser")
    acl = {
        "resource": {"type": "topic", "name": "x", "patternType": "prefixed"},
        "operations": ["Read"],
    }
    spec = {
        "authentication": {"type": "scram-sha-512"},
        "authorization": {"type": "simple", "acls": [acl]},
    }
    assert any("prefixed" in e.message for e in user.iter_errors({"spec": spec}))


def _topic_manifests(overlay: str) -> dict[str, Manifest]:
    return {m["spec"]["topicName"]: m for m in rendered(overlay) if m["kind"] == "KafkaTopic"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_kafka_topic_per_contract_topic_with_its_partitions_and_policy(overlay: str) -> None:
    topics = _topic_manifests(overlay)
    assert set(topics) == {str(t) for t in SPECS}
    for topic, spec in SPECS.items():
        manifest = topics[str(topic)]
        assert manifest["metadata"]["name"] == str(topic)
        assert manifest["metadata"]["labels"]["strimzi.io/cluster"] == "chargebus"
        assert manifest["spec"]["partitions"] == spec.partitions
        config = manifest["spec"]["config"]
        for key, value in TopicSpec.configs(spec).items():
            assert str(config[key]) == value, f"{topic} {key}"
        assert config["min.insync.replicas"] <= manifest["spec"]["replicas"]


def test_only_the_tracing_overlay_exports_spans() -> None:
    for overlay, _, container in containers():
        exports = any(e["name"].startswith("OTEL_") for e in container["env"])
        assert exports == (overlay == "prod-tracing")


def test_dev_runs_one_kafka_node_and_prod_three_of_each_role() -> None:
    def pools(overlay: str) -> dict[str, Manifest]:
        return {
            m["metadata"]["name"]: m["spec"]
            for m in rendered(overlay)
            if m["kind"] == "KafkaNodePool"
        }

    dev, prod = pools("dev"), pools("prod")
    assert dev["dual"]["replicas"] == 1
    assert dev["dual"]["storage"] == {"type": "ephemeral"}
    assert {n: (p["replicas"], p["roles"]) for n, p in prod.items()} == {
        "controllers": (3, ["controller"]),
        "brokers": (3, ["broker"]),
    }
    for overlay, replicas in (("dev", 1), ("prod", 3)):
        assert {t["spec"]["replicas"] for t in _topic_manifests(overlay).values()} == {replicas}


def test_each_component_has_a_kafka_user_with_exactly_its_access() -> None:
    users = {m["metadata"]["name"]: m["spec"] for _, m in objects("KafkaUser")}
    assert set(users) == {c.kafka_user for c in COMPONENTS} | {"chargebus-admin"}
    assert set(ACCESS) == {c.name for c in COMPONENTS}
    known = {str(t) for t in SPECS}
    for name, access in ACCESS.items():
        acls = users[BY_NAME[name].kafka_user]["authorization"]["acls"]
        reads = {
            a["resource"]["name"]
            for a in acls
            if "Read" in a["operations"] and a["resource"]["type"] == "topic"
        }
        writes = {a["resource"]["name"] for a in acls if "Write" in a["operations"]}
        assert reads == access.reads <= known
        assert writes == access.writes <= known
        assert all("Describe" in a["operations"] for a in acls)


def test_workers_commit_in_the_groups_their_users_may_read() -> None:
    """The --group defaults (and the gateway's chargebus-gateway-<k>) match the group ACLs."""
    for component in COMPONENTS:
        groups = ACCESS[component.name].groups
        if component.role in ("worker", "signer"):
            default = parser_of(component.name)().get_default("group")
            assert any(
                default == name if pattern == "literal" else default.startswith(name)
                for name, pattern in groups
            ), component.name


# --- the manifests agree with the code -----------------------------------------------------


def _scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(project["project"]["scripts"])


def parser_of(name: str) -> Callable[[], argparse.ArgumentParser]:
    """The argparse parser the component's console script parses its arguments with."""
    module, _ = _scripts()[BY_NAME[name].script].split(":")
    main = importlib.import_module(module)
    if hasattr(main, "command_line"):  # the workers
        return main.command_line  # type: ignore[no-any-return]
    if hasattr(main, "parser"):  # certificates
        return main.parser  # type: ignore[no-any-return]
    settings = importlib.import_module(module.rsplit(".", 1)[0] + ".settings")
    return lambda: settings.parser({})


def test_every_container_runs_a_console_script_with_arguments_it_accepts() -> None:
    scripts = _scripts()
    for overlay, workload, container in containers():
        script, *args = container["args"]
        component = BY_NAME[workload["metadata"]["name"]]
        assert script == component.script
        module, function = scripts[script].split(":")
        assert callable(getattr(importlib.import_module(module), function))
        try:
            parser_of(component.name)().parse_args(args)
        except SystemExit:
            pytest.fail(f"{overlay}/{component.name}: {script} refuses {args}")


def test_every_process_script_is_deployed() -> None:
    deployed = {c.script for c in COMPONENTS}
    tools = {"chargebus", "chargebus-runtime"}  # people run these, not pods
    assert set(_scripts()) - tools == deployed


def test_container_ports_are_the_ports_the_processes_listen_on() -> None:
    for overlay, workload, container in containers():
        component = BY_NAME[workload["metadata"]["name"]]
        args = parser_of(component.name)().parse_args(container["args"][1:])
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        if component.role == "api":
            assert ports == {"http": args.port}, overlay
        elif component.role == "gateway":
            assert ports == {"ws": args.port, "metrics": args.http_port}, overlay
        else:
            assert ports == {"metrics": args.http_port}, overlay


def test_probes_ask_paths_every_process_serves_on_a_port_it_opens() -> None:
    served = {
        r.resource.canonical
        for r in operations_app(lambda: (True, "")).router.routes()
        if r.resource
    }
    for _, _, container in containers():
        names = {p["name"] for p in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] in served
            assert get["port"] in names
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"  # never Kafka


def _read_in_code(name: str) -> bool:
    pattern = re.compile(rf"[\"'(]{re.escape(name)}[\"')]")
    for package in ("contracts", "ocppj", "runtime", "gateway", "services", "tools"):
        for path in (ROOT / package).rglob("*.py"):
            if pattern.search(path.read_text()):
                return True
    return False


def test_every_environment_variable_a_manifest_sets_is_read_by_the_code() -> None:
    names = {
        env["name"]
        for _, _, container in containers(toolbox=True)
        for env in container.get("env", [])
    }
    assert {"KAFKA_SASL_PASSWORD_FILE", "OTEL_EXPORTER_OTLP_ENDPOINT", "CHARGEBUS_API"} <= names
    unread = sorted(name for name in names if not _read_in_code(name))
    assert not unread


def test_every_secret_a_pod_mounts_is_made_by_strimzi_or_named_in_the_docs() -> None:
    users = {m["metadata"]["name"] for _, m in objects("KafkaUser")}
    documented = (ROOT / "docs" / "deploy.md").read_text()
    for _, workload, _ in containers():
        for volume in workload["spec"]["template"]["spec"]["volumes"]:
            secret = volume.get("secret", {}).get("secretName")
            if secret is None or secret in users or secret == "chargebus-cluster-ca-cert":
                continue
            assert f"`{secret}`" in documented, secret


def test_pods_meet_the_restricted_pod_security_standard() -> None:
    for _, workload, container in containers():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert "cpu" not in container["resources"]["limits"]  # a throttled loop misses pings
        assert (
            container["resources"]["limits"]["memory"]
            == container["resources"]["requests"]["memory"]
        )


def test_the_gateway_drains_within_its_grace_period_and_owns_its_inbox_partition() -> None:
    for _, gateway, container in containers():
        if gateway["kind"] != "StatefulSet":
            continue
        args = parser_of("gateway")().parse_args(container["args"][1:])
        assert args.drain_timeout == GATEWAY_DRAIN_S
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        grace = gateway["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace >= pre_stop + args.drain_timeout + 15
        instance = next(e for e in container["env"] if e["name"] == "GATEWAY_INSTANCE")
        assert instance["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        assert gateway["spec"]["serviceName"] == "gateway-headless"


def test_no_autoscaler_goes_past_the_partitions_its_group_shares() -> None:
    inbox = SPECS[next(t for t in SPECS if t.value == "ocpp.gateway-inbox.v1")].partitions
    for _, hpa in objects("HorizontalPodAutoscaler"):
        component = BY_NAME[hpa["metadata"]["name"]]
        ceiling = hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["minReplicas"] <= ceiling == component.max_replicas
        if component.role == "gateway":
            assert ceiling <= inbox
        for group, _ in ACCESS[component.name].groups:
            if component.role == "worker":
                inputs = [
                    SPECS[t].partitions for t in SPECS if str(t) in ACCESS[component.name].reads
                ]
                assert ceiling <= max(inputs), group


def test_every_workload_has_a_budget_a_monitor_a_network_policy_and_an_autoscaler() -> None:
    names = {c.name for c in COMPONENTS}
    for overlay in OVERLAYS:
        for kind in ("PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"):
            found = {m["metadata"]["name"] for m in rendered(overlay) if m["kind"] == kind}
            assert names <= found, (overlay, kind, names - found)
        scaled = {
            m["metadata"]["name"]
            for m in rendered(overlay)
            if m["kind"] == "HorizontalPodAutoscaler"
        }
        assert scaled == names - {"certificates"}  # one signer: every replica would renew all


def test_service_monitors_find_a_service_port_that_serves_metrics() -> None:
    for overlay in OVERLAYS:
        services = [m for m in rendered(overlay) if m["kind"] == "Service"]
        for monitor in (m for m in rendered(overlay) if m["kind"] == "ServiceMonitor"):
            selector = monitor["spec"]["selector"]["matchLabels"]
            port = monitor["spec"]["endpoints"][0]["port"]
            matched = [s for s in services if selector.items() <= s["metadata"]["labels"].items()]
            assert matched, monitor["metadata"]["name"]
            for service in matched:
                assert port in {p["name"] for p in service["spec"]["ports"]}


def test_the_dockerfile_lints_clean_and_copies_every_package() -> None:
    dockerfile = K8S / "Dockerfile"
    lint = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "hadolint"), "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    text = dockerfile.read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    for package in packages:
        assert f"COPY {package}/ {package}/" in text
        assert f"!{package}/" in (ROOT / ".dockerignore").read_text()
    assert "USER 10001:10001" in text
    assert 'ENTRYPOINT ["dumb-init", "--"]' in text


def test_no_autoscaled_workload_sets_its_replicas() -> None:
    """spec.replicas belongs to the HPA: a manifest that set it would scale back at each apply."""
    for overlay in OVERLAYS:
        targets = {
            m["spec"]["scaleTargetRef"]["name"]
            for m in rendered(overlay)
            if m["kind"] == "HorizontalPodAutoscaler"
        }
        for _, workload, _ in containers(toolbox=True):
            name = workload["metadata"]["name"]
            assert ("replicas" in workload["spec"]) == (name not in targets), (overlay, name)


def test_every_process_listens_where_the_kubelet_and_prometheus_reach_it() -> None:
    for overlay, workload, container in containers():
        component = BY_NAME[workload["metadata"]["name"]]
        args = parser_of(component.name)().parse_args(container["args"][1:])
        for host in ("host", "http_host"):
            assert getattr(args, host, "0.0.0.0") == "0.0.0.0", (overlay, component.name, host)


def test_the_toolbox_sleeps_at_zero_replicas_as_the_kafka_admin_and_an_api_client() -> None:
    users = {m["metadata"]["name"] for _, m in objects("KafkaUser")}
    toolboxes = [
        (workload, container)
        for _, workload, container in containers(toolbox=True)
        if workload["metadata"]["name"] == TOOLBOX
    ]
    assert len(toolboxes) == len(OVERLAYS)
    for workload, container in toolboxes:
        assert workload["spec"]["replicas"] == 0
        assert container["args"] == ["sleep", "infinity"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["KAFKA_SASL_USERNAME"] in users
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert labels["chargebus.io/api-client"] == "true"


def test_consumer_lag_is_scraped_from_strimzis_kafka_exporter() -> None:
    for overlay in OVERLAYS:
        monitors = [m for m in rendered(overlay) if m["kind"] == "PodMonitor"]
        assert [m["spec"]["selector"]["matchLabels"] for m in monitors] == [
            {"strimzi.io/name": "chargebus-kafka-exporter"}
        ]
        kafka = next(m for m in rendered(overlay) if m["kind"] == "Kafka")
        assert "kafkaExporter" in kafka["spec"]
