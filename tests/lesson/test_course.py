"""The course: ``course.yaml`` orders the lessons of a lessons directory; lint checks it names real lessons (by id)
and every lesson; ``verify --all`` (or ``verify DIRECTORY``) plays the whole course in order on one cluster.

The cluster tests use the tiny fixture course of tests/data/lessons/course (two one-step lessons), so they stay
quick; the shipped course is verified whole once, whatever lessons it lists.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.lesson.clusters import cli
from tutor import paths
from tutor.lesson import LessonError, lesson_files
from tutor.lesson.course import course_problems, load_course, load_course_lessons

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "data" / "lessons" / "course"
SECOND = ROOT / "tests" / "data" / "lessons" / "scale-your-app.yaml"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A copy of the fixture course, to break."""
    folder = tmp_path / "lessons"
    shutil.copytree(FIXTURE, folder)
    return folder


def test_the_shipped_course_lists_every_shipped_lesson_by_id() -> None:
    lessons = ROOT / "lessons"
    assert course_problems(lessons) == []
    course = load_course(lessons)
    assert course.id == "kubernetes-basics" and course.title.en == "Kubernetes Basics"
    assert "rolling-update" in course.lessons
    assert len(course.lessons) == len(lesson_files(lessons))  # no lesson left out, none twice
    assert course.lessons[-1] == "rolling-update"  # module 6 ends the course


def test_the_course_file_is_not_a_lesson() -> None:
    assert [file.name for file in lesson_files(FIXTURE)] == ["1-create.yaml", "2-scale.yaml"]


def test_lessons_come_in_the_course_order_found_by_id(course_dir: Path) -> None:
    (course_dir / "1-create.yaml").rename(course_dir / "z.yaml")  # the file name says nothing about the order
    course, lessons = load_course_lessons(course_dir)
    assert course.lessons == ("make-web", "grow-web")
    assert [lesson.id for lesson in lessons] == ["make-web", "grow-web"]
    assert course.next_after("make-web") == "grow-web"
    assert course.next_after("grow-web") is None


def test_a_directory_without_a_course_file_has_its_lessons_in_file_order(course_dir: Path) -> None:
    (course_dir / "course.yaml").unlink()
    course = load_course(course_dir)
    assert course.lessons == ("make-web", "grow-web") and course.path is None
    assert course_problems(course_dir) == []


def test_an_unknown_id_names_the_file_line_and_path(course_dir: Path) -> None:
    file = course_dir / "course.yaml"
    file.write_text(file.read_text().replace("  - grow-web ", "  - expose "))
    problems = [str(problem) for problem in course_problems(course_dir)]
    assert problems == [
        f"{file}:8: lessons[1]: no lesson has the id 'expose' in {course_dir} (lessons: grow-web, make-web)",
        f"{file}:6: lessons: the lesson 'grow-web' ({course_dir / '2-scale.yaml'}) is not in the course; add its "
        "id where it belongs in the order",
    ]
    with pytest.raises(LessonError) as caught:
        load_course_lessons(course_dir)
    assert str(caught.value).splitlines() == problems


def test_a_lesson_left_out_of_the_course_is_a_problem(course_dir: Path) -> None:
    shutil.copy(SECOND, course_dir)
    problems = [str(problem) for problem in course_problems(course_dir)]
    assert problems == [f"{course_dir / 'course.yaml'}:6: lessons: the lesson 'scaling' "
                        f"({course_dir / 'scale-your-app.yaml'}) is not in the course; add its id where it belongs "
                        "in the order"]


@pytest.mark.parametrize(("text", "expected"), [
    ("id: c\ntitle: {ja: c, en: c}\nlessons: [make-web, grow-web, make-web]\n",
     "course.yaml:3: lessons[2]: the lesson 'make-web' is already in the course (line 3); list each lesson once"),
    ("id: c\ntitle: {ja: c}\nlessons: [make-web, grow-web]\n",
     "course.yaml:2: title.en: the English text is missing; a text needs both ja and en"),
    ("id: c\ntitle: {ja: c, en: c}\nlessons: [make-web, grow-web]\norder: []\n",
     "course.yaml:4: order: unknown key 'order' in the course; allowed keys: id, title, lessons"),
    ("id: c\ntitle: {ja: c, en: c}\nlessons: []\n",
     "course.yaml:3: lessons: is an empty list; give at least one lesson id"),
    ("id: c\ntitle: {ja: c, en: c}\nlessons: [make-web, Grow_Web]\n",
     "course.yaml:3: lessons[1]: 'Grow_Web' is not a valid id; use lowercase letters, digits and '-' (not first or "
     "last), like 'scale-up'"),
])
def test_a_broken_course_file_is_one_line_per_problem(course_dir: Path, text: str, expected: str) -> None:
    (course_dir / "course.yaml").write_text(text)
    problems = [str(problem) for problem in course_problems(course_dir)]
    assert problems == [f"{course_dir}/{expected}"]


def test_lint_checks_the_course(course_dir: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = cli(state, "lint", env={paths.ENV_LESSONS_DIR: str(course_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"{course_dir / 'course.yaml'}: ok (2 lessons)"
    file = course_dir / "course.yaml"
    done = cli(state, "lint", str(file))  # the course file named alone is linted as a course, not as a lesson
    assert (done.returncode, done.stdout) == (0, f"{file}: ok (2 lessons)\n"), done.stdout + done.stderr
    file.write_text(file.read_text().replace("  - grow-web ", "  - scale "))
    for args, env in ((("lint",), {paths.ENV_LESSONS_DIR: str(course_dir)}), (("lint", str(course_dir)), {}),
                      (("lint", str(file)), {})):
        done = cli(state, *args, env=env)
        assert done.returncode == 1
        assert f"{file}:8: lessons[1]: no lesson has the id 'scale' in {course_dir} (lessons: grow-web, make-web)" \
            in done.stdout.splitlines()


def course_lines(lang: str, lessons: list[tuple[str, str, list[str]]], course: str = "tiny-course") -> list[str]:
    """The line prefixes ``verify --all`` prints for a passing course in English."""
    assert lang == "en"
    lines = [f"verify the course {course} ({len(lessons)} lessons) on practice, in order, each lesson from the "
             "previous one's end" if len(lessons) > 1 else f"verify the course {course} (1 lesson) on practice"]
    for number, (lesson_id, title, steps) in enumerate(lessons, 1):
        lines += [f"── lesson {number}/{len(lessons)}: {lesson_id} ({title})",
                  f"verify {lesson_id} on practice (namespace default)"]
        if number > 1:
            lines.append(f"  the end state of {lessons[number - 2][0]} already is this lesson's start state")
        lines.append("✓ setup  (")
        lines += [f"✓ {index}/{len(steps)} {step}  (" for index, step in enumerate(steps, 1)]
        lines.append(f"{len(steps)} of {len(steps)} steps passed in ")
    lines.append(f"✓ course {course}: all {len(lessons)} lessons passed in " if len(lessons) > 1
                 else f"✓ course {course}: its one lesson passed in ")
    return lines


def assert_lines(stdout: str, prefixes: list[str], *, notes: bool = True) -> None:
    """Each line starts with its prefix; ``notes=False``: the indented notes on how lessons chain are left out."""
    lines = [line for line in stdout.splitlines() if notes or not line.startswith(" ")]
    prefixes = [prefix for prefix in prefixes if notes or not prefix.startswith(" ")]
    assert len(lines) == len(prefixes), stdout
    for line, prefix in zip(lines, prefixes, strict=True):
        assert line.startswith(prefix), stdout


def test_verify_all_plays_the_course_in_order_on_one_cluster(own_state: Path) -> None:
    env = {paths.ENV_LESSONS_DIR: str(FIXTURE)}
    done = cli(own_state, "verify", "--all", "--backend", "practice", "--lang", "en", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_lines(done.stdout, course_lines("en", [("make-web", "Create web", ["create: Create it"]),
                                                  ("grow-web", "Grow web", ["scale: Make it two"])]))
    # `verify DIRECTORY` is the same, in Japanese here
    done = cli(own_state, "verify", str(FIXTURE), "--lang", "ja")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "コース tiny-course（2 レッスン）を practice で順に検証します。各レッスンは前のレッスンの終わりから始まります"
    assert lines[1] == "── レッスン 1/2: make-web（web を作る）"
    assert lines[-1].startswith("✓ コース tiny-course: 2 レッスンすべてが通りました（")


def test_a_course_of_one_lesson_is_said_in_the_singular(own_state: Path, course_dir: Path) -> None:
    """Never "(1 lessons)" or "all 1 lessons passed", in either language."""
    (course_dir / "2-scale.yaml").unlink()
    file = course_dir / "course.yaml"
    file.write_text(file.read_text().replace("  - grow-web     # file: 2-scale.yaml\n", ""))
    done = cli(own_state, "verify", str(course_dir), "--backend", "practice", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_lines(done.stdout, course_lines("en", [("make-web", "Create web", ["create: Create it"])]))
    done = cli(own_state, "verify", str(course_dir), "--backend", "practice", "--lang", "ja")
    lines = done.stdout.splitlines()
    assert lines[0] == "コース tiny-course（1 レッスン）を practice で検証します"
    assert lines[-1].startswith("✓ コース tiny-course: ただ 1 つのレッスンが通りました（")


def test_verify_all_says_when_a_lesson_does_not_start_where_the_previous_one_ended(own_state: Path,
                                                                                  course_dir: Path) -> None:
    """In the wrong order, make-web's start state (no Deployment web) is not grow-web's end: said, with what is
    missing, and its setup builds it anyway."""
    file = course_dir / "course.yaml"
    file.write_text(file.read_text().replace("  - make-web     # file: 1-create.yaml\n", "")
                    + "  - make-web\n")
    done = cli(own_state, "verify", str(course_dir), "--backend", "practice", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    at = lines.index("verify make-web on practice (namespace default)")
    assert lines[at + 1: at + 4] == [
        "  the end state of grow-web is not this lesson's start state (the setup builds it); missing:",
        "      - There is no web yet", lines[at + 3]]
    assert lines[at + 3].startswith("✓ setup  (")


def test_verify_all_stops_at_the_first_lesson_that_fails(own_state: Path, course_dir: Path) -> None:
    """The first lesson's solution fails: its reason is printed, the course stops there (the second lesson is not
    played) and the exit status is 1."""
    first = course_dir / "1-create.yaml"
    first.write_text(first.read_text().replace(
        "    solution:\n      - kubectl create deployment web",
        "    solution:\n      - kubectl create deployment web --replicas=nope"))
    done = cli(own_state, "verify", str(course_dir), "--backend", "practice", "--lang", "en")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[4].startswith("✗ 1/1 create: Create it: the solution failed: `kubectl create deployment web "
                               "--replicas=nope "), done.stdout
    assert lines[-1] == "✗ course tiny-course: stopped at lesson 1/2 make-web, which did not pass"
    assert "grow-web" not in done.stdout


def test_verify_all_needs_a_good_course(course_dir: Path, tmp_path: Path) -> None:
    file = course_dir / "course.yaml"
    file.write_text(file.read_text().replace("  - grow-web ", "  - scale "))
    done = cli(tmp_path / "state", "verify", "--all", "--backend", "practice",
               env={paths.ENV_LESSONS_DIR: str(course_dir)})
    assert done.returncode == 1 and done.stdout == ""
    assert f"{file}:8: lessons[1]: no lesson has the id 'scale'" in done.stderr.splitlines()[0]
    done = cli(tmp_path / "state", "verify", "make-web", "--all")
    assert (done.returncode, done.stderr.strip()) == (
        1, "kube-tutor: verify --all plays the whole course: give no LESSON, or a lessons directory")


def test_the_shipped_course_is_verified_whole(own_state: Path) -> None:
    """Every lesson of lessons/, in the course order, on one practice cluster (a new lesson joins by its id in
    course.yaml, with no test change)."""
    done = cli(own_state, "verify", "--all", "--backend", "practice", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    course, lessons = load_course_lessons(ROOT / "lessons")
    assert_lines(done.stdout, course_lines("en", [
        (lesson.id, lesson.title.en, [f"{step.id}: {step.title.en}" + (" (failed as intended)"
                                                                        if step.expect == "failure" else "")
                                      for step in lesson.steps]) for lesson in lessons], course.id), notes=False)


def test_reset_without_a_lesson_resets_the_one_kube_tutor_would_resume(own_state: Path) -> None:
    """Not the default lesson: the one `kube-tutor` with no argument opens (here grow-web, in progress)."""
    from tutor.lesson.progress import Progress

    env = {paths.ENV_LESSONS_DIR: str(FIXTURE)}
    progress = Progress.load(own_state, "grow-web", "practice")
    progress.start("scale")
    done = cli(own_state, "reset", "--backend", "practice", "--lang", "en", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("✓ Grow web: back at the start."), done.stdout
    assert Progress.load(own_state, "grow-web", "practice").current is None
