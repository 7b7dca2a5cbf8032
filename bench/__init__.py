"""Benchmarks of kube-tutor's practice cluster (``python bench/run.py``); measurements, never tests."""
