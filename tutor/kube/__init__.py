"""Provides what both halves of kube-tutor share: pure ports of upstream functions, each with one home.

A leaf package: it imports only the standard library, so the practice cluster (``tutor.practice``) and the
tutor side (backends, the TUI and the rest) can both use it without knowing each other. Each module names the
upstream file it ports; a function that exists upstream once exists here once.

``printers`` (kubectl's printPod words), ``podutil`` (IsPodReady, IsPodActive), ``meta`` (GetControllerOf),
``duration`` (HumanDuration, Go's Duration.String), ``intstr`` (IntOrString scaling), ``gojson`` (Go's
encoding/json scanner and errors), ``qos`` (ComputePodQOS, PodRequests, PodLimits), ``strconv`` (Go's
Quote, Atoi, ParseInt), ``files`` (atomic writes).
"""
