"""Terraform evaluated as Terraform would: variables, tfvars, locals, modules, count/for_each, functions,
policy documents, unknowns, plans, and kubernetes_* resources through the Kubernetes rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servegate.model.terraform.iam import parse_policy
from servegate.model.terraform.loading import load_terraform
from servegate.model.terraform.values import Unknown, VariableInputs
from servegate.scan import ScanOptions, scan, select_rules

CASES = Path(__file__).parent / "fixtures" / "terraform"


def resources(case: str, inputs: VariableInputs = VariableInputs()) -> dict:
    root = CASES / case
    files = [(p, p.relative_to(root).as_posix(), p.read_text()) for p in sorted(root.rglob("*"))
             if p.suffix in (".tf", ".tfvars") and p.is_file()]
    loaded = load_terraform(files, inputs, lambda p: p.read_text(), root.resolve())
    assert loaded.errors == []
    return {r.address: r for r in loaded.project.resources()}


def test_tfvars_override_a_default_through_a_local_module():
    found = resources("module_tfvars")
    model = found["module.fraud_endpoint.aws_sagemaker_model.this"]
    assert model.values["enable_network_isolation"] is False  # terraform.tfvars beats the default
    assert model.values["name"] == "fraud-model"
    assert model.values["primary_container"][0]["model_data_url"] == "s3://acme-ml-models-prod/fraud/v3/model.tar.gz"
    assert isinstance(model.values["execution_role_arn"], Unknown)  # known only after apply
    assert model.file == "modules/endpoint/main.tf"
    assert model.span_of(("enable_network_isolation",))[0] == 10
    origins = [(loc.file, loc.line, text) for loc, text in model.provenance(("enable_network_isolation",))]
    assert origins == [
        ("main.tf", 18, "module 'fraud_endpoint' sets network_isolation"),
        ("terraform.tfvars", 1, "terraform.tfvars"),
        ("main.tf", 15, "module.fraud_endpoint instantiates this module"),
    ]


def test_command_line_variables_take_precedence(tmp_path: Path):
    var_file = tmp_path / "prod.tfvars"
    var_file.write_text('model_prefix = "fraud/v4"\n')
    found = resources("module_tfvars", VariableInputs(var_files=(var_file,), variables=("isolate=true",)))
    model = found["module.fraud_endpoint.aws_sagemaker_model.this"]
    assert model.values["enable_network_isolation"] is True
    assert model.values["primary_container"][0]["model_data_url"].endswith("/fraud/v4/model.tar.gz")


def test_remote_modules_are_not_fetched_but_their_calls_are_judged_by_inputs():
    found = resources("module_tfvars")
    assert [a for a in found if a.startswith("module.remote")] == ["module.remote"]
    call = found["module.remote"]
    assert (call.mode, call.type, call.values) == ("module", "module:terraform-aws-modules/s3-bucket/aws", {})
    assert not any(a.startswith("module.remote.") for a in found)  # nothing inside it is invented


def test_for_each_and_count_expand_with_terraform_addresses():
    found = resources("expansion")
    assert found['aws_s3_bucket.models["churn"]'].values["bucket"] == "acme-churn-churn-v7"
    assert found['aws_s3_bucket.models["fraud"]'].values["tags"] == {"team": "ml", "env": "prod"}
    assert [a for a in found if a.startswith("aws_s3_bucket_acl")] == ['aws_s3_bucket_acl.models["churn"]']
    assert found['aws_s3_bucket_acl.models["churn"]'].values["bucket"] == "acme-churn-churn-v7"
    assert found["aws_instance.worker[0]"].values["instance_type"] == "g5.xlarge"
    assert found["aws_instance.worker[1]"].values["instance_type"] == "t3.micro"
    assert not any(a.startswith("aws_instance.disabled") for a in found)


def test_jsonencode_policy_and_policy_document_data_source():
    found = resources("expansion")
    statements = parse_policy(found["aws_iam_policy.serve"].values["policy"])
    assert [(s.actions, s.resources) for s in statements] == [
        (("s3:GetObject",), ("arn:aws:s3:::acme-fraud-fraud-v3/fraud/v3/*",))
    ]
    written = parse_policy(found["aws_iam_policy.write"].values["policy"])
    assert written[0].allows_action("s3:PutObject") and written[0].covers_resource("arn:aws:s3:::acme-churn-churn-v7/x")
    assert not written[0].allows_action("s3:GetObject")


def test_unknown_values_are_explicit():
    found = resources("expansion")
    name = found["aws_iam_policy.serve"].values["name"]
    assert isinstance(name, Unknown) and "var.unset" in name.reason
    heredoc = found["aws_sagemaker_notebook_instance.nb"].values["lifecycle_config_name"]
    assert heredoc == "CHURN-config\n"


def test_kubernetes_resources_go_through_the_kubernetes_rules():
    result = scan([CASES / "k8s_resources"], ScanOptions(rules=select_rules(["KUBE-001", "KUBE-008", "MLS-K8S"])))
    found = {(f.rule_id, f.location.line, f.resource) for f in result.findings}
    assert ("MLS-K8S-001", 20, "kubernetes_deployment_v1.triton") in found or \
        ("KUBE-001", 20, "kubernetes_deployment_v1.triton") in found
    assert any(f.location.line == 15 and f.rule_id in ("KUBE-008", "MLS-K8S-004") for f in result.findings)


def test_a_plan_maps_back_to_source_or_reports_by_address():
    result = scan([CASES / "plan"], ScanOptions(rules=select_rules(["MLS-AWS-001"])))
    if not any(r.id == "MLS-AWS-001" for r in result.rules):
        pytest.skip("MLS-AWS-001 not registered")
    assert not result.errors
    model = next(f for f in result.findings if f.resource == "aws_sagemaker_model.fraud")
    assert model.location.file == "main.tf" and model.location.line == 6  # the plan says false


def test_plan_only_resources_are_located_in_the_plan():
    from servegate.model.terraform.plan import plan_resources
    from servegate.sources.yaml_loader import load_json_documents

    documents, error = load_json_documents((CASES / "plan" / "plan.json").read_text())
    assert error is None
    (model, bucket) = plan_resources("plan.json", documents[0].data)
    assert bucket.address == "module.capture.aws_s3_bucket.this"
    assert bucket.locate(("bucket",)).line == 28
    assert json.loads(json.dumps(model.values)) == {"name": "fraud", "enable_network_isolation": False}


def test_file_functions_read_inside_the_scan_only():
    import base64

    found = resources("files")
    setup = found["aws_sagemaker_notebook_instance_lifecycle_configuration.setup"].values
    assert base64.b64decode(setup["on_create"]).decode() == "#!/bin/bash\necho setup\n"
    assert base64.b64decode(setup["on_start"]).decode() == (
        "aws s3 sync s3://acme-models/notebooks /home/ec2-user/SageMaker\npip install torch\npip install vllm\n")
    flags = found["aws_ssm_parameter.flags"].values
    assert flags["value"] == '{"present":true}'
    assert isinstance(flags["description"], Unknown)  # /etc/hostname is outside the scan


def test_references_step_over_indexes_and_objects_are_not_null():
    from servegate.model.terraform.evaluator import Scope, evaluate, references
    from servegate.sources.hcl_loader import parse_hcl

    body = parse_hcl('a = azurerm_ml.ws[0].identity[0].principal_id\nb = { k = var.x } != null\n').body
    assert references(body.attributes["a"].expr) == {("azurerm_ml", ("ws", "identity", "principal_id"))}

    def unknown_var(root, steps, scope):
        return Unknown("var.x has no value"), 1

    assert evaluate(body.attributes["b"].expr, Scope(unknown_var)) is True


def test_one_failing_resource_is_reported_and_the_others_evaluated(monkeypatch):
    import servegate.model.terraform.config as config

    real = config.evaluate_body

    def flaky(body, scope, prefix, resource, top_level=False, target=None):
        if resource.type == "aws_sagemaker_notebook_instance" and top_level:
            raise RuntimeError("boom")
        return real(body, scope, prefix, resource, top_level, target)

    monkeypatch.setattr(config, "evaluate_body", flaky)
    root = CASES / "expansion"
    files = [(p, p.relative_to(root).as_posix(), p.read_text()) for p in sorted(root.glob("*.tf"))]
    loaded = load_terraform(files, VariableInputs(), lambda p: p.read_text(), root.resolve())
    addresses = {r.address for r in loaded.project.resources()}
    assert "aws_instance.worker[0]" in addresses
    assert [(e.file, e.message) for e in loaded.project.errors] == [
        ("main.tf", "internal error evaluating aws_sagemaker_notebook_instance.nb: RuntimeError: boom")]


def test_provenance_lists_variables_in_name_order_whatever_the_hash_seed(tmp_path: Path):
    # Read as a set, the references of `name` would come out in string-hash order, which changes run to run.
    (tmp_path / "main.tf").write_text(
        'variable "zone" {\n  default = "z"\n}\nvariable "app" {\n  default = "a"\n}\n'
        'locals {\n  suffix = "${var.zone}-${var.app}"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = "${var.zone}-${local.suffix}-${var.app}"\n}\n')
    loaded = load_terraform([(tmp_path / "main.tf", "main.tf", (tmp_path / "main.tf").read_text())],
                            VariableInputs(), lambda p: p.read_text(), tmp_path.resolve())
    bucket = next(r for r in loaded.project.resources() if r.address == "aws_s3_bucket.b")
    assert [text for _, text in bucket.provenance(("bucket",))] == ["default of variable 'app'", "default of variable 'zone'"]
