"""Provides the practice cluster's API server: HTTP, storage, admission, deletion, printing.

``server.py`` routes and serves the verbs; ``store.py`` holds the objects in memory (one resourceVersion, watch
fan-out, owner index) and ``storage.py`` their durable copy in SQLite, committed before anything is answered;
``admission.py`` and ``deletion.py`` are what the API server decides on a write and on a delete;
``resources.py`` lists the served kinds; ``defaults.py``/``schema.py``/``protobuf.py``/``patch.py`` decode,
default and validate request bodies as the apiserver does; ``tables.py`` prints server-side Tables;
``selectors.py`` parses label and field selectors.
"""
