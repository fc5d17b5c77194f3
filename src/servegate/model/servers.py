"""Which model server or ML application a container runs, and the ports each one listens on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servegate.model.workloads import Container

# server -> (image substrings, programs in argv)
FINGERPRINTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "torchserve": (("torchserve",), ("torchserve",)),
    "triton": (("tritonserver", "triton-inference-server"), ("tritonserver",)),
    "tfserving": (("tensorflow/serving", "tensorflow-serving"), ("tensorflow_model_server",)),
    "ray": (("rayproject/ray", "ray-ml", "/ray:"), ("ray",)),
    "mlflow": (("mlflow",), ("mlflow",)),
    "jupyter": (("jupyter", "notebook-server", "/notebooks/"), ("jupyter", "jupyter-lab", "jupyter-notebook",
                                                                "start-notebook.sh", "start-notebook.py",
                                                                "start-singleuser.sh", "jupyterhub-singleuser")),
    "vllm": (("vllm",), ("vllm",)),
    "sglang": (("sglang",), ("sglang",)),
    "tgi": (("text-generation-inference",), ("text-generation-launcher",)),
    "tei": (("text-embeddings-inference",), ("text-embeddings-router",)),
    "ollama": (("ollama/ollama", "/ollama:"), ("ollama",)),
    "gradio": (("gradio",), ("gradio",)),
    "streamlit": (("streamlit",), ("streamlit",)),
    "tensorboard": (("tensorboard",), ("tensorboard",)),
    "langflow": (("langflow",), ("langflow",)),
    "kserve": (("kserve/sklearnserver", "kserve/xgbserver", "kserve/lgbserver", "kserve/pmmlserver",
                "kserve/paddleserver", "kserve/huggingfaceserver", "kserve/torchserve-kfs", "kserve/custom-model",
                "kfserving/sklearnserver", "kfserving/xgbserver"), ()),
    "seldon": (("seldonio/mlserver", "seldonio/sklearnserver", "seldonio/xgboostserver", "seldonio/mlflowserver",
                "seldonio/tfserving-proxy", "seldonio/seldon-core-s2i", "seldonio/triton"), ()),
}
# Images of controllers and web front-ends whose names contain a server's name but serve no model.
NOT_SERVERS = ("web-app", "controller", "operator", "webhook", "storage-initializer", "kserve/agent", "kserve/router",
               "seldon-core-executor")

# Default ports by server: port -> role ("inference", "admin", "metrics", "control").
PORTS: dict[str, dict[int, str]] = {
    "torchserve": {8080: "inference", 7070: "inference", 8081: "admin", 7071: "admin", 8082: "metrics", 8085: "admin"},
    "triton": {8000: "inference", 8001: "inference", 8002: "metrics"},
    "tfserving": {8500: "inference", 8501: "inference"},
    "ray": {8000: "inference", 8265: "control", 10001: "control", 6379: "control", 52365: "control", 8080: "metrics"},
    "mlflow": {5000: "admin"},
    "jupyter": {8888: "control"},
    "vllm": {8000: "inference"},
    "sglang": {30000: "inference"},
    "tgi": {80: "inference", 3000: "inference", 8080: "inference"},
    "tei": {80: "inference", 3000: "inference", 8080: "inference"},
    "ollama": {11434: "admin"},
    "gradio": {7860: "control"},
    "streamlit": {8501: "control"},
    "tensorboard": {6006: "control"},
    "langflow": {7860: "control"},
    "kserve": {8080: "inference", 8081: "inference"},
    "seldon": {9000: "inference", 6000: "metrics"},
}

# Ports that only an ML control plane uses, recognisable even without the workload in the scan.
WELL_KNOWN_ADMIN_PORTS: dict[int, str] = {
    8081: "TorchServe management API", 7071: "TorchServe gRPC management API", 8265: "Ray dashboard and Jobs API",
    10001: "Ray client server", 6379: "Ray GCS", 5000: "MLflow tracking server", 8888: "Jupyter server",
    11434: "Ollama API",
}


def identify(container: Container) -> frozenset[str]:
    """The servers a container runs, from its image and its command line (memoised on the container)."""
    return container.servers


def fingerprint(container: Container) -> frozenset[str]:
    image = container.image.lower()
    if any(fragment in image for fragment in NOT_SERVERS):
        return frozenset()
    found = set()
    for server, (images, programs) in FINGERPRINTS.items():
        if any(fragment in image for fragment in images):
            found.add(server)
        elif programs and container.argv.has_program(*programs):
            found.add(server)
    if container.pod.obj.kind in ("RayCluster", "RayService", "RayJob") and container.pod.role != "submitter":
        found.add("ray")
    if container.default_name == "kserve-container":
        found.add("kserve")
    return frozenset(found)


def container_ports(container: Container) -> dict[str | int, int]:
    """Declared container ports by name and by number (both resolve ``targetPort``)."""
    ports: dict[str | int, int] = {}
    declared = container.get("ports")
    for port in declared if isinstance(declared, list) else ():
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            ports[port["containerPort"]] = port["containerPort"]
            if isinstance(port.get("name"), str):
                ports[port["name"]] = port["containerPort"]
    return ports
