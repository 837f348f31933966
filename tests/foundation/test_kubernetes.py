"""deploy/kubernetes: valid against Kubernetes' schemas (offline) and consistent with the service.

The schemas ship inside kubernetes-validate; nothing is fetched.
"""

import posixpath
import runpy
import shlex
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from teleconsultation_project.service_config import load_service_config

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest release still commonly run, and the newest the package knows.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())


def documents(name: str | None = None) -> list[dict]:
    paths = [MANIFESTS / name] if name else sorted(MANIFESTS.glob("*.yaml"))
    return [
        document
        for path in paths
        for document in yaml.safe_load_all(path.read_text())
        if document and document["kind"] != "Kustomization"
    ]


def one(kind: str, name: str) -> dict:
    [found] = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def pod_spec(document: dict) -> dict:
    if document["kind"] == "CronJob":
        return document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return document["spec"]["template"]["spec"]


def container_command(document: dict) -> list[str]:
    return pod_spec(document)["containers"][0]["command"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    "document", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_every_manifest_is_valid_for_kubernetes(document, version):
    # strict: an unknown or misspelt field is an error, not silently ignored by the schema.
    kubernetes_validate.validate(document, version, strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example_and_the_migration_job():
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    expected = {
        path.name
        for path in MANIFESTS.glob("*.yaml")
        if path.name not in ("kustomization.yaml", "secret.example.yaml", "migrate-job.yaml")
    }
    assert set(kustomization["resources"]) == expected


@pytest.fixture(scope="module")
def api() -> dict:
    return one("Deployment", "teleconsultation")


def test_the_deployment_probes_readiness_and_liveness_on_the_served_port(api):
    container = pod_spec(api)["containers"][0]
    [port] = container["ports"]
    assert port["containerPort"] == 8000
    assert container["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": port["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/-/healthz", "port": port["name"]}


def test_every_pod_runs_as_the_images_non_root_user_with_resources():
    for document in documents():
        if document["kind"] not in ("Deployment", "CronJob", "Job"):
            continue
        spec = pod_spec(document)
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert {"requests", "limits"} <= set(container["resources"])
            assert "memory" in container["resources"]["limits"]
    user = pod_spec(one("Deployment", "teleconsultation"))["securityContext"]["runAsUser"]
    dockerfile_user = next(
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("USER ")
    )
    assert str(user) == dockerfile_user


def test_the_service_pods_take_their_environment_from_the_config_map_and_the_secret():
    secret = documents("secret.example.yaml")[0]["metadata"]["name"]
    config_maps = {d["metadata"]["name"] for d in documents() if d["kind"] == "ConfigMap"}
    for document in documents():
        is_cache = document["metadata"]["labels"].get("app.kubernetes.io/component") == "cache"
        if document["kind"] in ("Deployment", "CronJob", "Job") and not is_cache:
            env_from = pod_spec(document)["containers"][0]["envFrom"]
            assert {"configMapRef": {"name": "teleconsultation-env"}} in env_from
            assert {"secretRef": {"name": secret}} in env_from
            assert "teleconsultation-env" in config_maps


def test_the_service_configuration_is_mounted_where_the_setting_points_and_is_valid(api, tmp_path):
    path = one("ConfigMap", "teleconsultation-env")["data"]["TELECONSULTATION_SERVICE_CONFIG_PATH"]
    directory, file_name = posixpath.split(path)
    spec = pod_spec(api)
    [mount] = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == directory]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    config_map = one("ConfigMap", volume["configMap"]["name"])
    assert file_name in config_map["data"]
    (tmp_path / file_name).write_text(config_map["data"][file_name])
    config = load_service_config(tmp_path / file_name)
    assert config.plus.groups and config.basic.groups


def test_the_pod_outlives_gunicorns_graceful_shutdown(api, monkeypatch, tmp_path):
    env = one("ConfigMap", "teleconsultation-env")["data"]
    for name in ("KALEYRA_REQUEST_DEADLINE_SECONDS", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    spec = pod_spec(api)
    pause = int(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert spec["terminationGracePeriodSeconds"] > gunicorn["graceful_timeout"] + pause
    liveness = spec["containers"][0]["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > gunicorn["timeout"]


def test_the_metrics_directory_is_writable_under_a_read_only_root(api):
    directory = one("ConfigMap", "teleconsultation-env")["data"]["PROMETHEUS_MULTIPROC_DIR"]
    spec = pod_spec(api)
    writable = {
        mount["mountPath"]
        for mount in spec["containers"][0]["volumeMounts"]
        if any(v["name"] == mount["name"] and "emptyDir" in v for v in spec["volumes"])
    }
    assert any(directory == path or directory.startswith(path + "/") for path in writable)


def test_reconcile_rooms_runs_every_minute_never_twice_at_once():
    cron = one("CronJob", "teleconsultation-reconcile-rooms")
    assert cron["spec"]["schedule"] == "* * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert container_command(cron)[1:3] == ["manage.py", "reconcile_rooms"]


def test_cleanup_runs_nightly():
    cron = one("CronJob", "teleconsultation-cleanup")
    minute, hour, *every_day = cron["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and every_day == ["*", "*", "*"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert container_command(cron)[1:3] == ["manage.py", "cleanup_teleconsultations"]


def test_the_migration_job_migrates():
    assert container_command(one("Job", "teleconsultation-migrate"))[1:] == [
        "manage.py",
        "migrate",
        "--noinput",
    ]


@pytest.mark.parametrize(
    "document",
    [d for d in documents() if d["kind"] in ("CronJob", "Job")],
    ids=lambda d: d["metadata"]["name"],
)
def test_jobs_run_commands_that_exist(document):
    command = container_command(document)
    assert command[:2] == ["python", "manage.py"], shlex.join(command)
    name = command[2]
    known = {path.stem for path in ROOT.glob("*/management/commands/*.py")} | {"migrate"}
    assert name in known


def test_the_service_and_the_autoscaler_point_at_the_deployment(api):
    labels = api["spec"]["template"]["metadata"]["labels"]
    service = one("Service", "teleconsultation")
    assert service["spec"]["selector"].items() <= labels.items()
    assert one("HorizontalPodAutoscaler", "teleconsultation")["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": api["metadata"]["name"],
    }
    assert (
        one("PodDisruptionBudget", "teleconsultation")["spec"]["selector"]["matchLabels"].items()
        <= labels.items()
    )


def test_the_cache_url_points_at_the_redis_service():
    cache_url = one("ConfigMap", "teleconsultation-env")["data"]["CACHE_URL"]
    redis = one("Service", "teleconsultation-redis")
    assert cache_url == f"redis://{redis['metadata']['name']}:{redis['spec']['ports'][0]['port']}/0"
