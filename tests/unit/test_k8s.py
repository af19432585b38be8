"""deploy/k8s/: no cluster runs here, so every manifest is validated against the Kubernetes API schemas
(kubernetes-validate, strict: unknown fields are errors), and the parts that must agree with the code are
checked against it: every setting in the ConfigMap or the Secret, the commands and probes, the drain."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from hub.cli import _parser
from hub.config import ConfigError, Settings, load_settings
from hub.server import hypercorn_config

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
#: The oldest Kubernetes we support (the preStop `sleep` action is on by default from 1.30) and a
#: current one. kubernetes-validate must ship both (pyproject.toml pins a release that does).
VERSIONS = ("1.31", "1.35")
COMPONENTS = ("slack", "discord")
Doc = dict[str, Any]


def _kustomization(directory: Path) -> Doc:
    return dict(yaml.safe_load((directory / "kustomization.yaml").read_text()))


def _documents(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _resources(directory: Path) -> list[Doc]:
    """The objects a kustomization (or component) lists, in order."""
    return [doc for name in _kustomization(directory)["resources"] for doc in _documents(directory / name)]


def _json_patch_add(doc: Doc, operations: list[Doc]) -> Doc:
    """Apply RFC 6902 `add` operations (all our components use) to a copy of `doc`."""
    result = copy.deepcopy(doc)
    for operation in operations:
        assert operation["op"] == "add", f"teach this test the {operation['op']!r} operation"
        *parents, last = operation["path"].strip("/").split("/")
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target.insert(len(target) if last == "-" else int(last), operation["value"])
        else:
            target[last] = operation["value"]
    return result


def _rendered(components: tuple[str, ...] = COMPONENTS) -> list[Doc]:
    """What `kubectl kustomize` makes of deploy/k8s with `components` enabled (images aside)."""
    docs = _resources(K8S)
    for name in components:
        directory = K8S / name
        docs += _resources(directory)
        for patch in _kustomization(directory).get("patches", []):
            target = patch["target"]
            operations = yaml.safe_load((directory / patch["path"]).read_text())
            docs = [
                _json_patch_add(doc, operations)
                if doc["kind"] == target["kind"] and doc["metadata"]["name"] == target["name"]
                else doc
                for doc in docs
            ]
    return docs


def _one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _containers(docs: list[Doc]) -> list[tuple[str, Doc]]:
    pods = [
        (doc["metadata"]["name"], doc["spec"]["template"]["spec"])
        for doc in docs
        if doc["kind"] in ("Deployment", "Job")
    ]
    return [(name, container) for name, pod in pods for container in pod["containers"]]


def _configmap() -> dict[str, str]:
    return dict(_one(_rendered(), "ConfigMap", "switchboard-config")["data"])


def _secret() -> dict[str, str]:
    return dict(_one(_rendered(), "Secret", "switchboard-secrets")["stringData"])


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_kubernetes(version: str) -> None:
    docs = _rendered()
    kinds = {doc["kind"] for doc in docs}
    assert {"ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget"} <= kinds
    assert {"HorizontalPodAutoscaler", "Job", "Ingress"} <= kinds
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            validated = kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{name} is not valid Kubernetes {version}: {path}: {exc.message}")
        assert validated == version, f"{name}: validated against {validated}, not {version}"


def test_strict_validation_rejects_unknown_fields() -> None:
    """The check above would be worth little if a misspelt field passed."""
    hub = copy.deepcopy(_one(_rendered(), "Deployment", "switchboard-hub"))
    hub["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hub, VERSIONS[0], strict=True)


def test_every_file_is_used_and_the_tree_is_namespace_agnostic() -> None:
    """Every YAML file under deploy/k8s is a kustomization, a resource or a patch one of them names, and
    nothing pins a namespace (`kubectl apply -k deploy/k8s -n NAME` decides)."""
    used = {K8S / "kustomization.yaml"} | {K8S / name for name in _kustomization(K8S)["resources"]}
    for name in COMPONENTS:
        directory = K8S / name
        component = _kustomization(directory)
        assert component["kind"] == "Component"
        used |= {directory / "kustomization.yaml"} | {directory / item for item in component["resources"]}
        used |= {directory / patch["path"] for patch in component.get("patches", [])}
        # Offered, commented out, in the main kustomization: the bots need tokens to start.
        assert re.search(rf"^#\s+- {name}\b", (K8S / "kustomization.yaml").read_text(), re.MULTILINE)
    assert set(K8S.rglob("*.yaml")) == used
    assert "namespace" not in _kustomization(K8S)
    for doc in _rendered():
        assert "namespace" not in doc["metadata"], doc["metadata"]["name"]


def test_every_setting_is_in_the_configmap_or_the_secret() -> None:
    """So the manifests cannot fall behind hub/config.py: a new setting fails here until it is added."""
    config, secret = _configmap(), _secret()
    settings = {name.upper() for name in Settings.model_fields}
    assert set(config) & set(secret) == set()
    assert settings - set(config) - set(secret) == set()
    assert set(config) - settings == set(), "ConfigMap keys that are no setting (misspelt?)"
    assert set(secret) - settings == set(), "Secret keys that are no setting (misspelt?)"
    secrets = {name.upper() for name, field in Settings.model_fields.items() if SecretStr in _types(field)}
    assert secrets | {"DATABASE_URL", "REDIS_URL"} == set(secret)  # URLs carry passwords


def _types(field: Any) -> set[Any]:
    annotation = field.annotation
    return set(getattr(annotation, "__args__", ())) | {annotation}


def test_configmap_and_secret_make_valid_settings_and_the_placeholder_key_is_refused() -> None:
    env = _configmap() | _secret()
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(env)  # nobody runs production on the placeholder key
    settings = load_settings(env | {"SECRET_KEY": "k" * 48})
    assert settings.switchboard_env == "production"
    assert settings.webhook_in_process is False  # the worker Deployment delivers webhooks
    assert settings.slack_bot_token is None
    assert settings.redis_url is not None


def test_every_command_and_probe_runs_a_real_subcommand() -> None:
    """Containers and exec probes run `switchboard …` with options the CLI accepts; nothing else (the
    slim image has no pgrep, curl or wget)."""
    commands = []
    for name, container in _containers(_rendered()):
        commands.append((name, container["command"]))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if "exec" in container.get(probe, {}):
                commands.append((f"{name} {probe}", container[probe]["exec"]["command"]))
    for name, command in commands:
        assert command[0] == "switchboard", f"{name} runs {command[0]}, which the image may not have"
        _parser().parse_args(command[1:])  # SystemExit on an unknown subcommand or option
    containers = dict(_containers(_rendered()))
    kinds = {name: container["command"][1] for name, container in containers.items()}
    assert kinds == {
        "switchboard-hub": "serve",
        "switchboard-worker": "worker",
        "switchboard-slack": "slack",
        "switchboard-discord": "discord",
        "switchboard-migrate": "migrate",
    }
    for name in ("switchboard-worker", "switchboard-slack", "switchboard-discord"):
        probe = containers[name]["livenessProbe"]["exec"]["command"]
        assert probe == ["switchboard", "healthcheck", "--process", kinds[name]]


def test_each_process_gets_the_settings_it_needs_and_no_chat_token_it_does_not() -> None:
    secret = _secret()
    chat = {key for key in secret if key.startswith(("SLACK_", "DISCORD_"))}
    for name, container in _containers(_rendered()):
        assert {"configMapRef": {"name": "switchboard-config"}} in container["envFrom"], name
        refs = {item["valueFrom"]["secretKeyRef"]["key"] for item in container["env"]}
        assert refs <= set(secret), name
        assert {"SECRET_KEY", "DATABASE_URL"} <= refs, name
        own = {"switchboard-slack": "SLACK_", "switchboard-discord": "DISCORD_"}.get(name)
        # A hub given chat tokens would run the bots in-process too, in every replica.
        assert refs & chat == {key for key in chat if own and key.startswith(own)}, name
        pod_volumes = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        if container["securityContext"]["readOnlyRootFilesystem"]:
            assert _configmap()["HEARTBEAT_DIR"] in pod_volumes, f"{name}: heartbeat needs a writable dir"


def test_hub_probes_and_termination_cover_the_drain() -> None:
    docs = _rendered()
    hub = _one(docs, "Deployment", "switchboard-hub")
    pod = hub["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert container["command"][-2:] == ["--port", str(ports["http"])]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # /readyz allows each of its two checks (database, Redis) 2 s.
    assert container["readinessProbe"]["timeoutSeconds"] > 4
    # Endpoints removal (preStop), then SIGTERM: sockets get 1012, requests in flight finish within
    # Hypercorn's graceful timeout, close frames may wait WS_CLOSE_GRACE_SECONDS behind a backlog.
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = hypercorn_config("127.0.0.1:0").graceful_timeout + float(_configmap()["WS_CLOSE_GRACE_SECONDS"])
    assert pre_stop >= 3
    assert pod["terminationGracePeriodSeconds"] > pre_stop + drain
    assert hub["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_hpa_owns_the_hub_replicas_and_the_budget_selects_the_hubs() -> None:
    docs = _rendered()
    hub = _one(docs, "Deployment", "switchboard-hub")
    labels = hub["spec"]["template"]["metadata"]["labels"]
    # `replicas` in the Deployment would reset a scaled-out hub on every apply.
    assert "replicas" not in hub["spec"]
    hpa = _one(docs, "HorizontalPodAutoscaler", "switchboard-hub")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "switchboard-hub",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    resources = hub["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert "cpu" in resources["requests"]  # utilisation is measured against the request
    # Python sees the node's cores: hashing threads are sized to the pod's CPU limit instead.
    assert int(_configmap()["PASSWORD_HASH_CONCURRENCY"]) <= float(resources["limits"]["cpu"])
    for kind in ("PodDisruptionBudget", "Service"):
        doc = _one(docs, kind, "switchboard-hub")
        selector = doc["spec"]["selector"]
        assert selector.get("matchLabels", selector).items() <= labels.items(), kind
    for doc in docs:
        if doc["kind"] == "Deployment":
            assert (
                doc["spec"]["selector"]["matchLabels"].items()
                <= doc["spec"]["template"]["metadata"]["labels"].items()
            )


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_ingress_keeps_sockets_open_and_matches_the_body_limit() -> None:
    docs = _rendered()
    ingress = _one(docs, "Ingress", "switchboard")
    annotations = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "proxy-read-timeout"] == "3600"
    assert annotations[prefix + "proxy-send-timeout"] == "3600"
    assert _size(annotations[prefix + "proxy-body-size"]) == int(_configmap()["MAX_BODY_BYTES"])
    paths = {
        path["path"]: path["backend"]["service"] for path in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert paths["/"]["name"] == "switchboard-hub"
    assert paths["/slack/"]["name"] == "switchboard-slack"  # added by the slack component
    for service in paths.values():
        target = _one(docs, "Service", service["name"])
        assert service["port"]["name"] in {port["name"] for port in target["spec"]["ports"]}
    # Without the slack component the hubs get everything.
    plain = _one(_rendered(components=()), "Ingress", "switchboard")
    assert [path["path"] for path in plain["spec"]["rules"][0]["http"]["paths"]] == ["/"]
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    assert _configmap()["PUBLIC_URL"] == f"https://{ingress['spec']['rules'][0]['host']}"
