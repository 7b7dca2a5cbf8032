"""Provides the cluster backends kube-tutor can run a lesson on (practice now; kind and existing later)."""

from tutor.backends.base import BackendError, ClusterStatus

__all__ = ["BackendError", "ClusterStatus"]
