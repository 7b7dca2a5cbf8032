"""Provides the ``kube-tutor`` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tutor import __version__, kubectl_guard, paths, shell
from tutor.backends import BACKENDS, Backend, ClusterStatus, choose, make_backend
from tutor.backends.base import BackendError
from tutor.lesson import (
    Lesson,
    LessonError,
    LessonNotFound,
    Text,
    find_lesson,
    installed_lessons,
    lesson_files,
    lint_main,
    load_lesson,
)
from tutor.lesson.course import course_file, course_problems, load_course, load_course_lessons
from tutor.lesson.library import COURSE_FILES
from tutor.lesson.progress import Progress, lesson_status, resume_choice
from tutor.lesson.runtime import backend_env, kubectl_path
from tutor.lesson.verify import reset, verify, verify_course
from tutor.text import said, t


def _backend_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--backend", choices=list(BACKENDS), default=default,
                        help="practice, kind or existing (default: $KUBE_TUTOR_BACKEND, else kind when Docker "
                             "runs and kind is installed, else practice)")
    parser.add_argument("--kubeconfig", type=Path, default=default,
                        help="existing: your kubeconfig (only read): kube-tutor makes a learner seat with it")
    parser.add_argument("--context", default=default, help="existing: its context (default: its current one)")
    parser.add_argument("--namespace", default=default,
                        help="existing: the namespace for the lesson (the seat's name, e.g. seat-01)")
    parser.add_argument("--own-credentials", action="store_true", default=default,
                        help="existing: no seat; the learner uses the context's credentials as they are (a cluster "
                             "of your own only)")


def _time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


TIME_SCALE_HELP = ("practice cluster: run its clock this many times faster (demos); a running cluster with another "
                   "scale is restarted (its objects are kept); default: the running one's, else 1")


def _parser() -> argparse.ArgumentParser:
    state_help = ("where kube-tutor keeps clusters and progress (default: $KUBE_TUTOR_STATE_DIR, "
                  "else $XDG_STATE_HOME/kube-tutor)")
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's absent --state-dir must not override the one given before it.
    common.add_argument("--state-dir", metavar="DIR", default=argparse.SUPPRESS, help=state_help)
    parser = argparse.ArgumentParser(
        prog="kube-tutor",
        description="Learn Kubernetes rolling updates from your terminal, with the real kubectl.")
    parser.add_argument("--state-dir", metavar="DIR", default=None, help=state_help)
    parser.add_argument("--lang", choices=["ja", "en"], default=None, help="language (default: from the locale)")
    parser.add_argument("--time-scale", type=_time_scale, default=None, metavar="N", help=TIME_SCALE_HELP)
    _backend_options(parser, None)
    parser.add_argument("--version", action="version", version=f"kube-tutor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cluster = sub.add_parser("cluster", parents=[common], help="start, inspect or stop the lesson's cluster")
    csub = cluster.add_subparsers(dest="action", metavar="ACTION", required=True)
    backend_parent = argparse.ArgumentParser(add_help=False)
    _backend_options(backend_parent, argparse.SUPPRESS)
    up = csub.add_parser("up", parents=[common, backend_parent], help="start the cluster (reuses a running one)")
    up.add_argument("--time-scale", type=_time_scale, default=argparse.SUPPRESS, metavar="N", help=TIME_SCALE_HELP)
    csub.add_parser("env", parents=[common, backend_parent],
                    help="print shell lines that point kubectl at the cluster")
    csub.add_parser("status", parents=[common, backend_parent],
                    help="say whether the cluster runs (exit 3 if not) and saves changes (exit 4 if not)")
    down = csub.add_parser("down", parents=[common, backend_parent],
                           help="stop the cluster (practice: objects are kept; kind: deleted); exit 1 when changes "
                                "were not saved")
    down.add_argument("--delete-state", action="store_true",
                      help="also forget every object of the cluster (existing: delete the learner's seat)")
    csub.add_parser("pause", parents=[common, backend_parent],
                    help="practice cluster: stop its clock (controllers and the kubelet wait; kubectl still works)")
    csub.add_parser("resume", parents=[common, backend_parent], help="practice cluster: let its clock run again")
    sub.add_parser("doctor", parents=[common], help="check this machine: Python, kubectl, Docker, kind, disk, memory")
    lint = sub.add_parser("lint", help="check lesson files (default: every installed lesson); one line per problem")
    lint.add_argument("files", nargs="*", metavar="LESSON", help="a lesson file or id")
    lang = argparse.ArgumentParser(add_help=False)
    lang.add_argument("--lang", choices=["ja", "en"], default=argparse.SUPPRESS,
                      help="language (default: from the locale)")
    _backend_options(lang, argparse.SUPPRESS)
    lang.add_argument("--time-scale", type=_time_scale, default=argparse.SUPPRESS, metavar="N", help=TIME_SCALE_HELP)
    verify = sub.add_parser("verify", parents=[common, lang],
                            help="play a lesson headless: each step must fail first, then pass with its solution")
    verify.add_argument("lesson", metavar="LESSON", nargs="?", default=None,
                        help="a lesson id (rolling-update) or file; a lessons directory: its whole course")
    verify.add_argument("--all", action="store_true",
                        help="play the whole course in order on one cluster, each lesson from the previous one's end")
    verify.add_argument("-v", "--verbose", action="store_true", help="show commands, output and check errors")
    start = sub.add_parser("start", parents=[common, lang], help="open a lesson in the TUI (the default command)")
    start.add_argument("lesson", metavar="LESSON", nargs="?", default=None)
    reset = sub.add_parser("reset", parents=[common, lang],
                           help="restore a lesson's start state and forget its progress")
    reset.add_argument("lesson", metavar="LESSON", nargs="?", default=None)
    # ---- kube-tutor demo (issue 15): the autopilot, tutor/tui/autopilot.py
    demo = sub.add_parser("demo", parents=[common, lang],
                          help="play a lesson by itself for an audience (autopilot typing, stops for the presenter)")
    demo.add_argument("lesson", metavar="LESSON", nargs="?", default=None,
                      help="a lesson id (default: the course's first lesson)")
    demo.add_argument("--course", action="store_true", help="play every lesson of the course in order")
    demo.add_argument("--no-pause", dest="pause", action="store_false",
                      help="stop nowhere: play to the end screen unattended, then quit (or go round with --loop)")
    demo.add_argument("--loop", action="store_true", help="with --no-pause: start again after the end (a kiosk)")
    demo.add_argument("--typing-speed", type=_time_scale, default=None, metavar="CPS",
                      help="characters a second the autopilot types (default: 12)")
    demo.add_argument("--record", metavar="FILE.cast", default=None,
                      help="record what the terminal shows as an asciinema v2 file (asciinema play FILE.cast)")
    from tutor.workshop.cli import add_parser as add_workshop

    add_workshop(sub, common, ["ja", "en"])
    # seat mode (a workshop seat's TUI, started by `workshop serve`): before the command or after `start`
    seat_help = "workshop: the TUI runs as SEAT of the workshop in ROOT (set by `kube-tutor workshop serve`)"
    parser.add_argument("--workshop", type=Path, default=None, metavar="ROOT", help=seat_help)
    parser.add_argument("--seat", default=None, metavar="SEAT", help=seat_help)
    start.add_argument("--workshop", type=Path, default=argparse.SUPPRESS, metavar="ROOT", help=seat_help)
    start.add_argument("--seat", default=argparse.SUPPRESS, metavar="SEAT", help=seat_help)
    return parser


def _err(message: str) -> int:
    print(f"kube-tutor: {message}", file=sys.stderr)
    return 1


def _not_saving(backend: Backend, status: ClusterStatus) -> str:
    return (f"the {backend.name} cluster runs but is NOT SAVING CHANGES: {status.storage_error} (what you change "
            f"is kept in memory only and is lost when it stops)")


def _say(lang: str) -> Callable[[str], None]:
    """Prints what a backend says while it starts (``on_status``) on stderr, in ``lang``."""
    return lambda line: print(f"kube-tutor: {said(line, lang)}", file=sys.stderr)


def cmd_up(backend: Backend) -> int:
    try:
        status = backend.up(on_status=_say(default_lang()))
    except BackendError as error:
        return _err(str(error))
    print(status.kubeconfig)
    if status.storage_error:
        return _err(_not_saving(backend, status))
    return 0


# `export NAME=$(kubectl get ...)` in a lesson's commands: the variables a lesson has the learner keep (NODE_PORT).
_LESSON_VARIABLE = re.compile(r"export\s+([A-Za-z_][A-Za-z0-9_]*)=\$\((kubectl\s+get\s.*)\)")


def lesson_variables(lesson: Lesson) -> dict[str, list[str]]:
    """The variables a lesson has the learner export from a read of the cluster, and how: each
    ``export NAME=$(kubectl get ...)`` line of its steps' commands and solutions, as the ``kubectl get`` arguments
    (``{"NODE_PORT": ["get", "services/kubernetes-bootcamp", "-o", "go-template=..."]}``). Lines that need more of
    a shell than quoting (``$VAR``, backticks, a pipe) or that the kubectl guard would refuse are left out.

    Args:
        lesson: The lesson.

    Returns:
        Each variable's kubectl arguments (the first line that sets it).
    """
    found: dict[str, list[str]] = {}
    for step in lesson.steps:
        for line in (*step.commands, *step.solution):
            match = _LESSON_VARIABLE.fullmatch(line.strip())
            if match is None or match.group(1) in found:
                continue
            try:
                words = shlex.split(match.group(2))
            except ValueError:
                continue
            if any("$" in word or "`" in word or word.strip("|&;<>") == "" for word in words) or (
                    kubectl_guard.refusal(words[1:]) is not None):
                continue
            found[match.group(1)] = words[1:]
    return found


def _lesson_in_use(state: Path, backend: Backend) -> Lesson | None:
    """The lesson last played on this backend (the newest progress file), else the default one; None when none
    loads."""
    progress = []
    for file in (state / "progress").glob(f"*/{backend.name}.json"):
        try:
            progress.append((file.stat().st_mtime, file.parent.name))
        except OSError:
            continue
    for name in [name for _, name in sorted(progress, reverse=True)] + [None]:
        try:
            return load_lesson(find_lesson(name))
        except (LessonNotFound, LessonError, OSError):
            continue
    return None


def _variable_lines(state: Path, backend: Backend, env: dict[str, str]) -> list[str]:
    """``export NAME=value`` for each variable of the lesson in use whose ``kubectl get`` answers (NODE_PORT once
    the lesson's Service exists), else a comment saying why it is not set."""
    lesson = _lesson_in_use(state, backend)
    if lesson is None:
        return []
    lines: list[str] = []
    for name, arguments in lesson_variables(lesson).items():
        try:
            done = shell.run(["kubectl", *arguments], env=backend_env(env), timeout=15)
        except shell.ShellError as error:
            lines.append(f"# {name} is not set: {error}")
            continue
        value = done.stdout.strip()
        if done.returncode == 0 and value and "\n" not in value:
            lines.append(f"export {name}={shlex.quote(value)}")
        else:
            why = (done.stderr.strip().splitlines() or [f"kubectl exited with status {done.returncode}"])[-1]
            lines.append(f"# {name} is not set ({lesson.id}): {why}")
    return lines


def cmd_env(backend: Backend, state: Path, state_flag: str | None = None) -> int:
    # The kubectl guard comes first on PATH here too: this shell's KUBECONFIG is kube-tutor's own file, which
    # `kubectl config use-context`/`set-context` would rewrite under the running lesson (tutor/kubectl_guard.py).
    env = backend.env()
    try:
        directories = kubectl_path(env)
    except OSError as error:
        return _err(f"cannot write the kubectl guard beside {env.get('KUBECONFIG')}: {error.strerror}")
    again = f" --state-dir {shlex.quote(state_flag)}" if state_flag else ""
    print(f"# Point this shell's kubectl at kube-tutor's {backend.name} cluster:")
    print(f'#   eval "$(kube-tutor cluster env{again})"')
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    print("# kube-tutor's kubectl guard first: it keeps kubectl on this cluster and this kubeconfig unchanged.")
    print(f"export PATH={shlex.quote(os.pathsep.join(directories))}:\"$PATH\"")
    if not backend.status().running:
        print(f"# The {backend.name} cluster is not running: start it with `kube-tutor cluster up{again}`.")
        return 0
    # The lesson's own variables (NODE_PORT), read from the cluster as the lesson's `export` line reads them.
    for line in _variable_lines(state, backend, env):
        print(line)
    return 0


STATUS_NOT_RUNNING = 3
STATUS_NOT_SAVING = 4


def cmd_status(backend: Backend) -> int:
    """0: running; 3: not running; 4: running, but its storage fails (changes are not saved)."""
    status = backend.status()
    if status.running:
        pid = f"pid {status.pid}, " if status.pid else ""
        line = f"{backend.name} cluster: running ({pid}{status.server}{', ' + status.detail if status.detail else ''})"
        if status.storage_error:
            line += f" — NOT SAVING CHANGES: {status.storage_error}"
        print(line)
        print(f"kubeconfig: {status.kubeconfig}")
        if status.storage_error:
            print("what you change is kept in memory only and is lost when the cluster stops")
            return STATUS_NOT_SAVING
        return 0
    print(f"{backend.name} cluster: {status.detail or 'not running'}")
    print("start it with: kube-tutor cluster up")
    return STATUS_NOT_RUNNING


def cmd_down(backend: Backend, state: Path, delete_state: bool) -> int:
    """Stop the cluster; 1 when it had not saved every change (the reason on stderr), or its state could not be
    deleted."""
    try:
        result = backend.down()
    except BackendError as error:
        return _err(str(error))
    print(f"{backend.name} cluster stopped" if result.stopped else f"{backend.name} cluster was not running")
    code = 0
    if result.unsaved:
        code = _err(f"the {backend.name} cluster stopped, but {result.unsaved}")
    if delete_state:
        directory = getattr(backend, "directory", state / backend.name)
        if backend.name == "existing":
            from tutor.backends.existing import ExistingBackend

            if isinstance(backend, ExistingBackend):  # its seat goes first, while its record is there
                try:
                    deleted = backend.delete_seat()
                except BackendError as error:
                    return _err(f"{error} (kept {directory})")
                if deleted:
                    print(f"deleted the seat {backend.namespace}: {', '.join(deleted)}")
        failures: list[str] = []
        if directory.exists():
            shutil.rmtree(directory, onerror=lambda _function, path, info: failures.append(
                f"{path}: {getattr(info[1], 'strerror', None) or info[1]}"))
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            return _err(f"could not delete {directory}: {failures[0]}{more}")
        print(f"deleted {directory}")
    return code


def cmd_clock(backend: Backend, paused: bool, lang: str) -> int:
    """``cluster pause|resume``: stop or restart the practice cluster's clock; 1 with one line when it cannot."""
    try:
        clock = backend.set_clock_paused(paused)
    except BackendError as error:
        return _err(said(error.args[0] if error.args else str(error), lang))
    print(t("clock.paused", lang) if clock.paused else t("clock.resumed", lang, scale=f"{clock.time_scale:g}"))
    return 0


def _lang(args: argparse.Namespace) -> str:
    """The language of the learner: ``--lang``, else the locale's."""
    return getattr(args, "lang", None) or default_lang()


def _backend(state: Path, args: argparse.Namespace, *, announce: bool = True) -> Backend:
    """The backend the options name (or the detected one); ``announce``: say which on stderr, with the reason
    (only the commands that start something do: ``cluster up``, the TUI, ``verify``, ``reset``).

    Raises:
        BackendError: an unknown or incomplete choice.
    """
    name, reason = choose(getattr(args, "backend", None))
    if announce:
        print(f"kube-tutor: {t('choice.using', _lang(args), name=name, reason=reason)}", file=sys.stderr)
    return make_backend(name, state, kubeconfig=getattr(args, "kubeconfig", None),
                        context=getattr(args, "context", None), namespace=getattr(args, "namespace", None),
                        time_scale=getattr(args, "time_scale", None),
                        own_credentials=bool(getattr(args, "own_credentials", False)))


def default_lang() -> str:
    """``ja`` when the locale is Japanese, else ``en``."""
    for key in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(key, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def _load(name: str | None) -> Lesson | int:
    """The lesson with an id (or in a file), or the exit code after its problems (one line each)."""
    try:
        return load_lesson(find_lesson(name))
    except LessonNotFound as error:
        return _err(str(error))
    except LessonError as error:
        print(error, file=sys.stderr)
        return 1


def _default_of(lessons: Sequence[Lesson]) -> Lesson | None:
    """The default lesson among already loaded ones (None: not among them, or no lessons directory)."""
    try:
        default = find_lesson(None)
    except (LessonNotFound, LessonError):
        return None
    return next((lesson for lesson in lessons if lesson.path == default), None)


def _lint_directory(directory: Path) -> int:
    """Lint every lesson file of a directory (and that their ids differ), then its course file."""
    files: list[Path] = lesson_files(directory)
    if not files:
        return _err(f"no lesson files in {directory}")
    return max(lint_main(files), _lint_course(directory))


def _lint_course(directory: Path) -> int:
    """Lint the course file of a lessons directory (its format, and the ids against the directory's lessons)."""
    problems = course_problems(directory)
    for problem in problems:
        print(problem)
    if not problems and course_file(directory) is not None:
        count = len(load_course(directory).lessons)
        print(f"{course_file(directory)}: ok ({count} lesson{'' if count == 1 else 's'})")
    return 1 if problems else 0


def cmd_lint(names: Sequence[str]) -> int:
    """Lint lesson files, ids or directories; with none, every file of the lessons directory (and that their ids
    differ) and its course."""
    if not names:
        return _lint_directory(paths.lessons_dir())
    if all(Path(name).is_dir() for name in names):
        return max(_lint_directory(Path(name)) for name in names)
    courses = [Path(name) for name in names if Path(name).name in COURSE_FILES and Path(name).is_file()]
    try:
        files = [find_lesson(name) for name in names if Path(name) not in courses]
    except (LessonNotFound, LessonError) as error:
        return _err(str(error))
    status = lint_main(files) if files else 0
    return max([status, *(_lint_course(course.parent) for course in courses)])


def _lesson_and_backend(state: Path, args: argparse.Namespace) -> tuple[Lesson, Backend] | int:
    """The lesson and a running backend, or the exit code after a one-line error."""
    lesson = _load(args.lesson)
    if isinstance(lesson, int):
        return lesson
    backend = _up(state, args)
    if isinstance(backend, int):
        return backend
    return lesson.in_namespace(backend.namespace), backend


def _up(state: Path, args: argparse.Namespace) -> Backend | int:
    """A running backend, or the exit code after a one-line error."""
    try:
        backend = _backend(state, args)
        status = backend.up(on_status=_say(_lang(args)))
    except BackendError as error:
        return _err(str(error))
    if status.storage_error:
        _err(_not_saving(backend, status))
    return backend


def cmd_verify_course(state: Path, args: argparse.Namespace, directory: Path) -> int:
    """``verify --all`` / ``verify DIRECTORY``: the whole course of a lessons directory, in order, on one cluster."""
    try:
        course, lessons = load_course_lessons(directory)
    except LessonError as error:
        print(error, file=sys.stderr)
        return 1
    backend = _up(state, args)
    if isinstance(backend, int):
        return backend
    lessons = [lesson.in_namespace(backend.namespace) for lesson in lessons]
    return asyncio.run(verify_course(course, lessons, backend_env(backend.env()), backend.namespace,
                                     backend=backend, name=backend.name, out=sys.stdout, lang=_lang(args),
                                     verbose=args.verbose))


def cmd_verify(state: Path, args: argparse.Namespace) -> int:
    if args.all and args.lesson is not None and not Path(args.lesson).is_dir():
        return _err("verify --all plays the whole course: give no LESSON, or a lessons directory")
    if args.all or (args.lesson is not None and Path(args.lesson).is_dir()):
        return cmd_verify_course(state, args, Path(args.lesson) if args.lesson else paths.lessons_dir())
    if args.lesson is None:
        return _err("verify needs a LESSON (an id or a file), a lessons directory, or --all")
    found = _lesson_and_backend(state, args)
    if isinstance(found, int):
        return found
    lesson, backend = found
    return asyncio.run(verify(lesson, backend_env(backend.env()), backend.namespace, backend=backend,
                              name=backend.name, out=sys.stdout, lang=_lang(args),
                              verbose=args.verbose))


def cmd_reset(state: Path, args: argparse.Namespace) -> int:
    """``reset [LESSON]``; without one, the lesson ``kube-tutor`` would resume (as :func:`cmd_tui` chooses it)."""
    if args.lesson is None:
        try:
            backend = _backend(state, args, announce=False)
        except BackendError as error:
            return _err(str(error))
        choices, _, resumed = _course_choices(state, backend)
        lesson = resumed or _default_of(choices)
        if lesson is not None:
            args.lesson = str(lesson.path)
    found = _lesson_and_backend(state, args)
    if isinstance(found, int):
        return found
    lesson, backend = found
    Progress.load(state, lesson.id, backend.name).reset()
    return asyncio.run(reset(lesson, backend_env(backend.env()), backend.namespace, backend=backend,
                             out=sys.stdout, lang=_lang(args)))


CourseChoices = tuple[list[Lesson], Text | None, Lesson | None]
"""A course's lessons in order, its title, and the lesson where the learner resumes."""


def _course_choices(state: Path, backend: Backend) -> CourseChoices:
    """The lessons of the course in order (a broken course file: every lesson that loads, each problem said on
    stderr), its title, and the lesson where the learner resumes: the last lesson touched, else the first not
    done."""
    try:
        course, choices = load_course_lessons()
        title: Text | None = course.title
    except LessonError as error:
        print(error, file=sys.stderr)
        choices, problems = installed_lessons()
        for problem in problems:
            print(problem, file=sys.stderr)
        title = None
    choices = [lesson.in_namespace(backend.namespace) for lesson in choices]
    statuses = [lesson_status(Progress.load(state, lesson.id, backend.name), [step.id for step in lesson.steps])
                for lesson in choices]
    resume = resume_choice(statuses)
    return choices, title, next((lesson for lesson in choices if lesson.id == resume), None)


def _open(state: Path, args: argparse.Namespace) -> tuple[Lesson | None, Backend, CourseChoices] | int:
    """What the TUI and the demo open: the lesson named (None: none; a wrong name is one line, before any backend is
    chosen), the backend, and the course's lessons, title and the lesson where the learner was; or an exit status."""
    name = getattr(args, "lesson", None)
    named = _load(name) if name is not None else None
    if isinstance(named, int):
        return named
    try:
        backend = _backend(state, args)
    except BackendError as error:
        return _err(str(error))
    return named, backend, _course_choices(state, backend)


def cmd_tui(state: Path, args: argparse.Namespace) -> int:
    """Open the lesson in the TUI (imports textual only here: the other commands stay light). Without a lesson:
    the course, where the learner was (the picker on a first start)."""
    lang = getattr(args, "lang", None)
    opened = _open(state, args)
    if isinstance(opened, int):
        return opened
    named, backend, (choices, title, resumed) = opened
    if named is not None and named.id not in {choice.id for choice in choices}:
        choices, title = [], None  # a lesson of no course: no next lesson, no picker
    lesson = named or resumed or _default_of(choices) or _load(None)  # each lesson file is read once
    if isinstance(lesson, int):
        return lesson
    lesson = lesson.in_namespace(backend.namespace)
    from tutor.tui.app import TutorApp

    seat_mode = _seat_mode(args)
    if isinstance(seat_mode, int):
        return seat_mode
    app = TutorApp(lesson, backend, state, lang=lang or default_lang(), cwd=Path.cwd(), choices=choices,
                   course=title, named=named is not None, **seat_mode)
    app.run()
    if app.lesson_shown:
        print(goodbye(app.lesson, backend, state, app.lang), file=sys.stderr)
    return 0


def cmd_demo(state: Path, args: argparse.Namespace) -> int:
    """``kube-tutor demo``: the TUI with the autopilot (tutor/tui/autopilot.py). The lessons played start over: their
    progress in this state directory is reset, so the start state is built anew."""
    from tutor.cast import CastWriter
    from tutor.lesson.demo import DEFAULT_CPS

    opened = _open(state, args)
    if isinstance(opened, int):
        return opened
    named, backend, (choices, title, _) = opened
    lesson = named.in_namespace(backend.namespace) if named is not None else (choices[0] if choices else None)
    if lesson is None:
        return _err("no lesson to play")
    played = choices if args.course else [lesson]
    if args.course and choices:
        lesson = choices[0]
    for each in played:
        Progress.load(state, each.id, backend.name).reset()
    lang = getattr(args, "lang", None) or default_lang()
    recorder = None
    if args.record is not None:
        from tutor.tui.autopilot import terminal_size

        width, height = terminal_size()
        try:
            recorder = CastWriter(Path(args.record), width, height, title=f"kube-tutor demo: {lesson.title.get(lang)}")
        except OSError as error:
            return _err(f"cannot write the recording {args.record}: {error.strerror or error}")
    from tutor.tui.autopilot import DemoApp

    app = DemoApp(lesson, backend, state, lang=lang, cwd=Path.cwd(), choices=choices if args.course else [],
                  course=title if args.course else None, named=True, pause=args.pause,
                  cps=args.typing_speed or DEFAULT_CPS, loop=args.loop, recorder=recorder, course_demo=args.course)
    try:
        app.run()
    finally:
        if recorder is not None:
            recorder.close()
    return 0
def _seat_mode(args: argparse.Namespace) -> dict[str, Any] | int:
    """``--workshop ROOT --seat SEAT``: the TUI's ``workshop=WorkshopSeat(ROOT, SEAT)`` (tutor/workshop/seat.py)."""
    root, seat = getattr(args, "workshop", None), getattr(args, "seat", None)
    if root is None and seat is None:
        return {}
    if root is None or seat is None:
        return _err("--workshop ROOT and --seat SEAT go together")
    from tutor.workshop.seat import WorkshopSeat

    return {"workshop": WorkshopSeat(Path(root), seat)}


def goodbye(lesson: Lesson, backend: Backend, state: Path, lang: str) -> str:
    """What is left behind when the TUI quits: where the progress is, and the cluster still running."""
    progress = Progress.load(state, lesson.id, backend.name)
    total = len(lesson.steps)
    if all(progress.step(step.id).passed for step in lesson.steps):
        lines = [t("exit.finished", lang)]
    else:
        n = lesson.index(progress.current) + 1 if progress.current in {s.id for s in lesson.steps} else 1
        lines = [t("exit.saved", lang, n=n, total=total)]
    try:
        running = backend.status().running
    except BackendError:
        running = False
    if running and backend.name != "existing":
        lines.append(t(f"exit.still_running.{backend.name}", lang, command=f"{paths.command(state)} cluster down"))
    return "\n".join(f"kube-tutor: {line}" for line in lines)


def _start_by_default(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``kube-tutor LESSON`` means ``kube-tutor start LESSON``: insert ``start`` before a first argument that is
    not a command (options before it, and their values, stay where they are)."""
    commands: set[str] = set()
    takes_value: set[str] = set()
    for action in parser._actions:  # argparse keeps its options and subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
        elif action.nargs != 0:
            takes_value.update(action.option_strings)
    args = list(argv)
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        index += 2 if args[index] in takes_value else 1
    if index < len(args) and args[index] not in commands and not args[index].startswith("-"):
        args.insert(index, "start")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(_start_by_default(parser, sys.argv[1:] if argv is None else argv))
    state = paths.state_dir(args.state_dir)
    if args.command in (None, "start"):
        return cmd_tui(state, args)
    if args.command == "doctor":
        from tutor.doctor import main as doctor

        return doctor(state, sys.stdout)
    if args.command == "lint":
        return cmd_lint(args.files)
    if args.command == "verify":
        return cmd_verify(state, args)
    if args.command == "reset":
        return cmd_reset(state, args)
    if args.command == "demo":
        return cmd_demo(state, args)
    if args.command == "workshop":
        from tutor.workshop.cli import main as workshop

        return workshop(state, args, _lang(args))
    if args.command == "cluster":
        try:
            backend = _backend(state, args, announce=args.action == "up")
        except BackendError as error:
            return _err(str(error))
        if args.action == "up":
            return cmd_up(backend)
        if args.action == "env":
            return cmd_env(backend, state, args.state_dir)
        if args.action == "status":
            return cmd_status(backend)
        if args.action == "down":
            return cmd_down(backend, state, args.delete_state)
        if args.action in ("pause", "resume"):
            return cmd_clock(backend, args.action == "pause", _lang(args))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
