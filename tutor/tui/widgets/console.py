"""Provides the Console widget: the learner's command line and the output of the commands it ran.

The console is pure UI. It never runs anything itself (only :mod:`tutor.shell` spawns processes): it posts
:class:`Console.Submitted` when the learner enters a line, :class:`Console.CancelRequested` when they press
Ctrl+C during a command and :class:`Console.CompletionRequested` when they press Tab. The screen that owns it runs
the command and feeds the output back down through :meth:`Console.write`, :meth:`Console.finish` and
:meth:`Console.notice`, sets :attr:`Console.running` while a command runs, and answers a completion request with
:meth:`Console.complete` (kubectl's own candidates; the console adds the words of the step's commands itself).

Tab behaves as in bash: one candidate completes the word (and a space follows), several complete their common
prefix, and a second Tab that cannot complete more lists them in the output. It never moves the focus.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, RichLog

from tutor.tui.text import t

Severity = Literal["information", "error"]
"""How a :meth:`Console.notice` is styled."""


HISTORY_LIMIT = 1000
"""How many submitted lines the history keeps."""

OUTPUT_LIMIT = 5000
"""How many output lines the log keeps before dropping the oldest."""

PROMPT = "$ "
"""The prompt shown before the input and before each echoed command."""

LIST_LIMIT = 100
"""How many completion candidates a second Tab lists; the rest are counted."""

# C0 control characters (and DEL) other than tab and escape would garble the cells of a line; the escape
# stays because the ANSI decoder needs it.
_CONTROL_CHARACTERS = {code: None for code in (*range(0x20), 0x7F) if code not in (0x09, 0x1B)}


def _clean_line(line: str) -> str:
    """Prepare one complete line of command output for the ANSI decoder.

    A carriage return inside a line means the program redrew it (a progress counter), so only the text after
    the last one is kept, as a terminal would show it; other control characters are dropped.

    Args:
        line: A line without its trailing newline.

    Returns:
        The line as it should be decoded.
    """
    line = line.rstrip("\r")
    if "\r" in line:
        line = line.rsplit("\r", 1)[1]
    return line.translate(_CONTROL_CHARACTERS)


def raw_words(text: str) -> list[tuple[int, str]]:
    """Split a command line at blanks outside quotes, keeping each word as typed (quotes and escapes included).

    Args:
        text: A command line, or the part of it before the cursor.

    Returns:
        Each word with its offset in ``text``; when ``text`` ends in a blank outside quotes, an empty word at its
        end (the word about to be typed).
    """
    words: list[tuple[int, str]] = []
    start: int | None = None
    quote = ""
    escaped = False
    for index, char in enumerate(text):
        if start is None and char not in " \t":
            start = index
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in " \t" and start is not None:
            words.append((start, text[start:index]))
            start = None
    if start is not None:
        words.append((start, text[start:]))
    elif not text or text[-1] in " \t":
        words.append((len(text), ""))
    return words


def common_prefix(words: Iterable[str]) -> str:
    """The longest prefix every word shares.

    Args:
        words: At least one word.

    Returns:
        The prefix (empty when they share none).
    """
    ordered = sorted(words)
    first, last = ordered[0], ordered[-1]
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[:length]


class History:
    """Previously submitted lines and the walk through them with Up and Down, as in bash.

    Entries are kept oldest first. Walking starts after the newest entry, on the line being typed (the
    draft); Up moves to older entries, Down back towards the draft, which is restored unchanged.
    """

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        """Create an empty history.

        Args:
            limit: How many entries to keep; the oldest are dropped first.
        """
        self.limit = limit
        """How many entries are kept."""
        self.entries: list[str] = []
        """Submitted lines, oldest first."""
        self._index: int | None = None
        self._draft = ""

    def add(self, line: str) -> None:
        """Record a submitted line (not when it repeats the newest entry) and stop walking.

        Args:
            line: The submitted line.
        """
        if line and (not self.entries or self.entries[-1] != line):
            self.entries.append(line)
            del self.entries[: -self.limit]
        self.reset()

    def load(self, lines: Iterable[str]) -> None:
        """Replace the entries, dropping blank lines and repeats in a row.

        Args:
            lines: Lines, oldest first.
        """
        self.entries = []
        for line in lines:
            line = line.strip()
            if line and (not self.entries or self.entries[-1] != line):
                self.entries.append(line)
        del self.entries[: -self.limit]
        self.reset()

    def reset(self) -> None:
        """Stop walking: the next Up starts from the newest entry again."""
        self._index = None
        self._draft = ""

    def previous(self, current: str) -> str | None:
        """Step to the next older entry.

        Args:
            current: What the input holds now; kept as the draft when the walk starts.

        Returns:
            The entry to show, or `None` when there is nothing older.
        """
        if not self.entries:
            return None
        if self._index is None:
            self._draft = current
            self._index = len(self.entries) - 1
        elif self._index > 0:
            self._index -= 1
        else:
            return None
        return self.entries[self._index]

    def next(self) -> str | None:
        """Step to the next newer entry, and past the newest one back to the draft.

        Returns:
            The entry (or draft) to show, or `None` when not walking.
        """
        if self._index is None:
            return None
        if self._index < len(self.entries) - 1:
            self._index += 1
            return self.entries[self._index]
        draft = self._draft
        self.reset()
        return draft


class _CommandInput(Input):
    """The one-line input of the console: history on Up/Down, and Ctrl+C taken from every ancestor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "interrupt", "Cancel the command or clear the line", show=False),
        Binding("tab", "complete", "Complete", show=False),
        Binding("up", "history_previous", "Previous command", show=False),
        Binding("down", "history_next", "Next command", show=False),
    ]

    class Interrupted(Message):
        """Ctrl+C was pressed in the input; the console decides what it means."""

    class TabPressed(Message):
        """Tab was pressed in the input; the console completes the word before the cursor."""

    def __init__(self, history: History, *, placeholder: str, classes: str | None = None) -> None:
        """Create the input.

        Args:
            history: The console's history, walked with Up and Down.
            placeholder: Text shown while the input is empty.
            classes: CSS classes.
        """
        super().__init__(placeholder=placeholder, compact=True, select_on_focus=False, classes=classes)
        self.history = history
        """The console's history (shared with the console, which records submitted lines)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Claim Ctrl+C and Tab, so no binding of an ancestor (not even the app's priority ones, nor the screen's
        focus change on Tab) sees them.

        Args:
            key: A key identifier.
            character: The character of the key, if any.

        Returns:
            Whether the input consumes the key.
        """
        return key in ("ctrl+c", "tab") or super().check_consume_key(key, character)

    def action_interrupt(self) -> None:
        """Tell the console that Ctrl+C was pressed."""
        self.post_message(self.Interrupted())

    def action_complete(self) -> None:
        """Tell the console that Tab was pressed (the focus stays here)."""
        self.post_message(self.TabPressed())

    def action_end(self, select: bool = False) -> None:
        """Move the cursor to the end, or accept the suggestion when it is already there (as fish does).

        Args:
            select: Select the text between the cursor and the end instead.
        """
        if not select and self.cursor_at_end:
            self.action_cursor_right()  # accepts a shown suggestion, else stays at the end
        else:
            super().action_end(select)

    def action_history_previous(self) -> None:
        """Show the next older history entry."""
        self._show(self.history.previous(self.value))

    def action_history_next(self) -> None:
        """Show the next newer history entry, or the draft after the newest."""
        self._show(self.history.next())

    def _show(self, line: str | None) -> None:
        """Put a line into the input with the cursor at its end.

        Args:
            line: The line, or `None` to leave the input as it is.
        """
        if line is not None:
            self.value = line
            self.cursor_position = len(line)


class Console(Widget):
    """An output log above a one-line command input with a `$ ` prompt.

    The owner handles `Console.Submitted` (runs the line), sets `running` while the command runs, feeds its
    output to `write()` and ends it with `finish()`; it handles `Console.CancelRequested` by stopping the
    command.
    """

    DEFAULT_CSS = """
    Console {
        layout: vertical;
        height: 1fr;

        & > .console--output {
            height: 1fr;
            background: $surface;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
        & > .console--row {
            height: auto;
            background: $surface;
            padding: 0 1;
        }
        & .console--prompt {
            width: auto;
            color: $accent;
            text-style: bold;
        }
        & .console--input {
            width: 1fr;
            background: $surface;
            &:focus {
                background: $surface;
            }
        }
        & .console--state {
            display: none;
            width: auto;
            padding: 0 0 0 1;
            color: $warning;
            text-style: italic;
        }
        &.-running .console--state {
            display: block;
        }
        & > .console--echo {
            text-style: bold;
        }
        & > .console--exit {
            text-style: dim;
        }
        & > .console--hint {
            color: $text-warning;
        }
        & > .console--notice-information {
            color: $text-accent;
            text-style: bold;
        }
        & > .console--notice-error {
            color: $text-error;
            text-style: bold;
        }
        & > .console--completions {
            text-style: dim;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "console--echo",
        "console--exit",
        "console--hint",
        "console--notice-information",
        "console--notice-error",
        "console--completions",
    }
    """
    | Class | Description |
    | :- | :- |
    | `console--echo` | An echoed command line (`$ kubectl …`). |
    | `console--exit` | The `exit status N` line after a failed command. |
    | `console--hint` | The hint shown when Enter is pressed while a command runs. |
    | `console--notice-information` | A notice such as "step passed". |
    | `console--notice-error` | An error notice such as a refused command. |
    | `console--completions` | The line and the descriptions of a completion listing (a second Tab). |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "scroll_output(-1)", "Scroll output up", show=False),
        Binding("pagedown", "scroll_output(1)", "Scroll output down", show=False),
    ]

    running: reactive[bool] = reactive(False)
    """Whether the owner is running a command: Enter then only shows a hint, Ctrl+C asks to cancel."""

    lang: reactive[str] = reactive("en")
    """The language of the console's own texts ("en" or "ja")."""

    @dataclass
    class Submitted(Message):
        """The learner entered a non-blank command line (already echoed and recorded in the history)."""

        console: Console
        """The console the line was entered in."""
        line: str
        """The command line, stripped of surrounding blanks."""

        @property
        def control(self) -> Console:
            """The console the line was entered in."""
            return self.console

    @dataclass
    class CompletionRequested(Message):
        """The learner pressed Tab: the owner answers with :meth:`Console.complete` for this ``line``."""

        console: Console
        """The console in which Tab was pressed."""
        line: str
        """The input's text before the cursor; the word to complete is at its end."""

        @property
        def control(self) -> Console:
            """The console in which Tab was pressed."""
            return self.console

    @dataclass
    class CancelRequested(Message):
        """The learner pressed Ctrl+C while a command was running."""

        console: Console
        """The console in which Ctrl+C was pressed."""

        @property
        def control(self) -> Console:
            """The console in which Ctrl+C was pressed."""
            return self.console

    def __init__(self, lang: str = "en", *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        """Create a console.

        Args:
            lang: The language of the console's own texts ("en" or "ja").
            id: The widget's id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._history = History()
        self._output = RichLog(
            max_lines=OUTPUT_LIMIT,
            min_width=1,
            wrap=True,
            markup=False,
            highlight=False,
            auto_scroll=True,
            classes="console--output",
        )
        self._output.can_focus = False
        self._input = _CommandInput(self._history, placeholder="", classes="console--input")
        self._state = Label("", classes="console--state")
        self._partial: list[str] = []
        """Pieces of the last, unfinished line of output."""
        self._decoder = AnsiDecoder()
        self._mounted = False
        self._queued: list[tuple[Text, str | None]] = []
        """Text waiting to go to the log, with its component class: written in one go per batch."""
        self._flush_scheduled = False
        self._commands: list[str] = []
        """The step's commands: their words complete on Tab."""
        self._tab_pending: tuple[str, int] | None = None
        """The input's value and cursor after a Tab that could not complete more: a Tab there lists."""
        self._interrupted = False
        """Ctrl+C stopped the running command: its exit status 130 goes unsaid, as in a shell."""
        self.set_reactive(Console.lang, lang)

    # ---- composition and reactives ----

    def compose(self) -> ComposeResult:
        """Compose the output log above the prompt row."""
        yield self._output
        with Horizontal(classes="console--row"):
            yield Label(PROMPT, classes="console--prompt")
            yield self._input
            yield self._state

    def on_mount(self) -> None:
        """Apply the texts of the language and write what arrived before the console was mounted
        (component styles are only known once it is)."""
        self._apply_lang()
        self._mounted = True
        self._flush()

    def watch_running(self, running: bool) -> None:
        """Show or hide the running state."""
        self.set_class(running, "-running")
        if not running:
            self._interrupted = False

    def watch_lang(self) -> None:
        """Switch the console's own texts to the new language."""
        self._apply_lang()

    def _apply_lang(self) -> None:
        """Set the placeholder and the state label in the current language."""
        self._input.placeholder = self._text("placeholder")
        self._state.update(self._text("running"))

    def _text(self, key: str) -> str:
        """One of the console's own texts in the current language.

        Args:
            key: The key after ``console.`` in :data:`tutor.tui.text.TEXTS`.

        Returns:
            The text.
        """
        return t(f"console.{key}", self.lang)

    # ---- what the owner calls (attributes down) ----

    @property
    def history(self) -> list[str]:
        """The submitted lines, oldest first (a copy: use `load_history` to replace them)."""
        return list(self._history.entries)

    def load_history(self, lines: Iterable[str]) -> None:
        """Restore the history, for instance from a previous session.

        Args:
            lines: Command lines, oldest first; blank lines and repeats in a row are dropped.
        """
        self._history.load(lines)

    def write(self, text: str) -> None:
        """Append a chunk of command output.

        Chunks may end in the middle of a line: that partial line is kept until the rest of it arrives (or
        `finish()`), and only complete lines go to the log. ANSI colour escapes are rendered as colours
        (the colour state carries over from chunk to chunk until `finish()`). Whatever is written before the
        console next gets to run reaches the log in one batch, so many small chunks are cheap.

        Args:
            text: The chunk, as the command printed it.
        """
        head, newline, tail = text.rpartition("\n")
        if not newline:
            if text:
                self._partial.append(text)
            return
        self._partial.append(head)
        complete = "".join(self._partial)
        self._partial = [tail] if tail else []
        self._write_output(complete)

    def finish(self, exit_code: int) -> None:
        """End the output of a command: flush a partial last line and report a failure.

        It does not touch `running`, which the owner sets.

        Args:
            exit_code: The command's exit status; when it is not 0, a dim `exit status N` line is written.
        """
        if self._partial:
            partial = "".join(self._partial)
            self._partial = []
            self._write_output(partial)
        self._decoder = AnsiDecoder()
        interrupted, self._interrupted = self._interrupted, False
        if exit_code != 0 and not (interrupted and exit_code == 130):
            self._append(Text(self._text("exit").format(code=exit_code)), "console--exit")

    def notice(self, text: str, severity: Severity = "information") -> None:
        """Write a one-line message of kube-tutor's own, such as a refused command or "step passed".

        Args:
            text: The message (plain text, no markup).
            severity: "information" or "error"; selects the style.
        """
        component = "console--notice-error" if severity == "error" else "console--notice-information"
        self._append(Text(" ".join(text.splitlines())), component)

    def clear(self) -> None:
        """Clear the output log (the learner's `clear` command); a pending partial line is kept."""
        self._queued.clear()
        self._output.clear()

    def set_suggestions(self, commands: Iterable[str]) -> None:
        """Set the commands the input suggests as the learner types (Right or End accepts one).

        Args:
            commands: Candidate command lines, most likely first; matched by case-sensitive prefix.
        """
        candidates = list(dict.fromkeys(command for command in commands if command.strip()))
        self._commands = candidates
        self._input.suggester = SuggestFromList(candidates, case_sensitive=True) if candidates else None

    def prefill(self, command: str) -> None:
        """Put a command into the input without running it, and focus the input.

        Args:
            command: The command line.
        """
        self._history.reset()
        self._input.value = command
        self._input.cursor_position = len(command)
        self.focus_input()

    def focus_input(self) -> None:
        """Give the input the focus."""
        self._input.focus()

    def type_text(self, text: str) -> None:
        """Insert text at the cursor as if typed there, and focus the input (keys typed elsewhere land here).

        Args:
            text: The text (a key's character, or pasted text; line breaks become blanks).
        """
        self._history.reset()
        self._input.insert_text_at_cursor(" ".join(text.splitlines()))
        self.focus_input()

    def remember(self, line: str) -> None:
        """Record a line run from elsewhere (a command block) in the history, as if typed.

        Args:
            line: The command line.
        """
        self._history.add(line.strip())

    def interrupt(self) -> None:
        """Ctrl+C, as in a shell: `^C` is shown; a running command is asked to stop (its exit status 130 is not
        reported), otherwise the typed line is dropped."""
        if self.running:
            self._interrupted = True
            self.write("^C\n")
            self.post_message(self.CancelRequested(self))
            return
        self._append(Text(PROMPT + self._input.value + "^C"), "console--completions")
        self._history.reset()
        self._tab_pending = None
        self._input.value = ""

    def complete(self, line: str, candidates: Iterable[tuple[str, str]] = (), *, no_space: bool = False,
                 keep_order: bool = False) -> None:
        """Answer a :class:`CompletionRequested`: complete the word at the end of ``line`` as bash does.

        The candidates are the owner's (kubectl's own, file names) and the words the step's commands have at this
        position (``kubectl set i`` → ``image``); only those that start with the word count. One candidate
        replaces the word and adds a blank (not after ``/`` or with ``no_space``); several complete their common
        prefix; when that adds nothing, the next Tab at the same place lists them in the output. An answer that
        comes after the input changed is dropped.

        Args:
            line: The request's line (the input's text before the cursor when Tab was pressed).
            candidates: Each candidate with its description (may be empty).
            no_space: Add no blank after a single candidate (cobra's ``ShellCompDirectiveNoSpace``).
            keep_order: List the candidates in the given order, not sorted.
        """
        value, cursor = self._input.value, self._input.cursor_position
        if value[:cursor] != line:
            return
        start, word = raw_words(line)[-1]
        found: dict[str, str] = dict(candidates)
        for candidate in self._step_words(line):
            found.setdefault(candidate, "")
        found = {candidate: found[candidate] for candidate in found if candidate.startswith(word)}
        if not found:
            self.app.bell()
            return
        if len(found) == 1:
            (completed,) = found
            self._replace(line, start, completed, space=not (no_space or completed.endswith("/")))
            return
        prefix = common_prefix(found)
        if len(prefix) > len(word):
            self._replace(line, start, prefix, space=False)
            return
        if self._tab_pending == (value, cursor):
            self._tab_pending = None
            self._list(value, found, keep_order=keep_order)
            return
        self._tab_pending = (value, cursor)
        self.app.bell()

    def _step_words(self, line: str) -> list[str]:
        """The words the step's commands have where ``line`` ends, for the commands whose earlier words it has.

        Args:
            line: The text before the cursor.

        Returns:
            Candidate words, as written in the commands (quotes kept).
        """
        typed = [word for _, word in raw_words(line)]
        done, partial = typed[:-1], typed[-1]
        words: list[str] = []
        for command in self._commands:
            parts = [word for _, word in raw_words(command.strip())]
            if len(parts) > len(done) and parts[: len(done)] == done and parts[len(done)].startswith(partial):
                words.append(parts[len(done)])
        return words

    def _replace(self, line: str, start: int, word: str, *, space: bool) -> None:
        """Put a completed word in place of the word that ends at the cursor.

        Args:
            line: The text before the cursor.
            start: Where the word begins in it.
            word: The completed word.
            space: Add a blank after it (unless one follows already).
        """
        tail = self._input.value[len(line):]
        inserted = word + (" " if space and not tail.startswith(" ") else "")
        self._input.value = line[:start] + inserted + tail
        self._input.cursor_position = start + len(inserted) + (1 if space and tail.startswith(" ") else 0)
        self._tab_pending = None
        self._history.reset()

    def _list(self, value: str, found: dict[str, str], *, keep_order: bool) -> None:
        """Write the candidates to the output under the line, in columns (or one a line with descriptions).

        Args:
            value: The input's whole line.
            found: Each candidate and its description.
            keep_order: Keep their order instead of sorting them.
        """
        names = list(found) if keep_order else sorted(found)
        shown, hidden = names[:LIST_LIMIT], len(names) - LIST_LIMIT
        width = max(20, self._output.scrollable_content_region.width - 1)
        self._append(Text(PROMPT + value), "console--completions")
        lines: list[Text] = []
        if any(found[name] for name in shown):
            column = min(max(len(name) for name in shown), width // 2)
            for name in shown:
                entry = Text(name.ljust(column))
                if found[name]:
                    entry.append(Text("  " + found[name], style="dim"))
                entry.truncate(width, overflow="ellipsis")
                lines.append(entry)
        else:
            column = max(len(name) for name in shown) + 2
            columns = max(1, width // column)
            rows = -(-len(shown) // columns)
            for row in range(rows):
                cells = [shown[index] for index in range(row, len(shown), rows)]
                lines.append(Text("".join(cell.ljust(column) for cell in cells).rstrip()))
        if hidden > 0:
            lines.append(Text(self._text("more").format(count=hidden), style="dim"))
        self._append(Text("\n").join(lines), None)

    # ---- what the learner does (messages up) ----

    @on(Input.Submitted, ".console--input")
    def _submitted(self, event: Input.Submitted) -> None:
        """Echo and report a submitted line, or remind the learner that a command still runs."""
        event.stop()
        line = event.value.strip()
        if not line:
            return
        if self.running:
            self._append(Text(self._text("busy")), "console--hint")
            return
        self._history.add(line)
        self._input.value = ""
        self._append(Text(PROMPT + line), "console--echo")
        self.post_message(self.Submitted(self, line))

    @on(_CommandInput.Interrupted)
    def _on_interrupted(self, event: _CommandInput.Interrupted) -> None:
        """Ask to cancel the running command, or drop the line when nothing runs (`^C` shows either way)."""
        event.stop()
        self.interrupt()

    @on(_CommandInput.TabPressed)
    def _on_tab(self, event: _CommandInput.TabPressed) -> None:
        """Ask the owner for completions of the word before the cursor."""
        event.stop()
        self.post_message(self.CompletionRequested(self, self._input.value[: self._input.cursor_position]))

    def action_scroll_output(self, direction: int) -> None:
        """Scroll the output by a page.

        Args:
            direction: -1 for up, 1 for down.
        """
        if direction < 0:
            self._output.scroll_page_up()
        else:
            self._output.scroll_page_down()

    # ---- writing to the log ----

    def _write_output(self, lines: str) -> None:
        """Decode complete lines of command output and append them to the log.

        Args:
            lines: One or more lines separated by newlines, without a trailing newline.
        """
        decoded = [self._decoder.decode_line(_clean_line(line)) for line in lines.split("\n")]
        self._append(Text("\n").join(decoded), None)

    def _append(self, text: Text, component: str | None) -> None:
        """Queue text for the log; everything queued until the console next runs is written in one go.

        A stream of small chunks (`kubectl get pods -w`) thus costs one render of the new lines per batch
        rather than one per chunk, and nothing already in the log is rendered again.

        Args:
            text: The text; it may hold several lines.
            component: The component class to style it with, or `None` to leave it as it is.
        """
        self._queued.append((text, component))
        if self._mounted and not self._flush_scheduled:
            self._flush_scheduled = True
            self.call_later(self._flush)

    def _flush(self) -> None:
        """Write the queued text to the log, styled with the component classes."""
        self._flush_scheduled = False
        if not self._queued:
            return
        queued, self._queued = self._queued, []
        # the log keeps only its last OUTPUT_LIMIT lines: do not render what it would drop at once
        kept, lines = len(queued), 0
        while kept and lines < OUTPUT_LIMIT:
            kept -= 1
            lines += queued[kept][0].plain.count("\n") + 1
        texts = []
        for text, component in queued[kept:]:
            if component is not None:
                text.stylize_before(self.get_component_rich_style(component, partial=True, default=Style()))
            texts.append(text)
        self._output.write(Text("\n").join(texts))
