"""The workshop on disk (tutor/workshop/model.py) and the `kube-tutor workshop` commands that need no cluster."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from tutor import cli
from tutor.workshop import model
from tutor.workshop.model import Workshop, WorkshopError, WorkshopFull


def make(root: Path, seats: int = 2, **options: object) -> Workshop:
    """A workshop whose seat directories exist (as prepare_seats leaves them), without a cluster."""
    workshop = model.create_workshop(root, seats=seats, lesson=options.pop("lesson", "create-cluster"),  # type: ignore[arg-type]
                                     lang="en", **options)  # type: ignore[arg-type]
    for seat in workshop.seat_names():
        for sub in ("state", "home"):
            (workshop.seat_dir(seat) / sub).mkdir(parents=True, exist_ok=True)
    return workshop


def test_codes_are_typable_and_compared_loosely() -> None:
    code = model.new_code()
    assert len(code) == 8 and set(code) <= set(model.CODE_ALPHABET)
    assert not set("01ilo") & set(model.CODE_ALPHABET)
    assert model.code_matches(" AB-cd 12 ", "abcd12")
    assert not model.code_matches("abcd13", "abcd12")
    assert not model.code_matches("", "")
    with pytest.raises(WorkshopError, match="4-32 letters"):
        model.valid_code("a b")


def test_the_record_is_private_and_a_restart_keeps_codes_and_attendees(tmp_path: Path) -> None:
    root = tmp_path / "workshop"
    first = make(root, join_code="join-1234")
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(first.record.stat().st_mode) == 0o600
    record = json.loads(first.record.read_text())
    assert record["join_code"] == "join-1234" and record["seats"] == 2 and record["lesson"] == "create-cluster"
    assert record["course"] is False and record["lang"] == "en" and record["backend"] == "practice"
    seat = model.join(first, "Ada", "cookie-a")
    again = make(root, seats=3)
    assert (again.join_code, again.instructor_code) == (first.join_code, first.instructor_code)
    assert model.seat_for_cookie(again, "cookie-a") == seat
    assert Workshop.load(root).seats == 3
    with pytest.raises(WorkshopError, match="must differ"):
        model.create_workshop(root, seats=1, lesson=None, lang="en", join_code="same-code",
                              instructor_code="SAME-code")
    with pytest.raises(WorkshopError, match="no workshop in"):
        Workshop.load(tmp_path / "nothing")


def test_a_cookie_keeps_its_seat_new_browsers_take_free_ones_and_a_full_workshop_says_so(tmp_path: Path) -> None:
    workshop = make(tmp_path / "w")
    assert model.join(workshop, "Ada", "cookie-a") == "seat-01"
    assert model.join(workshop, "  Bob\x1b[31m \n ", "cookie-b") == "seat-02"
    assert model.join(workshop, "Ada L.", "cookie-a") == "seat-01"  # the same browser: the same seat, new name
    assert model.attendee(workshop, "seat-01").name == "Ada L."  # type: ignore[union-attr]
    assert model.attendee(workshop, "seat-02").name == "Bob[31m"  # type: ignore[union-attr]
    stored = json.loads((workshop.seat_dir("seat-01") / "attendee.json").read_text())
    assert stored["cookie"] == model.hash_cookie("cookie-a") and "cookie-a" not in json.dumps(stored)
    with pytest.raises(WorkshopFull, match="all 2 seats"):
        model.join(workshop, "Carol", "cookie-c")
    with pytest.raises(WorkshopError, match="display name"):
        model.join(workshop, " \t", "cookie-a")
    assert model.seat_for_cookie(workshop, "cookie-c") is None and model.seat_for_cookie(workshop, None) is None
    assert model.free_seat(workshop, "seat-02") and not model.free_seat(workshop, "seat-02")
    assert model.join(workshop, "Carol", "cookie-c") == "seat-02"
    with pytest.raises(WorkshopError, match="no seat 'seat-09'"):
        workshop.seat_dir("seat-09")


def test_reset_and_broadcast_write_increasing_ids(tmp_path: Path) -> None:
    workshop = make(tmp_path / "w")
    assert model.reset_seat(workshop, "seat-01") == 1
    assert model.reset_seat(workshop, "seat-01", lesson=True) == 2
    control = json.loads((workshop.seat_dir("seat-01") / "control.json").read_text())
    assert control["id"] == 2 and control["action"] == "reset-lesson" and control["at"].endswith("Z")
    assert model.broadcast(workshop, "  break   until\n10:30 ") == 1
    assert model.broadcast(workshop, "x" * 1000) == 2
    message = json.loads((workshop.root / "broadcast.json").read_text())
    assert message["id"] == 2 and len(message["text"]) == model.BROADCAST_LIMIT
    with pytest.raises(WorkshopError, match="needs a message"):
        model.broadcast(workshop, "   ")


def test_export_writes_one_row_per_seat_as_csv_and_json(tmp_path: Path) -> None:
    workshop = make(tmp_path / "w")
    model.join(workshop, "Ada", "cookie-a")
    (workshop.seat_dir("seat-01") / "activity.json").write_text(json.dumps({
        "lesson": "create-cluster", "lesson_title": "Create a cluster", "step": 2, "steps": 2, "step_id": "look",
        "checks_passing": 1, "checks_total": 2, "hints": 1, "solutions": 0, "finished": False,
        "last_command": "kubectl get nodes", "last_command_at": "2026-01-01T10:00:00Z", "last_exit": 0,
        "updated_at": "2026-01-01T10:00:01Z"}))
    model.export(workshop, tmp_path / "out.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [row["seat"] for row in rows] == ["seat-01", "seat-02"]
    assert rows[0]["name"] == "Ada" and rows[0]["step"] == "2" and rows[0]["last_command"] == "kubectl get nodes"
    assert rows[1]["name"] == "" and rows[1]["step"] == ""
    model.export(workshop, tmp_path / "out.json")
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["seats"][0]["checks_passing"] == 1 and data["seats"][1]["name"] is None
    with pytest.raises(WorkshopError, match=r"\.csv or \.json"):
        model.export(workshop, tmp_path / "out.txt")


def test_a_seat_tui_runs_on_the_seat_kubeconfig_namespace_state_and_home(tmp_path: Path) -> None:
    """Without the sandbox (a workshop on 127.0.0.1 where bubblewrap cannot run) the seat's TUI still gets nothing of
    the instructor's environment (``env -i``), only its own kubeconfig, namespace, state and HOME."""
    workshop = make(tmp_path / "w")
    argv, env = model.seat_launch(workshop, "seat-02", sandboxed=False,
                                  environ={"KUBECONFIG": "/root/.kube/config", "PATH": "/bin",
                                           "KUBE_TUTOR_STATE_DIR": "/instructor", "SSH_AUTH_SOCK": "/s"})
    seat = workshop.seat_dir("seat-02").resolve()
    assert argv[:2] == ["/bin/sh", "-c"] and env == {"PATH": "/bin"}
    line = argv[2]
    for part in (f"--state-dir {seat / 'state'}", "--backend existing", f"--kubeconfig {seat / 'kubeconfig'}",
                 "--own-credentials", "--namespace seat-02", "--lang en", "create-cluster",
                 f"--workshop {workshop.root.resolve()} --seat seat-02", f"HOME={seat / 'home'}"):
        assert part in line, part
    assert "/root/.kube/config" not in line and "/instructor" not in line and "SSH_AUTH_SOCK" not in line
    # the language the attendee chose on the join page wins over the workshop's
    assert model.join(workshop, "Ada", "cookie-a", lang="ja") == "seat-01"
    assert model.attendee(workshop, "seat-01").lang == "ja"  # type: ignore[union-attr]
    assert "--lang ja" in model.seat_launch(workshop, "seat-01", sandboxed=False, environ={})[0][2]
    model.join(workshop, "Ada", "cookie-a", lang="xx")
    assert "--lang en" in model.seat_launch(workshop, "seat-01", sandboxed=False, environ={})[0][2]


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.3.4.5", True), ("::1", True),
                                                ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                                ("example.org", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert model.is_loopback(host) is loopback


def test_serve_refuses_another_host_without_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(model, "sandbox_status", lambda: (False, "bwrap: not installed"))
    code = cli.main(["--state-dir", str(tmp_path), "workshop", "serve", "--host", "0.0.0.0", "--seats", "2"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "refusing to serve on 0.0.0.0" in err and "bwrap: not installed" in err and "127.0.0.1" in err
    assert not (tmp_path / "practice").exists() and not (tmp_path / "workshop").exists()  # nothing started


def test_the_workshop_commands_without_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    assert cli.main(["--state-dir", str(state), "workshop", "status"]) == 1
    assert "no workshop in" in capsys.readouterr().err
    workshop = make(model.workshop_root(state))
    model.join(workshop, "Ada", "cookie-a")
    assert cli.main(["--state-dir", str(state), "workshop", "status", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "seat-01" in out and "Ada" in out and "(free)" in out
    assert cli.main(["--state-dir", str(state), "workshop", "reset", "seat-01", "--lesson"]) == 0
    assert json.loads((workshop.seat_dir("seat-01") / "control.json").read_text())["action"] == "reset-lesson"
    assert cli.main(["--state-dir", str(state), "workshop", "reset", "seat-07"]) == 1
    assert "no seat 'seat-07'" in capsys.readouterr().err
    assert cli.main(["--state-dir", str(state), "workshop", "broadcast", "5", "minutes", "left"]) == 0
    assert json.loads((workshop.root / "broadcast.json").read_text())["text"] == "5 minutes left"
    assert cli.main(["--state-dir", str(state), "workshop", "export", str(tmp_path / "p.json")]) == 0
    assert json.loads((tmp_path / "p.json").read_text())["seats"][0]["name"] == "Ada"
    assert cli.main(["--state-dir", str(state), "workshop", "free", "seat-01"]) == 0
    assert model.attendee(workshop, "seat-01") is None


def test_seat_mode_flags_go_together(
        capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli._parser()
    args = parser.parse_args(cli._start_by_default(parser, ["--workshop", "/w", "create-cluster"]))
    assert cli._seat_mode(args) == 1
    assert "go together" in capsys.readouterr().err
    args = parser.parse_args(cli._start_by_default(parser, ["--workshop", "/w", "--seat", "seat-01",
                                                            "create-cluster"]))
    assert args.command == "start" and args.lesson == "create-cluster" and args.seat == "seat-01"
    found = cli._seat_mode(args)
    assert isinstance(found, dict) and set(found) == {"workshop"}
    args = parser.parse_args(["start", "--workshop", "/w", "--seat", "seat-02", "create-cluster"])
    assert args.seat == "seat-02"
    assert cli._seat_mode(parser.parse_args(["start"])) == {}


def test_a_seat_starts_through_shell_seat_command(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``tutor.shell.seat_command(root, seat, lang=, lesson=, sandbox=, environ=)`` (the sandbox's builder) gives a
    shell line that passes textual-serve's variables into the sandbox: the web server runs it under ``sh -c``."""
    from types import SimpleNamespace

    from tutor import shell

    calls = []

    def seat_command(root: Path, seat: str, **options: object) -> SimpleNamespace:
        calls.append((root, seat, options))
        return SimpleNamespace(argv=["bwrap", "--", "python"], line="exec bwrap -- python", sandboxed=True)

    monkeypatch.setattr(shell, "seat_command", seat_command, raising=False)
    workshop = make(tmp_path / "w")
    model.join(workshop, "Ada", "cookie-a", lang="ja")
    argv, env = model.seat_launch(workshop, "seat-01", sandboxed=True,
                                  environ={"PATH": "/bin", "KUBECONFIG": "/root/.kube/config"})
    assert argv == ["/bin/sh", "-c", "exec bwrap -- python"] and env == {"PATH": "/bin"}
    assert calls[0][:2] == (workshop.root, "seat-01")
    assert calls[0][2]["lang"] == "ja" and calls[0][2]["lesson"] == "create-cluster" and calls[0][2]["sandbox"]


def test_a_class_of_seats_fits_the_nodes_at_its_busiest() -> None:
    """The scheduler counts requests (``NodeResourcesFit``), of terminating pods too: 30 seats of 50m pods would not
    fit a 2-core node, so ``workshop serve`` sizes the seats' default requests to what the nodes have left, for
    every seat at its quota of pods; a small class keeps 50m."""
    from fractions import Fraction

    from tutor.backends.seats import class_budget, seat_pods
    from tutor.kube.quantity import milli_value, value

    assert seat_pods() == 10
    big = class_budget(30, Fraction(1), Fraction(24 * 2**30))  # 2 cores, the control plane's 1 core asked already
    assert 30 * seat_pods() * milli_value(big.default_request["cpu"]) <= 0.9 * 1000
    assert big.default_request["memory"] == "64Mi" and big.hard["pods"] == "10"
    assert class_budget(1, Fraction(2), Fraction(8 * 2**30)).default_request == {"cpu": "50m", "memory": "64Mi"}
    tiny = class_budget(30, Fraction(1, 2), Fraction(2 * 2**30))
    assert 30 * seat_pods() * value(tiny.default_request["memory"]) <= 0.9 * 2 * 2**30


def test_a_link_or_a_huge_file_a_seat_put_in_its_directory_reads_as_absent(tmp_path: Path) -> None:
    """A seat's sandbox can write its directory; the instructor's side reads activity.json and attendee.json from
    it. A symbolic link there must not make it read one of the instructor's files, nor a huge file fill memory."""
    workshop = make(tmp_path / "w")
    model.join(workshop, "Ada", "cookie-a")
    secret = tmp_path / "instructor.json"
    secret.write_text(json.dumps({"lesson": "the instructor's secret", "last_command": "code 1234"}))
    activity = workshop.seat_dir("seat-01") / "activity.json"
    activity.symlink_to(secret)
    assert model.activity(workshop, "seat-01") == {}
    activity.unlink()
    activity.write_text('{"lesson": "' + "x" * (2 * 1024 * 1024) + '"}')
    assert model.activity(workshop, "seat-01") == {}
    attendee = workshop.seat_dir("seat-01") / "attendee.json"
    attendee.unlink()
    attendee.symlink_to(secret)
    model.export(workshop, tmp_path / "out.json")
    assert "secret" not in (tmp_path / "out.json").read_text()
