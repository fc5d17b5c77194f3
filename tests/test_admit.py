"""The admission webhook over real HTTPS on loopback: AdmissionReview documents in and out, the operational
behaviour (limits, TLS, certificate reload, draining), and the same verdict and messages as ``servegate scan``."""

from __future__ import annotations

import copy
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from servegate.admit.logs import JsonLog
from servegate.admit.review import Reviewer, admission_rules, policy_check, remediation_gist, rule_check
from servegate.admit.server import Webhook
from servegate.admit.settings import AdmitSettings, SettingsError, settings_from
from servegate.admit.watchdog import Watchdog
from servegate.admit.workers import ConnectionShares
from servegate.cli import main
from servegate.findings import InputError, Severity
from servegate.rules import BY_ID, REGISTRY
from servegate.scan import ScanOptions, scan
from servegate.suppression import ConfigSuppression

ROOT = Path(__file__).resolve().parents[1]
DIGEST = "@sha256:" + "a" * 64
RULES = admission_rules(REGISTRY, AdmitSettings().skip_rules)


# --- payloads: what the API server sends ----------------------------------------------------------------------

def hardened_container(name: str, image: str) -> dict:
    return {"name": name, "image": image + DIGEST,
            "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "8Gi"}},
            "readinessProbe": {"httpGet": {"path": "/-/healthz", "port": 8000}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True, "runAsUser": 1000, "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}}}


def deployment() -> dict:
    """servegate's own hardened Deployment, moved to namespace ml: no finding at admission."""
    obj = yaml.safe_load((ROOT / "deploy" / "admission" / "base" / "deployment.yaml").read_text())
    obj["metadata"].update(name="web", namespace="ml", uid="6f1c", creationTimestamp="2026-01-01T00:00:00Z")
    return obj


def privileged_deployment() -> dict:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    return obj


def ray_service(ray_version: str) -> dict:
    def group_pod(name: str) -> dict:
        return {"spec": {"automountServiceAccountToken": False, "serviceAccountName": "ray",
                         "containers": [hardened_container(name, f"rayproject/ray:{ray_version}")]}}

    return {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "rag-api", "namespace": "ml"},
            "spec": {"serveConfigV2": "applications:\n- name: rag\n  import_path: rag.app:deployment\n",
                     "rayClusterConfig": {"rayVersion": "2.52.0", "authOptions": {"mode": "token"},
                                          "headGroupSpec": {"rayStartParams": {}, "template": group_pod("ray-head")},
                                          "workerGroupSpecs": [{"groupName": "cpu", "replicas": 2,
                                                                "rayStartParams": {},
                                                                "template": group_pod("ray-worker")}]}}}


INFERENCE_SERVICE = {
    "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
    "metadata": {"name": "churn", "labels": {"networking.kserve.io/visibility": "exposed"},
                 "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
    "spec": {"predictor": {"automountServiceAccountToken": False, "serviceAccountName": "churn",
                           "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://models/churn/v3"}}},
}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug"},
       "spec": {"automountServiceAccountToken": False,
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [dict(hardened_container("shell", "busybox:1.36"),
                                    resources={"requests": {"cpu": "100m", "memory": "64Mi"},
                                               "limits": {"memory": "64Mi"}})]}}
RESOURCES = {"Deployment": ("apps", "v1", "deployments"), "Pod": ("", "v1", "pods"),
             "InferenceService": ("serving.kserve.io", "v1beta1", "inferenceservices"),
             "RayService": ("ray.io", "v1", "rayservices"), "Widget": ("example.com", "v1", "widgets")}


def review(obj: dict | None, uid: str, operation: str = "CREATE", namespace: str = "ml", old: dict | None = None,
           kind: str = "") -> dict:
    """An AdmissionReview as the API server sends it (admission.k8s.io/v1)."""
    kind = kind or (obj or old or {})["kind"]
    group, version, resource = RESOURCES[kind]
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {
        "uid": uid, "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
        "name": (obj or old or {}).get("metadata", {}).get("name", ""), "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "alice@example.com", "uid": "42", "groups": ["ml-engineers", "system:authenticated"]},
        "object": obj, "oldObject": old, "dryRun": False,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": f"{operation.capitalize()}Options"},
    }}


# --- a throwaway certificate and a running webhook ------------------------------------------------------------

def make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed EC certificate for localhost and 127.0.0.1: with `cryptography` if installed, else openssl."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor openssl is available to make a test certificate")
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
        return cert, key
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(private.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"), "servegate-test")


class Client:
    """An HTTPS client that trusts the test certificate and keeps its connection alive, as the API server does."""

    def __init__(self, port: int, cafile: Path) -> None:
        self.port, self.cafile = port, cafile
        self.connection = self.connect()

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=ssl.create_default_context(cafile=str(self.cafile)))

    def post(self, body: bytes | dict, path: str = "/validate",
             content_type: str = "application/json") -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.connection.request("POST", path, data, {"Content-Type": content_type})
        response = self.connection.getresponse()
        payload = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, json.loads(payload) if payload.startswith(b"{") else {"text": payload.decode()}

    def get(self, path: str) -> tuple[int, str]:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        return response.status, response.read().decode()


class Running:
    def __init__(self, webhook: Webhook, log: io.StringIO, cafile: Path) -> None:
        self.webhook, self.log, self.cafile = webhook, log, cafile
        self.client = Client(webhook.port, cafile)

    def records(self, event: str) -> list[dict]:
        return [r for r in map(json.loads, self.log.getvalue().splitlines()) if r["event"] == event]

    def logged(self, uid: str) -> dict:
        record = next(r for r in self.records("admission") + self.records("admission_error") if r["uid"] == uid)
        del record["time"], record["duration_ms"]
        return record


@pytest.fixture
def serve(certificate):
    started: list[Webhook] = []

    def start(settings: AdmitSettings = AdmitSettings(), checks=None, suppress=(), overrides=None,
              cert_files: tuple[Path, Path] | None = None, more_rules=(), **options) -> Running:
        log = io.StringIO()
        rules = admission_rules(REGISTRY, settings.skip_rules)
        reviewer = Reviewer(settings, checks if checks is not None else [rule_check(rules)],
                            rules + tuple(more_rules), suppress, overrides)
        cert, key = cert_files or certificate
        webhook = Webhook(reviewer, cert, key, host="127.0.0.1", port=0, log=JsonLog(log), **options)
        webhook.start()
        started.append(webhook)
        return Running(webhook, log, cert)

    yield start
    for webhook in started:
        webhook.stop()


def scan_as_ci(tmp_path: Path, obj: dict, namespace: str = "ml"):
    """What `servegate scan` reports for the object saved as a manifest, with the rules admission runs."""
    manifest = copy.deepcopy(obj)
    manifest["metadata"].setdefault("namespace", namespace)
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return scan([tmp_path / "manifest.yaml"], ScanOptions(rules=RULES)).findings


def denial_from_scan(ref: str, findings) -> str:
    """The denial the webhook must give, written from the scan's findings: the CI message, line for line."""
    def worst_first(f):
        return -f.severity, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", f.location.path)], f.rule_id

    denying = sorted((f for f in findings if f.severity >= Severity.HIGH), key=worst_first)
    lines = [f"{ref}: servegate found {len(denying)} problem{'s' if len(denying) != 1 else ''} "
             f"of severity high or critical:"]
    for f in denying:
        lines += [f"- {f.rule_id} ({f.severity.label}) at {f.location.path}: {f.message}",
                  f"  fix: {remediation_gist(BY_ID[f.rule_id].remediation)}"]
    return "\n".join(lines)


# --- verdicts ---------------------------------------------------------------------------------------------------

def test_a_privileged_deployment_is_denied_with_the_message_ci_gives(serve, tmp_path):
    running = serve()
    uid = "705ab4f5-6393-11e8-b7cc-42010a800002"
    status, document = running.client.post(review(privileged_deployment(), uid))
    assert status == 200
    message = document["response"]["status"]["message"]
    assert document == {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
        "uid": uid, "allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": message}}}
    assert message.splitlines()[:2] == [
        "Deployment/ml/web: servegate found 1 problem of severity high or critical:",
        "- KUBE-001 (high) at spec.template.spec.containers[0].securityContext.privileged: container `webhook` in "
        "Deployment/ml/web runs privileged: every host device and capability, no seccomp or AppArmor",
    ]
    assert message == denial_from_scan("Deployment/ml/web", scan_as_ci(tmp_path, privileged_deployment()))
    assert running.logged(uid) == {
        "level": "info", "event": "admission", "uid": uid, "operation": "CREATE", "kind": "Deployment",
        "namespace": "ml", "name": "web", "user": "alice@example.com", "client_dry_run": False, "allowed": False,
        "dry_run": False, "warned": [], "suppressed": [], "message": message,
        "denied": [{"rule": "KUBE-001", "severity": "high",
                    "path": "spec.template.spec.containers[0].securityContext.privileged"}],
    }


def test_a_pod_with_only_low_findings_is_allowed_with_warnings(serve, tmp_path):
    running = serve()
    status, document = running.client.post(review(POD, "pod-1"))
    expected = [f"{f.rule_id} ({f.severity.label}) at {f.location.path}: {f.message}"
                for f in scan_as_ci(tmp_path, POD)]
    assert expected == ["KUBE-011 (low) at spec.containers[0].resources.limits.cpu: container `shell` in Pod/ml/debug "
                        "has no cpu limit: it can take every core of the node and starve its neighbours"]
    assert (status, document) == (200, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                        "response": {"uid": "pod-1", "allowed": True, "warnings": expected}})


def test_an_exposed_inference_service_without_auth_is_denied(serve, tmp_path):
    running = serve()
    status, document = running.client.post(review(INFERENCE_SERVICE, "isvc-1", namespace="models"))
    message = document["response"]["status"]["message"]
    assert (status, document["response"]["allowed"]) == (200, False)
    assert [line.split(":")[0] for line in message.splitlines() if line.startswith("- ")] == [
        '- MLS-SRV-019 (high) at metadata.labels["networking.kserve.io/visibility"]']
    assert message == denial_from_scan("InferenceService/models/churn",
                                       scan_as_ci(tmp_path, INFERENCE_SERVICE, "models"))


def test_a_ray_service_update_is_judged_on_the_new_object(serve, tmp_path):
    running = serve()
    fixed, vulnerable = ray_service("2.52.0"), ray_service("2.6.3")
    status, document = running.client.post(review(vulnerable, "ray-up-1", "UPDATE", old=fixed))
    message = document["response"]["status"]["message"]
    assert (status, document["response"]["allowed"], "warnings" in document["response"]) == (200, False, False)
    assert [line.split(":")[0] for line in message.splitlines() if line.startswith("- ")] == [
        "- MLS-SRV-020 (high) at spec.rayClusterConfig.headGroupSpec.template.spec.containers[0].image",
        "- MLS-SRV-020 (high) at spec.rayClusterConfig.workerGroupSpecs[0].template.spec.containers[0].image",
    ]
    assert message == denial_from_scan("RayService/ml/rag-api", scan_as_ci(tmp_path, vulnerable))
    # The reverse update (the fix) goes through, and so does a CREATE of the fixed object.
    for uid, operation, old in (("ray-up-2", "UPDATE", vulnerable), ("ray-create", "CREATE", None)):
        status, document = running.client.post(review(fixed, uid, operation, old=old))
        assert (status, document["response"]) == (200, {"uid": uid, "allowed": True})
    assert running.logged("ray-up-2")["operation"] == "UPDATE"


def test_any_character_the_api_server_passes_is_read_not_refused(serve):
    running = serve()
    obj = privileged_deployment()
    obj["metadata"]["annotations"] = {"description": "r\u00e9sum\u00e9 \U0001F680 \u0085\u2028\ufeff\ufffe\u009f end"}
    status, document = running.client.post(review(obj, "chars-1"))
    denied = [line.split(":")[0] for line in document["response"]["status"]["message"].splitlines()
              if line.startswith("- ")]
    assert denied == ["- KUBE-001 (high) at spec.template.spec.containers[0].securityContext.privileged"]


def test_an_unknown_kind_is_allowed_without_comment(serve):
    running = serve()
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}}
    status, document = running.client.post(review(widget, "widget-1"))
    assert (status, document["response"]) == (200, {"uid": "widget-1", "allowed": True})


def test_deletes_and_objects_being_deleted_are_not_judged(serve):
    running = serve()
    status, document = running.client.post(review(None, "del-1", "DELETE", old=privileged_deployment()))
    assert (status, document["response"]) == (200, {"uid": "del-1", "allowed": True})
    finalizing = privileged_deployment()
    finalizing["metadata"].update(deletionTimestamp="2026-01-02T00:00:00Z", finalizers=[])
    status, document = running.client.post(review(finalizing, "del-2", "UPDATE", old=privileged_deployment()))
    assert (status, document["response"]) == (200, {"uid": "del-2", "allowed": True})
    assert running.logged("del-2")["skipped"] == "the object is being deleted"


def test_suppression_annotations_apply_as_in_scans(serve):
    running = serve()
    obj = privileged_deployment()
    obj["metadata"]["annotations"] = {"ignore.servegate.dev/KUBE-001": "eBPF probe needs raw sockets"}
    status, document = running.client.post(review(obj, "sup-1"))
    assert (status, document["response"]) == (200, {"uid": "sup-1", "allowed": True})
    assert running.logged("sup-1")["suppressed"] == ["KUBE-001"]


def test_configured_suppressions_match_admission_paths_and_severity_overrides_apply(serve):
    running = serve(suppress=[ConfigSuppression("KUBE-001", "admission/lab/**", "lab cluster, no data")])
    in_lab = privileged_deployment()
    in_lab["metadata"]["namespace"] = "lab"
    assert running.client.post(review(in_lab, "lab-1", namespace="lab"))[1]["response"] == \
        {"uid": "lab-1", "allowed": True}
    assert running.client.post(review(privileged_deployment(), "ml-1"))[1]["response"]["allowed"] is False
    lowered = serve(overrides={"KUBE-001": Severity.MEDIUM})
    status, document = lowered.client.post(review(privileged_deployment(), "ml-2"))
    assert document["response"]["allowed"] is True
    assert [w.split(":")[0] for w in document["response"]["warnings"]] == [
        "KUBE-001 (medium) at spec.template.spec.containers[0].securityContext.privileged"]


def test_excluded_namespaces_are_not_judged(serve):
    running = serve(AdmitSettings(exclude_namespaces=frozenset({"gpu-operator"})))
    status, document = running.client.post(review(privileged_deployment(), "ns-1", namespace="gpu-operator"))
    assert (status, document["response"]) == (200, {"uid": "ns-1", "allowed": True})
    assert running.logged("ns-1")["skipped"] == "namespace gpu-operator is excluded"


def test_dry_run_warns_instead_of_denying_and_logs_what_it_would_deny(serve):
    running = serve(AdmitSettings(dry_run=True))
    status, document = running.client.post(review(privileged_deployment(), "dry-1"))
    assert (status, document["response"]["allowed"]) == (200, True)
    assert [w.split(":")[0] for w in document["response"]["warnings"]] == [
        "dry-run, would deny", ]
    assert document["response"]["warnings"][0].startswith(
        "dry-run, would deny: KUBE-001 (high) at spec.template.spec.containers[0].securityContext.privileged: ")
    record = running.logged("dry-1")
    assert (record["allowed"], record["dry_run"], [d["rule"] for d in record["denied"]]) == (True, True, ["KUBE-001"])


def test_warnings_stop_where_the_api_server_would_drop_them(serve):
    running = serve()
    crowded = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crowded"},
               "spec": {"containers": [{"name": f"c{i}", "image": "busybox:1.36"} for i in range(12)]}}
    status, document = running.client.post(review(crowded, "many-1"))
    warnings = document["response"]["warnings"]
    warned = running.logged("many-1")["warned"]
    assert (status, document["response"]["allowed"], len(warned)) == (200, True, 121)
    assert sum(map(len, warnings)) <= 4096 and all(len(w) <= 256 for w in warnings)
    assert warnings[-1] == f"... and {len(warned) - len(warnings) + 1} more servegate warnings (see the webhook's log)"
    medium = [int(re.search(r"containers\[(\d+)\]", w).group(1)) for w in warnings if "(medium) at spec.cont" in w]
    assert medium[:8] == [0, 0, 0, 0, 1, 1, 1, 1]  # reading order: containers[1] before containers[10]
    assert warnings[0] == "KUBE-012 (medium) at spec.containers[0].resources.limits.memory: container `c0` in " \
                          "Pod/ml/crowded has no memory limit: it can exhaust the node's memory and get other pods " \
                          "OOM-killed or evicted"


def test_which_severities_deny_and_warn_is_configurable(serve):
    running = serve(AdmitSettings(deny=frozenset({Severity.CRITICAL}), warn=frozenset({Severity.HIGH})))
    status, document = running.client.post(review(POD, "sev-1"))
    assert document["response"] == {"uid": "sev-1", "allowed": True}  # its low finding neither denies nor warns
    status, document = running.client.post(review(privileged_deployment(), "sev-2"))
    assert document["response"]["allowed"] is True
    assert [w.split(":")[0] for w in document["response"]["warnings"]] == [
        "KUBE-001 (high) at spec.template.spec.containers[0].securityContext.privileged"]


# --- malformed, oversized, slow and broken ---------------------------------------------------------------------

def test_a_body_that_is_not_json_gets_400_and_an_error_review(serve):
    running = serve()
    status, document = running.client.post(b'{"kind": "AdmissionReview", ')
    assert status == 400
    assert document["response"]["status"]["message"].startswith("the body is not JSON: ")
    assert document == {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
        "uid": "", "allowed": False, "status": {"code": 400, "message": document["response"]["status"]["message"]}}}


def test_a_body_nested_beyond_reading_gets_400_and_the_connection_serves_on(serve):
    running = serve()
    body = b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "deep-1", ' \
           b'"operation": "CREATE", "object": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    status, document = running.client.post(body)
    assert (status, document["response"]["status"]["message"]) == (
        400, "the body nests arrays or objects too deeply to be read")
    assert running.client.post(review(POD, "after-deep"))[0] == 200


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.update(apiVersion="admission.k8s.io/v1beta1"),
     "AdmissionReview 'admission.k8s.io/v1beta1' is not supported: list only 'v1' in the webhook's "
     "admissionReviewVersions"),
    (lambda r: r["request"].update(object=None), "a CREATE request must carry its object in request.object"),
    (lambda r: r["request"].update(object=["not", "an", "object"]),
     "a CREATE request must carry its object in request.object"),
])
def test_a_review_that_cannot_be_answered_gets_400_with_its_uid(serve, mutate, message):
    running = serve()
    body = review(POD, "bad-1")
    mutate(body)
    assert running.client.post(body) == (400, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                               "response": {"uid": "bad-1", "allowed": False,
                                                            "status": {"code": 400, "message": message}}})
    assert running.logged("bad-1")["error"] == message


def test_an_oversized_body_gets_413_with_the_request_uid(serve):
    running = serve(AdmitSettings(max_body_bytes=16 * 1024))
    big = copy.deepcopy(POD)
    big["metadata"]["annotations"] = {"notes": "x" * 100_000}
    body = json.dumps(review(big, "big-1")).encode()
    status, document = running.client.post(body)
    assert (status, document) == (413, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
        "uid": "big-1", "allowed": False,
        "status": {"code": 413, "message": f"the request is {len(body)} bytes, over the webhook's limit of "
                                           f"16384 bytes"}}})
    running.client.connection = running.client.connect()  # the server closed the connection it would not read
    assert running.client.post(review(POD, "small-1"))[0] == 200


def test_a_judgement_past_the_time_limit_gets_500_so_the_failure_policy_decides(serve):
    def slow(admitted):
        time.sleep(1.0)
        return [], []

    running = serve(AdmitSettings(timeout=0.3), checks=[slow])
    status, document = running.client.post(review(POD, "slow-1"))
    assert (status, document["response"]) == (500, {"uid": "slow-1", "allowed": False, "status": {
        "code": 500, "message": "servegate did not reach a verdict within 0.3 s"}})
    assert running.client.get("/healthz") == (200, "ok\n")  # one overrun is not a reason to restart


def test_stopping_waits_for_answers_not_for_a_judgement_past_its_time_limit(serve):
    def stuck(admitted):
        time.sleep(4.0)
        return [], []

    running = serve(AdmitSettings(timeout=0.5), checks=[stuck])
    answers = []
    in_flight = threading.Thread(target=lambda: answers.append(running.client.post(review(POD, "stuck-1"))))
    in_flight.start()
    time.sleep(0.2)
    started = time.monotonic()
    running.webhook.stop()
    assert time.monotonic() - started < 2.5  # the time limit and a margin, not the 4 s judgement
    in_flight.join(5)
    assert answers[0][0] == 500 and "did not reach a verdict within 0.5 s" in answers[0][1]["response"]["status"][
        "message"]


def test_a_broken_rule_gets_500_not_a_silent_allow(serve):
    def broken(admitted):
        return [], [InputError(admitted.file, 0, "internal error in rule KUBE-999: KeyError: 'spec'")]

    running = serve(checks=[broken])
    status, document = running.client.post(review(POD, "broken-1"))
    assert (status, document["response"]["status"]) == (500, {
        "code": 500, "message": "servegate could not judge the object: internal error in rule KUBE-999: "
                                "KeyError: 'spec'"})
    assert running.logged("broken-1")["level"] == "error"


def test_routes_content_types_and_probes(serve):
    running = serve()
    assert running.client.get("/healthz") == (200, "ok\n")
    assert running.client.get("/readyz") == (200, "ok\n")
    assert running.client.get("/metrics") == (404, "not found\n")
    assert running.client.post(review(POD, "x"), path="/mutate") == (404, {"text": "not found\n"})
    status, document = running.client.post(json.dumps(review(POD, "x")).encode(), content_type="text/plain")
    assert (status, document["response"]["status"]["message"]) == (415, "expected application/json, not text/plain")


def test_connections_past_the_limit_are_closed_at_once_and_idle_handshakes_do_not_block_others(serve):
    running = serve()
    running.webhook.server.max_connections = 2
    silent = [socket.create_connection(("127.0.0.1", running.webhook.port)) for _ in range(2)]  # no TLS hello
    time.sleep(0.2)
    with pytest.raises((ConnectionError, ssl.SSLError)):
        Client(running.webhook.port, running.cafile).get("/healthz")
    assert running.records("connection_refused")[0]["reason"] == "2 connections already open"
    for sock in silent:
        sock.close()
    time.sleep(0.2)
    assert Client(running.webhook.port, running.cafile).get("/healthz") == (200, "ok\n")


def test_connections_are_kept_alive_between_reviews_then_retired_to_rebalance(serve):
    running = serve()
    running.client.post(review(POD, "ka-1"))
    first = running.client.connection.sock
    running.client.post(review(POD, "ka-2"))
    assert running.client.connection.sock is first
    running.webhook.server.connection_max_age = 0.0  # for connections opened from now on
    client = Client(running.webhook.port, running.cafile)
    client.connection.request("GET", "/readyz")
    response = client.connection.getresponse()
    assert (response.status, response.read(), response.getheader("Connection")) == (200, b"ok\n", "close")


# --- TLS --------------------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_only_tls_1_2_and_later_with_aead_ciphers(serve):
    running = serve()

    def handshake(context: ssl.SSLContext) -> str:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", running.webhook.port), timeout=5) as raw:
            with context.wrap_socket(raw) as tls:
                return f"{tls.version()} {tls.cipher()[0]}"

    tls12 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    assert handshake(tls12).startswith("TLSv1.2 ECDHE-ECDSA-")
    cbc = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):  # the server's alert: no shared cipher
        handshake(cbc)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError, match="ALERT_PROTOCOL_VERSION"):  # the server's alert, not the client's refusal
        handshake(old)
    plain = http.client.HTTPConnection("127.0.0.1", running.webhook.port, timeout=5)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        plain.request("GET", "/healthz")
        plain.getresponse()
    assert running.client.get("/healthz") == (200, "ok\n")  # failed handshakes harm nobody else


def test_a_renewed_certificate_is_served_without_a_restart(serve, tmp_path):
    cert, key = make_certificate(tmp_path, "first")
    running = serve(cert_files=(cert, key), reload_interval=0.05)

    def served() -> bytes:
        context = ssl.create_default_context(cafile=str(tmp_path / "trusted.crt"))
        with socket.create_connection(("127.0.0.1", running.webhook.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert(binary_form=True)

    shutil.copy(cert, tmp_path / "trusted.crt")
    first = served()
    renewed_cert, renewed_key = make_certificate(tmp_path, "second")
    shutil.copy(renewed_cert, tmp_path / "trusted.crt")
    os.replace(renewed_key, key)  # as a Secret volume update: whole new files
    os.replace(renewed_cert, cert)
    deadline = time.monotonic() + 5
    while not running.records("certificate_reloaded") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served() != first
    # A half-written pair is refused and the served certificate stays.
    cert.write_text("-----BEGIN CERTIFICATE-----\ntruncated\n")
    assert running.webhook.certificates.reload_if_changed() is False
    assert running.records("certificate_reload_failed")[0]["cert"] == str(cert)
    assert served() != first


# --- stopping ---------------------------------------------------------------------------------------------------

def test_stopping_fails_readiness_finishes_in_flight_requests_and_closes_idle_connections(serve):
    def unhurried(admitted):
        time.sleep(0.5)
        return [], []

    running = serve(checks=[unhurried], shutdown_delay=0.3)
    idle = Client(running.webhook.port, running.cafile)
    assert idle.get("/readyz") == (200, "ok\n")  # now a kept-alive connection with nothing to do
    answers: list = []
    in_flight = threading.Thread(target=lambda: answers.append(running.client.post(review(POD, "late-1"))))
    in_flight.start()
    time.sleep(0.1)
    stopper = threading.Thread(target=running.webhook.stop)
    started = time.monotonic()
    stopper.start()
    time.sleep(0.1)
    probe = Client(running.webhook.port, running.cafile)
    assert probe.get("/readyz") == (503, "not ready\n")
    in_flight.join(5)
    stopper.join(10)
    assert answers == [(200, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                              "response": {"uid": "late-1", "allowed": True}})]
    assert time.monotonic() - started < 5  # the idle connection did not hold the stop for its idle timeout
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", running.webhook.port), timeout=2)


def test_the_command_serves_from_two_workers_until_sigterm_with_bundle_policies(certificate, tmp_path):
    pytest.importorskip("opa_bindings")
    cert, key = certificate
    (tmp_path / "servegate.toml").write_text('[admit]\ndeny = ["high", "critical"]\nexclude-namespaces = ["lab"]\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "servegate", "admit", "--tls-cert", str(cert), "--tls-key", str(key), "--port", "0",
         "--host", "127.0.0.1", "--config", str(tmp_path / "servegate.toml"), "--policy", str(ROOT / "policies"),
         "--all-namespaces", "--workers", "2"], stderr=subprocess.PIPE, text=True)
    try:
        records = []
        while sum(r["event"] == "started" for r in records) < 2:
            records.append(json.loads(process.stderr.readline()))
        started = [r for r in records if r["event"] == "started"]
        assert sorted((r["worker"], r["exclude_namespaces"]) for r in started) == [(0, ["lab"]), (1, ["lab"])]
        assert started[0]["port"] == started[1]["port"]  # one socket, shared
        client = Client(started[0]["port"], cert)
        status, document = client.post(review(POD, "cli-1"))
        warnings = document["response"]["warnings"]
        assert (status, document["response"]["allowed"]) == (200, True)
        assert [w.split(" at ")[0] for w in warnings] == ["SGP-WL-004 (medium)", "KUBE-011 (low)"]
        status, document = client.post(review(privileged_deployment(), "cli-2"))
        denied = [line.split(":")[0] for line in document["response"]["status"]["message"].splitlines()
                  if line.startswith("- ")]
        assert denied == ["- SGP-WL-001 (critical) at spec.template.spec.containers[0].securityContext.privileged",
                          "- SGP-WL-005 (high) at spec.template.spec.containers[0].image",
                          "- KUBE-001 (high) at spec.template.spec.containers[0].securityContext.privileged"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        records += [json.loads(line) for line in process.stderr.read().splitlines()]
        events = sorted(r["event"] for r in records)
        assert events == sorted(["workers_started", "started", "started", "admission", "admission", "draining",
                                 "draining", "stopped", "stopped", "workers_stopped"])
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


WORKERS_SCRIPT = """
import os, signal, sys, time
from servegate.admit import workers
from servegate.admit.logs import JsonLog

workers.STEADY_SECONDS = float(sys.argv[1])
marker = sys.argv[2]


def serve(index):
    if index == 0 and not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(0.2)
        os._exit(3)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.05)


sys.exit(workers.run_workers(2, serve, JsonLog()))
"""


@pytest.mark.parametrize("steady, code, events", [
    (0.0, 0, ["workers_started", "worker_exited", "workers_stopped"]),  # it had worked: replaced, then stopped
    (60.0, 3, ["workers_started", "worker_exited", "workers_stopped"]),  # it never worked: everything stops
])
def test_a_worker_that_dies_is_replaced_unless_it_dies_at_once(tmp_path, steady, code, events):
    process = subprocess.Popen([sys.executable, "-c", WORKERS_SCRIPT, str(steady), str(tmp_path / "died")],
                               stderr=subprocess.PIPE, text=True)
    try:
        records = [json.loads(process.stderr.readline()) for _ in range(2)]
        assert [r["event"] for r in records] == events[:2]
        assert (records[1]["worker"], records[1]["code"]) == (0, 3)
        if code == 0:
            time.sleep(0.3)  # the replacement is up
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
        assert process.wait(10) == code
        last = json.loads(process.stderr.read().splitlines()[-1])
        assert (last["event"], last["code"]) == (events[-1], code)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


def test_policies_join_the_built_in_rules_with_their_fix_hints(serve, tmp_path):
    pytest.importorskip("opa_bindings")
    from servegate.policy import PolicyOptions, load_policies

    (tmp_path / "team.rego").write_text(
        "package main\n\nimport rego.v1\n\n"
        "# METADATA\n# title: Workloads name their team\n# custom:\n#   id: ACME-001\n#   severity: high\n"
        "#   remediation: Add the label team to the workload. Ask platform for a team name.\n"
        "deny contains msg if {\n  input.kind == \"Deployment\"\n  not input.metadata.labels.team\n"
        "  msg := sprintf(\"%s %s has no team label\", [input.kind, input.metadata.name])\n}\n")
    with load_policies(PolicyOptions((tmp_path / "team.rego",), parser="json")) as policies:
        running = serve(checks=[rule_check(RULES), policy_check(policies)], more_rules=policies.rules)
        expected = ("Deployment/ml/web: servegate found 1 problem of severity high or critical:\n"
                    "- ACME-001 (high) at metadata: Deployment web has no team label\n"
                    "  fix: Add the label team to the workload.")
        status, document = running.client.post(review(deployment(), "pol-1"))
        assert document["response"]["status"]["message"] == expected
        # Characters YAML cannot take raw neither hide the object from policies nor make it unreadable.
        decorated = deployment()
        decorated["metadata"]["annotations"] = {"owner": "\U0001F9D1\u200d\U0001F4BB \u2028 \u0085"}
        status, document = running.client.post(review(decorated, "pol-emoji"))
        assert document["response"]["status"]["message"] == expected
        labelled = deployment()
        labelled["metadata"]["labels"]["team"] = "search"
        assert running.client.post(review(labelled, "pol-2"))[1]["response"] == {"uid": "pol-2", "allowed": True}


# --- configuration ----------------------------------------------------------------------------------------------

def test_settings_from_the_admit_table_and_the_command_line():
    settings = settings_from({"deny": ["critical"], "exclude-namespaces": ["lab"], "dry-run": True,
                              "skip-rules": ["kube-020", "MLS-K8S-010"], "timeout": 2},
                             exclude_namespaces=["sandbox"], max_body_bytes=4096)
    assert settings == AdmitSettings(
        deny=frozenset({Severity.CRITICAL}), warn=frozenset({Severity.INFO, Severity.LOW, Severity.MEDIUM,
                                                             Severity.HIGH}),
        exclude_namespaces=frozenset({"lab", "sandbox"}), dry_run=True, skip_rules=("KUBE-020", "MLS-K8S-010"),
        max_body_bytes=4096, timeout=2.0)
    assert settings_from({"deny": ["high"]}, deny=["low", "medium"]).deny == {Severity.LOW, Severity.MEDIUM}


@pytest.mark.parametrize("table, message", [
    ({"deny": ["high"], "warn": ["high", "low"]}, "[admit]: high both deny and warn; choose one"),
    ({"deny": ["severe"]},
     "[admit]: `deny`: unknown severity 'severe' (choose from info, low, medium, high, critical)"),
    ({"dry_run": True}, "[admit]: unknown key(s) dry_run (known: deny, dry-run, exclude-namespaces, "
                        "max-body-bytes, skip-rules, timeout, warn)"),
    ({"timeout": 60}, "[admit]: `timeout` must be a number of seconds above 0 and at most 30 (the API server "
                      "waits 30 seconds at most)"),
    ({"exclude-namespaces": "lab"}, "[admit]: `exclude-namespaces` must be a list of strings"),
])
def test_settings_errors_name_the_problem(table, message):
    with pytest.raises(SettingsError) as error:
        settings_from(table)
    assert str(error.value) == message


def test_the_command_refuses_bad_configuration_before_listening(certificate, tmp_path, capsys):
    cert, key = certificate
    (tmp_path / "bad.toml").write_text('[admit]\ndeny = ["high"]\nwarn = ["high"]\n')
    assert main(["admit", "--tls-cert", str(cert), "--tls-key", str(key), "--config",
                 str(tmp_path / "bad.toml")]) == 2
    assert capsys.readouterr().err == f"servegate: error: {tmp_path / 'bad.toml'} [admit]: high both deny and warn; " \
                                      f"choose one\n"
    assert main(["admit", "--tls-cert", str(tmp_path / "missing.crt"), "--tls-key", str(key), "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith(f"servegate: error: cannot serve on 0.0.0.0:0 with "
                                              f"{tmp_path / 'missing.crt'}: ")
    assert main(["admit", "--tls-cert", str(cert), "--tls-key", str(key), "--deny", "severe"]) == 2
    assert "servegate admit: `deny`: unknown severity 'severe'" in capsys.readouterr().err


def test_the_webhook_deployment_passes_its_own_scan_and_its_own_admission(capsys, serve):
    assert main(["scan", str(ROOT / "deploy" / "admission"), "--fail-on", "low"]) == 0
    assert capsys.readouterr().out.startswith("0 findings")
    running = serve()
    own = yaml.safe_load((ROOT / "deploy" / "admission" / "base" / "deployment.yaml").read_text())
    status, document = running.client.post(review(own, "self-1", namespace="servegate-system"))
    assert (status, document["response"]) == (200, {"uid": "self-1", "allowed": True})


def test_a_worker_holding_more_connections_than_a_sibling_lets_it_take_the_next():
    shares = ConnectionShares(2)
    pid = os.fork()
    if pid == 0:  # a sibling worker: what it reports is seen by the others
        shares.index = 1
        shares.report(3)
        os._exit(0)
    os.waitpid(pid, 0)
    shares.report(4)
    assert shares.others_hold_fewer()
    shares.report(3)
    assert not shares.others_hold_fewer()


def test_the_watchdog_answers_overruns_once_and_counts_them_until_they_end():
    watchdog = Watchdog()
    answered: list[int] = []
    try:
        watches = [watchdog.watch(time.monotonic() + 0.05, lambda n=n: answered.append(n)) for n in range(4)]
        quick = watchdog.watch(time.monotonic() + 5, lambda: answered.append(99))
        assert watchdog.done(quick)  # before its deadline: the request thread answers, the watchdog never does
        deadline = time.monotonic() + 5
        while len(answered) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(answered) == [0, 1, 2, 3] and watchdog.overdue == 4 and not watchdog.healthy
        assert not watchdog.done(watches[0])  # ended late: already answered, so nothing more to send
        assert watchdog.overdue == 3 and watchdog.healthy
    finally:
        watchdog.stop()
