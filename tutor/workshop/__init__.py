"""Provides workshop mode: N attendees, one seat each, and the instructor's view of them."""
