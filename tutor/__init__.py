"""kube-tutor: learn Kubernetes rolling updates from a terminal."""

__version__ = "0.1.0"
