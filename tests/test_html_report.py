"""The HTML report: self-contained, summary and findings exact, excerpts escaped and masked, exposure pictures
drawn from the resource graph, and the filters working in a real headless browser (Chromium)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.findings import Severity
from servegate.report.exposure import pictures
from servegate.report.html import _layers, render
from servegate.rules import BY_ID
from servegate.scan import ScanResult, scan

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ARTIFACTS = Path(__file__).parent / "artifacts"  # ignored by git; CI keeps it
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1280, 2000)

SERVING = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: triton, namespace: ml}
spec:
  selector: {matchLabels: {app: triton}}
  template:
    metadata: {labels: {app: triton}}
    spec:
      serviceAccountName: triton
      automountServiceAccountToken: false
      containers:
      - name: triton
        image: nvcr.io/nvidia/tritonserver:24.01-py3
        args: ["tritonserver", "--model-repository=s3://models-bucket/triton", "--id=</code><script>alert(1)</script>"]
        ports: [{containerPort: 8000, name: http}]
        env:
        - name: HF_TOKEN
          value: hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: triton, namespace: ml}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  name: triton
  namespace: ml
  annotations: {runbook: "https://bob:pa55word@wiki.example.com/triton"}
spec:
  type: LoadBalancer
  selector: {app: triton}
  ports: [{name: http, port: 8000, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: triton, namespace: ml}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: triton, port: {number: 8000}}}}
"""


class Dom(HTMLParser):
    """The elements the tests look at: findings with their excerpt lines, figures with their SVG boxes and
    edges, the severity cards, the count of shown findings."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.findings: list[dict] = []
        self.figures: list[dict] = []
        self.body: dict = {}
        self.cards: dict[str, str] = {}
        self.output = ""
        self._line: list | None = None  # [number, text] of the excerpt line being read
        self._in_number = False
        self._card: str | None = None
        self._in_output = False
        self.feed(text)
        for finding in self.findings:
            finding["hits"] = [number for number, _ in finding["hits"]]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "body":
            self.body = attributes
        elif tag == "article" and "finding" in classes:
            self.findings.append({**attributes, "lines": [], "hits": []})
        elif tag == "figure" and "exposure" in classes:
            self.figures.append({**attributes, "nodes": [], "links": []})
        elif tag == "g" and "node" in classes:
            self.figures[-1]["nodes"].append(attributes)
        elif tag == "path" and "link" in classes:
            self.figures[-1]["links"].append(attributes)
        elif tag == "span" and "line" in classes:
            self._line = [0, ""]
            if "hit" in classes:
                self.findings[-1]["hits"].append(self._line)
        elif tag == "span" and "ln" in classes:
            self._in_number = True
        elif tag == "button" and attributes.get("data-only-severity"):
            self._card = attributes["data-only-severity"]
        elif tag == "output":
            self._in_output = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._in_number:
            self._in_number = False
        elif tag == "span" and self._line is not None:
            self.findings[-1]["lines"].append(self._line)
            self._line = None
        elif tag == "output":
            self._in_output = False
        elif tag == "button":
            self._card = None

    def handle_data(self, data: str) -> None:
        if self._in_number:
            self._line[0] = int(data)
        elif self._line is not None:
            self._line[1] += data
        elif self._in_output:
            self.output += data
        elif self._card is not None and self._card not in self.cards and data.strip().isdigit():
            self.cards[self._card] = data.strip()


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "serving.yaml").write_text(SERVING, encoding="utf-8")
    return folder


def _finding(dom: Dom, rule_id: str) -> dict:
    found = [f for f in dom.findings if f["data-rule"] == rule_id]
    assert len(found) == 1, rule_id
    return found[0]


def test_cli_writes_an_html_report(serving: Path, tmp_path: Path):
    out = tmp_path / "report.html"
    assert main(["scan", str(serving), "--format", "html", "--output", str(out)]) == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert text.endswith("</html>\n")


def test_report_is_self_contained_and_its_policy_admits_only_its_own_style_and_script(serving: Path):
    text = render(scan([serving]))
    assert not re.search(r"<(?:link|img|iframe|object|embed)\b|\bsrc=|@import|url\((?!#)", text)
    style = re.search(r"<style>(.*?)</style>", text, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", text, re.S).group(1)
    assert text.count("<script") == 1 and text.count("<style") == 1

    def digest(body: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()

    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert policy == (f"default-src 'none'; style-src '{digest(style)}'; script-src '{digest(script)}'; "
                      f"base-uri 'none'; form-action 'none'")


def test_summary_counts_every_visible_finding_by_severity_and_family():
    result = scan([EXAMPLES])
    dom = Dom(render(result))
    expected = Counter(f.severity.label for f in result.findings if not f.suppressed)
    assert dom.cards == {s.label: str(expected.get(s.label, 0)) for s in Severity}
    assert len(dom.findings) == sum(expected.values())
    families = Counter(BY_ID[f.rule_id].family for f in result.findings if f.rule_id in BY_ID)
    assert Counter(f["data-family"] for f in dom.findings) == families
    assert dom.output == f"{len(dom.findings)} of {len(dom.findings)} findings shown"


def test_finding_shows_its_source_lines_and_the_rules_fix(serving: Path):
    text = render(scan([serving]))
    dom = Dom(text)
    exposed = _finding(dom, "MLS-NET-001")
    assert exposed["data-severity"] == "critical" and exposed["data-family"] == "network"
    assert exposed["lines"] == [[30, "  annotations: {runbook: \"https://…@wiki.example.com/triton\"}"],
                                [31, "spec:"], [32, "  type: LoadBalancer"], [33, "  selector: {app: triton}"],
                                [34, "  ports: [{name: http, port: 8000, targetPort: http}]"]]
    assert exposed["hits"] == [32]
    remediation = " ".join(BY_ID["MLS-NET-001"].remediation.split())
    gist = remediation[: remediation.find(". ") + 1]
    article = re.search(r'<article[^>]*data-rule="MLS-NET-001".*?</article>', text, re.S).group(0)
    fix = re.search(r'<p class="fix"><strong>Fix:</strong> (.*?) <a href="#rule-MLS-NET-001">', article).group(1)
    assert re.sub(r"</?code>", "`", fix).replace("&quot;", '"').replace("&#x27;", "'") == gist
    assert '<article class="rule-card" id="rule-MLS-NET-001"' in text


def test_secrets_and_credentials_never_reach_the_report(serving: Path):
    text = render(scan([serving]))
    assert "hf_AbCdEfGh" not in text and "pa55word" not in text
    secret = _finding(Dom(text), "MLS-SEC-001")
    assert secret["hits"] == [18]
    assert dict(secret["lines"])[18] == "          value: hf_A…"


def test_scanned_text_is_escaped(serving: Path):
    text = render(scan([serving]))
    assert text.count("<script") == 1
    assert "&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_exposure_picture_follows_the_graph_and_marks_the_risky_edges(serving: Path):
    result = scan([serving])
    drawn, problems = pictures(result)
    assert problems == [] and [p.workload for p in drawn] == ["Deployment/ml/triton"]
    picture = drawn[0]
    assert {key: node.stage for key, node in picture.nodes.items()} == {
        "internet": "internet", "Ingress/ml/triton": "ingress", "Service/ml/triton": "service",
        "Deployment/ml/triton": "server", "ServiceAccount/ml/triton": "identity", "s3://models-bucket": "store"}
    assert set(picture.links) == {
        ("internet", "Ingress/ml/triton"), ("Ingress/ml/triton", "Service/ml/triton"),
        ("internet", "Service/ml/triton"), ("Service/ml/triton", "Deployment/ml/triton"),
        ("Deployment/ml/triton", "ServiceAccount/ml/triton"), ("Deployment/ml/triton", "s3://models-bucket")}
    exposed = picture.links[("internet", "Service/ml/triton")]
    assert exposed.notes == ["type LoadBalancer"] and not exposed.reported
    assert "MLS-NET-001" in {f.rule_id for f in exposed.findings} and exposed.severity == Severity.CRITICAL
    assert picture.links[("Deployment/ml/triton", "ServiceAccount/ml/triton")].findings == []  # no token mounted
    assert _layers(picture) == {"internet": 0, "Ingress/ml/triton": 1, "Service/ml/triton": 2,
                                "Deployment/ml/triton": 3, "ServiceAccount/ml/triton": 4, "s3://models-bucket": 4}
    figure = Dom(render(result)).figures[0]
    links = {(link["data-source"], link["data-target"]): link["class"].split() for link in figure["links"]}
    assert links[("internet", "Service/ml/triton")] == ["link", "sev-critical", "risky"]
    assert links[("Deployment/ml/triton", "ServiceAccount/ml/triton")] == ["link", "sev-none"]
    assert sorted(n["data-key"] for n in figure["nodes"]) == sorted(picture.nodes)


def test_examples_pictures_cover_kubernetes_and_sagemaker_paths():
    drawn = {p.workload: p for p in pictures(scan([EXAMPLES]))[0]}
    assert {"Deployment/ml-serving/triton", "RayCluster/ml-serving/batch-inference",
            "aws_sagemaker_model.fraud"} <= set(drawn)
    ray = drawn["RayCluster/ml-serving/batch-inference"]
    head = ray.links[("internet", "RayCluster/ml-serving/batch-inference (head)")]
    assert head.reported and "MLS-SRV-008" in {f.rule_id for f in head.findings}
    assert ("internet", "RayCluster/ml-serving/batch-inference (worker gpu)") not in ray.links
    sagemaker = drawn["aws_sagemaker_model.fraud"]
    assert set(sagemaker.links) == {("aws_sagemaker_endpoint.fraud", "aws_sagemaker_endpoint_configuration.fraud"),
                                    ("aws_sagemaker_endpoint_configuration.fraud", "aws_sagemaker_model.fraud"),
                                    ("aws_sagemaker_model.fraud", "aws_iam_role.fraud_endpoint"),
                                    ("aws_iam_role.fraud_endpoint", "s3://acme-ml-models-prod"),
                                    ("aws_sagemaker_model.fraud", "s3://acme-ml-models-prod")}
    grant = sagemaker.links[("aws_iam_role.fraud_endpoint", "s3://acme-ml-models-prod")]
    assert "write" in grant.notes[0] and "MLS-IAM-001" in {f.rule_id for f in grant.findings}


def test_boxes_never_overlap_and_stay_inside_the_drawing():
    text = render(scan([EXAMPLES]))
    for svg in re.findall(r'<svg class="graph".*?</svg>', text, re.S):
        width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
        rectangles = re.findall(r'<rect x="(\S+)" y="(\S+)" width="(\S+)" height="(\S+)"', svg)
        boxes = [tuple(map(float, rectangle)) for rectangle in rectangles]
        for i, (x, y, w, h) in enumerate(boxes):
            assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
            for (x2, y2, w2, h2) in boxes[i + 1:]:
                assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_suppressed_findings_show_only_on_request_and_never_colour_a_path(tmp_path: Path):
    folder = tmp_path / "stack"
    folder.mkdir()
    waived = "  # servegate:ignore[MLS-NET-001] fronted by a WAF\n  type: LoadBalancer"
    (folder / "serving.yaml").write_text(SERVING.replace("  type: LoadBalancer", waived), encoding="utf-8")
    result = scan([folder])
    assert "MLS-NET-001" not in {f["data-rule"] for f in Dom(render(result)).findings}
    shown = _finding(Dom(render(result, show_suppressed=True)), "MLS-NET-001")
    assert shown["class"].split() == ["finding", "sev-critical", "suppressed"]
    note = '<p class="suppressed-note">Suppressed (inline): fronted by a WAF</p>'
    assert note in render(result, show_suppressed=True)
    exposed = pictures(result)[0][0].links[("internet", "Service/ml/triton")]
    assert "MLS-NET-001" not in {f.rule_id for f in exposed.findings}


def test_a_path_that_cannot_be_drawn_is_reported_and_the_rest_drawn(monkeypatch):
    from servegate.report import exposure

    draw = exposure._Builder.picture

    def fragile(self, workload, pods):
        if workload.ref == "Deployment/ml-serving/triton":
            raise RuntimeError("boom")
        return draw(self, workload, pods)

    monkeypatch.setattr(exposure._Builder, "picture", fragile)
    text = render(scan([EXAMPLES]))
    assert ('<p class="empty">the path of Deployment/ml-serving/triton could not be drawn (RuntimeError: boom).</p>'
            in text)
    workloads = [f["data-workload"] for f in Dom(text).figures]
    assert "Deployment/ml-serving/triton" not in workloads and "aws_sagemaker_model.fraud" in workloads


def test_report_without_graph_or_findings(tmp_path: Path):
    text = render(ScanResult(root=tmp_path))
    assert '<p class="empty">No exposure paths: this scan result carries no resource graph.</p>' in text
    assert '<p class="verdict">No findings in 0 files.</p>' in text
    assert Dom(text).findings == []


# -- in a real browser ------------------------------------------------------------------------------------
def _chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={profile}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def _visible(elements: list[dict]) -> list[dict]:
    return [e for e in elements if "hidden" not in e]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_filters_and_pictures_work_in_headless_chromium(tmp_path: Path):
    page = tmp_path / "examples-report.html"
    text = render(scan([EXAMPLES]))
    page.write_text(text, encoding="utf-8")
    static = Dom(text)

    dom = Dom(_chromium(tmp_path / "profile", "--dump-dom", f"{page.as_uri()}#severity=critical&q=triton").stdout)
    assert dom.body.get("data-ready") == "true"  # the script ran: the policy admitted it
    expected = [f["id"] for f in static.findings if f["data-severity"] == "critical" and "triton" in f["data-text"]]
    assert expected and len(expected) < len(static.findings)
    assert [f["id"] for f in _visible(dom.findings)] == expected
    assert dom.output == f"{len(expected)} of {len(static.findings)} findings shown"
    figures = _visible(dom.figures)
    assert [f["data-workload"] for f in figures] == [f["data-workload"] for f in static.figures
                                                    if "triton" in f["data-text"]]
    assert "Deployment/ml-serving/triton" in [f["data-workload"] for f in figures]
    triton = next(f for f in figures if f["data-workload"] == "Deployment/ml-serving/triton")
    assert {n["data-stage"] for n in triton["nodes"]} == {"internet", "ingress", "service", "server", "identity",
                                                          "store"}
    assert any("risky" in link["class"].split() for link in triton["links"])

    shot = tmp_path / "examples-report.png"
    _chromium(tmp_path / "profile", f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}",
              "--hide-scrollbars", page.as_uri())
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == WINDOW
    ARTIFACTS.mkdir(exist_ok=True)
    for artifact in (page, shot):
        shutil.copy(artifact, ARTIFACTS / artifact.name)
    print(f"report and screenshot kept in {ARTIFACTS}")
