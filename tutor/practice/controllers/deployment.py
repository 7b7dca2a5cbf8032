"""Provides the Deployment controller, a port of kube-controller-manager's (rolling.go, sync.go, progress.go)."""

from __future__ import annotations

import math

from tutor.kube.deployutil import max_surge, max_unavailable
from tutor.kube.duration import parse_timestamp
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.names import pod_template_hash
from tutor.practice.apiserver.selectors import LabelSelector
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.controllers.pods import controller_ref
from tutor.practice.controllers.workqueue import Controller

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
ANNOTATIONS_TO_SKIP = {
    "kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}
MAX_REV_HISTORY_CHARS = 2000
COMPONENT = "deployment-controller"


# ---- helpers (deployment_util.go) ---------------------------------------------------------------

def replicas(obj: Obj | None) -> int:
    if obj is None:
        return 0
    return int((obj.get("spec") or {}).get("replicas", 0) or 0)


def status_int(obj: Obj | None, field: str) -> int:
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field, 0) or 0)


def is_rolling(d: Obj) -> bool:
    return ((d["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def template_without_hash(template: Obj) -> Obj:
    t = deep_copy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels and HASH_LABEL in labels:
        del labels[HASH_LABEL]
    meta = t.get("metadata") or {}
    meta.pop("creationTimestamp", None)
    if not meta.get("labels"):
        meta.pop("labels", None)
    return t


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    return template_without_hash(a) == template_without_hash(b)


def revision_of(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def creation_key(rs: Obj) -> tuple[str, str]:
    return (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"])


def is_active(rs: Obj | None) -> bool:
    return rs is not None and replicas(rs) > 0


def get_condition(status: Obj, type_: str) -> Obj | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def set_condition(status: Obj, cond: Obj) -> None:
    current = get_condition(status, cond["type"])
    if current and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != cond["type"]] + [cond]


def _replica_failures(all_rs: list[Obj], new: Obj | None) -> list[Obj]:
    """``getReplicaFailures`` (``pkg/controller/deployment/progress.go``): the ``ReplicaFailure`` conditions of the
    new ReplicaSet, else of all of them, as Deployment conditions (``ReplicaSetToDeploymentCondition``,
    ``deployment/util/deployment_util.go``: its lastTransitionTime is also the lastUpdateTime)."""
    def converted(rs: Obj) -> list[Obj]:
        return [{"type": c["type"], "status": c.get("status"), "lastUpdateTime": c.get("lastTransitionTime"),
                 "lastTransitionTime": c.get("lastTransitionTime"), "reason": c.get("reason"),
                 "message": c.get("message")}
                for c in (rs.get("status") or {}).get("conditions") or [] if c.get("type") == "ReplicaFailure"]

    found = converted(new) if new is not None else []
    return found or [c for rs in all_rs if rs is not None for c in converted(rs)]


def remove_condition(status: Obj, type_: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != type_]


class DeploymentController(Controller):
    """Reconciles Deployments into ReplicaSets, exactly one scaling action per sync, like upstream."""

    name = "deployment"

    # ---- wiring ------------------------------------------------------------------------------
    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "deployments":
            meta = event.obj["metadata"]
            self.queue.add((meta["namespace"], meta["name"]))
        elif plural == "replicasets":
            for obj in (event.obj, event.old):
                if obj is None:
                    continue
                ref = controller_ref(obj)  # addReplicaSet/updateReplicaSet: metav1.GetControllerOf
                if ref is not None and ref.get("kind") == "Deployment":
                    self.queue.add((obj["metadata"]["namespace"], ref["name"]))
        elif plural == "pods" and event.type == "DELETED":
            # Recreate waits for old pods to be gone.
            ref = controller_ref(event.obj)  # deletePod -> getDeploymentForPod: the pod's and its RS's controller
            if ref is not None and ref.get("kind") == "ReplicaSet":
                rs = self.store.get("replicasets", event.obj["metadata"]["namespace"], ref["name"])
                owner = controller_ref(rs) if rs is not None else None
                if rs is not None and owner is not None and owner.get("kind") == "Deployment":
                    self.queue.add((rs["metadata"]["namespace"], owner["name"]))

    def _event(self, d: Obj, type_: str, reason: str, message: str) -> None:
        self.ctx.recorder.record(d, type_, reason, message, component=COMPONENT)

    def _now(self) -> str:
        return self.store.clock.timestamp()

    # ---- sync ----------------------------------------------------------------------------------
    def sync(self, key: tuple[str, str]) -> None:
        d = self.store.get("deployments", *key)
        if d is None:
            return
        d = deep_copy(d)
        selector = LabelSelector.from_dict(d["spec"].get("selector"))
        if selector.empty():
            self._event(d, "Warning", "SelectingAll",
                        "This deployment is selecting all pods. A non-empty selector is required.")
            if d["status"].get("observedGeneration") != d["metadata"].get("generation"):
                d["status"]["observedGeneration"] = d["metadata"].get("generation")
                self.store.update("deployments", d, status_only=True)
            return
        rs_list = self._replica_sets(d)
        if d["metadata"].get("deletionTimestamp"):
            self._sync_status_only(d, rs_list)
            return
        self._check_paused_conditions(d)
        if d["spec"].get("paused"):
            self._sync(d, rs_list)
            return
        if self._is_scaling_event(d, rs_list):
            self._sync(d, self._replica_sets(d))
            return
        if is_rolling(d):
            self._rollout_rolling(d, rs_list)
        else:
            self._rollout_recreate(d, rs_list)

    def _fresh(self, d: Obj) -> Obj:
        current = self.store.get("deployments", d["metadata"]["namespace"], d["metadata"]["name"])
        return deep_copy(current) if current else d

    def _replica_sets(self, d: Obj) -> list[Obj]:
        uid = d["metadata"]["uid"]
        out = []
        for rs in self.store.owned_by(uid, "replicasets"):
            if (controller_ref(rs) or {}).get("uid") == uid:
                out.append(rs)
        return out

    def _check_paused_conditions(self, d: Obj) -> None:
        if not d["spec"].get("progressDeadlineSeconds"):
            return
        cond = get_condition(d["status"], "Progressing")
        if cond and cond.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_cond = cond is not None and cond.get("reason") == "DeploymentPaused"
        paused = bool(d["spec"].get("paused"))
        new = None
        if paused and not paused_cond:
            new = self._condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif not paused and paused_cond:
            new = self._condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        if new is None:
            return
        set_condition(d["status"], new)
        d.update(deep_copy(self.store.update("deployments", d, status_only=True)))

    def _condition(self, type_: str, status: str, reason: str, message: str) -> Obj:
        now = self._now()
        return {"type": type_, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    # ---- new/old ReplicaSets ---------------------------------------------------------------------
    def _find_new(self, d: Obj, rs_list: list[Obj]) -> Obj | None:
        for rs in sorted(rs_list, key=creation_key):
            if equal_ignore_hash(rs["spec"]["template"], d["spec"]["template"]):
                return rs
        return None

    def _get_all(self, d: Obj, rs_list: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
        new = self._find_new(d, rs_list)
        olds = [rs for rs in rs_list if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
        new = self._get_new_rs(d, rs_list, olds, new, create)
        return new, olds

    def _set_new_rs_annotations(self, d: Obj, rs: Obj, new_revision: str, exists: bool) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        changed = False
        for k, v in (d["metadata"].get("annotations") or {}).items():
            if k in ANNOTATIONS_TO_SKIP:
                continue
            if annotations.get(k) != v:
                annotations[k] = v
                changed = True
        old_revision = annotations.get(REVISION)
        try:
            old_int = int(old_revision) if old_revision else 0
        except ValueError:
            old_int = 0
        new_int = int(new_revision)
        if old_int < new_int:
            annotations[REVISION] = new_revision
            changed = True
            if old_revision:
                history = annotations.get(REVISION_HISTORY, "")
                if not history:
                    annotations[REVISION_HISTORY] = old_revision
                elif len(history) + len(old_revision) + 1 <= MAX_REV_HISTORY_CHARS:
                    annotations[REVISION_HISTORY] = history + "," + old_revision
                else:
                    parts = history.split(",")
                    while parts and len(",".join(parts)) + len(old_revision) + 1 > MAX_REV_HISTORY_CHARS:
                        parts.pop(0)
                    annotations[REVISION_HISTORY] = ",".join([*parts, old_revision])
        if not exists and self._set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
            changed = True
        return changed

    @staticmethod
    def _set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        changed = False
        if annotations.get(DESIRED_REPLICAS) != str(desired):
            annotations[DESIRED_REPLICAS] = str(desired)
            changed = True
        if annotations.get(MAX_REPLICAS) != str(max_replicas):
            annotations[MAX_REPLICAS] = str(max_replicas)
            changed = True
        return changed

    def _set_deployment_revision(self, d: Obj, revision: str) -> bool:
        annotations = d["metadata"].setdefault("annotations", {})
        if annotations.get(REVISION) != revision:
            annotations[REVISION] = revision
            return True
        return False

    def _get_new_rs(self, d: Obj, rs_list: list[Obj], olds: list[Obj], existing: Obj | None,
                    create: bool) -> Obj | None:
        max_old = max((revision_of(rs) for rs in olds), default=0)
        new_revision = str(max_old + 1)
        if existing is not None:
            rs_copy = deep_copy(existing)
            changed = self._set_new_rs_annotations(d, rs_copy, new_revision, True)
            min_ready = d["spec"].get("minReadySeconds", 0)
            if rs_copy["spec"].get("minReadySeconds", 0) != min_ready:
                rs_copy["spec"]["minReadySeconds"] = min_ready
                changed = True
            if changed:
                rs_copy = deep_copy(self.store.update("replicasets", rs_copy))
            needs_update = self._set_deployment_revision(d, rs_copy["metadata"]["annotations"][REVISION])
            cond = get_condition(d["status"], "Progressing")
            if d["spec"].get("progressDeadlineSeconds") and cond is None:
                set_condition(d["status"], self._condition(
                    "Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{rs_copy["metadata"]["name"]}"'))
                needs_update = True
            if needs_update:
                d.update(deep_copy(self.store.update("deployments", d, status_only=True)))
            return rs_copy
        if not create:
            return None
        template = deep_copy(d["spec"]["template"])
        collision = d["status"].get("collisionCount")
        for _ in range(10):
            h = pod_template_hash(template_without_hash(template), collision)
            new_template = deep_copy(template)
            new_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
            selector = deep_copy(d["spec"]["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = h
            labels = dict(new_template["metadata"]["labels"])
            new_rs: Obj = {
                "metadata": {
                    "name": f"{d['metadata']['name']}-{h}",
                    "namespace": d["metadata"]["namespace"],
                    "labels": labels,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                         "name": d["metadata"]["name"], "uid": d["metadata"]["uid"],
                                         "controller": True, "blockOwnerDeletion": True}],
                },
                "spec": {"replicas": 0, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                         "selector": selector, "template": new_template},
                "status": {"replicas": 0},
            }
            all_rs = [*olds, new_rs]
            new_count = self._new_rs_new_replicas(d, all_rs, new_rs)
            new_rs["spec"]["replicas"] = new_count
            self._set_new_rs_annotations(d, new_rs, new_revision, False)
            try:
                created = self.store.create("replicasets", new_rs)
            except errors.AlreadyExists:
                rs = self.store.get("replicasets", d["metadata"]["namespace"], new_rs["metadata"]["name"])
                owned = rs is not None and any(r.get("uid") == d["metadata"]["uid"]
                                               for r in rs["metadata"].get("ownerReferences") or [])
                if rs is not None and owned and equal_ignore_hash(rs["spec"]["template"], d["spec"]["template"]):
                    return deep_copy(rs)
                collision = (collision or 0) + 1
                d["status"]["collisionCount"] = collision
                d.update(deep_copy(self.store.update("deployments", d, status_only=True)))
                continue
            if new_count > 0:
                self._event(d, "Normal", "ScalingReplicaSet",
                            f"Scaled up replica set {created['metadata']['name']} from 0 to {new_count}")
            self._set_deployment_revision(d, new_revision)
            if d["spec"].get("progressDeadlineSeconds"):
                set_condition(d["status"], self._condition(
                    "Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{created["metadata"]["name"]}"'))
            d.update(deep_copy(self.store.update("deployments", d, status_only=True)))
            return deep_copy(created)
        return None

    def _new_rs_new_replicas(self, d: Obj, all_rs: list[Obj], new_rs: Obj) -> int:
        if is_rolling(d):
            surge = max_surge(d)
            current = sum(replicas(rs) for rs in all_rs)
            max_total = replicas(d) + surge
            if current >= max_total:
                return replicas(new_rs)
            scale_up = min(max_total - current, replicas(d) - replicas(new_rs))
            return replicas(new_rs) + scale_up
        return replicas(d)

    # ---- scaling -------------------------------------------------------------------------------
    def _scale_rs(self, rs: Obj, new_scale: int, d: Obj, operation: str) -> Obj:
        size_changed = replicas(rs) != new_scale
        rs_copy = deep_copy(rs)
        annotations_changed = self._set_replicas_annotations(rs_copy, replicas(d), replicas(d) + max_surge(d))
        if not size_changed and not annotations_changed:
            return rs
        old = replicas(rs)
        rs_copy["spec"]["replicas"] = new_scale
        updated = self.store.update("replicasets", rs_copy)
        if size_changed:
            self._event(d, "Normal", "ScalingReplicaSet",
                        f"Scaled {operation} replica set {rs['metadata']['name']} from {old} to {new_scale}")
        return deep_copy(updated)

    def _scale_and_record(self, rs: Obj, new_scale: int, d: Obj) -> tuple[bool, Obj]:
        if replicas(rs) == new_scale:
            return False, rs
        op = "up" if replicas(rs) < new_scale else "down"
        return True, self._scale_rs(rs, new_scale, d, op)

    def _is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new, olds = self._get_all(d, rs_list, False)
        for rs in [*olds, *( [new] if new else [])]:
            if not is_active(rs):
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is None:
                continue
            if desired != str(replicas(d)):
                return True
        return False

    def _sync(self, d: Obj, rs_list: list[Obj]) -> None:
        new, olds = self._get_all(d, rs_list, False)
        self._scale(d, new, olds)
        if d["spec"].get("paused"):
            self._cleanup(d, olds)
        all_rs = [*olds, *([new] if new else [])]
        self._sync_deployment_status(d, all_rs, new)

    def _scale(self, d: Obj, new: Obj | None, olds: list[Obj]) -> None:
        active_or_latest = self._find_active_or_latest(new, olds)
        if active_or_latest is not None:
            if replicas(active_or_latest) != replicas(d):
                self._scale_and_record(active_or_latest, replicas(d), d)
            return
        if self._is_saturated(d, new):
            for rs in olds:
                if is_active(rs):
                    self._scale_and_record(rs, 0, d)
            return
        if not is_rolling(d):
            return
        all_rs = [rs for rs in [*olds, *([new] if new else [])] if is_active(rs)]
        total = sum(replicas(rs) for rs in all_rs)
        allowed = replicas(d) + max_surge(d) if replicas(d) > 0 else 0
        to_add = allowed - total
        if to_add > 0:
            all_rs.sort(key=lambda rs: (-replicas(rs), tuple(-ord(c) for c in rs["metadata"].get("creationTimestamp", ""))))
            operation = "up"
        elif to_add < 0:
            all_rs.sort(key=lambda rs: (-replicas(rs), rs["metadata"].get("creationTimestamp", "")))
            operation = "down"
        else:
            operation = "up"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rs:
            if to_add != 0:
                proportion = self._proportion(rs, d, to_add, added)
                sizes[rs["metadata"]["name"]] = replicas(rs) + proportion
                added += proportion
            else:
                sizes[rs["metadata"]["name"]] = replicas(rs)
        if to_add != added and all_rs:
            name = all_rs[0]["metadata"]["name"]
            sizes[name] = max(0, sizes[name] + to_add - added)
        for rs in all_rs:
            self._scale_rs(rs, sizes[rs["metadata"]["name"]], d, operation)

    def _proportion(self, rs: Obj, d: Obj, to_add: int, added: int) -> int:
        if replicas(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        fraction = self._fraction(rs, d)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def _fraction(self, rs: Obj, d: Obj) -> int:
        if replicas(d) == 0:
            return -replicas(rs)
        deployment_replicas = replicas(d) + max_surge(d)
        annotated = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
        try:
            annotated_replicas = int(annotated) if annotated is not None else status_int(d, "replicas")
        except ValueError:
            annotated_replicas = status_int(d, "replicas")
        if annotated_replicas == 0:
            return 0
        new_size = replicas(rs) * deployment_replicas / annotated_replicas
        return int(math.floor(new_size + 0.5)) - replicas(rs)

    def _find_active_or_latest(self, new: Obj | None, olds: list[Obj]) -> Obj | None:
        if new is None and not olds:
            return None
        olds_sorted = sorted(olds, key=creation_key, reverse=True)
        active = [rs for rs in [*olds_sorted, *([new] if new else [])] if is_active(rs)]
        if not active:
            return new if new is not None else olds_sorted[0]
        if len(active) == 1:
            return active[0]
        return None

    def _is_saturated(self, d: Obj, rs: Obj | None) -> bool:
        if rs is None:
            return False
        desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
        return (replicas(rs) == replicas(d) and desired == str(replicas(d))
                and status_int(rs, "availableReplicas") == replicas(d))

    # ---- strategies ----------------------------------------------------------------------------
    def _rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> None:
        new, olds = self._get_all(d, rs_list, True)
        if new is None:
            return
        all_rs = [*olds, new]
        scaled_up, new = self._reconcile_new(all_rs, new, d)
        if scaled_up:
            self._sync_rollout_status([*olds, new], new, d)
            return
        scaled_down, olds = self._reconcile_old([*olds, new], [rs for rs in olds if is_active(rs)], olds, new, d)
        if scaled_down:
            self._sync_rollout_status([*olds, new], new, d)
            return
        if self._deployment_complete(d, d["status"]):
            self._cleanup(d, olds)
        self._sync_rollout_status([*olds, new], new, d)

    def _reconcile_new(self, all_rs: list[Obj], new: Obj, d: Obj) -> tuple[bool, Obj]:
        if replicas(new) == replicas(d):
            return False, new
        if replicas(new) > replicas(d):
            return self._scale_and_record(new, replicas(d), d)
        count = self._new_rs_new_replicas(d, all_rs, new)
        return self._scale_and_record(new, count, d)

    def _reconcile_old(self, all_rs: list[Obj], active_olds: list[Obj], olds: list[Obj], new: Obj,
                       d: Obj) -> tuple[bool, list[Obj]]:
        old_count = sum(replicas(rs) for rs in active_olds)
        if old_count == 0:
            return False, olds
        all_count = sum(replicas(rs) for rs in all_rs)
        min_available = replicas(d) - max_unavailable(d)
        new_unavailable = replicas(new) - status_int(new, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False, olds
        updated: dict[str, Obj] = {}
        # cleanupUnhealthyReplicas
        total = 0
        for rs in sorted(active_olds, key=creation_key):
            if total >= max_scaled_down:
                break
            if replicas(rs) == 0 or replicas(rs) == status_int(rs, "availableReplicas"):
                continue
            count = min(max_scaled_down - total, replicas(rs) - status_int(rs, "availableReplicas"))
            if count <= 0:
                continue  # status not caught up with a scale-down yet (upstream refuses to scale up here)
            _, rs2 = self._scale_and_record(rs, replicas(rs) - count, d)
            updated[rs["metadata"]["uid"]] = rs2
            total += count
        cleaned = total
        active_olds = [updated.get(rs["metadata"]["uid"], rs) for rs in active_olds]
        all_rs = [*active_olds, new]
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(status_int(rs, "availableReplicas") for rs in all_rs)
        scaled = 0
        if available > min_available:
            to_scale = available - min_available
            for rs in sorted(active_olds, key=creation_key):
                if scaled >= to_scale:
                    break
                if replicas(rs) == 0:
                    continue
                count = min(replicas(rs), to_scale - scaled)
                _, rs2 = self._scale_and_record(rs, replicas(rs) - count, d)
                updated[rs["metadata"]["uid"]] = rs2
                scaled += count
        olds = [updated.get(rs["metadata"]["uid"], rs) for rs in olds]
        return cleaned + scaled > 0, olds

    def _rollout_recreate(self, d: Obj, rs_list: list[Obj]) -> None:
        new, olds = self._get_all(d, rs_list, False)
        scaled_down = False
        updated_olds = []
        for rs in olds:
            if is_active(rs):
                changed, rs = self._scale_and_record(rs, 0, d)
                scaled_down = scaled_down or changed
            updated_olds.append(rs)
        olds = updated_olds
        if scaled_down:
            self._sync_rollout_status([*olds, *([new] if new else [])], new, d)
            return
        if self._old_pods_running(new, olds):
            self._sync_rollout_status([*olds, *([new] if new else [])], new, d)
            return
        if new is None:
            new, olds = self._get_all(d, self._replica_sets(d), True)
        if new is not None:
            _, new = self._scale_and_record(new, replicas(d), d)
        if self._deployment_complete(d, d["status"]):
            self._cleanup(d, olds)
        self._sync_rollout_status([*olds, *([new] if new else [])], new, d)

    def _old_pods_running(self, new: Obj | None, olds: list[Obj]) -> bool:
        if any(status_int(rs, "replicas") > 0 for rs in olds):
            return True
        for rs in olds:
            for pod in self.store.owned_by(rs["metadata"]["uid"], "pods"):
                if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                    return True
        return False

    def _cleanup(self, d: Obj, olds: list[Obj]) -> None:
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in olds if not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - limit
        if diff <= 0:
            return
        alive.sort(key=lambda rs: (revision_of(rs), creation_key(rs)))
        for rs in alive[:diff]:
            if (status_int(rs, "replicas") != 0 or replicas(rs) != 0
                    or rs["metadata"].get("generation", 0) > status_int(rs, "observedGeneration")):
                continue
            self.ctx.delete("replicasets", rs, "Background", None)

    def _sync_status_only(self, d: Obj, rs_list: list[Obj]) -> None:
        new, olds = self._get_all(d, rs_list, False)
        self._sync_deployment_status(d, [*olds, *([new] if new else [])], new)

    # ---- status --------------------------------------------------------------------------------
    def _calculate_status(self, all_rs: list[Obj], new: Obj | None, d: Obj) -> Obj:
        available = sum(status_int(rs, "availableReplicas") for rs in all_rs)
        total = sum(replicas(rs) for rs in all_rs)
        status: Obj = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(status_int(rs, "replicas") for rs in all_rs),
            "updatedReplicas": status_int(new, "replicas"),
            "readyReplicas": sum(status_int(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(0, total - available),
            "conditions": deep_copy(d["status"].get("conditions") or []),
        }
        if d["status"].get("collisionCount") is not None:
            status["collisionCount"] = d["status"]["collisionCount"]
        if available >= replicas(d) - max_unavailable(d):
            set_condition(status, self._condition("Available", "True", "MinimumReplicasAvailable",
                                                  "Deployment has minimum availability."))
        else:
            set_condition(status, self._condition("Available", "False", "MinimumReplicasUnavailable",
                                                  "Deployment does not have minimum availability."))
        return status

    def _sync_deployment_status(self, d: Obj, all_rs: list[Obj], new: Obj | None) -> None:
        d = self._fresh(d)
        status = self._calculate_status(all_rs, new, d)
        self._write_status(d, status)

    def _write_status(self, d: Obj, status: Obj) -> None:
        for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if status.get(key) == 0:
                status.pop(key)
        if not status.get("conditions"):
            status.pop("conditions", None)
        if d.get("status") == status:
            return
        d["status"] = status
        self.store.update("deployments", d, status_only=True)

    @staticmethod
    def _deployment_complete(d: Obj, status: Obj) -> bool:
        r = replicas(d)
        return (int(status.get("updatedReplicas", 0)) == r and int(status.get("replicas", 0)) == r
                and int(status.get("availableReplicas", 0)) == r
                and int(status.get("observedGeneration", 0)) >= int(d["metadata"].get("generation", 1)))

    @staticmethod
    def _progressing(d: Obj, new_status: Obj) -> bool:
        old = d.get("status") or {}
        old_old = int(old.get("replicas", 0)) - int(old.get("updatedReplicas", 0))
        new_old = int(new_status.get("replicas", 0)) - int(new_status.get("updatedReplicas", 0))
        return (int(new_status.get("updatedReplicas", 0)) > int(old.get("updatedReplicas", 0))
                or new_old < old_old
                or int(new_status.get("readyReplicas", 0)) > int(old.get("readyReplicas", 0))
                or int(new_status.get("availableReplicas", 0)) > int(old.get("availableReplicas", 0)))

    def _timed_out(self, d: Obj, new_status: Obj) -> bool:
        cond = get_condition(new_status, "Progressing")
        if cond is None or cond.get("reason") == "NewReplicaSetAvailable":
            return False
        if cond.get("reason") == "ProgressDeadlineExceeded":
            return True
        start = parse_timestamp(cond.get("lastUpdateTime"))
        if start is None:
            return False
        elapsed = self.store.clock.elapsed_since(start)
        return elapsed > d["spec"]["progressDeadlineSeconds"]

    def _sync_rollout_status(self, all_rs: list[Obj], new: Obj | None, d: Obj) -> None:
        d = self._fresh(d)
        status = self._calculate_status(all_rs, new, d)
        pds = d["spec"].get("progressDeadlineSeconds")
        if not pds:
            remove_condition(status, "Progressing")
        current = get_condition(d["status"], "Progressing")
        complete = (int(status.get("replicas", 0)) == int(status.get("updatedReplicas", 0))
                    and current is not None and current.get("reason") == "NewReplicaSetAvailable")
        subject = f'ReplicaSet "{new["metadata"]["name"]}"' if new else f'Deployment "{d["metadata"]["name"]}"'
        if pds and not complete:
            if self._deployment_complete(d, status):
                set_condition(status, self._condition("Progressing", "True", "NewReplicaSetAvailable",
                                                      f"{subject} has successfully progressed."))
            elif self._progressing(d, status):
                cond = self._condition("Progressing", "True", "ReplicaSetUpdated", f"{subject} is progressing.")
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    remove_condition(status, "Progressing")
                set_condition(status, cond)
            elif self._timed_out(d, status):
                set_condition(status, self._condition("Progressing", "False", "ProgressDeadlineExceeded",
                                                      f"{subject} has timed out progressing."))
        # Move failure conditions of the replica sets in deployment conditions (only one, the new one's first).
        failures = _replica_failures(all_rs, new)
        if failures:
            set_condition(status, failures[0])
        else:
            remove_condition(status, "ReplicaFailure")
        self._requeue_stuck(d, status)
        self._write_status(d, status)

    def _requeue_stuck(self, d: Obj, status: Obj) -> None:
        cond = get_condition(status, "Progressing")
        pds = d["spec"].get("progressDeadlineSeconds")
        if not pds or cond is None or cond.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
            return
        if self._deployment_complete(d, status):
            return
        start = parse_timestamp(cond.get("lastUpdateTime"))
        if start is None:
            return
        clock = self.store.clock
        elapsed_sim = clock.elapsed_since(start)
        remaining_sim = pds - elapsed_sim + 1
        self.queue.add_after((d["metadata"]["namespace"], d["metadata"]["name"]), clock.real(max(remaining_sim, 0.5)))
