"""Tests of the Textual UI (Pilot and snapshot tests)."""
