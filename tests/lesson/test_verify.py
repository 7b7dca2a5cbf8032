"""`kube-tutor verify`, `reset` and `lint` end to end, on the practice cluster with the real kubectl.

Every lesson file of ``lessons/`` is linted and verified here, whatever its name: adding a lesson adds its cases.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lesson.clusters import assert_verified, cli, verify_file
from tutor import paths
from tutor.lesson import lesson_files, lint, lint_main, load_lesson
from tutor.lesson.progress import Progress

ROOT = Path(__file__).parents[2]
LESSONS = lesson_files(ROOT / "lessons")
"""Every lesson the checkout ships."""
LESSON = ROOT / "lessons" / "rolling-update.yaml"
NGINX = ROOT / "tests" / "data" / "lessons" / "invalid" / "uses-nginx.yaml"
SECOND = ROOT / "tests" / "data" / "lessons" / "scale-your-app.yaml"


def test_the_checkout_ships_lessons() -> None:
    assert LESSON in LESSONS
    assert paths.lessons_dir() == ROOT / "lessons"  # an editable install reads the checkout's lessons


@pytest.mark.parametrize("file", LESSONS, ids=[file.name for file in LESSONS])
def test_every_lesson_lints(file: Path) -> None:
    out = io.StringIO()
    assert lint_main([file], out) == 0, out.getvalue()


def test_no_two_lessons_share_an_id() -> None:
    assert lint(LESSONS) == []


@pytest.mark.parametrize("file", LESSONS, ids=[file.name for file in LESSONS])
def test_every_lesson_is_verified(file: Path, own_state: Path) -> None:
    verify_file(own_state, file)


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


def test_verify_in_japanese_by_id(state: Path) -> None:
    done = cli(state, "verify", "rolling-update", "--backend", "practice", "--lang", "ja")
    assert_verified(done, LESSON, "ja")
    assert "✓ 1/4 update: アプリを v2 に更新する  (" in done.stdout
    # The cluster really went through the lesson: v10 was tried and superseded.
    history = kubectl(state, "rollout", "history", "deployments/kubernetes-bootcamp")
    assert "1         <none>\n3         <none>\n4         <none>" in history


def test_reset_restores_the_start_state_and_forgets_progress(state: Path) -> None:
    progress = Progress.load(state, "rolling-update", "practice")
    progress.start("verify")
    progress.record("update", ["image-v2"], True)
    done = cli(state, "reset", "rolling-update", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("✓ Updating your app (rolling updates): back at the start.")
    # in Japanese, every word is Japanese (the backend's choice on stderr too)
    done = cli(state, "reset", "rolling-update", "--backend", "practice", "--lang", "ja")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("✓ アプリケーションの更新（ローリングアップデート）: 開始時の状態に戻しました。前の章の終わり")
    assert done.stderr.splitlines()[0] == "kube-tutor: practice バックエンドを使います（--backend practice）"
    deployment = json.loads(kubectl(state, "get", "deployment", "kubernetes-bootcamp", "-o", "json"))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "gcr.io/google-samples/kubernetes-bootcamp:v1"
    assert deployment["status"]["availableReplicas"] == 4
    saved = json.loads(Progress.file_for(state, "rolling-update", "practice").read_text())
    assert saved["current"] is None and saved["steps"] == {}


def test_a_second_lesson_is_data_only(tmp_path: Path, own_state: Path) -> None:
    """The second lesson, put next to the seed lesson, is verified and reset by its id; its progress is kept under
    that id (its file is called something else)."""
    lessons, state = tmp_path / "lessons", own_state
    lessons.mkdir()
    shutil.copy(LESSON, lessons)
    shutil.copy(SECOND, lessons)
    env = {paths.ENV_LESSONS_DIR: str(lessons)}
    assert_verified(cli(state, "verify", "scaling", "--backend", "practice", "--lang", "ja", env=env), SECOND, "ja")
    progress = Progress.load(state, "scaling", "practice")
    progress.start("scale-down")
    done = cli(state, "reset", "scaling", "--backend", "practice", "--lang", "en", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("✓ Scaling your app (changing the number of replicas): back at the start.")
    saved = json.loads((state / "progress" / "scaling" / "practice.json").read_text())
    assert saved["lesson"] == "scaling" and saved["current"] is None
    deployment = json.loads(kubectl(state, "get", "deployment", "hello", "-o", "json"))
    assert (deployment["spec"]["replicas"], deployment["status"]["availableReplicas"]) == (1, 1)


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
    known = ", ".join(sorted(load_lesson(file).id for file in LESSONS))
    assert done.stderr.strip() == f"kube-tutor: no lesson called 'no-such-lesson' (lessons: {known})"


def test_lint_without_files_lints_every_installed_lesson() -> None:
    """Every lesson file, then the course file that orders them (tests/lesson/test_course.py)."""
    done = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "lint"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split(": ok (")[0] for line in done.stdout.splitlines()] == [
        *(str(file) for file in LESSONS), str(ROOT / "lessons" / "course.yaml")]


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


# ---- a lesson whose pods can never start -------------------------------------------------------------


def test_lint_rejects_a_lesson_using_an_image_the_practice_cluster_does_not_have() -> None:
    out = io.StringIO()
    assert lint_main([NGINX], out) == 1
    assert out.getvalue() == (
        f"{NGINX}:11: setup.commands[1]: uses the image 'nginx', which images does not declare; add it to "
        "images.pull (or to images.absent if its failure to pull is the point)\n")


# ``kube-tutor --state-dir STATE verify LESSON`` with lint bypassed: the loader does not check the images the
# commands use, and the lesson declares the images given after LESSON, as if lint had let them through.
BYPASS = """
import dataclasses, sys
import tutor.cli, tutor.lesson.loader as loader
state, lesson, declared = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
loader._Reader.images_used = lambda self, root, images: None
load = loader.load_lesson
tutor.cli.load_lesson = lambda path: dataclasses.replace(load(path), images=declared)
sys.exit(tutor.cli.main(["--state-dir", state, "verify", lesson, "--backend", "practice", "--lang", "en"]))
"""


def verify_bypassing_lint(state: Path, lesson: Path, *declared: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBE_TUTOR_TIME_SCALE": "20", "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-c", BYPASS, str(state), str(lesson), *declared], capture_output=True,
                          text=True, timeout=300, env=env, stdin=subprocess.DEVNULL, check=False)


@pytest.mark.parametrize("declared", [(), ("nginx",)], ids=["undeclared", "declared"])
def test_verify_refuses_a_start_state_whose_pods_can_never_start(declared: tuple[str, ...], own_state: Path) -> None:
    """Lint bypassed, the start state's ready check (two pods) holds while the pods can never pull nginx: verify
    must not take that for a start state, whether or not the lesson declares the image."""
    done = verify_bypassing_lint(own_state, NGINX, *declared)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "verify uses-nginx on practice (namespace default)"
    assert lines[1] == "✗ setup: the start state has pods that will never run:"
    assert len(lines) == 4, lines
    if declared:
        reason = (r"can never start: its image 'nginx' fails to pull \((ErrImagePull|ImagePullBackOff)\), but the "
                  r"lesson declares it under images.pull")
    else:
        reason = (r"runs the image 'nginx', which the lesson does not declare \(add it to images.pull, or to "
                  r"images.absent if its failure to pull is the point\)")
    for line in lines[2:]:
        assert re.fullmatch(r"      - pod web-[a-z0-9]+-[a-z0-9]+ " + reason, line), line
