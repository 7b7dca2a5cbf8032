"""The workshop's web app over HTTP (aiohttp's test client): join, cookies, a full workshop, the instructor page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.workshop.test_model import make
from tutor.workshop import model
from tutor.workshop.web import WEB_TEXTS, WorkshopWeb, dashboard_rows


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    workshop = make(tmp_path / "state" / "workshop", join_code="join-4242", instructor_code="teach-7373")
    web = WorkshopWeb(workshop, state=tmp_path / "state", sandboxed=False)
    async with TestClient(TestServer(web.app())) as test_client:
        test_client.workshop = workshop  # type: ignore[attr-defined]
        yield test_client


def test_every_web_and_serve_text_is_in_japanese_and_english() -> None:
    from tutor.workshop.cli import TEXTS

    for table in (WEB_TEXTS, TEXTS):
        assert all(set(entry) == {"ja", "en"} and all(entry.values()) for entry in table.values())


async def test_join_with_the_code_sets_a_strict_http_only_cookie_and_comes_back_to_the_seat(
        client: TestClient) -> None:
    page = await client.get("/?code=join-4242")
    assert page.status == 200 and 'value="join-4242"' in await page.text()
    wrong = await client.post("/join", data={"code": "join-4243", "name": "Ada"}, allow_redirects=False)
    assert wrong.status == 403 and "not this workshop" in await wrong.text()
    assert "kt_seat" not in wrong.cookies
    joined = await client.post("/join", data={"code": "JOIN 4242", "name": "Ada"}, allow_redirects=False)
    assert joined.status == 303 and joined.headers["Location"].startswith("/seat")
    header = joined.headers["Set-Cookie"]
    assert "kt_seat=" in header and "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    # a reload of the join page, or the seat page, finds the seat again
    again = await client.get("/", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"] == "/seat"
    seat = await client.get("/seat")
    text = await seat.text()
    assert seat.status == 200 and "seat-01 (Ada)" in text and "/seat/ws" in text and "/static/js/textual.js" in text
    assert "googleapis" not in text  # offline: no web font from the Internet
    assert (await client.get("/static/js/textual.js")).status == 200


async def test_a_full_workshop_says_so_and_a_browser_without_a_seat_is_sent_to_join(client: TestClient) -> None:
    workshop = client.workshop  # type: ignore[attr-defined]
    model.join(workshop, "Ada", "a")
    model.join(workshop, "Bob", "b")
    full = await client.post("/join?lang=ja", data={"code": "join-4242", "name": "Carol"}, allow_redirects=False)
    assert full.status == 409 and "満席" in await full.text()
    nameless = await client.post("/join", data={"code": "join-4242", "name": " "}, allow_redirects=False)
    assert nameless.status in (400, 409)
    assert (await client.get("/seat", allow_redirects=False)).headers["Location"] == "/"
    assert (await client.get("/seat/ws")).status == 403


async def test_the_seat_socket_refuses_another_origin(client: TestClient) -> None:
    joined = await client.post("/join", data={"code": "join-4242", "name": "Ada"}, allow_redirects=False)
    assert joined.status == 303
    answer = await client.get("/seat/ws", headers={"Origin": "http://evil.example"})
    assert answer.status == 403


async def test_the_instructor_page_needs_its_code_then_lists_resets_broadcasts_and_exports(
        client: TestClient) -> None:
    workshop = client.workshop  # type: ignore[attr-defined]
    model.join(workshop, "Ada", "a")
    assert "id=\"code\"" in await (await client.get("/instructor")).text()
    for path in ("/instructor/seats.json", "/instructor/export.csv", "/instructor/terminal"):
        assert (await client.get(path)).status == 403
    assert (await client.post("/instructor/reset", data={"seat": "seat-01"})).status == 403
    refused = await client.post("/instructor", data={"code": "join-4242"}, allow_redirects=False)
    assert refused.status == 403
    opened = await client.post("/instructor", data={"code": "teach-7373"}, allow_redirects=False)
    assert opened.status == 303 and "HttpOnly" in opened.headers["Set-Cookie"]
    seats = await (await client.get("/instructor/seats.json")).json()
    assert [(row["seat"], row["name"]) for row in seats["seats"]] == [("seat-01", "Ada"), ("seat-02", None)]
    assert (await client.post("/instructor/reset", data={"seat": "seat-01", "what": "lesson"},
                              allow_redirects=False)).status == 303
    assert json.loads((workshop.seat_dir("seat-01") / "control.json").read_text())["action"] == "reset-lesson"
    assert (await client.post("/instructor/broadcast", data={"text": "break"}, allow_redirects=False)).status == 303
    assert json.loads((workshop.root / "broadcast.json").read_text())["text"] == "break"
    csv_text = await (await client.get("/instructor/export.csv")).text()
    assert csv_text.splitlines()[1].startswith("seat-01,Ada,")


def test_a_seat_failing_its_checks_too_long_on_a_step_is_stuck(tmp_path: Path) -> None:
    workshop = make(tmp_path / "w", stuck_minutes=5)
    model.join(workshop, "Ada", "a")
    model.join(workshop, "Bob", "b")
    for seat, started, passing in (("seat-01", "2000-01-01T00:00:00Z", 0), ("seat-02", "2000-01-01T00:00:00Z", 1)):
        (workshop.seat_dir(seat) / "activity.json").write_text(json.dumps(
            {"lesson": "create-cluster", "lesson_title": "Create a cluster", "step": 1, "steps": 2,
             "step_id": "cluster-version", "checks_passing": passing, "checks_total": 1, "step_started_at": started,
             "hints": 0, "solutions": 0, "last_command": None, "last_command_at": None, "last_exit": None,
             "finished": False, "updated_at": started, "cluster": ["revision 1 · v1: 4 running"]}))
    rows = {row["seat"]: row for row in dashboard_rows(workshop)}
    assert rows["seat-01"]["stuck"] and not rows["seat-02"]["stuck"]
    assert list(rows["seat-01"]["cluster"]) == ["revision 1 · v1: 4 running"]  # what selecting the row shows
    assert rows["seat-01"]["minutes_on_step"] > 5


async def test_an_address_that_guesses_codes_is_slowed_down(client: TestClient) -> None:
    from tutor.workshop.web import WRONG_CODE_LIMIT

    for _ in range(WRONG_CODE_LIMIT):
        wrong = await client.post("/join", data={"code": "guess-0000", "name": "Eve"}, allow_redirects=False)
        assert wrong.status == 403
    refused = await client.post("/join", data={"code": "join-4242", "name": "Eve"}, allow_redirects=False)
    assert refused.status == 429 and "Wait a minute" in await refused.text()
    instructor = await client.post("/instructor", data={"code": "teach-7373"}, allow_redirects=False)
    assert instructor.status == 429
    assert model.seats_taken(client.workshop) == []  # type: ignore[attr-defined]


async def test_behind_an_https_proxy_the_cookie_is_secure_and_the_socket_wss(client: TestClient) -> None:
    client.workshop.url = "https://workshop.example/"  # type: ignore[attr-defined]
    joined = await client.post("/join", data={"code": "join-4242", "name": "Ada"}, allow_redirects=False)
    assert "Secure" in joined.headers["Set-Cookie"]
    cookie = joined.headers["Set-Cookie"].split(";")[0]
    page = await (await client.get("/seat", headers={"Cookie": cookie})).text()
    assert 'data-session-websocket-url="wss://' in page
