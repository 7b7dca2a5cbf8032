"""Provides the practice cluster's one node: the kubelet simulator, the image registry and NodePort listeners."""
