"""Workshop mode: one cluster, N learner seats, attendees in a browser, an instructor dashboard.

- :mod:`tutor.workshop.model`: the workshop on disk (``<state>/workshop``): ``workshop.json``, its codes, the seats
  (prepared with :func:`tutor.backends.seats.prepare_seat`), who sits where (``attendee.json``), and what the
  instructor writes for the seats (``control.json``, ``broadcast.json``) and exports (CSV, JSON).
- :mod:`tutor.workshop.web`: the aiohttp app attendees and the instructor open (join page, one textual-serve
  terminal per seat, the instructor page).
- :mod:`tutor.workshop.seat`: what a seat's TUI reads and writes (activity, control, broadcast).
"""
