"""`kube-tutor verify`, `reset` and `lint` end to end, on the practice cluster with the real kubectl."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor import paths
from tutor.lesson.progress import Progress

LESSON = Path(__file__).parents[2] / "lessons" / "rolling-update.yaml"


def cli(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBE_TUTOR_TIME_SCALE": "20", "LANG": "C.UTF-8"}
    return subprocess.run([str(paths.bin_dir() / "kube-tutor"), "--state-dir", str(state), *args],
                          capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("verify-state")
    yield state
    cli(state, "cluster", "down")


def kubectl(state: Path, *args: str) -> str:
    env = {"PATH": f"{paths.bin_dir()}:/usr/bin:/bin", "HOME": os.environ["HOME"],
           "KUBECONFIG": str(state / "practice" / "kubeconfig"), "KUBECACHEDIR": str(state / "kube-cache"),
           "KUBERC": "off"}
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, check=True, timeout=60).stdout


def test_verify_plays_the_whole_lesson(state: Path) -> None:
    done = cli(state, "verify", str(LESSON), "--backend", "practice", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "verify rolling-update on practice (namespace default)"
    assert lines[1].startswith("✓ setup  (")
    assert lines[2].startswith("✓ 1/4 update: Update the app to v2  (")
    assert lines[3].startswith("✓ 2/4 verify: Verify the update  (")
    assert lines[4].startswith("✓ 3/4 break: An update that fails on purpose (failed as intended)  (")
    assert lines[5].startswith("✓ 4/4 rollback: Roll back  (")
    assert lines[6].startswith("4 of 4 steps passed in ")
    # The cluster really went through the lesson: v10 was tried and superseded.
    history = kubectl(state, "rollout", "history", "deployments/kubernetes-bootcamp")
    assert "1         <none>\n3         <none>\n4         <none>" in history


def test_verify_in_japanese_by_id(state: Path) -> None:
    done = cli(state, "verify", "rolling-update", "--lang", "ja")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ 1/4 update: アプリを v2 に更新する  (" in done.stdout


def test_reset_restores_the_start_state_and_forgets_progress(state: Path) -> None:
    progress = Progress.load(state, "rolling-update", "practice")
    progress.start("verify")
    progress.record("update", ["image-v2"], True)
    done = cli(state, "reset", "rolling-update", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("✓ Updating your app (rolling updates): back at the start.")
    deployment = json.loads(kubectl(state, "get", "deployment", "kubernetes-bootcamp", "-o", "json"))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "gcr.io/google-samples/kubernetes-bootcamp:v1"
    assert deployment["status"]["availableReplicas"] == 4
    saved = json.loads(Progress.file_for(state, "rolling-update", "practice").read_text())
    assert saved["current"] is None and saved["steps"] == {}


def write_lesson(tmp_path: Path, step_check: str, solution: str) -> Path:
    text = LESSON.read_text(encoding="utf-8")
    head = text[: text.index("steps:")]
    path = tmp_path / "tiny.yaml"
    path.write_text(head.replace("id: rolling-update", "id: tiny") + f"""steps:
  - id: only
    title: {{ja: ひとつ, en: The only step}}
    text: {{ja: 一つだけ。, en: Just one.}}
    commands: ["kubectl get pods"]
    checks:
      - id: it
        cel: '{step_check}'
        text: {{ja: 条件, en: The condition holds}}
        missing: {{ja: "まだ: {{observed}}", en: "Not yet: {{observed}}"}}
        observed: string(active_pods.size())
    hint: {{ja: ヒント, en: A hint}}
    solution: ["{solution}"]
    timeout: 3
""", encoding="utf-8")
    return path


def test_a_check_that_passes_before_its_solution_is_reported(state: Path, tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, "active_pods.size() == 4", "kubectl get pods")
    done = cli(state, "verify", str(lesson), "--lang", "en")
    assert done.returncode == 1
    assert "✗ 1/1 only: The only step: its checks pass before the solution runs (a check that cannot fail)" \
        in done.stdout
    assert done.stdout.splitlines()[-1].startswith("0 of 1 steps passed")


def test_a_solution_that_does_not_work_says_what_is_missing(state: Path, tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, "active_pods.size() == 7", "kubectl get pods")
    done = cli(state, "verify", str(lesson), "--lang", "en")
    assert done.returncode == 1
    assert "✗ 1/1 only: The only step: not passed after 3 s; still missing:\n      - Not yet: 4\n" in done.stdout


def test_a_failing_solution_command_is_reported_with_kubectls_error(state: Path, tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, "active_pods.size() == 7", "kubectl get deployment nope")
    done = cli(state, "verify", str(lesson), "--lang", "en")
    assert done.returncode == 1
    assert ('the solution failed: `kubectl get deployment nope` exited 1: Error from server (NotFound): '
            'deployments.apps "nope" not found') in done.stdout


def test_verify_refuses_a_broken_lesson_with_one_line(state: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(LESSON.read_text(encoding="utf-8").replace("  - id: verify\n", "  - id: update\n"))
    done = cli(state, "verify", str(broken))
    assert done.returncode == 1
    assert done.stdout == ""
    line = done.stderr.strip()
    assert line.startswith(f"{broken}:") and "steps[1].id: duplicate step id 'update'" in line
    assert "Traceback" not in done.stderr


def test_unknown_lesson_id(state: Path) -> None:
    done = cli(state, "verify", "no-such-lesson")
    assert done.returncode == 1
    assert done.stderr.strip() == "kube-tutor: no lesson called 'no-such-lesson' (lessons: rolling-update)"


def test_lint_command(tmp_path: Path) -> None:
    good = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "lint", str(LESSON)], capture_output=True,
                          text=True, check=False)
    assert (good.returncode, good.stdout.strip()) == (0, f"{LESSON}: ok (4 steps)")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: nope\n")
    done = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "lint", str(bad), str(LESSON)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert f"{bad}:2: title: expected a text (a map with ja and en), got a string" in done.stdout
