# METADATA
# description: Kubernetes helpers shared by the servegate policies (pod specs, containers, model servers).
package lib.servegate.k8s

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}

# Images, names and labels of the model servers the platform runs.
model_server_pattern := `(?i)(triton|torchserve|vllm|text-generation-inference|tgi|tensorflow/serving|tf-serving|kserve|seldon|mlserver|ray-?(serve|cluster|head|project)|rayproject|mlflow|ollama|bentoml|sglang|inference|predictor|model-?serv)`

model_serving_kinds := {"InferenceService", "ServingRuntime", "ClusterServingRuntime", "SeldonDeployment", "RayService", "RayCluster", "LLMInferenceService"}

name(obj) := object.get(obj, ["metadata", "name"], "<unnamed>")

namespace(obj) := object.get(obj, ["metadata", "namespace"], "default")

# {[path, pod spec]} of an object: Pods, workloads, CronJobs, KServe components with containers.
pod_specs(obj) := {[["spec"], obj.spec]} if obj.kind == "Pod"

pod_specs(obj) := {[["spec", "template", "spec"], obj.spec.template.spec]} if obj.kind in workload_kinds

pod_specs(obj) := {[["spec", "jobTemplate", "spec", "template", "spec"], obj.spec.jobTemplate.spec.template.spec]} if {
	obj.kind == "CronJob"
}

pod_specs(obj) := {[["spec", component], obj.spec[component]] |
	some component in {"predictor", "transformer", "explainer"}
	obj.spec[component].containers
} if obj.kind == "InferenceService"

# {[path, container, pod spec]} of every container, init container and ephemeral container.
containers(obj) := {[array.concat(path, [field, i]), container, spec] |
	some [path, spec] in pod_specs(obj)
	some field in {"containers", "initContainers", "ephemeralContainers"}
	some i, container in spec[field]
}

is_model_server(obj) if obj.kind in model_serving_kinds

is_model_server(obj) if {
	some [_, container, _] in containers(obj)
	regex.match(model_server_pattern, object.get(container, "image", ""))
}

is_model_server(obj) if {
	obj.kind in workload_kinds
	some value in object.get(obj, ["metadata", "labels"], {})
	regex.match(model_server_pattern, value)
}
