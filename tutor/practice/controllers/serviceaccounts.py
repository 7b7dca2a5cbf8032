"""Provides the service-account and root-CA publisher controllers: what every namespace gets when it appears.

- :class:`ServiceAccountsController` ports ``pkg/controller/serviceaccount/serviceaccounts_controller.go``: the
  ``default`` ServiceAccount in every active namespace, made again when it is deleted.
- :class:`RootCACertPublisher` ports ``pkg/controller/certificates/rootcacertpublisher/publisher.go``: the
  ``kube-root-ca.crt`` ConfigMap (the cluster's CA, ``ca.crt``) in every active namespace, made again when it is
  deleted and put back when it is changed.

Neither touches a terminating namespace (the namespace controller is emptying it).
"""

from __future__ import annotations

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.workqueue import Controller

DEFAULT_SERVICE_ACCOUNT = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
"""``RootCACertConfigMapName``."""
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")
"""The publisher's ``Description`` annotation."""


def _active(ns: Obj | None) -> bool:
    return ns is not None and not ns["metadata"].get("deletionTimestamp")


class ServiceAccountsController(Controller):
    """Ensures the ``default`` ServiceAccount in every active namespace."""

    name = "serviceaccount"

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "namespaces" and event.type != "DELETED":
            self.queue.add(event.obj["metadata"]["name"])
        elif plural == "serviceaccounts" and event.type == "DELETED" and \
                event.obj["metadata"]["name"] == DEFAULT_SERVICE_ACCOUNT:
            self.queue.add(event.obj["metadata"]["namespace"])

    def sync(self, namespace: str) -> None:
        if not _active(self.store.get("namespaces", "", namespace)):
            return
        if self.store.get("serviceaccounts", namespace, DEFAULT_SERVICE_ACCOUNT) is not None:
            return
        try:
            self.store.create("serviceaccounts", {"metadata": {"name": DEFAULT_SERVICE_ACCOUNT,
                                                               "namespace": namespace}})
        except errors.ApiError:
            pass  # the namespace began terminating meanwhile


class RootCACertPublisher(Controller):
    """Publishes the cluster's CA as the ``kube-root-ca.crt`` ConfigMap in every active namespace."""

    name = "root-ca-cert-publisher"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.root_ca = ""
        """The CA bundle (PEM); set by the cluster once its credentials exist, then every namespace is synced."""

    def publish(self, root_ca: str) -> None:
        self.root_ca = root_ca
        for ns in self.store.list("namespaces"):
            self.queue.add(ns["metadata"]["name"])

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "namespaces" and event.type != "DELETED":
            self.queue.add(event.obj["metadata"]["name"])
        elif plural == "configmaps" and event.obj["metadata"]["name"] == ROOT_CA_CONFIGMAP:
            self.queue.add(event.obj["metadata"]["namespace"])

    def sync(self, namespace: str) -> None:
        if not self.root_ca or not _active(self.store.get("namespaces", "", namespace)):
            return
        data = {"ca.crt": self.root_ca}
        current = self.store.get("configmaps", namespace, ROOT_CA_CONFIGMAP)
        try:
            if current is None:
                self.store.create("configmaps", {
                    "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                                 "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
                    "data": data})
                return
        except errors.ApiError:
            return
        annotations = current["metadata"].get("annotations") or {}
        if current.get("data") == data and annotations.get(DESCRIPTION_ANNOTATION) == DESCRIPTION:
            return
        new = deep_copy(current)
        new["data"] = data
        new.pop("binaryData", None)
        new["metadata"]["annotations"] = dict(annotations, **{DESCRIPTION_ANNOTATION: DESCRIPTION})
        self.store.update("configmaps", new)
