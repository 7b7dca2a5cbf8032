"""The practice cluster: an embedded, single-node Kubernetes 1.37 API that the real kubectl drives.

``python -m tutor.practice serve DIR`` runs one HTTPS API server on 127.0.0.1 (aiohttp) with a CA, a
bearer token and a kubeconfig of its own, the controllers a Deployment needs, a simulated kubelet and
NodePort listeners. It ports upstream logic (the API server's storage and admission, kubectl's printers,
the controllers of kube-controller-manager) rather than imitating its output, and its wording comes from
the upstream source (each port names the upstream file it follows), so what kubectl prints is what a
real cluster would make it print.

Rules
-----
- Imports nothing of ``tutor`` but itself and the leaf :mod:`tutor.kube` (``tests/test_layering.py``).
- Knows nothing of what runs on it: no tutorial content, no UI, no special case for any exercise.
- Every answered write is durable: the store commits to SQLite before a response, a list or a watch event
  leaves the server (:mod:`tutor.practice.apiserver.storage`); resourceVersions never go back.
- Controllers, the kubelet and the NodePort proxy see store events and a
  :class:`~tutor.practice.context.ControllerContext` only (store, clock, event recorder, deletion), never the
  cluster and never another controller's queue. No module refers back to :mod:`tutor.practice.cluster`.

Map
---
- ``cluster.py``: :class:`PracticeCluster` wires everything (storage, store, admission, deletion, controllers,
  kubelet, NodePorts, API server), bootstraps a new cluster, starts and stops; ``serve`` is the process.
- ``system.py``: the cluster's own objects as kind and kubeadm leave them (kube-system add-ons, the
  ``kubernetes`` Service and its Endpoints/EndpointSlice, the built-in PriorityClasses, the images a kind node has
  loaded); ``ensure`` creates what is missing at every start, ``KubernetesServiceController`` makes the
  ``kubernetes`` Service again when it is deleted.
- ``context.py``: the ``ControllerContext``. ``clock.py``: time scale. ``events.py``: the event recorder.
- ``apiserver/``: ``server.py`` (routing, verbs, watches, subresources), ``store.py`` (objects in memory, one
  resourceVersion, watch fan-out, owner index), ``storage.py`` (SQLite, WAL), ``admission.py`` (ClusterIP and
  NodePort allocation, pod update validation, pod binding, the stored-object size), ``deletion.py`` (graceful deletion, finalizers, propagation),
  ``resources.py`` (served kinds), ``defaults.py`` (defaulting and validation), ``schema.py`` (typed decoding),
  ``yamljson.py`` (YAML bodies to JSON as ``sigs.k8s.io/yaml`` converts them, with yaml.v2's alias and depth limits),
  ``protobuf.py`` (protobuf bodies), ``patch.py`` (the four patch types), ``tables.py`` (server-side Tables),
  ``selectors.py`` (label and field selectors), ``discovery.py`` (discovery and OpenAPI), ``errors.py``
  (``Status`` errors), ``names.py`` (generated names, pod-template-hash), ``tls.py`` (CA, certificate, token),
  ``qos.py`` (exact resource quantities, a pod's requests, its QoS class).
- ``controllers/``: ``workqueue.py`` (``WorkQueue`` and the ``Controller`` base), one controller per module
  (``deployment``, ``replicaset``, ``daemonset``, ``scheduler``, ``endpoints``, ``garbagecollector``,
  ``namespace``, ``nodelifecycle`` (the unschedulable taint), ``serviceaccounts`` (the ``default``
  ServiceAccount and the root-CA publisher)) and ``pods.py`` (helpers they share).
- ``node/``: ``kubelet.py`` (pod lifecycle, image pulls, logs), ``registry.py`` (the offline image
  catalogue), ``nodeports.py`` (NodePort listeners on 127.0.0.1), ``staticpods.py`` (the static control-plane
  pods' mirror pods), ``nodestatus.py`` (the node Lease, status heartbeats, schedulable events).

CHECKLIST: adding a resource kind
---------------------------------
Every place a kind is named (``grep -rn '"<plural>"\\|"<Kind>"' tutor/practice``):

1. ``apiserver/resources.py``: a ``Resource`` entry (plural, kind, group/version, scope, short names,
   categories, subresources, verbs); ``GROUP_ORDER`` for a new group. A stored kind served with ``READ_VERBS``
   (DaemonSet, Lease, PriorityClass) is read-only: the server answers its writes with 405 and needs no
   defaulter, struct or protobuf entry, only a printer. Discovery and OpenAPI (``apiserver/discovery.py``)
   follow from it; a subresource with another response kind needs
   ``_response_kind``.
2. ``apiserver/defaults.py``: a defaulter in ``DEFAULTERS`` (or ``apply_defaults``) and its checks in
   ``validate`` (name rules in ``_name_causes``).
3. ``apiserver/structs.py``: add the kind's Go struct to ``ROOTS`` in ``apiserver/structs_gen.py`` and
   regenerate (the command is in ``structs.py``'s header): the one table of Go API structs that typed
   decoding and unknown-field warnings (``schema.py``), protobuf bodies (``protobuf.py``) and strategic-merge
   patch strategies and merge keys (``patch.py``) all read. Never edit ``structs.py`` by hand.
4. ``apiserver/protobuf.py``: ``_KINDS``, when kubectl sends the kind as protobuf (``kubectl create``).
5. ``apiserver/patch.py``: nothing beyond the struct table, unless the kind is patched in a way of its own.
6. ``apiserver/tables.py``: a printer in ``PRINTERS`` (columns and cells of kubectl's printers) and the
   ``_API_VERSIONS`` entry.
7. ``apiserver/selectors.py``: field selectors (``_REGISTERED_FIELDS``/``_EXTRA_FIELDS`` and
   ``selectable_fields``).
8. ``apiserver/store.py``: whether ``create`` sets ``metadata.generation`` and whether ``update`` keeps the
   status (a kind with a ``status`` subresource); ``apiserver/server.py`` ``_create``: whether a created
   object keeps its ``status``; any kind-specific subresource (``scale``, ``binding``, ``log``) or warning.
9. ``apiserver/admission.py`` (allocation or update rules) and ``apiserver/deletion.py`` (graceful deletion,
   what else goes with it).
10. ``controllers/namespace.py`` (the kinds emptied from a terminating namespace) and
    ``controllers/garbagecollector.py`` ``_find`` (kinds that can own others).
11. Nothing in ``apiserver/storage.py``: it stores any kind.
12. Tests with the real kubectl in ``tests/practice/`` (``test_tables.py``, ``test_selectors.py``,
    ``test_patch.py``, ``test_protobuf.py``, ``test_kubectl_more.py``): get/describe/create/patch/delete.

CHECKLIST: adding a controller
------------------------------
1. A module in ``controllers/`` with a ``Controller`` subclass: ``name``, ``on_event(event)`` (store events
   only: queue keys, never call another controller), ``sync(key)``; it uses ``self.ctx`` (store, clock,
   recorder, ``delete``) and ``self.queue.add_after`` for timed requeues. Cite the upstream controller it ports.
2. Register it in ``PracticeCluster.__init__`` (``cluster.py``): the construction order is the order its store
   listener runs in, and it matters (ReplicaSets act on a scale-down before the Deployment's next sync).
3. Close its queue in ``PracticeCluster.stop`` and queue what it owns in ``_resync_all`` (after a restart it
   gets no events for objects already stored).
4. Tests with the real kubectl in ``tests/practice/test_controllers.py`` (and ``test_durability.py`` when it
   keeps state across restarts).
"""
