"""tutor.shell's side of the console as a shell: which lines run an interactive program, what kubectl's completion
engine is asked and how its answer is read, file names, and restoring an earlier session's variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tutor import shell
from tutor.shell import (
    Completions,
    Interactive,
    interactive_program,
    kubectl_completion_args,
    parse_completions,
)


@pytest.mark.parametrize(("line", "found"), [
    ("watch kubectl get pods", Interactive("full_screen", "watch")),
    ("watch -n1 'kubectl get pods'", Interactive("full_screen", "watch")),
    ("top", Interactive("full_screen", "top")),
    ("vi notes.txt", Interactive("editor", "vi")),
    ("/usr/bin/vim notes.txt", Interactive("editor", "vim")),
    ("nano deployment.yaml", Interactive("editor", "nano")),
    ("sudo vim /etc/hosts", Interactive("editor", "vim")),
    ("EDITOR=nano kubectl edit deployment/kubernetes-bootcamp", Interactive("kubectl_edit", "kubectl edit")),
    ("kubectl edit deployment/kubernetes-bootcamp", Interactive("kubectl_edit", "kubectl edit")),
    ("kubectl -n default edit deployments kubernetes-bootcamp", Interactive("kubectl_edit", "kubectl edit")),
    ("kubectl apply edit-last-applied deployment/x", Interactive("kubectl_edit", "kubectl apply edit-last-applied")),
    ("kubectl get pods | less", Interactive("pager", "less")),
    ("kubectl describe pods | more", Interactive("pager", "more")),
    ("kubectl exec -it web -- sh", Interactive("tty", "kubectl exec -it")),
    ("kubectl exec -ti web -- sh", Interactive("tty", "kubectl exec -ti")),
    ("kubectl exec --stdin --tty web -- sh", Interactive("tty", "kubectl exec --stdin --tty")),
    ("kubectl exec -t web -- ls", Interactive("tty", "kubectl exec -t")),
    ("kubectl attach -i web", Interactive("tty", "kubectl attach -i")),
    ("kubectl run -it shell --image=busybox", Interactive("tty", "kubectl run -it")),
    ("echo start; kubectl edit svc/x", Interactive("kubectl_edit", "kubectl edit")),
    ("x=$(kubectl edit svc/x)", Interactive("kubectl_edit", "kubectl edit")),
    ("bash -c 'vim notes.txt'", Interactive("editor", "vim")),
    ("time kubectl exec -it web -- sh", Interactive("tty", "kubectl exec -it")),
    # not interactive: only the command word counts, and kubectl's flags after `--` are the container's
    ("kubectl exec web -- env", None),
    ("kubectl exec -i web -- cat", None),  # stdin is /dev/null (or a redirect): no terminal needed
    ("kubectl exec web -- ls -t", None),
    ("kubectl exec --tty=false web -- ls", None),
    ("kubectl attach web", None),
    ("kubectl top pods", None),
    ("kubectl get pods -w", None),
    ("kubectl logs -f deployment/kubernetes-bootcamp", None),
    ("echo vim less watch top", None),
    ("grep less notes.txt", None),
    ("cat less", None),
    ("kubectl get pods -l app=vim", None),
    ("echo 'unbalanced", None),
])
def test_interactive_programs_are_found_exactly(line: str, found: Interactive | None) -> None:
    assert interactive_program(line) == found


@pytest.mark.parametrize(("line", "arguments"), [
    ("kubectl get ", ["get", ""]),
    ("kubectl get dep", ["get", "dep"]),
    ("kubectl get pods -o=ya", ["get", "pods", "-o=ya"]),
    ("kubectl -n kube-system get po", ["-n", "kube-system", "get", "po"]),
    ("echo hi; kubectl rollout status ", ["rollout", "status", ""]),
    ("export NODE_PORT=$(kubectl get services/kub", ["get", "services/kub"]),
    ("sudo kubectl get no", ["get", "no"]),
    ("KUBECONFIG=/x kubectl get no", ["get", "no"]),
    ("kubectl", None),  # the word kubectl itself
    ("kub", None),
    ("", None),
    ("curl localhost:", None),
    ("kubectl get pods | grep ", None),
    ("kubectl get pods > ", None),
    ("kubectl get 'po", None),  # an open quote
])
def test_what_kubectls_completion_engine_is_asked(line: str, arguments: list[str] | None) -> None:
    assert kubectl_completion_args(line) == arguments


def test_cobras_answer_is_read_candidates_then_the_directive() -> None:
    # spf13/cobra completions.go, initCompleteCmd: each completion on its own line (a tab before its description),
    # then ":<directive>" as the last line; active_help.go: "_activeHelp_ " lines are hints, not completions.
    answer = ("history\tView rollout history\nstatus\tShow the status of the rollout\n"
              "_activeHelp_ This command needs a resource\nundo\n:36\n")
    found = parse_completions(answer)
    assert found == Completions((("history", "View rollout history"), ("status", "Show the status of the rollout"),
                                 ("undo", "")), shell.COMPLETION_NO_FILE | shell.COMPLETION_KEEP_ORDER)
    assert found.words == ("history", "status", "undo")
    assert parse_completions(":4\n") == Completions((), shell.COMPLETION_NO_FILE)
    # file extensions to filter by are no words to complete; an error directive voids the candidates
    assert parse_completions("json\nyaml\nyml\n:8\n").words == ()
    assert parse_completions("pods\n:1\n").words == ()
    # not cobra's output at all (an error message on stdout, nothing): an error
    assert parse_completions("error: unknown command\n").directive == shell.COMPLETION_ERROR
    assert parse_completions("").directive == shell.COMPLETION_ERROR


async def test_kubectl_completions_runs_kubectl_from_the_environments_path(tmp_path: Path) -> None:
    """The kubectl found first on the console's PATH (the kubectl guard, in the lesson) answers; a flag's value
    typed as `--flag=va` comes back with the flag, as bash's word splitting at `=` would give it."""
    kubectl = tmp_path / "kubectl"
    kubectl.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$0.args"\necho "KUBECTL_ACTIVE_HELP=$KUBECTL_ACTIVE_HELP" '
                       '>> "$0.args"\nprintf "yaml\\n:4\\n"\necho "Completion ended" >&2\n')
    kubectl.chmod(0o755)
    env = {"PATH": f"{tmp_path}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    found = await shell.kubectl_completions(["get", "pods", "--output=ya"], env)
    assert found.words == ("--output=yaml",)
    assert (tmp_path / "kubectl.args").read_text().splitlines() == [
        "__complete", "get", "pods", "--output=ya", "KUBECTL_ACTIVE_HELP=0"]
    kubectl.write_text("#!/bin/sh\necho 'error: boom' >&2\nexit 1\n")
    assert (await shell.kubectl_completions(["get", ""], env)).directive == shell.COMPLETION_ERROR


def test_path_completions_as_a_shell_completes_file_names(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "web.yaml").write_text("")
    (tmp_path / "manifests" / "notes.txt").write_text("")
    (tmp_path / "main.yaml").write_text("")
    (tmp_path / ".hidden").write_text("")
    assert shell.path_completions("ma", tmp_path) == ["main.yaml", "manifests/"]
    assert shell.path_completions("", tmp_path) == ["main.yaml", "manifests/"]
    assert shell.path_completions(".h", tmp_path) == [".hidden"]
    assert shell.path_completions("manifests/", tmp_path) == ["manifests/notes.txt", "manifests/web.yaml"]
    assert shell.path_completions("manifests/", tmp_path, extensions=["yaml", "yml"]) == ["manifests/web.yaml"]
    assert shell.path_completions("", tmp_path, directories_only=True) == ["manifests/"]
    assert shell.path_completions(f"{tmp_path}/mai", "/") == [f"{tmp_path}/main.yaml"]
    assert shell.path_completions("nowhere/x", tmp_path) == []


async def test_a_session_restores_variables_and_history_of_an_earlier_one(tmp_path: Path) -> None:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "kubeconfig")}
    session = shell.Session(base, tmp_path)
    session.restore({"NODE_PORT": "31234", "KUBECONFIG": "/elsewhere", "PATH": "/nowhere", "BAD NAME": "x",
                     "NUL": "a\0b"}, ["export NODE_PORT=31234", "kubectl rollout status deployments/x"])
    assert session.exported() == {"NODE_PORT": "31234"}  # pinned variables and PATH keep this session's values
    output: list[str] = []
    assert await session.run("echo port=$NODE_PORT", output.append) == 0
    assert "".join(output) == "port=31234\n"
    assert session.history == ["export NODE_PORT=31234", "kubectl rollout status deployments/x",
                               "echo port=$NODE_PORT"]
    await session.close()
