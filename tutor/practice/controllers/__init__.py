"""Provides the practice cluster's controllers, ports of kube-controller-manager's.

Each controller is a :class:`~tutor.practice.controllers.workqueue.Controller`: it learns about objects from
store events only (``on_event``), queues keys, and ``sync(key)`` drives the objects toward their spec through
the context it was given (store, clock, event recorder, deletion), never through the cluster.
"""
