"""Hostile and broken input: each bad file gets an error naming it, and every other file is still scanned.

Memory and time stay bounded by construction: alias bombs and deep nesting are refused before anything is
built from them, oversized files are refused before they are read (and never read past the limit), pipes
and devices are never opened for reading. So the tests assert the refusal and the other files' findings,
never timings. Discovery and the simpler cases (an unreadable or empty YAML file, a YAML link leaving the
root, binary or non-UTF-8 YAML) are in ``test_scan_inputs.py``; the YAML loader's guards in
``test_yaml_loader.py``.
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
import weakref
from pathlib import Path

import pytest

from servegate.cli import main
from servegate.model.workloads import pod_specs
from servegate.render import RenderOptions
from servegate.scan import DEFAULT_MAX_FILE_SIZE, ScanOptions, scan
from servegate.sources.embedded import decode_json
from servegate.sources.yaml_loader import MAX_DEPTH

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox:1.36
    securityContext: {privileged: true}
"""

OPEN_SAGEMAKER_MODEL = """\
resource "aws_sagemaker_model" "m" {
  name                     = "m"
  enable_network_isolation = false
  execution_role_arn       = "arn:aws:iam::123456789012:role/r"
  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1"
  }
}
"""

OPTIONS = ScanOptions(render=RenderOptions(skip_render=True))


def _good_files(folder: Path) -> None:
    """One manifest and one Terraform file whose findings must survive whatever else is in the scan."""
    (folder / "good.yaml").write_text(PRIVILEGED_POD)
    (folder / "good.tf").write_text(OPEN_SAGEMAKER_MODEL)


def _assert_good_files_scanned(result, prefix: str = "") -> None:
    found = {(f.rule_id, f.location.file, f.location.line) for f in result.findings}
    assert ("KUBE-001", f"{prefix}good.yaml", 8) in found
    assert ("MLS-AWS-001", f"{prefix}good.tf", 3) in found


def _errors(result) -> list[tuple[str, int, str]]:
    return [(e.file, e.line, e.message) for e in result.errors]


def test_yaml_alias_bomb_is_refused_and_the_rest_scanned(tmp_path: Path):
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):  # 9**9 nodes once expanded
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    (tmp_path / "bomb.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n" +
                                        "".join(f"  {level}\n" for level in levels))
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert [(file, line) for file, line, _ in _errors(result)] == [("bomb.yaml", 10)]
    assert "alias bomb" in result.errors[0].message
    _assert_good_files_scanned(result)


def _alias_bomb(indent: str) -> str:
    """YAML lines whose last anchor expands to 2**40 lists once its aliases are followed."""
    levels = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 41)]
    return "".join(f"{indent}{level}\n" for level in levels)


EMBEDDED_BOMBS = {
    "ray.yaml": "apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: llm}\nspec:\n  serveConfigV2: |\n"
                + _alias_bomb("    ") + "    applications: [{name: llm, args: *a40}]\n",
    "helm.tf": 'resource "helm_release" "llm" {\n  name   = "llm"\n  values = [<<-EOT\n'
               + _alias_bomb("    ") + "    env: *a40\n    EOT\n  ]\n}\n",
}


@pytest.mark.parametrize("name", sorted(EMBEDDED_BOMBS))
def test_an_alias_bomb_inside_a_value_is_not_followed(tmp_path: Path, name: str):
    # YAML inside a value (a Ray Serve config, Helm values in Terraform) is read with the files' guards: rules
    # that walk it would otherwise visit 2**40 nodes.
    (tmp_path / name).write_text(EMBEDDED_BOMBS[name])
    _good_files(tmp_path)
    results: list = []
    scanning = threading.Thread(target=lambda: results.append(scan([tmp_path], OPTIONS)), daemon=True)
    scanning.start()
    scanning.join(timeout=60)  # a bound on the failure, not a timing: the scan takes well under a second
    assert results, "the scan did not end"
    assert not results[0].errors
    _assert_good_files_scanned(results[0])


def _embedded_deep_json(name: str, depth: int) -> str:
    deep = "[" * depth + "]" * depth
    return {
        "policy.tf": 'resource "aws_iam_policy" "p" {\n  name   = "p"\n  policy = "' + deep + '"\n}\n',
        "secret.tf": 'resource "kubernetes_secret" "s" {\n  metadata { name = "s" }\n  data = {\n    "config.json" = '
                     '"{\\"a\\": ' + deep + '}"\n  }\n}\n',
        "ray.yaml": "apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: r}\nspec:\n  serveConfigV2: '"
                    + deep + "'\n",
    }[name]


@pytest.mark.parametrize("name", ["policy.tf", "secret.tf", "ray.yaml"])
def test_deeply_nested_json_inside_a_value_reads_as_invalid(tmp_path: Path, name: str):
    # A policy or config string too deep for Python's JSON decoder is an invalid one, not an internal error in
    # each rule that reads it.
    (tmp_path / name).write_text(_embedded_deep_json(name, 100_000))
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert not result.errors
    _assert_good_files_scanned(result)


def test_embedded_json_nests_no_deeper_than_files_may():
    # Rules walk what they decode recursively: past the YAML loader's limit, embedded JSON is invalid too.
    deepest = decode_json('{"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}")
    for _ in range(MAX_DEPTH - 1):
        deepest = deepest["a"] if isinstance(deepest, dict) else deepest[0]
    assert deepest == []
    with pytest.raises(ValueError, match=f"deeper than {MAX_DEPTH} levels"):
        decode_json('{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}")


@pytest.mark.parametrize(("name", "text", "error"), [
    ("deep.yaml", "apiVersion: v1\nkind: Pod\nspec: " + "[" * 300 + "]" * 300 + "\n",
     (3, "nesting deeper than 200 levels")),
    ("deep_block.yaml", "apiVersion: v1\nkind: Pod\n" + "".join(f"{'  ' * i}k{i}:\n" for i in range(250)),
     (203, "nesting deeper than 200 levels")),  # the 201st mapping starts on line 203
    ("deep.json", '{"apiVersion": "v1", "kind": "Pod", "spec": ' + "[" * 300 + "]" * 300 + "}",
     (1, "nesting deeper than 200 levels")),
    ("very_deep.json", "[" * 100_000 + "]" * 100_000,
     (1, "invalid YAML: while increasing flow level exceeded maximum nesting depth")),
    ("deep.tf", "locals {\n  a = " + "[" * 100_000 + "]" * 100_000 + "\n}\n",
     (2, "invalid HCL: nesting too deep (more than 200 levels)")),
    ("deep_blocks.tf", "".join(f"b{i} {{\n" for i in range(300)) + "}\n" * 300,
     (201, "invalid HCL: nesting too deep (more than 200 levels)")),
    ("deep.tf.json", '{"locals": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}",
     (1, "invalid HCL: nesting too deep (more than 200 levels)")),
])
def test_deep_nesting_is_refused(tmp_path: Path, name: str, text: str, error: tuple[int, str]):
    (tmp_path / name).write_text(text)
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert _errors(result) == [(name, *error)]
    _assert_good_files_scanned(result)


def test_a_100_mb_file_is_refused_without_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    big = tmp_path / "huge.yaml"
    with big.open("wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 2**20)
    _good_files(tmp_path)
    opened: list[str] = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        opened.append(os.path.basename(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    result = scan([tmp_path], OPTIONS)
    assert _errors(result) == [
        ("huge.yaml", 0, f"file is {100 * 2**20} bytes, over the {DEFAULT_MAX_FILE_SIZE}-byte limit; not scanned")]
    assert "huge.yaml" not in opened
    _assert_good_files_scanned(result)


def test_a_100_mb_file_under_a_raised_limit_is_read_once_and_judged(tmp_path: Path):
    with (tmp_path / "huge.json").open("wb") as handle:
        handle.truncate(100 * 2**20)  # all NUL bytes: binary
    _good_files(tmp_path)
    result = scan([tmp_path], ScanOptions(max_file_size=200 * 2**20, render=RenderOptions(skip_render=True)))
    assert _errors(result) == [
        ("huge.json", 0, "binary content (NUL bytes) in a file with an IaC extension; not scanned")]
    _assert_good_files_scanned(result)


@pytest.mark.parametrize("name", ["bin.tf", "bin.tfvars", "bin.tf.json", "bin.json", "bin.yml"])
def test_binary_file_with_an_iac_extension(tmp_path: Path, name: str):
    (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert _errors(result) == [(name, 0, "binary content (NUL bytes) in a file with an IaC extension; not scanned")]
    _assert_good_files_scanned(result)


@pytest.mark.parametrize(("name", "content"), [
    ("latin1.tf", b'locals {\n  name = "caf\xe9"\n}\n'),
    ("latin1.tfvars.json", b'{\n  "name": "caf\xe9"\n}\n'),
    ("latin1.json", b'{\n  "name": "caf\xe9"\n}\n'),
])
def test_invalid_utf8_outside_yaml(tmp_path: Path, name: str, content: bytes):
    (tmp_path / name).write_bytes(content)
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert _errors(result) == [(name, 2, f"not valid UTF-8 (byte {content.index(0xE9)}); not scanned")]
    _assert_good_files_scanned(result)


def test_symbolic_link_loops(tmp_path: Path):
    _good_files(tmp_path)
    os.symlink(tmp_path / "ping.yaml", tmp_path / "pong.yaml")
    os.symlink(tmp_path / "pong.yaml", tmp_path / "ping.yaml")
    os.symlink(tmp_path / "self.tf", tmp_path / "self.tf")
    os.symlink(tmp_path, tmp_path / "again")  # a folder loop: folder links are never walked
    result = scan([tmp_path], OPTIONS)
    loop = "cannot read file: Too many levels of symbolic links"
    assert _errors(result) == [("ping.yaml", 0, loop), ("pong.yaml", 0, loop), ("self.tf", 0, loop)]
    _assert_good_files_scanned(result)
    # Named on the command line, a loop is the same error, not a crash while choosing the scan root.
    assert _errors(scan([tmp_path / "self.tf"], OPTIONS)) == [("self.tf", 0, loop)]


def test_links_leaving_the_root_are_followed_only_when_asked(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pod.yaml").write_text(PRIVILEGED_POD)
    (outside / "model.tf").write_text(OPEN_SAGEMAKER_MODEL)
    root = tmp_path / "root"
    root.mkdir()
    _good_files(root)
    os.symlink(outside / "model.tf", root / "linked.tf")
    os.symlink(outside, root / "linked_folder")
    result = scan([root], OPTIONS)
    assert [(s.file, s.reason) for s in result.skipped] == [
        ("linked.tf", "symbolic link pointing outside the scan root")]
    assert not result.errors and result.files_scanned == 2
    _assert_good_files_scanned(result)
    followed = scan([root], ScanOptions(follow_outside_links=True, render=RenderOptions(skip_render=True)))
    assert followed.files_scanned == 3 and not followed.skipped
    assert ("MLS-AWS-001", "linked.tf", 3) in {(f.rule_id, f.location.file, f.location.line)
                                               for f in followed.findings}


def test_a_root_reached_through_a_link_names_files_as_the_real_root_does(tmp_path: Path):
    real = tmp_path / "real"
    (real / "k8s").mkdir(parents=True)
    _good_files(real / "k8s")
    os.symlink(real, tmp_path / "linked")  # like a /tmp that is a link to another disk
    direct = scan([real / "k8s"], OPTIONS)
    through_link = scan([tmp_path / "linked" / "k8s", tmp_path / "linked" / "k8s" / "good.yaml"], OPTIONS)
    _assert_good_files_scanned(through_link)
    assert [(f.rule_id, f.location) for f in through_link.findings] == \
        [(f.rule_id, f.location) for f in direct.findings]


def test_kustomize_lookup_of_a_file_named_by_its_absolute_path_ends():
    # Files outside the root are named by their absolute path; climbing their folders must stop at "/".
    from servegate.model.k8s import Inventory

    found: list = []
    lookup = threading.Thread(target=lambda: found.append(
        Inventory.of([]).kustomize.reaching("/outside/the/root/pod.yaml")), daemon=True)
    lookup.start()
    lookup.join(timeout=30)
    assert found == [[]]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_with_an_iac_extension_is_never_opened(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it for reading would block until a writer comes
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert _errors(result) == [("pipe.yaml", 0, "not a regular file (a pipe, socket or device); not scanned")]
    _assert_good_files_scanned(result)


@pytest.mark.parametrize("name", ["empty.yml", "empty.json", "empty.tf", "empty.tfvars"])
def test_empty_files_are_valid_and_empty(tmp_path: Path, name: str):
    (tmp_path / name).write_bytes(b"")
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert not result.errors and result.files_scanned == 3
    _assert_good_files_scanned(result)


@pytest.mark.parametrize("name", ["empty.tf.json", "empty.tfvars.json"])
def test_empty_terraform_json_is_invalid_as_terraform_says(tmp_path: Path, name: str):
    (tmp_path / name).write_bytes(b"")
    _good_files(tmp_path)
    result = scan([tmp_path], OPTIONS)
    assert _errors(result) == [(name, 1, "invalid HCL: unexpected end of JSON input")]
    _assert_good_files_scanned(result)


def _while_scanning(change):
    """Options whose progress hook runs ``change`` once, after discovery and before the first file is read."""
    done: list[bool] = []

    def progress(count: int, total: int) -> None:
        if not done:
            done.append(True)
            change()

    return ScanOptions(progress=progress, max_file_size=4096, render=RenderOptions(skip_render=True))


def test_files_changing_while_being_scanned(tmp_path: Path):
    for name in ("a_deleted.yaml", "b_grown.yaml", "c_piped.yaml"):
        (tmp_path / name).write_text(PRIVILEGED_POD)
    (tmp_path / "d_rewritten.yaml").write_text("kind: ConfigMap\n")
    _good_files(tmp_path)

    def change() -> None:
        (tmp_path / "a_deleted.yaml").unlink()
        (tmp_path / "b_grown.yaml").write_text(PRIVILEGED_POD + "#" * 5000 + "\n")
        (tmp_path / "c_piped.yaml").unlink()
        os.mkfifo(tmp_path / "c_piped.yaml")
        (tmp_path / "d_rewritten.yaml").write_text("\n\n" + PRIVILEGED_POD)  # the text read is the text located

    result = scan([tmp_path], _while_scanning(change))
    assert _errors(result) == [
        ("a_deleted.yaml", 0, "cannot read file: No such file or directory"),
        ("b_grown.yaml", 0, f"file is {len(PRIVILEGED_POD) + 5001} bytes, over the 4096-byte limit; not scanned"),
        ("c_piped.yaml", 0, "not a regular file (a pipe, socket or device); not scanned"),
    ]
    assert ("KUBE-001", "d_rewritten.yaml", 10) in {(f.rule_id, f.location.file, f.location.line)
                                                    for f in result.findings}
    _assert_good_files_scanned(result)


# --- Memory without the cycle collector ---------------------------------------------------------------

EXAMPLES = Path(__file__).parents[1] / "examples"


def _cyclic_garbage_of_scan(folder: Path) -> tuple[int, int]:
    """(objects scanned, objects left in reference cycles) by one scan of ``folder``."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collection finds, to count it
    try:
        result = scan([folder], ScanOptions(jobs=1))
        gc.collect()
        return result.objects, len(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_scan_leaves_no_reference_cycles_per_object(tmp_path: Path):
    """A scan runs without the cycle collector, so what it drops must go by reference counting: a cycle made per
    document or per pod (a recursive closure, a pod spec and its containers pointing at each other, as before
    pod specs were memoised) would hold memory in proportion to the input until the scan ends."""
    for copies in (1, 4):
        for index in range(copies):
            shutil.copytree(EXAMPLES, tmp_path / f"x{copies}" / f"copy{index}")
    objects_1, garbage_1 = _cyclic_garbage_of_scan(tmp_path / "x1")
    objects_4, garbage_4 = _cyclic_garbage_of_scan(tmp_path / "x4")
    assert objects_4 == 4 * objects_1 > 0
    assert (garbage_4 - garbage_1) / (objects_4 - objects_1) < 3  # about 1.3 now; 54 with the cycles


def test_the_scan_restores_the_collector():
    assert gc.isenabled()
    scan([EXAMPLES / "ml-serving" / "triton.yaml"])
    assert gc.isenabled()
    gc.disable()
    try:
        scan([EXAMPLES / "ml-serving" / "triton.yaml"])
        assert not gc.isenabled()
    finally:
        gc.enable()
    # the command keeps it off until the report is written, then restores it
    assert main(["scan", str(EXAMPLES / "ml-serving" / "triton.yaml"), "--format", "json"]) == 1
    assert gc.isenabled()


def test_nothing_keeps_a_scans_model_once_its_result_is_dropped():
    """Indexes rules share live in the scan's inventories (``memo``), never in a rule module, where the last
    scan's whole model would stay in memory: in the admission webhook, the last request's."""
    azure = Path(__file__).parent / "fixtures" / "rules" / "MLS-ART-001-AZ"  # Azure's rules index storage too
    result = scan([EXAMPLES, azure])  # Terraform and Kubernetes: both layers' rules and their indexes run
    inventory = result.inventory
    assert {f.rule_id for f in result.findings} >= {"MLS-ART-001-AZ", "MLS-SRV-001"}
    pod = weakref.ref(next(p for obj in inventory.objects for p in pod_specs(obj, inventory)))
    resource = weakref.ref(next(r for r in inventory.terraform.resources if r.type == "azurerm_storage_container"))
    del result, inventory
    gc.collect()
    assert pod() is None
    assert resource() is None
