"""The console behaves like a shell: Tab completes (bash's rules), Ctrl+C shows `^C`, keys land in the input."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Input, RichLog

from tutor.tui.widgets import Console
from tutor.tui.widgets.console import LIST_LIMIT, common_prefix, raw_words

STEP_COMMANDS = [
    "kubectl get deployments",
    "kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2",
    "kubectl rollout status deployments/kubernetes-bootcamp",
]


class CompletingApp(App[None]):
    """A console whose owner answers Tab with canned candidates (what kubectl's engine would say), by line."""

    def __init__(self, answers: dict[str, Sequence[tuple[str, str]]] | None = None, *, no_space: bool = False,
                 keep_order: bool = False) -> None:
        super().__init__()
        self.answers = answers or {}
        self.no_space = no_space
        self.keep_order = keep_order
        self.requests: list[str] = []
        self.messages: list[Message] = []
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield Console("en", id="console")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.query_one(Console).set_suggestions(STEP_COMMANDS)

    def bell(self) -> None:
        self.bells += 1

    def on_console_completion_requested(self, message: Console.CompletionRequested) -> None:
        self.requests.append(message.line)
        message.console.complete(message.line, self.answers.get(message.line, ()), no_space=self.no_space,
                                 keep_order=self.keep_order)

    def on_console_cancel_requested(self, message: Console.CancelRequested) -> None:
        self.messages.append(message)


def field(app: App[None]) -> Input:
    return app.query_one(Input)


def output_lines(app: App[None]) -> list[str]:
    return [strip.text.rstrip() for strip in app.query_one(Console).query_one(RichLog).lines]


# ---- the words of a line ----


@pytest.mark.parametrize(("text", "words"), [
    ("", [(0, "")]),
    ("kubectl get", [(0, "kubectl"), (8, "get")]),
    ("kubectl get ", [(0, "kubectl"), (8, "get"), (12, "")]),
    ("  kubectl   get", [(2, "kubectl"), (12, "get")]),
    ("-o go-template='{{(index .spec.ports 0).nodePort}}' x",
     [(0, "-o"), (3, "go-template='{{(index .spec.ports 0).nodePort}}'"), (52, "x")]),
    ('echo "a b" c\\ d', [(0, "echo"), (5, '"a b"'), (11, "c\\ d")]),
    ("echo 'open quote ", [(0, "echo"), (5, "'open quote ")]),
])
def test_raw_words_split_at_blanks_outside_quotes(text: str, words: list[tuple[int, str]]) -> None:
    assert raw_words(text) == words


def test_common_prefix() -> None:
    assert common_prefix(["deployments", "deployments.apps"]) == "deployments"
    assert common_prefix(["daemonsets", "deployments"]) == "d"
    assert common_prefix(["pods", "services"]) == ""
    assert common_prefix(["pods"]) == "pods"


# ---- Tab ----


async def test_tab_completes_a_word_of_the_steps_commands_and_keeps_the_focus() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl set i", "tab")
        await pilot.pause()
        assert field(app).value == "kubectl set image "
        assert field(app).cursor_position == len("kubectl set image ")
        assert app.focused is field(app)
        await pilot.press(*"dep", "tab")
        await pilot.pause()
        assert field(app).value == "kubectl set image deployments/kubernetes-bootcamp "
        await pilot.press("tab")  # the last word, quoted characters and all
        await pilot.pause()
        assert field(app).value == STEP_COMMANDS[1] + " "
        assert app.requests == ["kubectl set i", "kubectl set image dep", "kubectl set image deployments/kubernetes-bootcamp "]
        assert app.focused is field(app)


async def test_tab_never_moves_the_focus_even_with_nothing_to_complete() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        await pilot.press("tab")  # every command of the step starts with kubectl
        await pilot.pause()
        assert field(app).value == "kubectl "
        assert app.focused is field(app)
        field(app).value = ""
        await pilot.press(*"zzz", "tab", "tab", "tab")
        await pilot.pause()
        assert app.focused is field(app)
        assert field(app).value == "zzz"
        assert app.bells == 3
        assert output_lines(app) == []


async def test_kubectls_candidates_complete_the_common_prefix_then_a_second_tab_lists_them() -> None:
    answers = {
        "kubectl get de": [("deployments.apps", ""), ("deployments", "")],
        "kubectl get deployments": [("deployments.apps", ""), ("deployments", "")],
    }
    app = CompletingApp(answers)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"kubectl get de", "tab")
        await pilot.pause()
        assert field(app).value == "kubectl get deployments"  # the common prefix, no blank: it is not unique
        await pilot.press("tab")
        await pilot.pause()
        assert app.bells == 1  # nothing more to complete: the bell, as bash rings it
        assert output_lines(app) == []
        await pilot.press("tab")
        await pilot.pause()
        assert output_lines(app) == ["$ kubectl get deployments", "deployments       deployments.apps"]  # columns, as bash
        assert field(app).value == "kubectl get deployments"
        assert app.focused is field(app)


async def test_a_listing_with_descriptions_shows_one_candidate_a_line() -> None:
    answers = {"kubectl rollout ": [("history", "View rollout history"), ("status", "Show the status of the rollout"),
                                    ("undo", "Undo a previous rollout")]}
    app = CompletingApp(answers, keep_order=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"kubectl rollout ", "tab", "tab")
        await pilot.pause()
        assert output_lines(app) == [
            "$ kubectl rollout",
            "history  View rollout history",
            "status   Show the status of the rollout",
            "undo     Undo a previous rollout",
        ]


async def test_a_long_listing_is_cut_and_says_how_many_more() -> None:
    names = [(f"pod-{number:03}", "") for number in range(LIST_LIMIT + 7)]
    app = CompletingApp({"kubectl logs ": names, "kubectl logs pod-": names})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"kubectl logs ", "tab", "tab", "tab")  # the common prefix `pod-`, the bell, the list
        await pilot.pause()
        lines = output_lines(app)
        assert lines[-1] == "… and 7 more"
        listed = " ".join(lines[1:-1]).split()
        assert len(listed) == LIST_LIMIT and "pod-000" in listed and f"pod-{LIST_LIMIT - 1:03}" in listed


async def test_no_space_after_a_directory_or_when_kubectl_says_so() -> None:
    app = CompletingApp({"kubectl rollout status deployments/": [("deployments/kubernetes-bootcamp", "")],
                         "kubectl apply -f ma": [("manifests/", "")]})
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl apply -f ma", "tab")
        await pilot.pause()
        assert field(app).value == "kubectl apply -f manifests/"
    app = CompletingApp({"kubectl get pods -o=ya": [("-o=yaml", "")]}, no_space=True)
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl get pods -o=ya", "tab")
        await pilot.pause()
        assert field(app).value == "kubectl get pods -o=yaml"


async def test_tab_in_the_middle_of_the_line_completes_the_word_before_the_cursor() -> None:
    app = CompletingApp({"kubectl get po": [("pods", "")]})
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl get po -o wide", *["left"] * len(" -o wide"), "tab")
        await pilot.pause()
        assert field(app).value == "kubectl get pods -o wide"
        assert field(app).cursor_position == len("kubectl get pods ")


async def test_an_answer_for_a_line_that_changed_meanwhile_is_dropped() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl get po")
        console = app.query_one(Console)
        console.complete("kubectl get p", [("pods", "")])  # typed on since
        await pilot.pause()
        assert field(app).value == "kubectl get po"


# ---- Ctrl+C ----


async def test_ctrl_c_on_a_running_command_shows_caret_c_and_no_exit_status() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        console = app.query_one(Console)
        console.running = True
        console.write("Waiting for deployment rollout to finish: 2 of 4 updated\n")
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert [type(m) for m in app.messages] == [Console.CancelRequested]
        console.finish(130)
        console.running = False
        await pilot.pause()
        assert output_lines(app) == [
            "Waiting for deployment rollout to finish: 2 of 4 updated", "^C"]
        console.running = True  # the next command that fails says so again
        console.finish(130)
        console.running = False
        await pilot.pause()
        assert output_lines(app)[-1] == "exit status 130"


async def test_ctrl_c_after_a_partial_line_ends_that_line_as_a_terminal_does() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        console = app.query_one(Console)
        console.running = True
        console.write("Waiting")
        await pilot.press("ctrl+c")
        console.finish(130)
        console.running = False
        await pilot.pause()
        assert output_lines(app) == ["Waiting^C"]


async def test_ctrl_c_on_a_typed_line_shows_it_with_caret_c_and_clears_it() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl get po", "ctrl+c")
        await pilot.pause()
        assert field(app).value == ""
        assert output_lines(app) == ["$ kubectl get po^C"]
        assert app.messages == []
        assert app.query_one(Console).history == []


# ---- keys typed elsewhere ----


async def test_type_text_inserts_at_the_cursor_and_focuses_the_input() -> None:
    app = CompletingApp()
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl pods", *["left"] * 4)
        app.set_focus(None)
        console = app.query_one(Console)
        console.type_text("g")
        console.type_text("et ")
        await pilot.pause()
        assert field(app).value == "kubectl get pods"
        assert app.focused is field(app)
        console.remember("kubectl rollout status deployments/kubernetes-bootcamp")
        assert console.history == ["kubectl rollout status deployments/kubernetes-bootcamp"]
