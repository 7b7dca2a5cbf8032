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

from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tutor.tui.explain import explain_pod
from tutor.tui.rollout import Group, PodRow, Severity, rollout_groups, status_severity
from tutor.tui.text import t, texts

__all__ = ["ClusterPanel", "detail_text", "line_count", "pod_lines", "render_lines", "short_pod_name"]


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
SMALLEST_NAME_CELLS = 4
"""A pod name is never squeezed below this, nor below its random suffix; the line is cut at its end instead."""
SELECTED = "reverse"
"""The selected pod's line."""


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
    """A pod name fitted to ``width`` cells, in a form a learner finds in ``kubectl get pods``.

    The whole name when it fits; else ``…`` and its last two dash segments (``…6d4fb9c5dk-7mx2p``: the
    pod-template-hash its ReplicaSet gave it and its own random suffix); else ``…`` and the random suffix
    (``…7mx2p``), or the suffix alone; only when even that does not fit, ``…`` and as much of the end as fits.

    Args:
        name: The pod's name.
        width: The cells available.

    Returns:
        The name to show, at most ``width`` cells wide.
    """
    if _cells(name) <= width:
        return name
    parts = name.split("-")
    forms = []
    if len(parts) > 2:
        forms.append("…" + "-".join(parts[-2:]))
    if len(parts) > 1:
        forms += ["…" + parts[-1], parts[-1]]
    for form in forms:
        if _cells(form) <= width:
            return form
    return _keep_end(name, width)


def shortest_pod_name(name: str) -> str:
    """The shortest form :func:`short_pod_name` gives without cutting into a segment (``…7mx2p``)."""
    parts = name.split("-")
    return "…" + parts[-1] if len(parts) > 1 else name


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
    """``★ rev 3 · v10 · 0/2 ready``: what makes room on a narrow pane is the tail's words, then ``rev``, never
    the revision's label (which is cut, keeping its end, only when it alone is wider than the pane)."""
    mark = CURRENT_MARK if group.current else OTHER_MARK
    if group.is_other:
        return _fit(Content.assemble(mark, (words["other"], "bold"), f" · {group.desired}"), width)
    if group.desired == 0:
        tails = [Content(f" · {words['scaled']}"), Content(" · 0/0"), Content("")]
        style = MUTED
    else:
        count_style = "$text-success" if group.ready >= group.desired else "$text-warning"
        count = f"{group.ready}/{group.desired}"
        tails = [Content.assemble(" · ", (f"{count} {words['ready']}", count_style)),
                 Content.assemble(" · ", (count, count_style)), Content("")]
        style = "bold" if group.current else ""
    label = group.image or "?"
    heads = [f"{mark}rev {group.revision} · ", f"{mark}{group.revision} · ", mark]
    fitting = next(((head, tail) for head in heads for tail in tails
                    if _cells(head) + _cells(label) + tail.cell_length <= width), None)
    if fitting is None:
        header = Content.assemble(mark, (_keep_end(label, width - _cells(mark)), "bold"))
    else:
        header = Content.assemble(fitting[0], (label, "bold"), fitting[1])
    if style:
        header = header.stylize(style)
    return _fit(header, width)


@dataclass(frozen=True)
class _Columns:
    """Cell widths of one group's pod lines: NAME [READY] STATUS [RESTARTS], in kubectl's order."""

    indent: int
    name: int
    ready: int
    """0 when the READY column is left out to make room for the names (the header counts the ready pods)."""
    status: int
    restarts: int
    shorten: bool


def _name_room(pods: Sequence[PodRow], width: int, indent: int, *, with_ready: bool = True) -> int:
    """The cells left for the pod names of a group once everything else on the line has its room."""
    ready = max(_cells(pod.ready) for pod in pods) + 1 if with_ready else 0
    status = max(_cells(pod.status) for pod in pods)
    restarts = max((len(f"↻{pod.restarts}") for pod in pods if pod.restarts), default=0)
    return width - (indent + 2 + 1 + ready + status + (1 + restarts if restarts else 0))


def _shortest(pods: Sequence[PodRow]) -> int:
    return max(_cells(shortest_pod_name(pod.name)) for pod in pods)


def _pod_indent(groups: Sequence[Group], width: int) -> int:
    """Pods sit 2 cells in under their header, less when a narrow pane needs the room for names."""
    for indent in (2, 1):
        if all(_name_room(group.pods, width, indent, with_ready=False) >= _shortest(group.pods)
               for group in groups if group.pods):
            return indent
    return 0


def _columns(pods: Sequence[PodRow], width: int, indent: int, *, with_ready: bool = True,
             room: int | None = None) -> _Columns:
    """Column widths for one group's pod lines at ``width`` cells.

    Args:
        pods: The group's pods.
        width: The pane's width.
        indent: Cells before each pod's dot.
        with_ready: Whether the READY column is shown.
        room: The cells the names get (the same in every group, so every name has the same form); by default
            what this group leaves them.
    """
    status = max(_cells(pod.status) for pod in pods)
    restarts = max((len(f"↻{pod.restarts}") for pod in pods if pod.restarts), default=0)
    longest = max(_cells(pod.name) for pod in pods)
    ready = max(_cells(pod.ready) for pod in pods) if with_ready else 0
    own = _name_room(pods, width, indent, with_ready=with_ready)
    room = own if room is None else min(room, own)
    if longest <= room:
        return _Columns(indent, longest, ready, status, restarts, shorten=False)
    # Never less than the random suffix (the line is cut at its end instead): it is what finds the pod in kubectl.
    room = max(room, SMALLEST_NAME_CELLS, *(_cells(pod.name.rsplit("-", 1)[-1]) for pod in pods))
    name = max(_cells(short_pod_name(pod.name, room)) for pod in pods)
    return _Columns(indent, name, ready, status, restarts, shorten=True)


def _layout(groups: Sequence[Group], width: int) -> tuple[int, bool, int]:
    """(indent, READY shown, the names' room) for every group alike: the READY column goes before a name would
    be cut shorter than its random suffix (the header counts the ready pods anyway)."""
    indent = _pod_indent(groups, width)
    with_pods = [group for group in groups if group.pods]
    if not with_pods:
        return indent, True, width
    with_ready = all(_name_room(group.pods, width, indent) >= _shortest(group.pods) for group in with_pods)
    room = min(_name_room(group.pods, width, indent, with_ready=with_ready) for group in with_pods)
    return indent, with_ready, room


def _pod_line(pod: PodRow, columns: _Columns, width: int, *, selected: bool = False) -> Content:
    style = SEVERITY_STYLES[status_severity(pod.status)]
    name = short_pod_name(pod.name, columns.name) if columns.shorten else pod.name
    parts: list[str | tuple[str, str]] = [" " * columns.indent, (DOT, style), " ", _pad(name, columns.name), " "]
    if columns.ready:
        parts += [_pad(pod.ready, columns.ready, right=True), " "]
    if columns.restarts:
        restarts = f"↻{pod.restarts}" if pod.restarts else ""
        parts += [(_pad(pod.status, columns.status), style), " ", (restarts, "$text-warning")]
    else:
        parts.append((pod.status, style))
    line = _fit(Content.assemble(*parts), width)
    if selected:
        line = Content.assemble(line, " " * max(0, width - line.cell_length)).stylize(SELECTED)
    return line


def render_lines(
    groups: Sequence[Group] | None,
    width: int,
    *,
    lang: str = "en",
    deployment: str = "kubernetes-bootcamp",
    has_deployment: bool = True,
    selected: str | None = None,
) -> list[Content]:
    """The panel's lines at a given width, each at most ``width`` cells (one pod per line).

    Args:
        groups: From :func:`tutor.tui.rollout.rollout_groups`; None until the cluster has answered.
        width: Cells available per line.
        lang: ``"ja"`` or ``"en"`` (anything else reads English).
        deployment: The deployment's name, for the title.
        has_deployment: False when the snapshot holds no such deployment.
        selected: The name of the selected pod, whose line is highlighted.

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
    indent, with_ready, room = _layout(groups, width)
    for group in groups:
        lines.append(Content(""))
        lines.append(_header(group, words, width))
        if group.pods:
            columns = _columns(group.pods, width, indent, with_ready=with_ready, room=room)
            lines.extend(_pod_line(pod, columns, width, selected=pod.name == selected) for pod in group.pods)
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


def pod_lines(groups: Sequence[Group] | None) -> list[PodRow | None]:
    """Which pod each line of :func:`render_lines` shows (None for titles, headers and blank lines).

    Args:
        groups: As for :func:`render_lines`.

    Returns:
        One entry per line, as many as :func:`line_count` counts.
    """
    if not groups:
        return [None] * line_count(groups)
    lines: list[PodRow | None] = [None]
    for group in groups:
        lines += [None, None]
        lines += list(group.pods) if group.pods else ([None] if group.desired > 0 else [])
    return lines


def detail_text(pod: PodRow, lang: str) -> Content:
    """What the panel says about the selected pod: its state and reason, what that means, the message, and the
    command that shows the rest.

    Args:
        pod: The selected pod.
        lang: ``"ja"`` or ``"en"``.

    Returns:
        Lines to wrap in the panel's width (the most telling first: a short pane cuts the end).
    """
    words = texts("panel", lang)
    detail = pod.detail
    style = SEVERITY_STYLES[status_severity(pod.status)]
    if detail.state in ("waiting", "terminated", "unscheduled", "pod"):
        reason = detail.reason or pod.status
        if detail.state == "terminated" and detail.exit_code is not None:
            code = t("panel.exit_code", lang, code=detail.exit_code)
            reason = f"{reason} ({code})" if detail.reason else code
        state = words[f"state.{detail.state}"]
    else:
        reason = pod.status
        state = words["state.running"] if pod.status == "Running" else "STATUS"
    lines = [Content.assemble(f"{state}: ", (reason, f"bold {style}" if style else "bold"))]
    explained = explain_pod(pod, lang)
    if explained:
        # Japanese runs on without spaces (a space would let the line break right after the arrow)
        lines.append(Content.styled(f"→{'' if lang == 'ja' else ' '}{explained}", "$text-accent"))
    if detail.message:
        lines.append(Content.styled(detail.message, MUTED))
    lines.append(Content.styled(f"$ kubectl describe pod {pod.name}", MUTED))
    return Content("\n").join(lines)


class _ClusterBody(Widget):
    """The panel's text, laid out for the width it gets (one line per row, never wrapped)."""

    class Clicked(Message):
        """A line of the body was clicked."""

        def __init__(self, line: int) -> None:
            super().__init__()
            self.line = line
            """The line's index (0 is the title)."""

    def __init__(self, deployment: str, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.deployment = deployment
        self.lang = lang
        self.groups: list[Group] | None = None
        self.has_deployment = False
        self.selected: str | None = None

    def lines_at(self, width: int) -> list[Content]:
        """The lines as they render at ``width`` cells."""
        return render_lines(self.groups, width, lang=self.lang, deployment=self.deployment,
                            has_deployment=self.has_deployment, selected=self.selected)

    def render(self) -> Content:
        return Content("\n").join(self.lines_at(self.size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return line_count(self.groups, has_deployment=self.has_deployment)

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked(event.y))


class ClusterPanel(Widget, can_focus=True):
    """A deployment's ReplicaSets, newest revision first, each with its pods and their STATUS.

    Focusable: ↑/↓ select a pod (the first press the first failing one; a click selects too) and the panel's foot
    says why the pod is in its state (its container's waiting or terminated reason and message, and what that
    means); the page and home/end keys scroll; Esc drops the selection.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "select_previous", "Previous pod", show=False),
        Binding("down", "select_next", "Next pod", show=False),
        Binding("home", "scroll_home", "Scroll home", show=False),
        Binding("end", "scroll_end", "Scroll end", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("escape", "unselect", "Unselect", show=False),
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
        & > #pod-detail {
            dock: bottom;
            display: none;
            height: auto;
            max-height: 60%;
            border-top: hkey $panel;
            background: $surface;
            overflow: hidden;
        }
        &.-selected > #pod-detail {
            display: block;
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
        images: Sequence[str] = (),
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
    ) -> None:
        """Create the panel; it reads "waiting for the cluster…" until the first snapshot.

        Args:
            deployment: The deployment whose rollout is shown.
            lang: ``"en"`` or ``"ja"``.
            images: The lesson's images: each revision is labelled by what tells its image apart from them
                (:func:`tutor.tui.rollout.revision_label`).
            id: The widget's id.
            classes: Extra CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._body = _ClusterBody(deployment, lang, id="cluster-body")
        self._notice = Static("", id="cluster-notice", markup=False)
        self._detail = Static("", id="pod-detail", markup=False)
        self._snapshot: Mapping[str, Sequence[Mapping[str, Any]]] = {}
        self._error: str | None = None
        self._notice_text = ""
        self.images: tuple[str, ...] = tuple(images)
        """The lesson's images (setting it takes effect with the next snapshot)."""

    def compose(self) -> ComposeResult:
        yield self._notice
        yield self._detail
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
        self._show_detail()
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
            groups = rollout_groups(snapshot, body.deployment, self.images)
            has_deployment = any((item.get("metadata") or {}).get("name") == body.deployment
                                 for item in snapshot.get("deployments") or ())
        if not force and groups == body.groups and has_deployment == body.has_deployment:
            return
        old_height = line_count(body.groups, has_deployment=body.has_deployment)
        body.groups, body.has_deployment = groups, has_deployment
        if body.selected is not None and self.selected_pod is None:
            body.selected = None
        self._show_detail()
        body.refresh(layout=line_count(groups, has_deployment=has_deployment) != old_height)

    # ---- the selected pod ----------------------------------------------------------------------

    @property
    def selected_pod(self) -> PodRow | None:
        """The selected pod as shown now, None when none is selected."""
        return next((pod for pod in pod_lines(self._body.groups) if pod is not None and pod.name == self._body.selected),
                    None)

    def select(self, name: str | None) -> None:
        """Select a pod by name (None: none); its reason and message show at the panel's foot.

        Args:
            name: The pod's name; a name the panel does not show selects nothing.
        """
        lines = pod_lines(self._body.groups)
        index = next((i for i, pod in enumerate(lines) if pod is not None and pod.name == name), None)
        self._body.selected = name if index is not None else None
        self._show_detail()
        self._body.refresh()
        if index is not None:
            self.call_after_refresh(self._reveal, index)

    def _reveal(self, index: int) -> None:
        region = self._body.region
        if region.width:
            line = Region(region.x, region.y + index, region.width, 1)
            self.scroll_to_region(line.translate(self.scroll_offset), animate=False, immediate=True)

    def _step(self, delta: int) -> None:
        """Move the selection; the first move selects the first pod that fails (else the first pod)."""
        rows = [pod for pod in pod_lines(self._body.groups) if pod is not None]
        pods = [pod.name for pod in rows]
        if not pods:
            return
        current = self._body.selected
        if current not in pods:
            failing = [pod.name for pod in rows if status_severity(pod.status) == "error"]
            self.select((failing or pods)[0])
        else:
            self.select(pods[max(0, min(len(pods) - 1, pods.index(current) + delta))])

    def action_select_next(self) -> None:
        self._step(1)

    def action_select_previous(self) -> None:
        self._step(-1)

    def action_unselect(self) -> None:
        if self._body.selected is None:
            raise SkipAction()  # let the screen have Esc
        self.select(None)

    def on_focus(self) -> None:
        self._show_detail()

    def on_blur(self) -> None:
        self._show_detail()

    @on(_ClusterBody.Clicked)
    def _clicked(self, event: _ClusterBody.Clicked) -> None:
        lines = pod_lines(self._body.groups)
        if 0 <= event.line < len(lines) and lines[event.line] is not None:
            pod = lines[event.line]
            assert pod is not None
            self.select(pod.name)

    def _show_detail(self) -> None:
        """The foot: the selected pod's detail; while the panel has the focus and no pod is selected, how to
        select one."""
        pod = self.selected_pod
        hint = pod is None and self.has_focus and any(row is not None for row in pod_lines(self._body.groups))
        self.set_class(pod is not None or hint, "-selected")
        if pod is not None:
            self._detail.update(detail_text(pod, self.lang))
            self._detail.tooltip = pod.detail.message or None
        elif hint:
            self._detail.update(Content.styled(t("panel.hint", self.lang), MUTED))
            self._detail.tooltip = None

    @property
    def detail(self) -> str:
        """What the panel's foot says about the selected pod, as plain text (``""`` when none is selected)."""
        pod = self.selected_pod
        return detail_text(pod, self.lang).plain if pod is not None else ""

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
