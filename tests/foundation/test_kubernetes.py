"""deploy/kubernetes: valid against Kubernetes' schemas (offline), consistent with the service,
released with one tag in one place, each pod fenced by a NetworkPolicy, and clean for checkov.

The schemas ship inside kubernetes-validate; nothing is fetched. checkov runs when installed
(requirements/test.txt); without it its test says so and skips, and under CI (CI=true) fails.
"""

import json
import os
import posixpath
import runpy
import shlex
import shutil
import subprocess
import sys
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
    paths = [MANIFESTS / name] if name else sorted(MANIFESTS.glob("[!.]*.yaml"))
    return [
        document
        for path in paths
        for document in yaml.safe_load_all(path.read_text())
        if document and document["kind"] != "Kustomization"
    ]


def kustomization() -> dict:
    return yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())


def rendered() -> list[dict]:
    """What `kubectl apply -k deploy/kubernetes` applies: the kustomization's resources, with the
    tag of its `images:` (the only transformation it asks for; the kubectl test compares)."""
    tags = {image["name"]: image["newTag"] for image in kustomization()["images"]}
    applied = [
        document
        for resource in kustomization()["resources"]
        for document in yaml.safe_load_all((MANIFESTS / resource).read_text())
        if document
    ]
    for document in applied:
        if document["kind"] in WORKLOADS:
            for container in pod_spec(document)["containers"]:
                if container["image"] in tags:
                    container["image"] += f":{tags[container['image']]}"
    return applied


WORKLOADS = ("Deployment", "CronJob", "Job")


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


def test_kustomization_lists_every_manifest_but_the_secret_example():
    expected = {
        path.name
        for path in MANIFESTS.glob("[!.]*.yaml")
        if path.name not in ("kustomization.yaml", "secret.example.yaml")
    }
    assert set(kustomization()["resources"]) == expected


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
    assert config.privileges.plus.groups and config.privileges.basic.groups


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
    spec = pod_spec(api)
    [directory] = [
        variable["value"]
        for variable in spec["containers"][0]["env"]
        if variable["name"] == "PROMETHEUS_MULTIPROC_DIR"
    ]
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


def test_visit_events_go_out_every_minute_never_twice_at_once():
    cron = one("CronJob", "teleconsultation-visit-events")
    assert cron["spec"]["schedule"] == "* * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert container_command(cron)[1:3] == ["manage.py", "send_visit_events"]


def test_cleanup_runs_nightly():
    cron = one("CronJob", "teleconsultation-cleanup")
    minute, hour, *every_day = cron["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and every_day == ["*", "*", "*"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert container_command(cron)[1:3] == ["manage.py", "cleanup_teleconsultations"]


def test_attendance_is_collected_hourly_never_twice_at_once():
    cron = one("CronJob", "teleconsultation-collect-attendance")
    minute, *every_hour = cron["spec"]["schedule"].split()
    assert minute.isdigit() and every_hour == ["*", "*", "*", "*"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert container_command(cron)[1:3] == ["manage.py", "collect_attendance"]


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


def test_only_the_api_gathers_its_workers_metrics_in_a_directory():
    # prometheus_client fails in a process given a directory that nobody made: a job's one
    # process has nothing to add up.
    assert "PROMETHEUS_MULTIPROC_DIR" not in one("ConfigMap", "teleconsultation-env")["data"]
    for document in documents():
        if document["kind"] in ("CronJob", "Job"):
            env = pod_spec(document)["containers"][0].get("env", [])
            assert "PROMETHEUS_MULTIPROC_DIR" not in {variable["name"] for variable in env}


# --- One release, one tag ------------------------------------------------------------------------


def service_containers(applied: list[dict]) -> list[dict]:
    [image] = kustomization()["images"]
    return [
        container
        for document in applied
        if document["kind"] in WORKLOADS
        for container in pod_spec(document)["containers"]
        if container["image"].partition(":")[0] == image["name"]
    ]


def test_the_release_tag_is_named_once_in_the_kustomization():
    [image] = kustomization()["images"]
    raw = service_containers(documents())
    assert len(raw) == 6  # the API, four CronJobs, the migration Job
    assert {container["image"] for container in raw} == {image["name"]}
    applied = service_containers(rendered())
    assert {container["image"] for container in applied} == {f"{image['name']}:{image['newTag']}"}
    assert len(applied) == 6
    for path in MANIFESTS.glob("*.yaml"):
        if path.name != "kustomization.yaml":
            assert f":{image['newTag']}" not in path.read_text(), path.name


def test_kubectl_kustomize_renders_what_the_tests_read():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: `kubectl kustomize deploy/kubernetes` not tried")
    output = subprocess.run(
        [kubectl, "kustomize", str(MANIFESTS)], capture_output=True, text=True, check=True
    ).stdout

    def by_name(applied) -> dict:
        return {(d["kind"], d["metadata"]["name"]): d for d in applied}

    assert by_name(yaml.safe_load_all(output)) == by_name(rendered())


def test_no_replica_count_where_an_autoscaler_owns_it():
    for autoscaler in [d for d in rendered() if d["kind"] == "HorizontalPodAutoscaler"]:
        target = autoscaler["spec"]["scaleTargetRef"]
        assert "replicas" not in one(target["kind"], target["name"])["spec"]


def test_no_pod_gets_a_service_account_token():
    for document in rendered():
        if document["kind"] in WORKLOADS:
            assert pod_spec(document)["automountServiceAccountToken"] is False, document


# --- Network policies ----------------------------------------------------------------------------


def selects(selector: dict, labels: dict) -> bool:
    """Whether a label selector (matchLabels, matchExpressions with In) picks `labels`."""
    assert set(selector) <= {"matchLabels", "matchExpressions"}, selector
    matched = selector.get("matchLabels", {}).items() <= labels.items()
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        matched = matched and labels.get(expression["key"]) in expression["values"]
    return matched


def pod_labels(document: dict) -> dict:
    if document["kind"] == "CronJob":
        return document["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return document["spec"]["template"]["metadata"]["labels"]


def policies() -> list[dict]:
    return [d for d in rendered() if d["kind"] == "NetworkPolicy"]


def policy_of(component: str) -> dict:
    [workload] = [
        d
        for d in rendered()
        if d["kind"] in WORKLOADS and pod_labels(d)["app.kubernetes.io/component"] == component
    ]
    [policy] = [p for p in policies() if selects(p["spec"]["podSelector"], pod_labels(workload))]
    return policy


def egress_ports(policy: dict) -> set[int | str]:
    return {port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}


def components_let_in(policy: dict) -> set[str]:
    """The service's components a policy's ingress rules admit (by their pod selectors)."""
    components = {
        pod_labels(d)["app.kubernetes.io/component"]: pod_labels(d)
        for d in rendered()
        if d["kind"] in WORKLOADS
    }
    return {
        component
        for rule in policy["spec"].get("ingress", [])
        for source in rule.get("from", [])
        for component, labels in components.items()
        if selects(source["podSelector"], labels)
    }


@pytest.mark.parametrize(
    "component",
    ["api", "reconcile-rooms", "cleanup", "visit-events", "collect-attendance", "migrate", "cache"],
)
def test_every_workload_has_its_own_policy_in_both_directions(component):
    assert set(policy_of(component)["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_only_the_service_pods_reach_redis_and_redis_calls_nobody():
    redis = policy_of("cache")
    assert components_let_in(redis) == {"api", "reconcile-rooms", "cleanup", "collect-attendance"}
    assert [p["port"] for rule in redis["spec"]["ingress"] for p in rule["ports"]] == ["redis"]
    assert redis["spec"]["egress"] == []


def test_only_the_api_takes_connections_and_only_on_its_port():
    [rule] = policy_of("api")["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    for component in (
        "reconcile-rooms",
        "cleanup",
        "visit-events",
        "collect-attendance",
        "migrate",
    ):
        assert policy_of(component)["spec"]["ingress"] == []


def test_each_workload_calls_out_on_the_ports_it_needs():
    dns, database, https, in_cluster_http, redis, pushgateway = 53, 5432, 443, 80, 6379, 9091
    assert egress_ports(policy_of("api")) == {dns, database, https, in_cluster_http, redis}
    for command in ("reconcile-rooms", "cleanup", "visit-events", "collect-attendance"):
        assert egress_ports(policy_of(command)) == {
            dns,
            database,
            https,
            in_cluster_http,
            redis,
            pushgateway,
        }
    assert egress_ports(policy_of("migrate")) == {dns, database}


def test_redis_is_reached_only_on_the_pods_of_the_cache():
    cache = pod_labels(one("Deployment", "teleconsultation-redis"))
    for component in ("api", "reconcile-rooms", "cleanup", "collect-attendance"):
        [rule] = [
            rule
            for rule in policy_of(component)["spec"]["egress"]
            if any(port["port"] == 6379 for port in rule["ports"])
        ]
        assert [selects(to["podSelector"], cache) for to in rule["to"]] == [True]


# --- checkov -------------------------------------------------------------------------------------

CHECKOV_CONFIG = MANIFESTS / ".checkov.yaml"


def checkov_executable() -> str | None:
    """checkov from its own environment beside the test one (`make test` makes `.venv/checkov`),
    next to this Python, or the PATH."""
    here = Path(sys.executable).parent
    own = here.parent / "checkov" / "bin"
    return shutil.which(
        "checkov", path=os.pathsep.join([str(own), str(here), os.environ.get("PATH", "")])
    )


def test_checkov_finds_no_failed_check(tmp_path):
    checkov = checkov_executable()
    if checkov is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("checkov is not installed; CI requires it (make test installs it)")
        pytest.skip("checkov is not installed: make test installs it in .venv/checkov")
    manifests = tmp_path / "applied.yaml"
    manifests.write_text(yaml.safe_dump_all(rendered()))
    # Offline: no download of Prisma Cloud's guidelines or policies.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    result = subprocess.run(
        [checkov, "--config-file", str(CHECKOV_CONFIG), "--file", str(manifests)]
        + ["--skip-download", "--quiet", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    report = json.loads(result.stdout)
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['resource']}"
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= len(rendered())  # pods of templates count too
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_check_checkov_skips_says_why_beside_it():
    lines = CHECKOV_CONFIG.read_text().splitlines()
    skipped = yaml.safe_load(CHECKOV_CONFIG.read_text())["skip-check"]
    assert skipped
    for check in skipped:
        at = lines.index(f"  - {check}")
        assert lines[at - 1].lstrip().startswith("#"), f"{check} is skipped without a reason"
