"""tutor.shell: the refusal check, the learner's shell session, streaming and async runs."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tutor import shell
from tutor.shell import REFUSED_FLAGS, Session, ShellError, check_command, run_async, stream_lines

DEADLINE = 10.0


class Output:
    """An ``on_output`` callback that records chunks and lets a test wait for some text."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, text: str) -> None:
        self.chunks.append(text)
        self._changed.set()

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    async def wait_for(self, predicate: Callable[[str], bool], timeout: float = DEADLINE) -> None:
        async def until() -> None:
            while not predicate(self.text):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_group_gone(pgid: int, timeout: float = DEADLINE) -> None:
    async def until() -> None:
        while group_exists(pgid):
            await asyncio.sleep(0.02)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)

    await asyncio.wait_for(until(), timeout)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(dict(os.environ), tmp_path)


async def run(session: Session, line: str) -> tuple[int, str]:
    output = Output()
    code = await asyncio.wait_for(session.run(line, output), DEADLINE)
    return code, output.text


# ---------------------------------------------------------------------------------------------------------------
# check_command

ALLOWED = [
    "kubectl get pods",
    "kubectl get pods -o wide",
    "kubectl get services/kubernetes-bootcamp -o go-template='{{(index .spec.ports 0).nodePort}}'",
    "export NODE_PORT=$(kubectl get services/kubernetes-bootcamp -o go-template='{{(index .spec.ports 0).nodePort}}')",
    "curl -s localhost:$NODE_PORT",
    "curl -s http://localhost:31234 | grep --context=2 Hello",
    "grep --context=2 error log.txt",
    "kubectl logs deploy/web | grep -s --context 2 error",
    "kubectl exec -ti web-1 -- curl -s localhost:8080",
    "kubectl get pods --sort-by=.metadata.name --selector app=web",
    "kubectl describe pods 2>&1 | less -s",
    "echo kubectl",
    "echo 'unbalanced",
    "kubectl get pods -l app=web # comment",
    "",
]

REFUSED = [
    ("kubectl --context other get pods", "--context"),
    ("kubectl get pods --context=other", "--context"),
    ("kubectl get pods --kubeconfig ~/.kube/config", "--kubeconfig"),
    ("/usr/bin/kubectl --kubeconfig ~/.kube/config get pods", "--kubeconfig"),
    ("kubectl get pods --cluster prod", "--cluster"),
    ("kubectl get pods --server https://x", "--server"),
    ("kubectl get pods -s https://x", "-s"),
    ("kubectl -s=https://x get pods", "-s"),
    ("kubectl get pods --token=abc", "--token"),
    ("kubectl get pods --user admin", "--user"),
    ("kubectl get pods | grep web; kubectl get nodes --context x", "--context"),
    ("echo hi && kubectl --token=abc get pods", "--token"),
    ("false || kubectl --token abc get pods", "--token"),
    ("echo $(kubectl get pods --context x)", "--context"),
    ('echo "$(kubectl get pods --context x)"', "--context"),
    ("export NODE_PORT=$(kubectl get svc -o name --context=x)", "--context"),
    ("echo `kubectl get pods --context x`", "--context"),
    ("KUBECONFIG=/tmp/k kubectl get pods --context x", "--context"),
    ("sudo kubectl get pods --context x", "--context"),
    ("watch -n 1 kubectl get pods --context x", "--context"),
    ("bash -c 'kubectl get pods --context x'", "--context"),
    ("(kubectl get pods --context x)", "--context"),
    ("kubectl get pods\nkubectl get pods --context x", "--context"),
    ("for i in 1 2; do kubectl get pods --user x; done", "--user"),
    ("kubectl get pods > out.txt --context x", "--context"),
]


@pytest.mark.parametrize("line", ALLOWED)
def test_check_command_allows(line: str) -> None:
    assert check_command(line) is None


@pytest.mark.parametrize(("line", "flag"), REFUSED)
def test_check_command_refuses(line: str, flag: str) -> None:
    refusal = check_command(line)
    assert refusal is not None
    assert f"`{flag}`" in refusal
    assert "\n" not in refusal
    assert "abc" not in refusal  # a token's value is never echoed


def test_refusal_wording() -> None:
    assert check_command("kubectl get pods --context prod") == (
        "kube-tutor: refused: `--context` would point kubectl at another cluster; the lesson's commands always "
        "use kube-tutor's own kubeconfig. Run it without `--context`.")
    assert set(REFUSED_FLAGS) == {"--kubeconfig", "--context", "--cluster", "--server", "-s", "--token", "--user",
                                  "--username", "--password", "--client-certificate", "--client-key",
                                  "--as", "--as-group", "--as-uid", "--as-user-extra"}


# ---------------------------------------------------------------------------------------------------------------
# Session: state across commands

async def test_exported_variable_persists(session: Session) -> None:
    assert await run(session, "export NODE_PORT=$(echo 31234)") == (0, "")
    assert await run(session, "echo NODE_PORT=$NODE_PORT") == (0, "NODE_PORT=31234\n")
    assert session.exported() == {"NODE_PORT": "31234"}
    assert session.env["NODE_PORT"] == "31234"
    assert session.history == ["export NODE_PORT=$(echo 31234)", "echo NODE_PORT=$NODE_PORT"]


async def test_cd_persists(session: Session, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert (await run(session, "cd sub"))[0] == 0
    assert session.cwd == tmp_path / "sub"
    assert await run(session, "pwd") == (0, f"{tmp_path / 'sub'}\n")
    assert (await run(session, "cd /tmp"))[0] == 0
    assert session.cwd == Path("/tmp")
    assert await run(session, "pwd") == (0, "/tmp\n")
    assert "PWD" not in session.exported()


async def test_unset_and_unexported_variables(session: Session) -> None:
    await run(session, "export GREETING=hello")
    assert await run(session, 'echo "[$GREETING]"') == (0, "[hello]\n")
    await run(session, "unset GREETING")
    assert await run(session, 'echo "[$GREETING]"') == (0, "[]\n")
    assert "GREETING" not in session.env
    await run(session, "PLAIN=1")  # not exported: gone with its bash, documented
    assert await run(session, 'echo "[$PLAIN]"') == (0, "[]\n")


async def test_exit_ends_the_line_but_keeps_its_state(session: Session) -> None:
    assert await run(session, "export KEPT=yes; exit 3; echo never") == (3, "")
    assert session.exported() == {"KEPT": "yes"}


async def test_wrapper_variables_do_not_leak(session: Session) -> None:
    assert await run(session, "env | grep -c '^KUBE_TUTOR_' || true") == (0, "0\n")


async def test_pipes_and_template_quoting_pass_through(session: Session) -> None:
    assert await run(session, "echo '{{(index .spec.ports 0).nodePort}}'") == (0, "{{(index .spec.ports 0).nodePort}}\n")
    assert await run(session, "printf 'a\\nb\\nc\\n' | grep b | tr b B") == (0, "B\n")
    assert await run(session, 'echo "$((1 + 2))" >&2') == (0, "3\n")


async def test_exit_codes(session: Session) -> None:
    assert await run(session, "false") == (1, "")
    code, text = await run(session, "no-such-command-kt")
    assert code == 127
    assert "no-such-command-kt: command not found" in text
    assert await run(session, "   ") == (0, "")
    assert session.history == ["false", "no-such-command-kt"]


async def test_output_streams_before_the_command_ends(session: Session, tmp_path: Path) -> None:
    go = tmp_path / "go"
    line = (f"printf first; for i in $(seq 1000); do [ -e {shlex.quote(str(go))} ] && break; sleep 0.01; done; "
            "echo; echo done")
    output = Output()
    task = asyncio.create_task(session.run(line, output))
    await output.wait_for(lambda text: "first" in text)
    assert not task.done()
    assert session.running
    assert output.chunks[0] == "first"  # a partial line, delivered without waiting for its newline
    go.touch()
    assert await asyncio.wait_for(task, DEADLINE) == 0
    assert output.text == "first\ndone\n"
    assert not session.running


async def test_refused_line_does_not_run(session: Session, tmp_path: Path) -> None:
    marker = tmp_path / "created"
    line = f"touch {marker} && kubectl --context other get pods"
    code, text = await run(session, line)
    assert code == 2
    assert text == check_command(line) + "\n"
    assert not marker.exists()
    assert session.history == [line]


async def test_pinned_variables_are_restored(session: Session) -> None:
    base = os.environ["KUBECONFIG"]
    code, text = await run(session, "export KUBECONFIG=/tmp/elsewhere; echo $KUBECONFIG")
    assert code == 0
    assert text.startswith("/tmp/elsewhere\n")
    notices = text.splitlines()[1:]
    assert len(notices) == 1 and "restored KUBECONFIG" in notices[0]
    assert session.env["KUBECONFIG"] == base
    assert await run(session, 'echo "$KUBECONFIG"') == (0, f"{base}\n")
    code, text = await run(session, "unset KUBERC")
    assert "restored KUBERC" in text
    assert session.env["KUBERC"] == os.environ["KUBERC"]
    assert session.exported() == {}


async def test_pinned_variable_absent_from_the_base_stays_absent(tmp_path: Path) -> None:
    session = Session({"PATH": os.environ["PATH"]}, tmp_path, pinned=("EXTRA",))
    code, text = await run(session, "export EXTRA=1")
    assert code == 0 and "restored EXTRA" in text
    assert "EXTRA" not in session.env


# ---------------------------------------------------------------------------------------------------------------
# Session: cancel and leftovers

async def cancel_after_pid(session: Session, line: str) -> tuple[int, int]:
    output = Output()
    task = asyncio.create_task(session.run(line, output))
    await output.wait_for(lambda text: text.endswith("\n"))
    pgid = int(output.text.split()[0])
    session.cancel()
    return await asyncio.wait_for(task, DEADLINE), pgid


async def test_cancel_interrupts(session: Session) -> None:
    code, pgid = await cancel_after_pid(session, "echo $$; sleep 30")
    assert code == 130
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    assert not session.running
    assert await run(session, "echo still usable") == (0, "still usable\n")


async def test_cancel_escalates_when_sigint_is_ignored(session: Session) -> None:
    code, pgid = await cancel_after_pid(session, "trap '' INT; echo $$; sleep 30 | cat")
    assert code == 130
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)


async def test_cancel_is_a_no_op_when_idle(session: Session) -> None:
    session.cancel()
    assert await run(session, "echo ok") == (0, "ok\n")


async def test_background_job_output_and_close(session: Session) -> None:
    output = Output()
    code = await asyncio.wait_for(session.run("echo $$; sleep 30 &", output), DEADLINE)
    assert code == 0
    pgid = int(output.text.split()[0])
    assert group_exists(pgid)
    await asyncio.wait_for(session.close(), DEADLINE)
    await wait_group_gone(pgid)


async def test_failing_callback_kills_the_command(session: Session) -> None:
    seen: list[str] = []

    def explode(text: str) -> None:
        seen.append(text)
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        await asyncio.wait_for(session.run("echo $$; exec sleep 30", explode), DEADLINE)
    await wait_group_gone(int(seen[0].split()[0]))
    assert not session.running


# ---------------------------------------------------------------------------------------------------------------
# stream_lines

async def test_stream_lines_yields_lines_and_terminates_on_close() -> None:
    lines = stream_lines(["bash", "-c", "echo $$; printf 'two\\r\\n'; exec sleep 30"], dict(os.environ))
    pgid = int(await asyncio.wait_for(anext(lines), DEADLINE))
    assert await asyncio.wait_for(anext(lines), DEADLINE) == "two"
    await asyncio.wait_for(lines.aclose(), DEADLINE)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)


async def test_stream_lines_ends_with_the_process() -> None:
    argv = ["bash", "-c", "echo a; echo b; printf c"]
    assert [line async for line in stream_lines(argv, dict(os.environ))] == ["a", "b", "c"]


async def test_stream_lines_reports_failure_with_the_last_stderr_line() -> None:
    argv = ["bash", "-c", "echo out; echo first >&2; echo 'the real error' >&2; exit 3"]
    seen = []
    with pytest.raises(ShellError) as caught:
        async for line in stream_lines(argv, dict(os.environ)):
            seen.append(line)
    assert str(caught.value) == "the real error"
    assert seen == ["out"]


async def test_stream_lines_missing_program() -> None:
    with pytest.raises(ShellError, match="command not found"):
        await anext(stream_lines(["no-such-program-kt"], dict(os.environ)))


async def test_stream_lines_cancelled_task_terminates_the_process() -> None:
    started = asyncio.Event()
    pgids: list[int] = []

    async def consume() -> None:
        async for line in stream_lines(["bash", "-c", "echo $$; exec sleep 30"], dict(os.environ)):
            pgids.append(int(line))
            started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), DEADLINE)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, DEADLINE)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgids[0], 0)


# ---------------------------------------------------------------------------------------------------------------
# run_async

async def test_run_async_matches_run() -> None:
    argv = [sys.executable, "-c", "import sys; print(sys.stdin.read().upper()); print('err', file=sys.stderr); sys.exit(4)"]
    done = await run_async(argv, input_text="hello")
    assert done == shell.run(argv, input_text="hello")
    assert (done.returncode, done.stdout, done.stderr) == (4, "HELLO\n", "err\n")
    assert (await run_async(["true"])).returncode == 0


async def test_run_async_missing_program() -> None:
    with pytest.raises(ShellError, match="no-such-program-kt: command not found"):
        await run_async(["no-such-program-kt"])


async def test_run_async_timeout_kills(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(ShellError, match="no answer after 1 s"):
        await run_async(["bash", "-c", 'echo $$ > "$1"; exec sleep 30', "bash", str(pidfile)], timeout=1)
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


# ---------------------------------------------------------------------------------------------------------------
# run (through sh) and stop_process

def test_run_reports_every_exit_status_and_never_reads_the_terminal(tmp_path: Path) -> None:
    done = shell.run(["bash", "-c", "read line; echo got=${line:-nothing}; echo oops >&2; exit 7"])
    assert (done.returncode, done.stdout, done.stderr) == (7, "got=nothing\n", "oops\n")  # stdin is /dev/null
    killed = shell.run(["bash", "-c", "kill -KILL $$"])
    assert killed.returncode == -9  # like subprocess: negative for death by a signal
    crlf = shell.run(["printf", "a\\r\\nb\\xff\\n"])
    assert crlf.stdout == "a\nb\ufffd\n"  # universal newlines; undecodable bytes replaced


def test_run_uses_the_given_environment_and_its_path(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "kt-tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho \"tool sees $KT_VALUE\"\n", encoding="utf-8")
    tool.chmod(0o755)
    env = {"PATH": f"{tool.parent}{os.pathsep}/usr/bin{os.pathsep}/bin", "KT_VALUE": "42"}
    assert shell.run(["kt-tool"], env=env).stdout == "tool sees 42\n"
    with pytest.raises(ShellError, match="kt-tool: command not found"):
        shell.run(["kt-tool"])  # not on this process's PATH


def test_run_missing_program_and_timeout(tmp_path: Path) -> None:
    with pytest.raises(ShellError, match="no-such-program-kt: command not found"):
        shell.run(["no-such-program-kt"])
    with pytest.raises(ShellError, match=r"sleep 30: no answer after 0.5 s"):
        shell.run(["sleep", "30"], timeout=0.5)


def test_stop_process_escalates_to_sigkill_and_ends_groups(tmp_path: Path) -> None:
    # A process that ignores SIGTERM is killed after the grace period.
    stubborn = shell.spawn_daemon(["bash", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
                                  log_path=tmp_path / "stubborn.log")
    assert shell.stop_process(stubborn, grace=0.3) is True
    assert not shell.pid_alive(stubborn)
    assert shell.stop_process(stubborn) is False  # nothing left to stop
    # A group: the leader and its child both go.
    pidfile = tmp_path / "child"
    leader = shell.spawn_daemon(["bash", "-c", f'sleep 30 & echo $! > "{pidfile}"; wait'],
                                log_path=tmp_path / "group.log")
    deadline = time.monotonic() + DEADLINE
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.02)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    child = int(pidfile.read_text())
    assert shell.stop_process(leader, group=True, grace=2) is True
    assert not shell.pid_alive(leader)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


async def test_stream_lines_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A TUI killed with SIGKILL (an OOM kill) runs no clean-up: its ``kubectl proxy`` must not live on. The child
    is started with ``setpriv --pdeathsig TERM`` (``PR_SET_PDEATHSIG``, prctl(2)) where util-linux has it."""
    if shutil.which("setpriv") is None:
        pytest.skip("util-linux's setpriv is not installed: a killed TUI's watch may outlive it here")
    script = ("import asyncio, os, sys\n"
              "from tutor.shell import stream_lines\n"
              "async def main():\n"
              "    async for line in stream_lines(['bash', '-c', 'echo $$; exec sleep 60'], dict(os.environ)):\n"
              "        print(line, flush=True)\n"
              "asyncio.run(main())\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    assert parent.stdout is not None
    child = int(await asyncio.wait_for(asyncio.to_thread(parent.stdout.readline), DEADLINE))
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(DEADLINE)

    def running() -> bool:  # an orphan is reaped by init; until then a zombie ("Z") counts as ended
        try:
            return Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
        except OSError:
            return False

    async def until() -> None:
        while running():
            await asyncio.sleep(0.02)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)

    await asyncio.wait_for(until(), DEADLINE)
