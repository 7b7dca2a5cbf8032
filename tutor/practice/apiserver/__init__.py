"""Provides the practice cluster's API server: HTTP, storage, admission, deletion, printing.

``server.py`` routes and serves the verbs; ``store.py`` holds the objects (one resourceVersion, watch fan-out,
owner index) and commits every write durably before it is answered; ``resources.py`` lists the served kinds;
``defaults.py``/``schema.py``/``protobuf.py``/``patch.py`` decode, default and validate request bodies as the
apiserver does; ``tables.py`` prints server-side Tables; ``selectors.py`` parses label and field selectors.
"""
