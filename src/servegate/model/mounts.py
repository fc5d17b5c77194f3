"""Files a container sees from ConfigMaps in the scan (server config files such as config.properties)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Iterator

from servegate.model.k8s import K8sObject
from servegate.model.workloads import Container
from servegate.sources.located import Path


@dataclass(frozen=True, slots=True)
class MountedFile:
    path: str  # where the container sees it
    text: str
    configmap: K8sObject
    data_path: Path  # absolute path of the ConfigMap data key, for findings


def _configmap_sources(volume: dict) -> Iterator[dict]:
    if isinstance(volume.get("configMap"), dict):
        yield volume["configMap"]
    sources = volume.get("projected", {}).get("sources") if isinstance(volume.get("projected"), dict) else None
    for source in sources if isinstance(sources, list) else ():
        if isinstance(source, dict) and isinstance(source.get("configMap"), dict):
            yield source["configMap"]


def mounted_files(container: Container) -> list[MountedFile]:
    """Every ConfigMap key the container can read as a file, with its path inside the container."""
    found: list[MountedFile] = []
    namespace = container.obj.effective_namespace
    for _, mount in container.mounts():
        entry = container.pod.volume(str(mount.get("name")))
        mount_path = str(mount.get("mountPath") or "")
        if entry is None or not mount_path:
            continue
        for source in _configmap_sources(entry[1]):
            configmap = container.pod.inventory.find("ConfigMap", namespace, str(source.get("name")))
            data = configmap.get("data") if configmap is not None else None
            if configmap is None or not isinstance(data, dict):
                continue
            items = source.get("items")
            names = {str(i.get("key")): str(i.get("path")) for i in items if isinstance(i, dict)} \
                if isinstance(items, list) else {str(k): str(k) for k in data}
            sub_path = mount.get("subPath")
            for key, file_name in names.items():
                if key not in data or not isinstance(data[key], str):
                    continue
                if sub_path:
                    if sub_path != file_name:
                        continue
                    where = mount_path
                else:
                    where = posixpath.join(mount_path, file_name)
                found.append(MountedFile(where, data[key], configmap, configmap.at("data", key)))
    return found


def parse_properties(text: str) -> dict[str, tuple[str, int]]:
    """Java-style ``key=value`` lines: key -> (value, 0-based line within the text). Last one wins."""
    values: dict[str, tuple[str, int]] = {}
    for offset, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        for separator in ("=", ":"):
            if separator in line:
                key, value = line.split(separator, 1)
                values[key.strip()] = (value.strip(), offset)
                break
    return values
