"""Provides ClusterPanel: the side pane that shows a deployment's revisions and pods as they change.

The panel is fed from above (attributes down): the screen calls :meth:`ClusterPanel.update_snapshot`
on every cluster change and :meth:`ClusterPanel.set_error` when the cluster stops answering. It only
re-renders text; no widget is mounted after start-up. Every line is fitted to the pane's width (pod
names lose their leading segments first, anything else is cut with ``…``), so a 30-40 column side
pane never wraps, and cell widths are counted so Japanese labels line up too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from tutor.tui.rollout import Group, PodRow, Severity, rollout_groups, status_severity
from tutor.tui.text import t, texts

__all__ = ["ClusterPanel", "line_count", "render_lines", "short_pod_name"]


SEVERITY_STYLES: dict[Severity, str] = {
    "ok": "$text-success",
    "progress": "$text-warning",
    "error": "$text-error",
    "terminating": "$foreground-muted italic",
    "other": "",
}
"""Theme variables for each kind of STATUS word (``$text-*`` stay readable in light and dark themes)."""

MUTED = "$foreground-muted"
"""Old revisions and placeholders. (``$text-muted`` is ``auto 60%``, which content styles render at full strength.)"""
CURRENT_MARK = "★ "
OTHER_MARK = "  "
DOT = "●"
MIN_NAME_CELLS = 6
"""Pods are indented less when their names would get fewer cells than this (``…7mx2p``)."""
SMALLEST_NAME_CELLS = 4
"""A pod name is never squeezed below this; the line is cut at its end instead."""


def _cells(text: str) -> int:
    return Content(text).cell_length


def _fit(content: Content, width: int) -> Content:
    """``content`` cut to ``width`` cells with a trailing ``…`` if it is longer."""
    if width <= 0:
        return Content("")
    return content.truncate(width, ellipsis=True) if content.cell_length > width else content


def _keep_end(text: str, width: int) -> str:
    """``text`` cut from the left to ``width`` cells, starting with ``…`` when cut."""
    if _cells(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    kept = ""
    for char in reversed(text):
        if _cells(char + kept) > width - 1:
            break
        kept = char + kept
    return "…" + kept


def short_pod_name(name: str, width: int) -> str:
    """A pod name fitted to ``width`` cells, keeping its distinctive end.

    The whole name when it fits; else ``…`` and the last two dash segments (``…6d4f8b9c5-7mx2p``,
    the pod-template-hash and the random suffix); else ``…`` and as much of the end as fits (just the
    random suffix when that is exactly as wide as the room).

    Args:
        name: The pod's name.
        width: The cells available.

    Returns:
        The name to show, at most ``width`` cells wide.
    """
    if _cells(name) <= width:
        return name
    parts = name.split("-")
    if len(parts) > 2:
        tail = "…" + "-".join(parts[-2:])
        if _cells(tail) <= width:
            return tail
    if len(parts) > 1 and _cells(parts[-1]) == width:
        return parts[-1]
    return _keep_end(name, width)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * max(0, width - _cells(text))
    return space + text if right else text + space


def _title(deployment: str, words: Mapping[str, str], width: int) -> Content:
    for key in ("title", "title_short"):
        text = words[key].format(deployment=deployment)
        if _cells(text) <= width:
            break
    return _fit(Content.styled(text, "bold"), width)


def _header(group: Group, words: Mapping[str, str], width: int) -> Content:
    mark = CURRENT_MARK if group.current else OTHER_MARK
    if group.is_other:
        line = Content.assemble(mark, (words["other"], "bold"), f" · {group.desired}")
        return _fit(line, width)
    head = f"{mark}rev {group.revision} · "
    if group.desired == 0:
        tail = Content(f" · {words['scaled']}")
        style = MUTED
    else:
        count_style = "$text-success" if group.ready >= group.desired else "$text-warning"
        tail = Content.assemble(" · ", (f"{group.ready}/{group.desired} {words['ready']}", count_style))
        style = "bold" if group.current else ""
    tag = group.image or "?"
    room = width - _cells(head) - tail.cell_length
    if _cells(tag) > room >= 2:
        tag = tag[: room - 1] + "…"  # image tags are ASCII
    line = Content.assemble(head, (tag, "bold"), tail)
    if style:
        line = line.stylize(style)
    return _fit(line, width)


@dataclass(frozen=True)
class _Columns:
    """Cell widths of one group's pod lines: NAME READY STATUS [RESTARTS], in kubectl's order."""

    indent: int
    name: int
    ready: int
    status: int
    restarts: int
    shorten: bool


def _name_room(pods: Sequence[PodRow], width: int, indent: int) -> int:
    """The cells left for the pod names of a group once everything else on the line has its room."""
    ready = max(_cells(pod.ready) for pod in pods)
    status = max(_cells(pod.status) for pod in pods)
    restarts = max((len(f"↻{pod.restarts}") for pod in pods if pod.restarts), default=0)
    return width - (indent + 2 + 1 + ready + 1 + status + (1 + restarts if restarts else 0))


def _pod_indent(groups: Sequence[Group], width: int) -> int:
    """Pods sit 2 cells in under their header, less when a narrow pane needs the room for names."""
    for indent in (2, 1):
        if all(_name_room(group.pods, width, indent) >= MIN_NAME_CELLS for group in groups if group.pods):
            return indent
    return 0


def _columns(pods: Sequence[PodRow], width: int, indent: int) -> _Columns:
    """Column widths for one group's pod lines at ``width`` cells."""
    ready = max(_cells(pod.ready) for pod in pods)
    status = max(_cells(pod.status) for pod in pods)
    restarts = max((len(f"↻{pod.restarts}") for pod in pods if pod.restarts), default=0)
    longest = max(_cells(pod.name) for pod in pods)
    room = _name_room(pods, width, indent)
    if longest <= room:
        return _Columns(indent, longest, ready, status, restarts, shorten=False)
    room = max(room, SMALLEST_NAME_CELLS)
    name = max(_cells(short_pod_name(pod.name, room)) for pod in pods)
    return _Columns(indent, name, ready, status, restarts, shorten=True)


def _pod_line(pod: PodRow, columns: _Columns, width: int) -> Content:
    style = SEVERITY_STYLES[status_severity(pod.status)]
    name = short_pod_name(pod.name, columns.name) if columns.shorten else pod.name
    parts: list[str | tuple[str, str]] = [
        " " * columns.indent, (DOT, style), " ", _pad(name, columns.name), " ",
        _pad(pod.ready, columns.ready, right=True), " ",
    ]
    if columns.restarts:
        restarts = f"↻{pod.restarts}" if pod.restarts else ""
        parts += [(_pad(pod.status, columns.status), style), " ", (restarts, "$text-warning")]
    else:
        parts.append((pod.status, style))
    return _fit(Content.assemble(*parts), width)


def render_lines(
    groups: Sequence[Group] | None,
    width: int,
    *,
    lang: str = "en",
    deployment: str = "kubernetes-bootcamp",
    has_deployment: bool = True,
) -> list[Content]:
    """The panel's lines at a given width, each at most ``width`` cells (one pod per line).

    Args:
        groups: From :func:`tutor.tui.rollout.rollout_groups`; None until the cluster has answered.
        width: Cells available per line.
        lang: ``"en"`` or ``"ja"`` (anything else reads English).
        deployment: The deployment's name, for the title.
        has_deployment: False when the snapshot holds no such deployment.

    Returns:
        One Content per line, styled with theme variables.
    """
    words = texts("panel", lang)
    if groups is None:
        return [_fit(Content.styled(words["waiting"], MUTED), width)]
    lines = [_title(deployment, words, width)]
    if not has_deployment and not groups:
        return [*lines, Content(""), _fit(Content.styled(words["no_deployment"], MUTED), width)]
    if not groups:
        return [*lines, Content(""), _fit(Content.styled(words["no_pods"], MUTED), width)]
    indent = _pod_indent(groups, width)
    for group in groups:
        lines.append(Content(""))
        lines.append(_header(group, words, width))
        if group.pods:
            columns = _columns(group.pods, width, indent)
            lines.extend(_pod_line(pod, columns, width) for pod in group.pods)
        elif group.desired > 0:
            lines.append(_fit(Content.styled(f"{' ' * indent}{words['no_pods']}", MUTED), width))
    return lines


def line_count(groups: Sequence[Group] | None, *, has_deployment: bool = True) -> int:
    """How many lines :func:`render_lines` gives, at any width (lines are cut, never wrapped).

    Args:
        groups: As for :func:`render_lines`.
        has_deployment: As for :func:`render_lines`.

    Returns:
        The number of lines, worked out without rendering them.
    """
    if groups is None:
        return 1
    if not groups:
        return 3
    return 1 + sum(2 + (len(group.pods) or (1 if group.desired > 0 else 0)) for group in groups)


class _ClusterBody(Widget):
    """The panel's text, laid out for the width it gets (one line per row, never wrapped)."""

    def __init__(self, deployment: str, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.deployment = deployment
        self.lang = lang
        self.groups: list[Group] | None = None
        self.has_deployment = False

    def lines_at(self, width: int) -> list[Content]:
        """The lines as they render at ``width`` cells."""
        return render_lines(self.groups, width, lang=self.lang, deployment=self.deployment,
                            has_deployment=self.has_deployment)

    def render(self) -> Content:
        return Content("\n").join(self.lines_at(self.size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return line_count(self.groups, has_deployment=self.has_deployment)


class ClusterPanel(Widget, can_focus=True):
    """A deployment's ReplicaSets, newest revision first, each with its pods and their STATUS.

    Focusable so the learner can scroll it with the arrow, page and home/end keys.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("home", "scroll_home", "Scroll home", show=False),
        Binding("end", "scroll_end", "Scroll end", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    DEFAULT_CSS = """
    ClusterPanel {
        height: 1fr;
        padding: 0 1;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > #cluster-notice {
            dock: top;
            display: none;
            height: 1;
            color: $text-error;
            text-style: bold;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > #cluster-body {
            width: 1fr;
            height: auto;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        &.-error > #cluster-notice {
            display: block;
        }
        &.-error > #cluster-body {
            text-opacity: 55%;
        }
    }
    """

    def __init__(
        self,
        deployment: str = "kubernetes-bootcamp",
        lang: str = "en",
        *,
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
    ) -> None:
        """Create the panel; it reads "waiting for the cluster…" until the first snapshot.

        Args:
            deployment: The deployment whose rollout is shown.
            lang: ``"en"`` or ``"ja"``.
            id: The widget's id.
            classes: Extra CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._body = _ClusterBody(deployment, lang, id="cluster-body")
        self._notice = Static("", id="cluster-notice", markup=False)
        self._snapshot: Mapping[str, Sequence[Mapping[str, Any]]] = {}
        self._error: str | None = None
        self._notice_text = ""

    def compose(self) -> ComposeResult:
        yield self._notice
        yield self._body

    @property
    def deployment(self) -> str:
        """The deployment shown; setting it regroups the last snapshot."""
        return self._body.deployment

    @deployment.setter
    def deployment(self, name: str) -> None:
        self._body.deployment = name
        self.update_snapshot(self._snapshot, force=True)

    @property
    def lang(self) -> str:
        """The language of the labels (``"en"`` or ``"ja"``); setting it re-renders."""
        return self._body.lang

    @lang.setter
    def lang(self, lang: str) -> None:
        self._body.lang = lang
        self.set_error(self._error)
        self._body.refresh(layout=True)

    @property
    def groups(self) -> list[Group] | None:
        """The groups shown, None while waiting for the first snapshot."""
        return self._body.groups

    def update_snapshot(self, snapshot: Mapping[str, Sequence[Mapping[str, Any]]], *, force: bool = False) -> None:
        """Show a new cluster state. Cheap: regroups and re-renders text, mounts nothing.

        Args:
            snapshot: ``deployments``, ``replicasets`` and ``pods`` lists as ``kubectl get -o json`` returns
                them (``ClusterWatch.snapshot()``). An empty mapping means no answer yet, and reads
                "waiting for the cluster…"; a mapping with empty lists is an empty namespace.
            force: Re-render even if nothing shown has changed.
        """
        self._snapshot = snapshot
        body = self._body
        if not snapshot:
            groups: list[Group] | None = None
            has_deployment = False
        else:
            groups = rollout_groups(snapshot, body.deployment)
            has_deployment = any((item.get("metadata") or {}).get("name") == body.deployment
                                 for item in snapshot.get("deployments") or ())
        if not force and groups == body.groups and has_deployment == body.has_deployment:
            return
        old_height = line_count(body.groups, has_deployment=body.has_deployment)
        body.groups, body.has_deployment = groups, has_deployment
        body.refresh(layout=line_count(groups, has_deployment=has_deployment) != old_height)

    def set_error(self, message: str | None) -> None:
        """Show, or with None clear, a one-line notice that the cluster is not answering.

        The last known content stays, dimmed, under the notice.

        Args:
            message: What went wrong (only its first line is shown), or None once the cluster answers.
        """
        self._error = message
        if message is None:
            self._notice_text = ""
        else:
            text = " ".join(message.split())
            self._notice_text = t("panel.error", self.lang, message=text)
        self._notice.update(self._notice_text)
        self._notice.tooltip = message
        self.set_class(message is not None, "-error")

    @property
    def error(self) -> str | None:
        """The message of the notice shown, None when there is none."""
        return self._error

    def content_lines(self, width: int | None = None) -> list[Content]:
        """The content lines (notice excluded) as they render at ``width`` cells.

        Args:
            width: Cells per line; the body's current width when None.

        Returns:
            One styled Content per line.
        """
        return self._body.lines_at(self._body.size.width if width is None else width)

    @property
    def plain_text(self) -> str:
        """What the panel shows now as plain text: the notice line if any, then the content lines."""
        lines = [line.plain for line in self.content_lines()]
        if self._error is not None:
            lines.insert(0, self._notice_text)
        return "\n".join(lines)
