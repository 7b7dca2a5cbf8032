"""Test isolation: no test reads or writes ~/.kube or the real state directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, the XDG dirs and KUBECONFIG point into a temporary directory for every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("KUBECONFIG", str(home / "no-such-kubeconfig"))
    monkeypatch.setenv("KUBECACHEDIR", str(home / "kube-cache"))
    monkeypatch.setenv("KUBERC", "off")
    monkeypatch.delenv("KUBE_TUTOR_STATE_DIR", raising=False)
    monkeypatch.delenv("KUBE_TUTOR_LESSONS_DIR", raising=False)
    monkeypatch.delenv("KUBE_TUTOR_TIME_SCALE", raising=False)
    return home


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--fuzz-cases N`` and ``--fuzz-seed S`` for ``tests/practice/test_fuzz_api.py`` (cases per category)."""
    parser.addoption("--fuzz-cases", default=None, help="API fuzz cases per category (default 150)")
    parser.addoption("--fuzz-seed", default=None, help="API fuzz seed (default 1)")
