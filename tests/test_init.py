"""`servegate init`: the generated projects pass every rule, and their modules' validations and servegate's rules
agree on what is insecure."""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.init import TARGETS, InitError, init_project, project_name, render
from servegate.model.terraform.evaluator import Scope, evaluate
from servegate.model.terraform.values import EvalError
from servegate.sources.hcl_loader import parse_hcl

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "src" / "servegate" / "templates"
BUNDLE = ROOT / "policies"
NAME = "fraud-scoring"

# The reusable module of each target, relative to the project.
MODULES = {
    "aws-sagemaker": "modules/sagemaker-endpoint",
    "gcp-vertex": "modules/vertex-endpoint",
    "azure-ml": "modules/azureml-endpoint",
    "kubernetes": "terraform/modules/irsa-serving-role",
}

# (target, module variable, secure value, insecure value, rule ids the insecure value makes fire). The example
# root passes each variable through under the same name, so `--var` reaches the module. An empty rule set marks
# a setting no built-in rule can judge (an image digest, a storage prefix outside AWS): the validation alone
# guards it.
FLIPS = [
    ("aws-sagemaker", "log_retention_days", "365", "30", {"MLS-LOG-001"}),
    ("aws-sagemaker", "capture_sampling_percentage", "100", "0", {"MLS-AWS-003"}),
    ("aws-sagemaker", "model_prefix", '"fraud-scoring"', '"*"', {"MLS-IAM-003"}),
    ("aws-sagemaker", "allowed_cidr_blocks", '["10.20.64.0/20"]', '["0.0.0.0/0"]', {"TF-NET-002"}),
    ("aws-sagemaker", "image", '"763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference@sha256:' + "a" * 64
     + '"', '"763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:latest"', set()),
    ("gcp-vertex", "consumer_projects", '["fraud-scoring-app"]', "[]", {"MLS-GCP-002"}),
    ("gcp-vertex", "request_log_sampling_rate", "1", "0", {"MLS-LOG-004-GCP"}),
    ("gcp-vertex", "model_prefix", '"fraud-scoring"', '"*"', set()),
    ("gcp-vertex", "image", '"europe-west4-docker.pkg.dev/acme/serving/predictor@sha256:' + "a" * 64 + '"',
     '"europe-west4-docker.pkg.dev/acme/serving/predictor:v1"', set()),
    ("azure-ml", "endpoint_auth_mode", '"AADToken"', '"Key"', {"MLS-AZ-005"}),
    ("azure-ml", "allowed_source_address_prefixes", '["10.30.0.0/20"]', '["0.0.0.0/0"]', {"TF-NET-002"}),
    ("azure-ml", "model_prefix", '"fraud-scoring"', '"*"', set()),
    ("azure-ml", "image", '"acme.azurecr.io/serving/predictor@sha256:' + "a" * 64 + '"',
     '"acme.azurecr.io/serving/predictor:latest"', set()),
    ("kubernetes", "model_prefix", '"fraud-scoring"', '"*"', set()),
    ("kubernetes", "service_account", '"fraud-scoring-serving"', '"*"', set()),
    ("kubernetes", "namespace", '"fraud-scoring"', '"*"', set()),
]


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("init")
    for target in TARGETS:
        init_project(target, base / target, NAME)
    return {target: base / target for target in TARGETS}


def scan(capsys, *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--fail-on", "info", "--format", "json"])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


def found(report: dict) -> set[tuple[str, str, int]]:
    return {(f["rule_id"], f["file"], f["line"]) for f in report["findings"]}


@functools.cache
def scan_options() -> str:
    """What `servegate scan --help` offers (the policy options land separately from this feature)."""
    return subprocess.run([sys.executable, "-m", "servegate", "scan", "--help"], capture_output=True, text=True,
                          check=True).stdout


def bundle_arguments(project: Path) -> list[str]:
    """The policy options CI passes, or a skip saying what is missing."""
    if "--policy" not in scan_options():
        pytest.skip("`servegate scan --help` lists no --policy option yet: the Rego bundle cannot be applied")
    if not BUNDLE.is_dir():
        pytest.skip(f"the Rego policy bundle {BUNDLE} is not in this checkout")
    if importlib.util.find_spec("opa_bindings") is None:
        pytest.skip("OPA's Python bindings (opa-golib-python-bindings) are not installed: see .ci/run")
    extra = [flag for flag in ("--all-namespaces", "--combine") if flag in scan_options()]
    return ["--policy", str(BUNDLE), "--policy", str(project / "policies"), *extra]


# --- what init writes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_init_writes_a_complete_project(target, projects):
    project = projects[target]
    written = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert {"README.md", ".github/workflows/servegate.yml", "policies/README.md", "policies/platform.rego",
            f"{MODULES[target]}/main.tf", f"{MODULES[target]}/variables.tf", f"{MODULES[target]}/outputs.tf",
            f"{MODULES[target]}/versions.tf"} <= written
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "%%" not in text, path
    assert NAME in (project / "README.md").read_text(encoding="utf-8")
    workflow = (project / ".github/workflows/servegate.yml").read_text(encoding="utf-8")
    assert "servegate scan ." in workflow and "--policy .servegate/policies" in workflow
    assert "--policy policies" in workflow


def test_kubernetes_target_has_manifests_and_the_cluster_identity(projects):
    project = projects["kubernetes"]
    assert sorted(p.name for p in (project / "k8s").iterdir()) == [
        "deployment.yaml", "mesh.yaml", "namespace.yaml", "networkpolicy.yaml", "poddisruptionbudget.yaml",
        "service.yaml", "serviceaccount.yaml"]
    assert (project / "terraform" / "main.tf").is_file()


def test_init_refuses_to_overwrite_without_force(tmp_path, capsys):
    project = tmp_path / "fraud-scoring"
    project.mkdir()
    readme = project / "README.md"
    readme.write_text("our notes\n")
    assert main(["init", "--target", "gcp-vertex", "--dir", str(project)]) == 2
    _, err = capsys.readouterr()
    assert f"1 file(s) already exist ({readme}); nothing was written (use --force to overwrite them)" in err
    assert list(project.iterdir()) == [readme] and readme.read_text() == "our notes\n"
    assert main(["init", "--target", "gcp-vertex", "--dir", str(project), "--force"]) == 0
    assert readme.read_text(encoding="utf-8").startswith("# fraud-scoring: a Vertex AI endpoint")
    assert (project / "modules" / "vertex-endpoint" / "main.tf").is_file()


def test_force_replaces_a_symbolic_link_not_its_target(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("keep\n")
    project = tmp_path / "fraud-scoring"
    project.mkdir()
    (project / "README.md").symlink_to(outside)
    init_project("kubernetes", project, force=True)
    assert outside.read_text() == "keep\n"
    assert not (project / "README.md").is_symlink()


def test_project_name_comes_from_the_directory_or_must_fit(tmp_path):
    assert project_name(tmp_path / "Fraud_Scoring") == "fraud-scoring"
    with pytest.raises(InitError, match="--name"):
        project_name(tmp_path, "Fraud Scoring!")
    with pytest.raises(InitError, match="directory name"):
        project_name(tmp_path / "x")
    with pytest.raises(InitError, match="unknown target"):
        render("openstack", NAME)


def test_substitution_leaves_terraform_and_actions_syntax_alone():
    files = {path.as_posix(): text for path, text in render("aws-sagemaker", "churn").items()}
    assert '"/aws/sagemaker/Endpoints/${var.name}"' in files["modules/sagemaker-endpoint/main.tf"]
    assert "${{ env.SERVEGATE_REF }}" in files[".github/workflows/servegate.yml"]
    assert 'name              = "churn"' in files["main.tf"]


def test_every_template_file_is_package_data():
    """setuptools' package-data glob skips dotfiles: hidden files are stored with the dot- prefix instead."""
    for path in TEMPLATES.rglob("*"):
        relative = path.relative_to(TEMPLATES)
        assert not any(part.startswith(".") for part in relative.parts), relative
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"servegate" = ["templates/**/*"]' in pyproject


# --- every rule passes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_generated_project_has_no_finding_with_the_built_in_rules(target, projects, capsys):
    code, report = scan(capsys, str(projects[target]))
    assert report["findings"] == [] and report["errors"] == [] and report["warnings"] == []
    assert report["summary"]["files_scanned"] >= 9
    assert code == 0


def test_generated_projects_have_no_finding_with_the_policy_bundle(projects, capsys):
    """One scan over the four projects (the OPA worker starts once); the team policies are the same in each."""
    parent = projects["kubernetes"].parent
    code, report = scan(capsys, str(parent), *bundle_arguments(projects["kubernetes"]))
    assert report["findings"] == [] and report["errors"] == []
    iac = [p for p in parent.rglob("*") if p.suffix in (".tf", ".tfvars", ".yaml", ".yml")]
    assert report["summary"]["files_scanned"] == len(iac)
    assert code == 0


@pytest.mark.parametrize("target", TARGETS)
def test_terraform_files_are_formatted(target, projects):
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("no terraform binary on PATH: `terraform fmt -check` cannot run")
    result = subprocess.run([terraform, "fmt", "-check", "-recursive", "-no-color", str(projects[target])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- an insecure value: the module's validation rejects it, and servegate's rule reports it -------------------

def hcl_value(text: str):
    return evaluate(parse_hcl(f"v = {text}\n").body.attributes["v"].expr, Scope(_no_names))


def _no_names(root, steps, scope):
    raise EvalError(f"no names here ({root})")


def validations(project: Path, target: str, variable: str) -> list:
    body = parse_hcl((project / MODULES[target] / "variables.tf").read_text(encoding="utf-8")).body
    block = next(b for b in body.blocks_of("variable") if b.labels == (variable,))
    return [v.body.attributes["condition"].expr for v in block.body.blocks_of("validation")]


def holds(condition, variable: str, value) -> object:
    def resolve(root, steps, scope):
        if root == "var" and steps and steps[0] == variable:
            return value, 1
        raise EvalError(f"unexpected reference {root}.{'.'.join(steps)}")

    return evaluate(condition, Scope(resolve))


@pytest.mark.parametrize("target, variable, secure, insecure, rule_ids", FLIPS,
                         ids=[f"{t}-{v}" for t, v, *_ in FLIPS])
def test_module_validation_rejects_the_insecure_value(target, variable, secure, insecure, rule_ids, projects):
    conditions = validations(projects[target], target, variable)
    assert conditions, f"variable {variable} of {MODULES[target]} has no validation block"
    assert [holds(c, variable, hcl_value(secure)) for c in conditions] == [True] * len(conditions)
    assert [holds(c, variable, hcl_value(insecure)) for c in conditions] == [False] * len(conditions)


@pytest.mark.parametrize("target, variable, secure, insecure, rule_ids", [f for f in FLIPS if f[4]],
                         ids=[f"{t}-{v}" for t, v, _, _, r in FLIPS if r])
def test_insecure_value_makes_the_rule_fire(target, variable, secure, insecure, rule_ids, projects, capsys):
    code, report = scan(capsys, str(projects[target]), "--var", f"{variable}={insecure}")
    assert {f["rule_id"] for f in report["findings"]} == rule_ids
    assert report["errors"] == []
    assert code == 1
    # Through the module: each finding points inside it and names the command line that set the value.
    for finding in report["findings"]:
        assert finding["file"].startswith(MODULES[target] + "/"), finding
        assert any(r["message"] == f"--var {variable}" for r in finding["related"]), finding


def test_insecure_value_in_terraform_tfvars_makes_the_rule_fire(tmp_path, capsys):
    project = tmp_path / NAME
    init_project("aws-sagemaker", project)
    tfvars = project / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text(encoding="utf-8") + "log_retention_days = 7\n", encoding="utf-8")
    code, report = scan(capsys, str(project))
    line = next(n for n, text in enumerate((project / MODULES["aws-sagemaker"] / "main.tf").read_text().splitlines(),
                                           start=1) if "retention_in_days = var.log_retention_days" in text)
    assert found(report) == {("MLS-LOG-001", f"{MODULES['aws-sagemaker']}/main.tf", line)}
    assert code == 1


# --- the Kubernetes manifests: each hardening setting, undone, is reported where it was undone -----------------

SCRIPT = "- >-\n              exec tritonserver"  # Triton's flags are words of this sh -c script

# (file, secure text, insecure text, rule ids, the text whose line they are reported on: None for the change's)
MANIFEST_FLIPS = [
    ("k8s/deployment.yaml", "automountServiceAccountToken: false", "automountServiceAccountToken: true",
     {"MLS-K8S-010"}, None),
    ("k8s/deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", {"KUBE-010"}, None),
    ("k8s/deployment.yaml", "--allow-grpc=false", "--allow-grpc=true", {"MLS-SRV-006"}, SCRIPT),
    ("k8s/deployment.yaml", "--http-restricted-api=", "--x-unknown-flag=", {"MLS-SRV-006"}, SCRIPT),
    ("k8s/deployment.yaml", "@sha256:" + "0" * 64, "", {"MLS-K8S-012"}, None),
    ("k8s/service.yaml", "type: ClusterIP", "type: LoadBalancer", {"MLS-NET-001"}, None),
    ("k8s/mesh.yaml", "mode: STRICT", "mode: PERMISSIVE", {"MLS-MESH-001"}, None),
    ("k8s/mesh.yaml", "spec: {}", "spec:\n  action: ALLOW\n  rules:\n    - {}", {"MLS-MESH-002"}, "    - {}"),
]


def line_of(text: str, snippet: str) -> int:
    assert text.count(snippet) == 1, snippet
    return text[:text.index(snippet)].count("\n") + 1


def flipped(project: Path, tmp_path: Path, file: str, secure: str, insecure: str) -> tuple[Path, int]:
    """A copy of ``project`` with ``secure`` replaced in ``file``, and the line of the change."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    path = copy / file
    text = path.read_text(encoding="utf-8")
    line = line_of(text, secure)
    path.write_text(text.replace(secure, insecure), encoding="utf-8")
    return copy, line


@pytest.mark.parametrize("file, secure, insecure, rule_ids, anchor", MANIFEST_FLIPS,
                         ids=[insecure.split("\n")[0] or "no-digest" for _, _, insecure, _, _ in MANIFEST_FLIPS])
def test_undoing_a_manifest_setting_is_reported_where_it_was_undone(file, secure, insecure, rule_ids, anchor,
                                                                    projects, tmp_path, capsys):
    project, line = flipped(projects["kubernetes"], tmp_path, file, secure, insecure)
    if anchor is not None:
        line = line_of((project / file).read_text(encoding="utf-8"), anchor)
    code, report = scan(capsys, str(project))
    assert {(rule, file, line) for rule in rule_ids} <= found(report)
    assert code == 1


def test_removing_egress_from_default_deny_is_reported(projects, tmp_path, capsys):
    secure = "  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n"
    project, _ = flipped(projects["kubernetes"], tmp_path, "k8s/networkpolicy.yaml", secure,
                         "  podSelector: {}\n  policyTypes:\n    - Ingress\n")
    code, report = scan(capsys, str(project))
    assert {f["rule_id"] for f in report["findings"]} == {"MLS-K8S-014"}
    assert code == 1


def test_bundle_and_team_policies_report_what_they_guard(projects, tmp_path, capsys):
    project, _ = flipped(projects["kubernetes"], tmp_path, "k8s/mesh.yaml", "mode: STRICT", "mode: PERMISSIVE")
    service = project / "k8s" / "service.yaml"
    text = service.read_text(encoding="utf-8")
    service.write_text(text.replace(f'    app.kubernetes.io/part-of: "{NAME}"\n', "", 1), encoding="utf-8")
    code, report = scan(capsys, str(project), *bundle_arguments(project))
    assert {f["rule_id"] for f in report["findings"]} == {"MLS-MESH-001", "SGP-NET-004", "PLATFORM-002"}
    assert ("PLATFORM-002", "k8s/service.yaml", 4) in found(report)
    assert code == 1
