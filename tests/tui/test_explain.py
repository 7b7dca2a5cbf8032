"""Tests of tutor.tui.explain: which events a learner sees, in which order, and what each one means (ja and en).

The events are shaped as the API serves them (the practice cluster's and a real cluster's core/v1 events look the
same; messages as kubectl 1.37 shows them, see docs/k8s-semantics in the project's reference notes).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tutor.tui.explain import (
    COMBINED_PREFIX,
    IMAGE_BACKOFF_INITIAL,
    IMAGE_BACKOFF_MAX,
    SPAM_BURST,
    event_time,
    explain_event,
    explain_pod,
    image_backoff,
    lesson_events,
)
from tutor.tui.rollout import PodDetail, PodRow

Obj = dict[str, Any]

DEPLOY = "kubernetes-bootcamp"
V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
V10 = "jocatalin/kubernetes-bootcamp:v10"
LESSON_IMAGES = (V1, V2, V10)
T0 = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
RS = {"v1": f"{DEPLOY}-5c69669756", "v2": f"{DEPLOY}-7c6644499c", "v10": f"{DEPLOY}-6d4fb9c5dk"}
POD = f"{RS['v10']}-7mx2p"
NOT_FOUND = (f'Failed to pull image "{V10}": rpc error: code = NotFound desc = failed to pull and unpack image '
             f'"docker.io/{V10}": failed to resolve reference "docker.io/{V10}": docker.io/{V10}: not found')


def stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(image: str = V10, *, replicas: int = 4, strategy: Obj | None = None) -> Obj:
    spec: Obj = {"replicas": replicas, "template": {"spec": {"containers": [{"name": DEPLOY, "image": image}]}}}
    if strategy is not None:
        spec["strategy"] = strategy
    return {"kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": DEPLOY, "uid": "uid-deploy", "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": spec}


def replicaset(version: str, revision: int, replicas: int) -> Obj:
    image = {"v1": V1, "v2": V2, "v10": V10}[version]
    return {"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": RS[version], "uid": f"uid-{RS[version]}",
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": DEPLOY, "uid": "uid-deploy"}]},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": DEPLOY, "image": image}]}}}}


def pod(name: str = POD, *, uid: str | None = None, deleting: bool = False, grace: int = 30) -> Obj:
    meta: Obj = {"name": name, "uid": uid or f"uid-{name}"}
    if deleting:
        meta.update(deletionTimestamp=stamp(30), deletionGracePeriodSeconds=grace)
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta,
            "spec": {"terminationGracePeriodSeconds": grace, "containers": [{"name": DEPLOY, "image": V10}]}}


def event(reason: str, message: str, *, about: Obj | None = None, kind: str = "Pod", type_: str = "Normal",
          count: int = 1, last: float = 0, first: float | None = None, component: str = "kubelet",
          name: str = "", version: str = "") -> Obj:
    about = about if about is not None else pod()
    meta = about["metadata"]
    seq = name or f"{meta['name']}.{reason}.{abs(hash(message)) % 10**8:x}"
    metadata: Obj = {"name": seq, "uid": f"uid-{seq}", "namespace": "default"}
    if version:
        metadata["resourceVersion"] = version
    return {"kind": "Event", "apiVersion": "v1", "metadata": metadata,
            "involvedObject": {"kind": kind, "name": meta["name"], "uid": meta["uid"], "namespace": "default"},
            "reason": reason, "message": message, "type": type_, "count": count,
            "firstTimestamp": stamp(first if first is not None else last), "lastTimestamp": stamp(last),
            "source": {"component": component}}


def snapshot(*events: Obj, pods: list[Obj] | None = None, deployments: list[Obj] | None = None) -> dict[str, list[Obj]]:
    return {"deployments": deployments if deployments is not None else [deployment()],
            "replicasets": [replicaset("v1", 1, 0), replicaset("v2", 2, 3), replicaset("v10", 3, 2)],
            "pods": pods if pods is not None else [pod()], "services": [], "endpoints": [], "events": list(events)}


def pull_failures(count: int, last: float) -> list[Obj]:
    """The kubelet's events about a pod that failed ``count`` pulls, the last at ``last`` seconds after T0."""
    return [event("Pulling", f'Pulling image "{V10}"', count=count, last=last - 1, first=0),
            event("Failed", NOT_FOUND, type_="Warning", count=count, last=last, first=1),
            event("Failed", "Error: ErrImagePull", type_="Warning", count=count, last=last, first=1),
            event("BackOff", f'Back-off pulling image "{V10}"', count=count + 1, last=last + 1, first=2),
            event("Failed", "Error: ImagePullBackOff", type_="Warning", count=count + 1, last=last + 1, first=2)]


def explained(*events: Obj, at: float, lang: str = "en", **kwargs: Any) -> dict[tuple[str, str], str]:
    """(reason, message start) -> explanation, for every event shown."""
    shown = lesson_events(snapshot(*events, **kwargs), now=T0 + timedelta(seconds=at), lang=lang,
                          lesson_images=LESSON_IMAGES)
    return {(e.reason, e.message[:22]): e.explanation for e in shown}


# ---------------------------------------------------------------------------------------------------
# The kubelet's image pull back-off (pkg/kubelet/kubelet.go: imageBackOffPeriod 10 s, MaxImageBackOff 300 s)
# ---------------------------------------------------------------------------------------------------


def test_the_back_off_constants_are_the_kubelets() -> None:
    assert (IMAGE_BACKOFF_INITIAL, IMAGE_BACKOFF_MAX) == (10, 300)


@pytest.mark.parametrize(("failed", "delay"), [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 300), (25, 300)])
def test_each_failed_pull_doubles_the_back_off_up_to_five_minutes(failed: int, delay: int) -> None:
    events = pull_failures(failed, last=100)
    assert image_backoff(events, V10, T0 + timedelta(seconds=100)) == (failed, delay, delay)
    assert image_backoff(events, V10, T0 + timedelta(seconds=100 + delay - 3))[2] == 3
    assert image_backoff(events, V10, T0 + timedelta(seconds=100 + delay)) == (failed, delay, None)  # due now


def test_the_back_off_counts_only_that_images_pulls_and_follows_the_time_scale() -> None:
    assert image_backoff(pull_failures(3, last=50), V2, T0 + timedelta(seconds=50)) == (0, 0, None)
    # --time-scale 10: the 40 s wait takes 4 s
    assert image_backoff(pull_failures(3, last=50), V10, T0 + timedelta(seconds=51), time_scale=10) == (3, 40, 3)


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "The kubelet waits 10 s, 20 s, 40 s … up to 5 min before pulling again; failed pulls so far: 3, so it "
           "waits 40 s: next try in ~34 s."),
    ("ja", "kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度取得します。3 回失敗したので今は 40 秒待ちます。"
           "次の取得まであと約 34 秒です。"),
])
def test_backoff_says_when_the_next_pull_comes(lang: str, text: str) -> None:
    got = explained(*pull_failures(3, last=60), at=66, lang=lang)
    assert got[("BackOff", 'Back-off pulling image')] == text


def test_backoff_that_is_over_says_the_next_try_is_due() -> None:
    got = explained(*pull_failures(2, last=60), at=90)
    assert got[("BackOff", "Back-off pulling image")].endswith(
        "failed pulls so far: 2, so it waits 20 s: the next try is due now.")


# ---------------------------------------------------------------------------------------------------
# Each reason
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "text"), [
    ("en", f"The registry has no such tag: nothing is published as {V10}, so every pull fails until the image is "
           "changed."),
    ("ja", f"レジストリにそのタグはありません。{V10} という名前では何も公開されていないので、イメージを変えるまで取得は失敗し続けます。"),
])
def test_failed_not_found_means_the_registry_has_no_such_tag(lang: str, text: str) -> None:
    assert explained(*pull_failures(1, last=5), at=6, lang=lang)[("Failed", "Failed to pull image \"")] == text


@pytest.mark.parametrize(("message", "start"), [
    (f'Failed to pull image "{V10}": rpc error: code = Unknown desc = Error response from daemon: manifest for '
     f"{V10} not found: manifest unknown: manifest unknown", "The registry has no such tag"),  # dockershim's words
    ('Failed to pull image "private/app:v1": rpc error: code = Unknown desc = failed to resolve reference: pull '
     "access denied, repository does not exist or may require authorization: authorization failed",
     "The registry refused the pull: the image is private, or its name is wrong."),
    (f'Failed to pull image "{V10}": rpc error: code = Unavailable desc = dial tcp: i/o timeout',
     "The kubelet could not pull the image"),
])
def test_other_pull_failures(message: str, start: str) -> None:
    text = explain_event(event("Failed", message, type_="Warning"), snapshot(), now=T0, lang="en")
    assert text.startswith(start), text


def test_the_error_events_say_what_they_mean_for_the_container() -> None:
    got = explained(*pull_failures(2, last=30), at=31)
    assert got[("Failed", "Error: ErrImagePull")] == (
        "So the container cannot be created: its image never arrived (ErrImagePull).")
    assert got[("Failed", "Error: ImagePullBackOf")].startswith("The container still cannot be created")


def test_killing_names_the_grace_period_of_the_pod() -> None:
    old = pod(f"{RS['v2']}-bx4wq", deleting=True, grace=45)
    got = explained(event("Killing", f"Stopping container {DEPLOY}", about=old, last=20), at=21,
                    pods=[old])
    assert got[("Killing", "Stopping container kub")] == (
        "The kubelet stops this container because its pod is being deleted (replaced by the rollout, or scaled "
        "down): SIGTERM now, SIGKILL if it still runs after 45 s.")


@pytest.mark.parametrize("message", [
    f"Scaled up replica set {RS['v10']} from 1 to 2",     # kubectl 1.31+ / the practice cluster
    f"Scaled up replica set {RS['v10']} to 2 from 1",     # ~1.29-1.30
])
def test_scaling_up_says_which_revision_went_from_what_to_what_and_why(message: str) -> None:
    about = deployment()
    got = explained(event("ScalingReplicaSet", message, about=about, kind="Deployment",
                          component="deployment-controller"), at=5)
    assert list(got.values()) == [
        f"ReplicaSet {RS['v10']} (rev 3 · v10) was scaled from 1 to 2. Why: during a rolling update at most 4 + "
        "maxSurge 1 = 5 pods may exist at once (maxSurge 25%)."]


def test_scaling_down_names_max_unavailable_in_japanese() -> None:
    about = deployment()
    got = explained(event("ScalingReplicaSet", f"Scaled down replica set {RS['v2']} from 4 to 3", about=about,
                          kind="Deployment", component="deployment-controller"), at=5, lang="ja")
    assert list(got.values()) == [
        f"ReplicaSet {RS['v2']} (rev 2 · v2) の Pod 数が 4 から 3 になりました。理由: 少なくとも 4 − maxUnavailable 1 = 3 "
        "個の Pod が利用可能でなければならない（maxUnavailable 25%）ので、その数を保てる分だけ減らします。"]


def test_scaling_follows_the_deployments_own_strategy() -> None:
    about = deployment(replicas=10, strategy={"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 3, "maxUnavailable": "10%"}})
    scaled = event("ScalingReplicaSet", f"Scaled down replica set {RS['v2']} to 7", about=about, kind="Deployment")
    text = explain_event(scaled, snapshot(deployments=[about]), now=T0, lang="en", lesson_images=LESSON_IMAGES)
    assert text.endswith("at least 10 − maxUnavailable 1 = 9 pods must stay available (maxUnavailable 10%), so pods "
                         "go only while that many remain.")
    assert "was scaled from ? to 7." in text   # the oldest message format does not say from what
    recreate = deployment(strategy={"type": "Recreate"})
    text = explain_event(scaled, snapshot(deployments=[recreate]), now=T0, lang="en")
    assert text.endswith("Why: the strategy is Recreate: every old pod goes before new ones start.")


def test_explain_pod_for_the_selected_pod() -> None:
    def row(status: str, detail: PodDetail, **kwargs: Any) -> PodRow:
        return PodRow("p", status, "0/1", 0, detail, **kwargs)

    assert explain_pod(row("ErrImagePull", PodDetail("waiting", "ErrImagePull", "docker.io/x:v10: not found")),
                       "en") == "The last pull of the image failed. The registry has no such tag."
    assert explain_pod(row("ErrImagePull", PodDetail("waiting", "ErrImagePull", "not found")), "ja") == (
        "最後のイメージ取得が失敗しました。レジストリにそのタグはありません。")
    assert "10 s, 20 s, 40 s" in explain_pod(row("ImagePullBackOff", PodDetail("waiting", "ImagePullBackOff")), "en")
    back_off = PodDetail("waiting", "ImagePullBackOff", f'Back-off pulling image "{V10}": ErrImagePull: {NOT_FOUND}')
    assert explain_pod(row("ImagePullBackOff", back_off), "en").endswith("before trying again. The registry has no "
                                                                          "such tag.")
    assert explain_pod(row("Terminating", PodDetail(""), deleting=True, grace=30), "en").endswith("after 30 s.")
    assert explain_pod(row("Error", PodDetail("terminated", "Error", "", "c", 137)), "en") == (
        "The container stopped with exit code 137.")
    assert explain_pod(row("Running", PodDetail("")), "en") == ""
    assert explain_pod(row("Pending", PodDetail("waiting", "SomethingNew")), "en") == ""


# ---------------------------------------------------------------------------------------------------
# Which events, in which order
# ---------------------------------------------------------------------------------------------------


def test_only_warnings_and_scaling_stopping_and_back_off_are_shown() -> None:
    events = [event("Scheduled", "Successfully assigned default/x", component="default-scheduler"),
              event("Pulling", f'Pulling image "{V10}"'), event("Created", "Created container: x"),
              event("BackOff", f'Back-off pulling image "{V10}"', last=3),
              event("Failed", NOT_FOUND, type_="Warning", last=2)]
    shown = lesson_events(snapshot(*events), now=T0, lang="en")
    assert [e.reason for e in shown] == ["BackOff", "Failed"]


def test_events_of_objects_that_are_gone_are_left_out_even_under_a_reused_name() -> None:
    """An earlier F5 deleted the pods; a new pod may even get an old name: the uid decides."""
    gone = pod(f"{RS['v10']}-zzzzz")
    namesake = pod(uid="uid-of-a-deleted-pod")
    events = [event("Failed", NOT_FOUND, type_="Warning", about=gone, last=1),
              event("Failed", NOT_FOUND, type_="Warning", about=namesake, last=2, name="old"),
              event("Failed", NOT_FOUND, type_="Warning", last=3, name="live")]
    shown = lesson_events(snapshot(*events), now=T0, lang="en")
    assert [e.key for e in shown] == ["uid-live"]


def test_an_event_without_uid_is_matched_by_kind_and_name() -> None:
    loose = event("Failed", NOT_FOUND, type_="Warning")
    del loose["involvedObject"]["uid"]
    assert len(lesson_events(snapshot(loose), now=T0, lang="en")) == 1
    loose["involvedObject"]["name"] = "another"
    assert lesson_events(snapshot(loose), now=T0, lang="en") == []


def test_newest_first_then_by_resource_version_within_a_second() -> None:
    events = [event("Failed", "Error: ErrImagePull", type_="Warning", last=5, name="a", version="90"),
              event("Failed", NOT_FOUND, type_="Warning", last=5, name="b", version="100"),
              event("BackOff", f'Back-off pulling image "{V10}"', last=9, name="c", version="7"),
              event("Failed", "Error: ImagePullBackOff", type_="Warning", last=1, name="d", version="200")]
    shown = lesson_events(snapshot(*events), now=T0 + timedelta(seconds=10), lang="en")
    assert [e.key for e in shown] == ["uid-c", "uid-b", "uid-a", "uid-d"]
    assert [e.age for e in shown] == ["1s", "5s", "5s", "9s"]


def test_combined_and_capped_events_are_marked() -> None:
    """client-go's correlator: >10 similar events become one "(combined from similar events)"; after 25 events about
    one object from one source, the rest are dropped (events_cache.go: defaultSpamBurst 25)."""
    combined = event("Failed", COMBINED_PREFIX + NOT_FOUND, type_="Warning", count=12, last=5)
    shown = lesson_events(snapshot(combined), now=T0, lang="en")
    assert shown[0].combined and shown[0].message == NOT_FOUND and shown[0].count == 12
    assert shown[0].explanation.startswith("The registry has no such tag")
    assert not shown[0].capped
    many = pull_failures(5, last=200)   # 5 + 5 + 5 + 6 + 6 = 27 events from the kubelet about the pod
    assert sum(e["count"] for e in many) >= SPAM_BURST
    assert all(e.capped for e in lesson_events(snapshot(*many), now=T0, lang="en"))


def test_event_time_prefers_the_series_then_last_timestamp() -> None:
    e = event("Failed", NOT_FOUND, last=5)
    assert event_time(e) == T0 + timedelta(seconds=5)
    e["series"] = {"count": 3, "lastObservedTime": "2026-01-05T10:00:09.500000Z"}
    assert event_time(e) == T0 + timedelta(seconds=9.5)
    assert event_time({"eventTime": "2026-01-05T10:00:02.000001Z"}) == T0 + timedelta(seconds=2, microseconds=1)
    assert event_time({}) is None


def test_explain_does_not_import_textual() -> None:
    code = "import sys, tutor.tui.explain; print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
