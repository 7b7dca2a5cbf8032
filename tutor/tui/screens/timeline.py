"""Provides TimelineScreen: the rollout timeline of a lesson, charted with textual-plotext, scrubbed with ←/→.

The chart stacks, over the lesson's time, the deployment's pods of each ReplicaSet revision by state (ready, not
ready, terminating, failing), oldest revision at the bottom, each revision a shade of its own; two lines draw the
rolling-update bounds (``replicas + maxSurge`` pods at most, ``replicas - maxUnavailable`` available at least);
the x axis is marked where a command was run (its number), and a vertical line is the cursor. Below the chart,
what was there at the cursor: the pods and their STATUS, and the events up to that moment. The data is the
lesson's recorded :class:`tutor.tui.timeline.Timeline`. Quiet stretches are shortened on the axis
(:data:`tutor.tui.timeline.GAP_SECONDS`), so a rollout of seconds stays visible beside minutes of reading.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from tutor.tui.text import localize_bindings, t
from tutor.tui.timeline import STATES, Sample, Timeline

STATE_COLOURS = {"ready": "green", "not_ready": "yellow", "terminating": "gray", "failing": "red"}
"""Each state's colour on the chart (plotext's colour names); every other revision gets the bright shade (``+``)."""
MAX_LINE = "magenta"
MIN_LINE = "blue"
CURSOR = "cyan"
PODS_SHOWN = 8
"""The most pods the cursor's pane lists."""


def clock(seconds: float) -> str:
    """``mm:ss`` since the start of the timeline."""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    return f"{minutes:02d}:{rest:02d}"


def _steps(xs: list[float], ys: list[int], end: float) -> tuple[list[float], list[float]]:
    """A value that holds until the next change, as the points of a line that steps."""
    out_x: list[float] = []
    out_y: list[float] = []
    for index, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if index:
            out_x.append(x)
            out_y.append(ys[index - 1])
        out_x.append(x)
        out_y.append(y)
    if xs:
        out_x.append(end)
        out_y.append(ys[-1])
    return out_x, out_y


class TimelineScreen(Screen[None]):
    """The timeline of a lesson's rollouts; Esc (or q) goes back."""

    DEFAULT_CSS = """
    TimelineScreen { layout: vertical; }
    TimelineScreen #timeline-title { height: auto; padding: 0 1; }
    TimelineScreen #timeline-plot { height: 1fr; min-height: 8; }
    TimelineScreen #timeline-detail { height: 45%; }
    TimelineScreen #timeline-now { width: 1fr; padding: 0 1; }
    TimelineScreen #timeline-events { width: 1fr; padding: 0 1; border-left: solid $primary-background; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("left", "move(-1)", "Earlier"),
        Binding("right", "move(1)", "Later"),
        Binding("home", "jump(0)", "Start", show=False),
        Binding("end", "jump(-1)", "End", show=False),
    ]

    def __init__(self, timeline: Timeline, lang: str, *, title: str = "") -> None:
        super().__init__()
        localize_bindings(self, lang)
        self.timeline = timeline
        self.lang = lang
        self.title_text = title
        self.times = timeline.axis()
        self.cursor = len(self.times) - 1
        """The index in :attr:`times` of the moment shown (the last one at first)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="timeline-title")
        yield PlotextPlot(id="timeline-plot")
        with Horizontal(id="timeline-detail"):
            yield Static("", id="timeline-now")
            yield Static("", id="timeline-events")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#timeline-title", Static).update(self.heading())
        self.show()
        self.call_after_refresh(self.show)  # again once the chart has its size (its ticks depend on it)

    def on_resize(self) -> None:
        self.show()

    def action_move(self, by: int) -> None:
        if self.times:
            self.cursor = max(0, min(len(self.times) - 1, self.cursor + by))
            self.show()

    def action_jump(self, index: int) -> None:
        if self.times:
            self.cursor = index % len(self.times)
            self.show()

    @property
    def at(self) -> float | None:
        """The time at the cursor."""
        return self.times[self.cursor] if self.times else None

    def heading(self) -> str:
        lang = self.lang
        first = f"[b]{escape(t('timeline.title', lang))}[/b]" + (f" · {escape(self.title_text)}" if self.title_text else "")
        legend = "  ".join(f"[{STATE_COLOURS[state].replace('gray', 'grey50')}]■[/] {escape(t(f'timeline.{state}', lang))}"
                           for state in STATES)
        lines = (f"[magenta]━[/] {escape(t('timeline.max_line', lang))}  "
                 f"[blue]━[/] {escape(t('timeline.min_line', lang))}  [cyan]│[/] {escape(t('timeline.cursor', lang))}")
        return f"{first}\n{legend}\n{lines}"

    # ---- the chart ------------------------------------------------------------------------------------------------
    def show(self) -> None:
        """Draw the chart with the cursor, and what was there at the cursor."""
        self.draw()
        self.query_one("#timeline-now", Static).update(self.now_text())
        self.query_one("#timeline-events", Static).update(self.events_text())

    def draw(self) -> None:
        timeline = self.timeline
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        plt.theme("clear")
        samples = timeline.samples
        if not samples:
            plt.title(t("timeline.empty", self.lang))
            plot.refresh()
            return
        xs = [timeline.squeeze(sample.t) for sample in samples]
        end = max(xs[-1], timeline.squeeze(self.times[-1])) + 1.0
        revisions = sorted(timeline.revision_labels())
        layers: list[tuple[list[int], str]] = []
        # The pods that count toward the bounds first (each revision's ready, not ready, failing), oldest revision
        # at the bottom; the terminating ones on top of them: above the max line they are on their way out.
        active = [state for state in STATES if state != "terminating"]
        order = [(shade, revision, state) for shade, revision in enumerate(revisions) for state in active]
        order += [(shade, revision, "terminating") for shade, revision in enumerate(revisions)]
        for shade, revision, state in order:
            counts = [next((r.count(state) for r in sample.revisions if r.revision == revision), 0)
                      for sample in samples]
            if any(counts):
                layers.append((counts, STATE_COLOURS[state] + ("+" if shade % 2 else "")))
        tops: list[tuple[list[int], str]] = []
        running = [0] * len(samples)
        for counts, colour in layers:
            running = [a + b for a, b in zip(running, counts, strict=True)]
            tops.append((running, colour))
        for top, colour in reversed(tops):  # the tallest first: each lower layer is painted over it
            step_x, step_y = _steps(xs, top, end)
            plt.plot(step_x, step_y, color=colour, marker="hd", fillx=True)
        high = max([sample.max_pods for sample in samples] + [sample.total for sample in samples]
                   + [sum(r.active + r.terminating for r in sample.revisions) for sample in samples])
        for values, colour in (([s.max_pods for s in samples], MAX_LINE), ([s.min_available for s in samples], MIN_LINE)):
            step_x, step_y = _steps(xs, values, end)
            plt.plot(step_x, step_y, color=colour, marker="braille")
        ticks: list[float] = []
        labels: list[str] = []
        width = max(1, plot.size.width - 6)
        for number, command in enumerate(timeline.commands, 1):
            x = timeline.squeeze(command.t)
            if not ticks or (x - ticks[-1]) * width / end >= len(labels[-1]) + 1:
                ticks.append(x)
                labels.append(str(number))
        plt.xticks(ticks, labels)
        plt.xlim(0, end)
        rows = max(1, plot.size.height - 4)  # the frame and the x axis' two lines take the rest
        if rows < high + 2:  # too short for every pod: keep the bounds and the pods they count (cut the terminating)
            high = max([sample.max_pods for sample in samples] + [sample.total for sample in samples])
        every = max(1, -(-(high + 2) // rows))  # a tick on each row at most: plotext would drop some at random
        plt.yticks(list(range(0, high + 2, every)))
        plt.ylim(0, high + 1)
        if self.at is not None:
            # the cursor, as the last series: plotext draws its own vline under the data, where the pods' areas
            # would hide it
            at = timeline.squeeze(self.at)
            plt.plot([at, at], [0, high + 1], color=CURSOR, marker="│")
        plt.xlabel(t("timeline.commands_axis", self.lang))
        plot.refresh()

    # ---- the moment at the cursor ---------------------------------------------------------------------------------
    def now_text(self) -> str:
        lang = self.lang
        at = self.at
        if at is None:
            return t("timeline.empty", lang)
        start = self.timeline.start or at
        moment = self.timeline.moment(at)
        lines = [f"[b]{clock(at - start)}[/b] [dim]({self.cursor + 1}/{len(self.times)})[/dim]"]
        if moment.command is not None:
            number = self.timeline.commands.index(moment.command) + 1
            lines.append(f"[dim]{number}. $[/dim] {escape(moment.command.line)}")
        sample = moment.sample
        if sample is None:
            lines.append(t("timeline.no_sample", lang))
            return "\n".join(lines)
        lines.append(self.bounds_text(sample))
        for revision in sample.revisions:
            if not (revision.active or revision.terminating):
                continue
            counts = " · ".join(f"{t(f'timeline.{state}', lang)} {revision.count(state)}"
                                for state in STATES if revision.count(state))
            lines.append(f"[b]rev {revision.revision} {escape(revision.label)}[/b]: {escape(counts)}")
        labels = {r.revision: r.label for r in sample.revisions}
        for pod in sample.pods[:PODS_SHOWN]:
            colour = {"Running": "green", "Terminating": "grey50"}.get(pod.status, "yellow")
            if pod.status in ("ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "InvalidImageName"):
                colour = "red"
            lines.append(f"  {escape(pod.name)} [dim]{escape(labels.get(pod.revision, ''))}[/dim] "
                         f"[{colour}]{escape(pod.status)}[/] {escape(pod.ready)}")
        if len(sample.pods) > PODS_SHOWN:
            lines.append(f"  [dim]{t('timeline.more_pods', lang, n=len(sample.pods) - PODS_SHOWN)}[/dim]")
        return "\n".join(lines)

    def bounds_text(self, sample: Sample) -> str:
        over = sample.total > sample.max_pods
        under = sample.updating and sample.available < sample.min_available
        pods = t("timeline.pods_bound", self.lang, total=sample.total, max=sample.max_pods,
                 replicas=sample.replicas, surge=sample.surge)
        available = t("timeline.available_bound", self.lang, available=sample.available, min=sample.min_available,
                      replicas=sample.replicas, unavailable=sample.unavailable)
        return (f"[{'red' if over else 'magenta'}]{escape(pods)}[/] · "
                f"[{'red' if under else 'blue'}]{escape(available)}[/]")

    def events_text(self) -> str:
        lang = self.lang
        lines = [f"[b]{t('timeline.events', lang)}[/b]"]
        at = self.at
        if at is None:
            return lines[0]
        start = self.timeline.start or at
        events = self.timeline.moment(at).events
        if not events:
            lines.append(f"[dim]{t('timeline.no_events', lang)}[/dim]")
        for event in reversed(events):  # newest first
            colour = "red" if event.type == "Warning" else "dim"
            lines.append(f"[{colour}]{clock(event.t - start)} {escape(event.reason)}[/] {escape(event.object)}: "
                         f"{escape(event.message)}")
        return "\n".join(lines)
