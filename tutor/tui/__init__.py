"""Provides the kube-tutor TUI: the only package of kube-tutor that imports textual.

``app.py`` holds :class:`~tutor.tui.app.TutorApp` (a lesson and a backend are injected); ``screens/`` the
start, picker, lesson, help, intro, end, too-small and events screens; ``widgets/`` one widget per module;
``tutor.tcss`` the one stylesheet;
``text.py`` every word the TUI itself shows, in Japanese and English (lesson texts live in the lesson files);
``rollout.py`` the pure view model of the cluster panel (a deployment's pods grouped by revision);
``linebreak.py`` Japanese line breaking (no textual in it) and ``prose.py`` the Visual that wraps text by it;
``explain.py`` what an event or a pod's state means, in both languages (pure too: the events view and the panel);
``timeline.py`` the rollout timeline's recorder and view model (pure: the timeline screen and the end screen).
"""
