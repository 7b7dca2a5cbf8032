"""Provides the widgets of the kube-tutor TUI."""

from tutor.widgets.cluster_panel import ClusterPanel as ClusterPanel
from tutor.widgets.console import Console as Console
