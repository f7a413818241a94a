"""A small, offline kustomize: just the features deploy/k8s uses, so that `make test` can render and
validate the production overlay on a machine without kubectl.

Supported: resources (files and directories holding a kustomization.yaml), namespace, labels (pairs,
added to metadata.labels), images (newName/newTag), replicas, patches (strategic-merge patch files:
mappings merged recursively, lists of named mappings merged by name, other lists replaced).
Anything else in a kustomization.yaml is refused, so the renderer can never silently ignore a feature.
"""

import copy
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def build(directory: Path) -> list[Manifest]:
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise ValueError(f"{directory}: kustomization fields this renderer does not support: {sorted(unknown)}")
    manifests: list[Manifest] = []
    for entry in spec.get("resources", []):
        target = (directory / entry).resolve()
        manifests.extend(build(target) if target.is_dir() else load_documents(target))
    for patch_entry in spec.get("patches", []):
        for patch in load_documents(directory / patch_entry["path"]):
            _apply_patch(manifests, patch)
    for image in spec.get("images", []):
        for container in _containers(manifests):
            repository = container["image"].split(":")[0]
            if repository == image["name"]:
                container["image"] = f"{image.get('newName', repository)}:{image['newTag']}"
    for replica in spec.get("replicas", []):
        _find(manifests, "Deployment", replica["name"])["spec"]["replicas"] = replica["count"]
    for label_set in spec.get("labels", []):
        for manifest in manifests:
            manifest.setdefault("metadata", {}).setdefault("labels", {}).update(label_set["pairs"])
    if "namespace" in spec:
        for manifest in manifests:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = spec["namespace"]
    return manifests


def _containers(manifests: list[Manifest]) -> list[dict[str, Any]]:
    found = []
    for manifest in manifests:
        pod = manifest.get("spec", {}).get("template", {}).get("spec", {})
        found.extend(pod.get("containers", []) + pod.get("initContainers", []))
    return found


def _find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [m for m in manifests if m["metadata"]["name"] == name and m["kind"] == kind]
    if len(matches) != 1:
        raise ValueError(f"expected one {kind} named {name}, found {len(matches)}")
    return matches[0]


def _apply_patch(manifests: list[Manifest], patch: Manifest) -> None:
    target = _find(manifests, patch["kind"], patch["metadata"]["name"])
    merged = merge(target, patch)
    target.clear()
    target.update(merged)


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge, the subset we use."""
    if isinstance(base, dict) and isinstance(patch, dict):
        result = copy.deepcopy(base)
        for key, value in patch.items():
            result[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return result
    if (isinstance(base, list) and isinstance(patch, list) and all(isinstance(i, dict) and "name" in i
                                                                   for i in base + patch)):
        result_list = copy.deepcopy(base)
        by_name = {item["name"]: index for index, item in enumerate(result_list)}
        for item in patch:
            if item["name"] in by_name:
                result_list[by_name[item["name"]]] = merge(result_list[by_name[item["name"]]], item)
            else:
                result_list.append(copy.deepcopy(item))
        return result_list
    return copy.deepcopy(patch)
