"""The kubectl guard in the learner's console: hostile lines against the shared practice cluster, after which
kube-tutor's kubeconfig (and the other kubeconfig they name) must be byte-identical (tutor/kubectl_guard.py,
tutor/shell.py's check_command). Each line runs in a Session built as the TUI and ``verify``/``reset`` build it
(``backend_env``), so kubectl is found through the guard.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from tutor import paths
from tutor.backends.practice import PracticeBackend
from tutor.lesson.runtime import backend_env
from tutor.shell import Session, check_command

DEADLINE = 60.0
CONTEXT = "kube-tutor-practice"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A kubeconfig of another cluster (nothing listens there), with a kuberc whose alias would switch contexts."""
    (tmp_path / "kuberc").write_text("apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n"
                                     "aliases:\n- name: ctx\n  command: config\n  prependArgs: [use-context]\n")
    path = tmp_path / "elsewhere"
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: elsewhere\n"
                    f"contexts: [{{name: elsewhere, context: {{cluster: elsewhere, user: u}}}}, "
                    f"{{name: {CONTEXT}, context: {{cluster: elsewhere, user: u}}}}]\n"
                    "clusters: [{name: elsewhere, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                    "users: [{name: u, user: {token: other}}]\n")
    return path


async def run(session: Session, line: str) -> tuple[int, str]:
    chunks: list[str] = []
    code = await asyncio.wait_for(session.run(line, chunks.append), DEADLINE)
    return code, "".join(chunks)


# (line, who refuses it): "line" is check_command (nothing of the line runs), "guard" the kubectl guard.
HOSTILE_REFUSED = [
    ("kubectl config use-context elsewhere", "line"),
    ("kubectl config use elsewhere", "line"),
    ("kubectl config set-context --current --namespace=other", "line"),
    ("kubectl -n default config set current-context elsewhere", "line"),
    ("kubectl config unset current-context", "line"),
    (f"kubectl config delete-context {CONTEXT}", "line"),
    (f"kubectl config rename-context {CONTEXT} other", "line"),
    (f"kubectl config set-cluster {CONTEXT} --server=https://127.0.0.1:1", "line"),
    ("kubectl config set-credentials kube-tutor-learner --token=other", "line"),
    (f"kubectl config delete-cluster {CONTEXT}", "line"),
    ("kubectl config delete-user kube-tutor-learner", "line"),
    ("command kubectl config set-context --current --namespace=other", "line"),
    ("KUBECONFIG={elsewhere} kubectl config use-context elsewhere", "line"),
    (f"{paths.kubectl()} config use-context elsewhere", "line"),
    ("kubectl get pods --as=system:admin", "line"),
    ("kubectl get pods --as_group=system:masters", "line"),
    ("kubectl get pods -ws https://127.0.0.1:1", "line"),
    ("/usr/bin/env kubectl --kubeconfig {elsewhere} get pods", "guard"),
    ("/usr/bin/env KUBECONFIG={elsewhere} kubectl config use-context elsewhere", "guard"),
    ("k=kubectl; $k config set current-context elsewhere", "guard"),
    ("k=kubectl; $k --context elsewhere get pods", "guard"),
    ("f=--kubeconfig; kubectl $f={elsewhere} config use-context elsewhere", "guard"),
    ("kubectl $(echo --server)=https://127.0.0.1:1 get pods", "guard"),
    (f"echo use-context {CONTEXT} | xargs kubectl config", "guard"),
    ("bash -c 'k=kubectl; $k config use-context elsewhere'", "guard"),
    ("eval 'kubectl config set-context --current --namespace=other'", "guard"),
    ("v=config; kubectl $v delete-context elsewhere", "guard"),
]

# (line, what the output must contain): each still talks to the lesson's cluster through kube-tutor's kubeconfig.
HOSTILE_PINNED = [
    ("KUBECONFIG={elsewhere} kubectl config current-context", CONTEXT),
    ("KUBECONFIG={elsewhere} kubectl get namespace default -o name", "namespace/default"),
    ("export KUBECONFIG={elsewhere}; kubectl get namespace default -o name", "namespace/default"),
    ("env KUBECONFIG={elsewhere} kubectl get namespace default -o name", "namespace/default"),
    ("KUBECONFIG={elsewhere}:$KUBECONFIG kubectl config current-context", CONTEXT),
    ("unset KUBECONFIG; kubectl config current-context", CONTEXT),
    ("kubectl config view --minify -o jsonpath='{{.contexts[0].name}}'", CONTEXT),
    ("kubectl config get-contexts -o name", CONTEXT),
]


def digests(*files: Path) -> list[str]:
    return [hashlib.sha256(file.read_bytes()).hexdigest() for file in files]


@pytest.mark.parametrize(("line", "where"), HOSTILE_REFUSED, ids=[line for line, _ in HOSTILE_REFUSED])
async def test_hostile_line_is_refused(practice: PracticeBackend, elsewhere: Path, tmp_path: Path, line: str,
                                       where: str) -> None:
    session = Session(backend_env(practice.env()), tmp_path)
    before = digests(practice.kubeconfig, elsewhere)
    line = line.format(elsewhere=elsewhere)
    first = check_command(line)
    assert (first is not None) == (where == "line")
    code, text = await run(session, line)
    if first is not None:
        assert (code, text) == (2, first + "\n")  # nothing of the line ran
    else:
        assert code != 0 and any(row.startswith("kube-tutor: refused: ") for row in text.splitlines()), text
    assert digests(practice.kubeconfig, elsewhere) == before


@pytest.mark.parametrize(("line", "expected"), HOSTILE_PINNED, ids=[line for line, _ in HOSTILE_PINNED])
async def test_hostile_line_still_talks_to_the_lesson_cluster(practice: PracticeBackend, elsewhere: Path,
                                                             tmp_path: Path, line: str, expected: str) -> None:
    session = Session(backend_env(practice.env()), tmp_path)
    before = digests(practice.kubeconfig, elsewhere)
    line = line.format(elsewhere=elsewhere)
    assert check_command(line) is None
    code, text = await run(session, line)
    assert code == 0, text
    assert expected in text.splitlines()
    assert "elsewhere" not in text.replace(str(elsewhere), "")  # never the other kubeconfig's context
    assert digests(practice.kubeconfig, elsewhere) == before


async def test_a_kuberc_alias_cannot_switch_contexts(practice: PracticeBackend, elsewhere: Path,
                                                     tmp_path: Path) -> None:
    session = Session(backend_env(practice.env()), tmp_path)
    before = digests(practice.kubeconfig)
    code, text = await run(session, f"KUBERC={tmp_path / 'kuberc'} kubectl ctx elsewhere")
    assert code != 0
    assert text.startswith(f"kube-tutor: ignored KUBERC={tmp_path / 'kuberc'}: ")
    assert 'unknown command "ctx"' in text
    assert digests(practice.kubeconfig) == before
