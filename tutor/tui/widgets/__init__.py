"""Provides the widgets of the kube-tutor TUI."""

from tutor.tui.widgets.cluster_panel import ClusterPanel as ClusterPanel
from tutor.tui.widgets.console import Console as Console
