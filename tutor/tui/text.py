"""Provides every word the TUI itself shows, in Japanese and English, and the one way to look them up.

Lesson texts live in the lesson files. Keys are ``area.name`` (``panel.title``, ``console.running``); a key
without an area belongs to the lesson and start screens. :func:`t` fills ``{placeholders}``; an unknown
language reads English. Footer labels of key bindings are ``binding.<action>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.backends.lifecycle import StartOutcome

TEXTS: dict[str, dict[str, str]] = {
    # ---- start and lesson screens
    "starting": {"ja": "{backend} クラスターを起動しています…", "en": "Starting the {backend} cluster…"},
    "connecting": {"ja": "クラスターに接続しています…", "en": "Connecting to the cluster…"},
    "start_failed": {"ja": "クラスターを起動できませんでした", "en": "The cluster did not start"},
    "retry": {"ja": "r: もう一度試す · Ctrl+Q: 終了", "en": "r: try again · Ctrl+Q: quit"},
    "step_of": {"ja": "ステップ {n}/{total}", "en": "Step {n}/{total}"},
    "connected": {"ja": "接続中", "en": "connected"},
    "unreachable": {"ja": "応答なし", "en": "not answering"},
    "cluster_down": {
        "ja": "クラスターが応答しません（{error}）。`kube-tutor cluster up` で起動し直してください（オブジェクトは残っています）。kube-tutor は再接続を続けます。",
        "en": "The cluster is not answering ({error}). Start it again with `kube-tutor cluster up` (your objects are kept); kube-tutor keeps trying to reconnect.",
    },
    "cluster_back": {"ja": "クラスターに再接続しました。", "en": "Reconnected to the cluster."},
    "not_saving": {"ja": "変更を保存できません", "en": "not saving changes"},
    "storage_failed": {
        "ja": "クラスターが変更を保存できなくなりました（{error}）。これからの変更はメモリーにだけあり、クラスターを止めると失われます。",
        "en": "The cluster can no longer save changes ({error}). What you change now is kept in memory only and is lost when the cluster stops.",
    },
    "storage_back": {"ja": "クラスターはまた変更を保存できるようになりました。", "en": "The cluster saves changes again."},
    "passed": {"ja": "✓ ステップ完了！", "en": "✓ Step passed!"},
    "next_in": {
        "ja": "{seconds} 秒後に次のステップへ進みます（Esc でこのまま）",
        "en": "Moving to the next step in {seconds} s (Esc to stay here)",
    },
    "stay": {"ja": "このステップに残ります。Ctrl+N で次へ進めます。", "en": "Staying here; Ctrl+N moves on."},
    "lesson_done": {"ja": "🎉 レッスン完了です。おつかれさまでした！", "en": "🎉 You finished the lesson. Well done!"},
    "hint": {"ja": "ヒント", "en": "Hint"},
    "solution": {"ja": "解答（Enter で実行）", "en": "Solution (Enter runs a command)"},
    "copied": {"ja": "コピーしました: {command}", "en": "Copied: {command}"},
    "busy": {"ja": "コマンドの実行中です（Ctrl+C で中断）", "en": "A command is still running (Ctrl+C cancels it)"},
    "resetting": {"ja": "このステップの始めの状態に戻しています…", "en": "Putting the cluster back to the start of this step…"},
    "reset_done": {"ja": "このステップの始めの状態に戻しました。", "en": "The cluster is back at the start of this step."},
    "reset_failed": {"ja": "戻せませんでした: {error}", "en": "Could not reset: {error}"},
    # ---- phase: which phase of the start state failed (tutor.backends.lifecycle)
    "phase.setup": {"ja": "準備のコマンドが失敗しました。", "en": "A setup command failed."},
    "phase.ready": {"ja": "開始時の状態になりませんでした。まだ足りないもの:", "en": "The start state did not come up. Still missing:"},
    "phase.never_run": {
        "ja": "開始時の状態に、いつまでも動かない Pod があります。",
        "en": "The start state has pods that will never run.",
    },
    "phase.after_setup": {
        "ja": "アプリの NodePort を手元から使えるようにできませんでした。",
        "en": "Could not make the app's NodePort reachable from this machine.",
    },
    "phase.replay": {
        "ja": "前のステップの解答をもう一度実行できませんでした。",
        "en": "Running an earlier step's solution again failed.",
    },
    "no_suspend": {
        "ja": "ここではシェルに切り替えられません（ブラウザやテスト）。別の端末で `eval \"$(kube-tutor cluster env)\"` を実行してください。",
        "en": "Cannot switch to a shell here (browser or test). In another terminal run `eval \"$(kube-tutor cluster env)\"`.",
    },
    "back_from_shell": {"ja": "シェルから戻りました。チェックを更新します。", "en": "Back from your shell; checking the cluster again."},
    "first_step": {"ja": "最初のステップです。", "en": "This is the first step."},
    "last_step": {"ja": "最後のステップです。", "en": "This is the last step."},
    "outline": {"ja": "ステップ", "en": "Steps"},
    "welcome": {
        "ja": "コマンドを入力するか、提案されたコマンドを選んで Enter を押してください。F1 でヘルプ。",
        "en": "Type a command, or pick a suggested one and press Enter. F1 shows every key.",
    },
    # ---- panel
    "panel.title": {"ja": "クラスター · Deployment {deployment}", "en": "Cluster · deployment {deployment}"},
    "panel.title_short": {"ja": "クラスター · {deployment}", "en": "Cluster · {deployment}"},
    "panel.ready": {"ja": "準備完了", "en": "ready"},
    "panel.scaled": {"ja": "0 にスケール済み", "en": "scaled to 0"},
    "panel.no_pods": {"ja": "Pod なし", "en": "no pods"},
    "panel.waiting": {"ja": "クラスターを待っています…", "en": "waiting for the cluster…"},
    "panel.other": {"ja": "その他の Pod", "en": "other pods"},
    "panel.no_deployment": {"ja": "Deployment はまだありません", "en": "no deployment yet"},
    "panel.error": {"ja": "クラスターが応答しません: {message}", "en": "cluster not answering: {message}"},
    "panel.hint": {"ja": "↑↓ で Pod を選ぶと、理由が出ます", "en": "↑↓ selects a pod and shows why"},
    "panel.state.waiting": {"ja": "待機中", "en": "Waiting"},
    "panel.state.terminated": {"ja": "終了", "en": "Terminated"},
    "panel.state.unscheduled": {"ja": "ノード未定", "en": "Not scheduled"},
    "panel.state.pod": {"ja": "Pod", "en": "Pod"},
    "panel.state.running": {"ja": "実行中", "en": "Running"},
    "panel.exit_code": {"ja": "終了コード {code}", "en": "exit code {code}"},
    # ---- console
    "console.placeholder": {"ja": "コマンドを入力（例: kubectl get pods）", "en": "kubectl get pods"},
    "console.running": {"ja": "実行中… Ctrl+C で中断", "en": "running… Ctrl+C cancels"},
    "console.busy": {"ja": "コマンドがまだ実行中です（Ctrl+C で中断できます）", "en": "a command is still running (Ctrl+C cancels it)"},
    "console.exit": {"ja": "終了ステータス {code}", "en": "exit status {code}"},
    # ---- help
    "help.title": {"ja": "キー操作", "en": "Keys"},
    "help.close": {"ja": "Esc: 閉じる", "en": "Esc closes this help."},
    "help.key00": {
        "ja": "コマンドを実行（入力欄、またはコマンドの上で）",
        "en": "run a command (in the console, or on a suggested command)",
    },
    "help.key01": {"ja": "入力の履歴", "en": "console history"},
    "help.key02": {"ja": "提案されたコマンドを受け入れる", "en": "accept the suggested completion"},
    "help.key03": {
        "ja": "実行中のコマンドを中断（rollout status、get -w）",
        "en": "cancel a running command (rollout status, get -w)",
    },
    "help.key04": {"ja": "出力を消す（コンソールで入力）", "en": "clear the output (type it in the console)"},
    "help.key05": {"ja": "フォーカスを移動（コマンド、チェック、クラスター）", "en": "move focus (commands, checks, cluster)"},
    "help.key06": {"ja": "フォーカスしたコマンドをコピー", "en": "copy the focused command"},
    "help.key07": {"ja": "次 / 前のステップ", "en": "next / previous step"},
    "help.key08": {"ja": "次のステップへ自動で進まない", "en": "stay on a passed step"},
    "help.key09": {"ja": "ヒントを表示", "en": "show the hint"},
    "help.key10": {"ja": "解答を表示", "en": "show the solution"},
    "help.key11": {"ja": "このステップの始めの状態に戻す", "en": "reset the cluster to the start of this step"},
    "help.key12": {"ja": "自分のシェルに切り替える（exit で戻る）", "en": "suspend into your own shell (exit returns)"},
    "help.key13": {"ja": "このヘルプ", "en": "this help"},
    "help.key14": {"ja": "終了（進み具合は保存されます）", "en": "quit (progress is saved)"},
    "help.key15": {
        "ja": "イベント一覧（警告とその意味、新しい順）",
        "en": "events: the warnings and what they mean, newest first",
    },
    # ---- checklist
    "checklist.heading": {"ja": "チェック", "en": "Checks"},
    "checklist.intended": {"ja": "（この失敗は意図したものです）", "en": " (this failure is intended)"},
    "checklist.looking": {"ja": "クラスターを確認しています…", "en": "Looking at the cluster…"},
    # ---- picker
    "picker.title": {"ja": "レッスンを選んでください", "en": "Pick a lesson"},
    # ---- binding
    "binding.next_step": {"ja": "次へ", "en": "Next"},
    "binding.previous_step": {"ja": "前へ", "en": "Back"},
    "binding.hint": {"ja": "ヒント", "en": "Hint"},
    "binding.solution": {"ja": "解答", "en": "Solution"},
    "binding.reset_step": {"ja": "やり直す", "en": "Reset step"},
    "binding.help": {"ja": "ヘルプ", "en": "Help"},
    "binding.quit": {"ja": "終了", "en": "Quit"},
    "binding.run": {"ja": "実行", "en": "Run"},
    "binding.copy": {"ja": "コピー", "en": "Copy"},
    "binding.dismiss": {"ja": "閉じる", "en": "Close"},
    "binding.events": {"ja": "イベント", "en": "Events"},
    # ---- events: the events view (tutor.tui.screens.events)
    "events.title": {"ja": "イベント（新しい順）", "en": "Events, newest first"},
    "events.intro": {
        "ja": "今あるレッスンのオブジェクトについての警告と、スケール・停止・待機のイベントを、意味と一緒に表示します。Esc で閉じます。",
        "en": "Warnings, and scaling, stopping and back-off, about the lesson's objects that still exist, each with what it means. Esc closes.",
    },
    "events.none": {
        "ja": "レッスンのオブジェクトについての警告はまだありません。",
        "en": "No warnings about the lesson's objects yet.",
    },
    "events.ago": {"ja": "{age} 前", "en": "{age} ago"},
    "events.times": {"ja": "{count} 回", "en": "×{count}"},
    "events.kubectl": {
        "ja": "kubectl では: kubectl events --types=Warning（古い順）",
        "en": "With kubectl: kubectl events --types=Warning (oldest first)",
    },
    # ---- explain: what an event or a pod's state means (tutor.tui.explain)
    "explain.scaled": {
        "ja": "ReplicaSet {rs}{label} の Pod 数が {old} から {new} になりました。",
        "en": "ReplicaSet {rs}{label} was scaled from {old} to {new}.",
    },
    "explain.scaled_up": {
        "ja": "理由: ローリングアップデート中に同時に存在してよい Pod は、最大 {replicas} + maxSurge {surge} = {total} 個です（maxSurge {spec}）。",
        "en": "Why: during a rolling update at most {replicas} + maxSurge {surge} = {total} pods may exist at once (maxSurge {spec}).",
    },
    "explain.scaled_down": {
        "ja": "理由: 少なくとも {replicas} − maxUnavailable {unavailable} = {total} 個の Pod が利用可能でなければならない（maxUnavailable {spec}）ので、その数を保てる分だけ減らします。",
        "en": "Why: at least {replicas} − maxUnavailable {unavailable} = {total} pods must stay available (maxUnavailable {spec}), so pods go only while that many remain.",
    },
    "explain.scaled_recreate": {
        "ja": "理由: 戦略が Recreate なので、古い Pod をすべて止めてから新しい Pod を起動します。",
        "en": "Why: the strategy is Recreate: every old pod goes before new ones start.",
    },
    "explain.no_such_tag": {
        "ja": "レジストリにそのタグはありません。{image} という名前では何も公開されていないので、イメージを変えるまで取得は失敗し続けます。",
        "en": "The registry has no such tag: nothing is published as {image}, so every pull fails until the image is changed.",
    },
    "explain.no_such_tag_short": {"ja": "レジストリにそのタグはありません。", "en": "The registry has no such tag."},
    "explain.pull_denied": {
        "ja": "レジストリが取得を拒否しました。非公開のイメージか、名前が間違っています。",
        "en": "The registry refused the pull: the image is private, or its name is wrong.",
    },
    "explain.pull_failed": {
        "ja": "kubelet はイメージを取得できませんでした。理由はメッセージにあります。",
        "en": "The kubelet could not pull the image; the message says why.",
    },
    "explain.err_image_pull": {
        "ja": "そのため、コンテナを作れません。イメージが届いていないからです（ErrImagePull）。",
        "en": "So the container cannot be created: its image never arrived (ErrImagePull).",
    },
    "explain.err_image_pull_backoff": {
        "ja": "コンテナはまだ作れません。kubelet は次の取得まで待っています（ImagePullBackOff）。",
        "en": "The container still cannot be created: the kubelet is waiting before it pulls again (ImagePullBackOff).",
    },
    "explain.backoff": {
        "ja": "kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度取得します。",
        "en": "The kubelet waits 10 s, 20 s, 40 s … up to 5 min before pulling again.",
    },
    "explain.backoff_next": {
        "ja": "kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度取得します。{failed} 回失敗したので今は {delay} 秒待ちます。次の取得まであと約 {next} 秒です。",
        "en": "The kubelet waits 10 s, 20 s, 40 s … up to 5 min before pulling again; failed pulls so far: {failed}, so it waits {delay} s: next try in ~{next} s.",
    },
    "explain.backoff_due": {
        "ja": "kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度取得します。{failed} 回失敗したので今は {delay} 秒待ちます。次の取得はまもなくです。",
        "en": "The kubelet waits 10 s, 20 s, 40 s … up to 5 min before pulling again; failed pulls so far: {failed}, so it waits {delay} s: the next try is due now.",
    },
    "explain.crash_backoff": {
        "ja": "コンテナが止まり続けています。kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度起動します。",
        "en": "The container keeps stopping; the kubelet waits 10 s, 20 s, 40 s … up to 5 min before starting it again.",
    },
    "explain.killing": {
        "ja": "Pod が削除されるので（更新で置き換えられたか、スケールダウン）、kubelet がこのコンテナを止めます。まず SIGTERM を送り、{grace} 秒たっても動いていれば SIGKILL します。",
        "en": "The kubelet stops this container because its pod is being deleted (replaced by the rollout, or scaled down): SIGTERM now, SIGKILL if it still runs after {grace} s.",
    },
    "explain.combined": {
        "ja": "似たイベントが 10 個を超えたので、Kubernetes がこの 1 つにまとめました。",
        "en": "Kubernetes merged more than 10 similar events into this one.",
    },
    "explain.capped": {
        "ja": "1 つのオブジェクトについてのイベントは 25 個で数えるのをやめ、その後は 5 分に 1 つだけです。新しいものが載っていないことがあります。",
        "en": "Events about one object stop counting after 25 (then one every 5 min): later ones may be missing.",
    },
    "explain.pod.ErrImagePull": {"ja": "最後のイメージ取得が失敗しました。", "en": "The last pull of the image failed."},
    "explain.pod.ImagePullBackOff": {
        "ja": "イメージを取得できませんでした。kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度試します。",
        "en": "The image could not be pulled; the kubelet waits 10 s, 20 s, 40 s … up to 5 min before trying again.",
    },
    "explain.pod.ContainerCreating": {
        "ja": "kubelet が Pod を準備しています（イメージを取得して、コンテナを起動します）。",
        "en": "The kubelet is preparing the pod: pulling the image, then starting the container.",
    },
    "explain.pod.CrashLoopBackOff": {
        "ja": "コンテナが止まり続けています。kubelet は 10 秒、20 秒、40 秒…と最大 5 分まで待ってから、もう一度起動します。",
        "en": "The container keeps stopping; the kubelet waits 10 s, 20 s, 40 s … up to 5 min before starting it again.",
    },
    "explain.pod.Terminating": {
        "ja": "削除中です。kubelet は SIGTERM を送り、{grace} 秒たっても動いていれば SIGKILL します。",
        "en": "Being deleted: the kubelet sent SIGTERM, and sends SIGKILL if it still runs after {grace} s.",
    },
    "explain.pod.Completed": {"ja": "コンテナは正常に終了しました。", "en": "The container finished successfully."},
    "explain.pod.terminated": {"ja": "コンテナは終了コード {code} で止まりました。", "en": "The container stopped with exit code {code}."},
    "explain.pod.unscheduled": {
        "ja": "Pod を受け入れられるノードがまだありません。理由はメッセージにあります。",
        "en": "No node can take the pod yet; the message says why.",
    },
    "explain.pod.Pending": {"ja": "Pod はノードに割り当てられるのを待っています。", "en": "The pod waits for a node."},
}
"""Every text, by key, then by language."""


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (English for an unknown language), with ``{placeholders}`` filled."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def texts(area: str, lang: str) -> dict[str, str]:
    """Every text of an area (``panel``) in ``lang``, by name without the area (``title``)."""
    prefix = area + "."
    return {key[len(prefix):]: t(key, lang) for key in TEXTS if key.startswith(prefix)}


def localize_bindings(node: object, lang: str) -> None:
    """Give a widget's or screen's key bindings their footer labels in ``lang`` (``binding.<action>``)."""
    import dataclasses

    bindings = getattr(getattr(node, "_bindings", None), "key_to_bindings", None)  # Textual's BindingsMap
    if not isinstance(bindings, dict):
        return
    for key, entries in bindings.items():
        bindings[key] = [dataclasses.replace(b, description=TEXTS.get(f"binding.{b.action}", {}).get(lang)
                                             or b.description) for b in entries]


def start_failure(outcome: StartOutcome, lang: str) -> str:
    """Which phase of the start state failed, in ``lang``, then its detail (a command's output, kubectl's error)."""
    lines = [t(f"phase.{outcome.phase}", lang)]
    if outcome.phase == "ready" and outcome.ready is not None:
        lines += [f"  ○ {result.message(lang)}" for result in outcome.ready.results if not result.passed]
    else:
        lines.append(outcome.failure)
    return "\n".join(lines)
