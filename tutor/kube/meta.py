"""Provides the object-metadata helpers of apimachinery's ``metav1`` that several sides need.

Upstream: kubernetes/kubernetes ``staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/controller_ref.go``
(``GetControllerOf``, ``GetControllerOfNoCopy``). Objects are plain dicts shaped as served in JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def get_controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``GetControllerOf``: the first owner reference with ``controller: true``, or None.

    Args:
        obj: An object as served in JSON.

    Returns:
        The owner reference (not a copy), e.g. the ReplicaSet that controls a pod.
    """
    metadata = obj.get("metadata")
    references = metadata.get("ownerReferences") if isinstance(metadata, Mapping) else None
    for reference in references if isinstance(references, list) else []:
        if isinstance(reference, Mapping) and reference.get("controller") is True:
            return reference
    return None
