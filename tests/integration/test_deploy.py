"""The files under deploy/ agree with the code they deploy.

No container engine or cluster runs where the tests do, so these tests read the files instead:
every YAML file parses, every CLUSTERLABEL_* variable is a field of Settings, every command is
a real `clusterlabel` subcommand, HTTP probes ask for /health on a port the container opens,
and the Temporal set-up registers the search attributes the workflows use. The allowed names
and commands are derived from the code, so adding a setting or a subcommand needs no change here.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from clusterlabel.interfaces.cli import _parser
from clusterlabel.interfaces.event_store_env import SQLITE_LOCK_TIMEOUT_SECONDS
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_server import SEARCH_ATTRIBUTES, cli_type_name
from clusterlabel.interfaces.worker import GRACEFUL_SHUTDOWN
from clusterlabel.workflows.common import ACTIVITY_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT_SCRIPT = DEPLOY / "docker-entrypoint.sh"
TEMPORAL_VALUES = K8S / "temporal-values.yaml"
SECRET_EXAMPLE = K8S / "secret.example.yaml"

IMAGE_NAME = "clusterlabel"
HEALTH_PATH = "/health"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
# Compose secrets become settings through the image's entrypoint when named clusterlabel_<field>,
# so the lower-case spelling counts as a setting's variable too.
SETTING_VARIABLE = re.compile(r"\bclusterlabel_[a-z0-9_]+", re.IGNORECASE)


# ---- the code's side: settings and commands ---------------------------------------------------


def env_prefix() -> str:
    return str(Settings.model_config.get("env_prefix", "")).upper()


def setting_variables() -> set[str]:
    """Every CLUSTERLABEL_* variable Settings reads."""
    return {env_prefix() + name.upper() for name in Settings.model_fields}


def secret_setting_variables() -> set[str]:
    """Variables of the settings Settings hides from its repr: those belong in secrets."""
    return {env_prefix() + name.upper() for name, field in Settings.model_fields.items() if field.repr is False}


def is_clusterlabel_command(argv: list[str]) -> bool:
    """Whether `clusterlabel <argv>` gets past the CLI's argument parser."""
    try:
        _parser().parse_args(argv)
    except SystemExit:
        return False
    return True


def unknown_setting_variables(document: Any) -> set[str]:
    return set(setting_variables_in(document)) - setting_variables()


def setting_variables_in(value: Any) -> Iterator[str]:
    """Every CLUSTERLABEL_* name in a parsed document: keys, values and text such as scripts."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from setting_variables_in(key)
            yield from setting_variables_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from setting_variables_in(item)
    elif isinstance(value, str):
        yield from (match.upper() for match in SETTING_VARIABLE.findall(value))


# ---- the deployment's side: files, services, containers ---------------------------------------


def yaml_files() -> list[Path]:
    return sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


def documents(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document is not None]


def compose() -> dict[str, Any]:
    (document,) = documents(COMPOSE)
    return document


def is_clusterlabel_image(image: str) -> bool:
    repository = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return repository == IMAGE_NAME


def clusterlabel_services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    return {name: service for name, service in services.items() if is_clusterlabel_image(service.get("image", ""))}


def compose_command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {str(key): "" if value is None else str(value) for key, value in environment.items()}


def k8s_documents() -> list[dict[str, Any]]:
    """Every Kubernetes object in deploy/k8s (the Helm values file is not one)."""
    return [
        document
        for path in sorted(K8S.glob("*.yaml"))
        for document in documents(path)
        if isinstance(document, dict) and "kind" in document and "apiVersion" in document
    ]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [document for document in k8s_documents() if document["kind"] == kind]


def pod_spec(document: dict[str, Any]) -> dict[str, Any] | None:
    spec = document.get("spec", {})
    if document["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return spec["template"]["spec"]
    if document["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(owning object, container) for every container in the manifests."""
    found = []
    for document in k8s_documents():
        spec = pod_spec(document)
        if spec is not None:
            found += [(document, container) for container in [*spec.get("initContainers", []), *spec["containers"]]]
    return found


def clusterlabel_containers() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(owner, container) for owner, container in containers() if is_clusterlabel_image(container["image"])]


def subcommand(argv: list[str]) -> str:
    return argv[0] if argv else ""


def container_argv(container: dict[str, Any]) -> list[str]:
    return [str(word) for word in container.get("args", [])]


def runs(container: dict[str, Any], command: str) -> bool:
    return subcommand(container_argv(container)) == command


def compose_services_running(command: str) -> list[dict[str, Any]]:
    return [service for service in clusterlabel_services().values() if subcommand(compose_command(service)) == command]


def config_map_data() -> dict[str, str]:
    (config_map,) = of_kind("ConfigMap")
    return {key: str(value) for key, value in config_map["data"].items()}


def secret_example_data() -> dict[str, str]:
    (secret,) = documents(SECRET_EXAMPLE)
    return {key: str(value) for key, value in secret["stringData"].items()}


def search_attribute_job_env() -> dict[str, str]:
    (values,) = documents(TEMPORAL_VALUES)
    jobs = [item for item in values.get("extraObjects", []) if item.get("kind") == "Job"]
    (job,) = jobs
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {variable["name"]: str(variable["value"]) for variable in container["env"]}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions


def dockerfile_arguments(keyword: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile_instructions() if instruction == keyword]


def settings_from(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> Settings:
    """Settings as a process with exactly these CLUSTERLABEL_* variables would read them."""
    for name in list(os.environ):
        if name.startswith(env_prefix()):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings()


# ---- every file parses --------------------------------------------------------------------------


def test_the_deploy_folder_holds_compose_kubernetes_and_helm_files() -> None:
    names = {path.relative_to(DEPLOY).as_posix() for path in yaml_files()}

    assert {"compose.yaml", "k8s/temporal-values.yaml", "k8s/kustomization.yaml"} <= names


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: path.relative_to(DEPLOY).as_posix())
def test_every_yaml_file_under_deploy_parses(path: Path) -> None:
    assert documents(path), f"{path} holds no YAML document"


def test_every_kubernetes_manifest_names_its_kind_and_api_version() -> None:
    for path in sorted(K8S.glob("*.yaml")):
        if path == TEMPORAL_VALUES:
            continue
        for document in documents(path):
            assert {"apiVersion", "kind"} <= set(document), f"{path.name}: a document lacks apiVersion or kind"


def test_the_kustomization_lists_existing_manifests_but_never_the_example_secret() -> None:
    (kustomization,) = documents(K8S / "kustomization.yaml")

    resources = kustomization["resources"]

    assert all((K8S / resource).is_file() for resource in resources), resources
    assert SECRET_EXAMPLE.name not in resources


# ---- settings -------------------------------------------------------------------------------------


# The alert rules name metrics (clusterlabel_outbox_queued), not settings; tests/workflows/test_operations.py
# checks those against what the engine exports.
PROMETHEUS_RULES = DEPLOY / "prometheus"


@pytest.mark.parametrize(
    "path",
    [path for path in yaml_files() if PROMETHEUS_RULES not in path.parents],
    ids=lambda path: path.relative_to(DEPLOY).as_posix(),
)
def test_every_clusterlabel_variable_a_deploy_file_passes_is_a_setting(path: Path) -> None:
    unknown = set().union(*(unknown_setting_variables(document) for document in documents(path)))

    assert not unknown, f"{path.name} passes {sorted(unknown)}, which Settings does not read"


def test_every_clusterlabel_variable_the_dockerfile_sets_is_a_setting() -> None:
    unknown = unknown_setting_variables([arguments for _, arguments in dockerfile_instructions()])

    assert not unknown, f"the Dockerfile sets {sorted(unknown)}, which Settings does not read"


def test_a_variable_that_is_not_a_setting_would_be_reported() -> None:
    manifest = {"env": [{"name": "CLUSTERLABEL_TEMPORAL_HOST", "value": "x"}], "secret": "clusterlabel_no_such"}

    assert unknown_setting_variables(manifest) == {"CLUSTERLABEL_TEMPORAL_HOST", "CLUSTERLABEL_NO_SUCH"}
    assert not unknown_setting_variables({"CLUSTERLABEL_TEMPORAL_ADDRESS": "temporal:7233"})


def real_admin_token() -> dict[str, str]:
    """What an operator puts in place of the example secret's placeholder token."""
    return {env_prefix() + "ADMIN_TOKEN": token_urlsafe(32)}


def test_the_kubernetes_settings_pass_validation_as_a_production_pod_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = secret_example_data()
    with pytest.raises(ValidationError, match="example placeholder"):  # the example as shipped cannot go live
        settings_from(monkeypatch, {**config_map_data(), **example})
    settings = settings_from(monkeypatch, {**config_map_data(), **example, **real_admin_token()})

    assert settings.environment == "production"
    assert settings.store() == "postgres"
    assert settings.http_host == "0.0.0.0"


def test_secret_settings_come_from_the_secret_and_never_from_the_config_map() -> None:
    secret_keys = set(secret_example_data())

    assert secret_setting_variables() <= secret_keys
    assert not secret_setting_variables() & set(config_map_data())


def test_every_clusterlabel_pod_reads_the_config_map_and_the_secret_the_manifests_define() -> None:
    (config_map,) = of_kind("ConfigMap")
    (secret,) = documents(SECRET_EXAMPLE)

    for owner, container in clusterlabel_containers():
        sources = container.get("envFrom", [])
        config_maps = {source["configMapRef"]["name"] for source in sources if "configMapRef" in source}
        secrets = {source["secretRef"]["name"] for source in sources if "secretRef" in source}
        assert config_maps == {config_map["metadata"]["name"]}, owner["metadata"]["name"]
        assert secrets == {secret["metadata"]["name"]}, owner["metadata"]["name"]


@pytest.mark.parametrize("service_name", sorted(clusterlabel_services()))
def test_each_compose_service_of_the_image_has_valid_production_settings(
    monkeypatch: pytest.MonkeyPatch, service_name: str
) -> None:
    service = clusterlabel_services()[service_name]
    secrets = [secret for secret in service.get("secrets", []) if isinstance(secret, dict)]
    from_secrets = {str(secret["target"]).upper(): token_urlsafe(32) for secret in secrets}
    # The database and mail server URLs are validated as URLs, so a bare placeholder would not do.
    for url in ("DATABASE_URL", "SMTP_URL"):
        from_secrets[env_prefix() + url] = secret_example_data()[env_prefix() + url]

    settings = settings_from(monkeypatch, {**compose_environment(service), **from_secrets})

    assert settings.environment == "production"
    assert settings.temporal_address is not None


@pytest.mark.parametrize("service_name", sorted(clusterlabel_services()))
def test_compose_passes_secret_settings_as_secret_files_not_as_environment(service_name: str) -> None:
    service = clusterlabel_services()[service_name]
    targets = {str(secret["target"]).upper() for secret in service.get("secrets", []) if isinstance(secret, dict)}

    assert secret_setting_variables() <= targets
    assert not secret_setting_variables() & set(compose_environment(service))


def test_every_compose_secret_is_read_from_a_file_under_deploy_secrets() -> None:
    declared = compose()["secrets"]
    used = {
        secret["source"] if isinstance(secret, dict) else secret
        for service in compose()["services"].values()
        for secret in service.get("secrets", [])
    }

    assert used <= set(declared)
    for name, secret in declared.items():
        assert str(secret.get("file", "")).startswith("./secrets/"), name
    assert "*" in (DEPLOY / "secrets" / ".gitignore").read_text(encoding="utf-8").split()


# ---- commands -------------------------------------------------------------------------------------


def test_a_command_that_is_not_a_clusterlabel_subcommand_would_be_reported() -> None:
    assert is_clusterlabel_command(["worker"])
    assert not is_clusterlabel_command(["api"])
    assert not is_clusterlabel_command(["worker", "--no-such-option"])


def test_every_clusterlabel_container_runs_a_real_subcommand_through_the_image_entrypoint() -> None:
    assert clusterlabel_containers(), "no container in deploy/k8s uses the clusterlabel image"
    for owner, container in clusterlabel_containers():
        argv = container_argv(container)
        assert "command" not in container, f"{owner['metadata']['name']} replaces the image's entrypoint"
        assert is_clusterlabel_command(argv), f"{owner['metadata']['name']}: clusterlabel {shlex.join(argv)}"


def test_every_compose_service_of_the_image_runs_a_real_subcommand_through_the_image_entrypoint() -> None:
    assert clusterlabel_services(), "no compose service uses the clusterlabel image"
    for name, service in clusterlabel_services().items():
        assert "entrypoint" not in service, f"{name} replaces the image's entrypoint"
        assert is_clusterlabel_command(compose_command(service)), f"{name}: clusterlabel {service.get('command')}"


def test_the_manifests_run_the_api_and_the_workers() -> None:
    k8s_commands = {subcommand(container_argv(container)) for _, container in clusterlabel_containers()}
    compose_commands = {subcommand(compose_command(service)) for service in clusterlabel_services().values()}

    assert {"serve", "worker", "projections"} <= k8s_commands
    assert {"serve", "worker", "projections"} <= compose_commands


def test_the_api_leaves_workflows_to_the_workers_and_views_to_the_projection_runner() -> None:
    api = [container_argv(container) for _, container in clusterlabel_containers() if runs(container, "serve")]
    api += [compose_command(service) for service in compose_services_running("serve")]
    runners = [
        container_argv(container) for _, container in clusterlabel_containers() if runs(container, "projections")
    ]
    runners += [compose_command(service) for service in compose_services_running("projections")]

    assert api and all({"--no-worker", "--no-projections"} <= set(argv) for argv in api)
    assert runners and all(argv[:2] == ["projections", "run"] for argv in runners)


def test_a_rollout_stops_the_old_projection_runner_before_the_new_one_starts() -> None:
    runners = [
        document
        for document in of_kind("Deployment")
        if any(runs(container, "projections") for container in pod_spec(document)["containers"])  # type: ignore[index]
    ]
    assert runners and all(document["spec"].get("strategy") == {"type": "Recreate"} for document in runners)


def test_the_image_runs_clusterlabel_with_serve_as_the_default_command() -> None:
    (entrypoint,) = dockerfile_arguments("ENTRYPOINT")
    (command,) = dockerfile_arguments("CMD")
    script_lines = [line.strip() for line in ENTRYPOINT_SCRIPT.read_text(encoding="utf-8").splitlines()]

    assert json.loads(entrypoint) == ["clusterlabel-entrypoint"]
    assert f"COPY --chmod=0755 deploy/{ENTRYPOINT_SCRIPT.name} /usr/local/bin/clusterlabel-entrypoint" in {
        f"COPY {arguments}" for arguments in dockerfile_arguments("COPY")
    }
    assert script_lines[-1] == 'exec clusterlabel "$@"'
    assert json.loads(command) == ["serve"]
    assert is_clusterlabel_command(json.loads(command))


def test_the_image_builds_on_python_3_11_slim_and_runs_as_an_unprivileged_user() -> None:
    arguments = dict(argument.split("=", 1) for argument in dockerfile_arguments("ARG") if "=" in argument)
    bases = {
        argument.split()[0].replace("${PYTHON_IMAGE}", arguments.get("PYTHON_IMAGE", ""))
        for argument in dockerfile_arguments("FROM")
    }
    user = dockerfile_arguments("USER")[-1]

    assert bases == {"python:3.11-slim"}
    assert user.split(":")[0] not in ("root", "0")


# The bench and the simulator are development tools: the production image leaves them out.
TOOLS = {"tools"}


def installed_folders() -> set[str]:
    """The top-level folders setup.py installs as clusterlabel.<folder>."""
    module = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    (folders,) = [
        node.value for node in module.body if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "FOLDERS"
    ]
    return set(ast.literal_eval(folders))


def test_the_image_installs_every_package_of_the_service_and_leaves_the_tools_out() -> None:
    packages = installed_folders()
    copied = {argument.split()[0].rstrip("/") for argument in dockerfile_arguments("COPY") if "--from" not in argument}
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()

    assert packages >= TOOLS
    assert packages - TOOLS <= copied
    assert all(f"!{package}/" in ignore for package in packages - TOOLS)
    assert not copied & TOOLS and not any(f"!{tool}/" in ignore for tool in TOOLS)


# ---- probes ---------------------------------------------------------------------------------------


def test_every_http_probe_asks_for_health_on_a_port_the_container_opens() -> None:
    http_probes = 0
    for owner, container in containers():
        ports = {port.get("name") for port in container.get("ports", [])} | {
            port["containerPort"] for port in container.get("ports", [])
        }
        for probe_name in PROBES:
            http = container.get(probe_name, {}).get("httpGet")
            if http is None:
                continue
            http_probes += 1
            assert http["path"] == HEALTH_PATH, f"{owner['metadata']['name']} {probe_name}"
            assert http["port"] in ports, f"{owner['metadata']['name']} {probe_name} asks a port it does not open"
    assert http_probes, "no HTTP probe in deploy/k8s"


def test_the_api_is_probed_for_readiness_and_liveness_on_health_at_the_configured_port() -> None:
    port = int(config_map_data()[env_prefix() + "HTTP_PORT"])
    api = [container for _, container in clusterlabel_containers() if runs(container, "serve")]

    assert api
    for container in api:
        assert port in {declared["containerPort"] for declared in container["ports"]}
        for probe_name in ("readinessProbe", "livenessProbe"):
            assert container[probe_name]["httpGet"]["path"] == HEALTH_PATH


def test_workers_have_a_readiness_probe_although_they_serve_no_http() -> None:
    workers = [container for _, container in clusterlabel_containers() if runs(container, "worker")]

    assert workers
    for container in workers:
        assert "readinessProbe" in container


def test_the_compose_api_and_the_image_check_health() -> None:
    (healthcheck,) = dockerfile_arguments("HEALTHCHECK")
    api = compose_services_running("serve")

    assert HEALTH_PATH in healthcheck
    assert api
    for service in api:
        assert HEALTH_PATH in " ".join(service["healthcheck"]["test"])


def test_compose_workers_replace_the_image_http_healthcheck_they_cannot_answer() -> None:
    workers = compose_services_running("worker")

    assert workers
    for service in workers:
        assert "healthcheck" in service
        assert HEALTH_PATH not in " ".join(service["healthcheck"]["test"])


# ---- resources, scaling, the single projection runner ----------------------------------------------


def test_every_clusterlabel_container_requests_and_limits_cpu_and_memory() -> None:
    for owner, container in clusterlabel_containers():
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{owner['metadata']['name']} {kind}"


def test_the_worker_autoscaler_is_autoscaling_v2_and_targets_the_worker_deployment() -> None:
    workers = {
        document["metadata"]["name"]
        for document in of_kind("Deployment")
        if any(runs(container, "worker") for container in pod_spec(document)["containers"])
    }
    (autoscaler,) = of_kind("HorizontalPodAutoscaler")
    spec = autoscaler["spec"]

    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert spec["scaleTargetRef"]["kind"] == "Deployment"
    assert spec["scaleTargetRef"]["name"] in workers
    assert 1 <= spec["minReplicas"] <= spec["maxReplicas"]
    assert spec["metrics"]


def test_the_api_runs_several_replicas_sharing_their_tokens_through_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    api_deployments = [
        document
        for document in of_kind("Deployment")
        if any(runs(container, "serve") for container in pod_spec(document)["containers"])
    ]
    settings = settings_from(monkeypatch, {**config_map_data(), **secret_example_data(), **real_admin_token()})

    assert len(api_deployments) == 1
    assert api_deployments[0]["spec"]["replicas"] >= 2
    assert settings.store() == "postgres"  # where open_token_store keeps the tokens every replica reads


def test_compose_runs_one_api_since_it_publishes_the_host_port() -> None:
    compose_api = compose_services_running("serve")

    assert len(compose_api) == 1
    assert compose_api[0]["ports"]
    assert int(compose_api[0].get("deploy", {}).get("replicas", 1)) == 1


# ---- Temporal -------------------------------------------------------------------------------------


def test_the_temporal_chart_keeps_both_stores_in_postgresql() -> None:
    (values,) = documents(TEMPORAL_VALUES)
    datastores = values["server"]["config"]["persistence"]["datastores"]

    for store in ("default", "visibility"):
        assert datastores[store]["sql"]["pluginName"].startswith("postgres"), store
        assert "password" not in datastores[store]["sql"], f"{store}: use existingSecret"


def test_the_temporal_chart_registers_every_search_attribute_the_workflows_use() -> None:
    pairs = dict(pair.split("=", 1) for pair in search_attribute_job_env()["SEARCH_ATTRIBUTES"].split())

    assert pairs == {name: cli_type_name(kind) for name, kind in SEARCH_ATTRIBUTES.items()}
    assert set(pairs.values()) == {"Keyword"}


def test_the_temporal_namespace_created_is_the_one_clusterlabel_connects_to() -> None:
    (values,) = documents(TEMPORAL_VALUES)
    created = {namespace["name"] for namespace in values["server"]["config"]["namespaces"]["namespace"]}
    configured = config_map_data()[env_prefix() + "TEMPORAL_NAMESPACE"]
    job = search_attribute_job_env()

    assert configured in created
    assert job["TEMPORAL_NAMESPACE"] == configured
    assert job["TEMPORAL_ADDRESS"] == config_map_data()[env_prefix() + "TEMPORAL_ADDRESS"]


def test_compose_runs_temporal_on_postgresql_with_the_namespace_clusterlabel_connects_to() -> None:
    temporal = compose()["services"]["temporal"]
    environment = compose_environment(temporal)
    clients = [compose_environment(service) for service in clusterlabel_services().values()]
    namespaces = {client[env_prefix() + "TEMPORAL_NAMESPACE"] for client in clients}
    addresses = {client[env_prefix() + "TEMPORAL_ADDRESS"] for client in clients}

    assert temporal["image"].startswith("temporalio/auto-setup:")
    assert environment["DB"].startswith("postgres")
    assert namespaces == {environment["DEFAULT_NAMESPACE"]}
    assert addresses == {"temporal:7233"}


# ---- timings that must agree --------------------------------------------------------------------


def seconds(duration: str) -> float:
    """A compose duration such as `30s` or `1m30s`."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(number) * units[unit] for number, unit in re.findall(r"(\d+(?:\.\d+)?)([hms])", duration))


def test_a_stopped_worker_is_given_longer_than_it_gives_its_running_activities() -> None:
    grace = GRACEFUL_SHUTDOWN.total_seconds()
    worker_pods = [owner for owner, container in clusterlabel_containers() if runs(container, "worker")]
    workers = compose_services_running("worker")

    assert grace >= ACTIVITY_TIMEOUT.total_seconds()
    assert worker_pods and workers
    assert all(pod_spec(pod)["terminationGracePeriodSeconds"] > grace for pod in worker_pods)
    assert all(seconds(service.get("stop_grace_period", "10s")) > grace for service in workers)


def test_a_write_waiting_for_the_sqlite_lock_gives_up_before_its_activity_times_out() -> None:
    assert ACTIVITY_TIMEOUT.total_seconds() > SQLITE_LOCK_TIMEOUT_SECONDS
