"""Provides every word the TUI itself shows, in Japanese and English, and the one way to look them up.

Lesson texts live in the lesson files. Keys are ``area.name`` (``panel.title``, ``console.running``); a key
without an area belongs to the lesson and start screens. :func:`t` fills ``{placeholders}``; an unknown
language reads English. Footer labels of key bindings are ``binding.<action>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.text import TEXTS as CLI_TEXTS
from tutor.text import lookup

if TYPE_CHECKING:
    from textual.app import SystemCommand

    from tutor.backends.lifecycle import StartOutcome

TEXTS: dict[str, dict[str, str]] = {
    # ---- a cluster that went away
    "cluster.restart_hint": {
        "ja": "Ctrl+R でクラスターを起動し直せます（オブジェクトは残っています）。別の端末なら `{command}`。",
        "en": "Ctrl+R starts the cluster again (your objects are kept); from another terminal: `{command}`."},
    "cluster.restarting": {"ja": "クラスターを起動し直しています…", "en": "Starting the cluster again…"},
    "cluster.restart_failed": {"ja": "クラスターを起動できませんでした：{error}",
                               "en": "The cluster did not start: {error}"},
    "cluster.running": {"ja": "クラスターは動いています。", "en": "The cluster is running."},
    "cluster.down_reset": {
        "ja": "クラスターが応答しないので、ステップを戻せません。Ctrl+R で起動し直してから F5 を押してください。",
        "en": "The cluster is not answering, so the step cannot be reset: press Ctrl+R to start it again, then F5."},
    "time_scale": {"ja": "時間 ×{scale}", "en": "time ×{scale}"},
    # ---- start and lesson screens
    "starting": {"ja": "{backend} クラスターを準備しています…", "en": "Getting the {backend} cluster ready…"},
    "connecting": {"ja": "クラスターに接続しています…", "en": "Connecting to the cluster…"},
    "start_failed": {"ja": "クラスターを起動できませんでした", "en": "The cluster did not start"},
    "retry": {"ja": "r: もう一度試す · Ctrl+Q: 終了", "en": "r: try again · Ctrl+Q: quit"},
    "step_of": {"ja": "ステップ {n}/{total}", "en": "Step {n}/{total}"},
    "connected": {"ja": "接続中", "en": "connected"},
    "unreachable": {"ja": "応答なし", "en": "not answering"},
    "cluster_down": {
        "ja": "クラスターが応答しません（{error}）。kube-tutor は再接続を続けます。",
        "en": "The cluster is not answering ({error}); kube-tutor keeps trying to reconnect.",
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
        "ja": "コマンドを入力（Tab で補完）。Shift+Tab で提案を選べます。F1 でヘルプ。",
        "en": "Type a command (Tab completes); Shift+Tab picks a suggestion. F1: every key.",
    },
    "setting_up": {"ja": "クラスターをレッスンの始めの状態にしています…", "en": "Putting the cluster in the lesson's start state…"},
    "failure_stays": {
        "ja": "このステップは自動では進みません。失敗の様子をゆっくり確かめて、準備ができたら Ctrl+N で次へ。",
        "en": "This step does not move on by itself: take your time with the failure, then Ctrl+N moves on.",
    },
    "advance_off": {"ja": "準備ができたら Ctrl+N で次へ進みます。", "en": "Ctrl+N moves on when you are ready."},
    "next_after_command": {
        "ja": "実行中のコマンドが終わってから次のステップへ進みます（Esc でこのまま）",
        "en": "Moving to the next step once the running command has finished (Esc to stay here)",
    },
    "recap_in": {"ja": "{seconds} 秒後にまとめを表示します（Esc でこのまま）", "en": "The recap follows in {seconds} s (Esc to stay here)."},
    "recap_key": {"ja": "Ctrl+N でまとめを表示します。", "en": "Ctrl+N shows the recap."},
    "skipped": {
        "ja": "ステップ {n}「{title}」を終えずに先へ進みました。クラスターはステップ {next} の始めの状態ではありません。F5 で準備できます（前のステップの解答を実行します）。",
        "en": "You skipped step {n} ({title}) before it passed. The cluster is not where step {next} starts: F5 sets it up (it runs the earlier steps' solutions).",
    },
    "reset_undoes": {
        "ja": "F5: ステップ {n} でクラスターに加えた変更を取り消し、レッスンの始めの状態に戻します。",
        "en": "F5: what you changed in the cluster on step {n} is undone; it goes back to the lesson's start state.",
    },
    "reset_undoes_replays": {
        "ja": "F5: ステップ {n} でクラスターに加えた変更を取り消し、ステップ 1〜{last} の解答をもう一度実行します。",
        "en": "F5: what you changed in the cluster on step {n} is undone, and the solutions of steps 1 to {last} run again.",
    },
    "too_small": {
        "ja": "kube-tutor には {width}x{height} 以上の端末が必要です（今は {now}）。ウィンドウを広げてください。Ctrl+Q で終了。",
        "en": "kube-tutor needs a terminal of at least {width}x{height} (this one is {now}). Please make the window bigger. Ctrl+Q quits.",
    },
    "console_maximize": {"ja": "F6 で広げる", "en": "F6 bigger"},
    "console_restore": {"ja": "F6 で元に戻す", "en": "F6 back"},
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
    "console.more": {"ja": "…ほかに {count} 件", "en": "… and {count} more"},
    "console.refused_full_screen": {
        "ja": "kube-tutor: `{program}` は画面全体を描き直すので端末が必要ですが、ここ（ブラウザー）では端末を渡せません。代わりに `kubectl get pods -w` を使ってください（Ctrl+C で止まります）。",
        "en": "kube-tutor: `{program}` redraws the whole screen and needs a terminal, which kube-tutor cannot hand over here (a browser): use `kubectl get pods -w` instead (Ctrl+C stops it).",
    },
    "console.refused_editor": {
        "ja": "kube-tutor: `{program}` には端末が必要ですが、ここ（ブラウザー）では端末を渡せません。別の端末で `eval \"$(kube-tutor cluster env)\"` を実行してから使ってください。",
        "en": "kube-tutor: `{program}` needs a terminal, which kube-tutor cannot hand over here (a browser): use it in another terminal after `eval \"$(kube-tutor cluster env)\"`.",
    },
    "console.refused_pager": {
        "ja": "kube-tutor: `{program}` には端末が必要ですが、ここ（ブラウザー）では端末を渡せません。出力はすべてここに残り、PageUp / PageDown でスクロールできます。",
        "en": "kube-tutor: `{program}` needs a terminal, which kube-tutor cannot hand over here (a browser): the console keeps the whole output (PageUp/PageDown scroll it).",
    },
    "console.refused_kubectl_edit": {
        "ja": "kube-tutor: `{program}` はエディターを開くので端末が必要ですが、ここ（ブラウザー）では端末を渡せません。`kubectl set image`、`kubectl scale`、`kubectl patch` で変更してください。",
        "en": "kube-tutor: `{program}` opens an editor, which needs a terminal kube-tutor cannot hand over here (a browser): change the object with `kubectl set image`, `kubectl scale` or `kubectl patch`.",
    },
    "console.refused_tty": {
        "ja": "kube-tutor: `{program}` には端末が必要ですが、ここ（ブラウザー）では端末を渡せません。-i / -t を付けなければコマンドを 1 つ実行できます（`kubectl exec POD -- env`）。",
        "en": "kube-tutor: `{program}` needs a terminal, which kube-tutor cannot hand over here (a browser): without -i/-t it runs one command (`kubectl exec POD -- env`).",
    },
    "console.attached": {
        "ja": "kube-tutor: `{program}` をこの端末で実行します。プログラムが終わると（シェルなら `exit`）レッスンの画面に戻ります。",
        "en": "kube-tutor: `{program}` runs in this terminal; the lesson comes back when it ends (`exit` for a shell).",
    },
    "console.attached_done": {
        "ja": "`{program}` が終了しました（終了ステータス {code}）。チェックを更新します。",
        "en": "`{program}` ended (exit status {code}); checking again.",
    },
    "console.not_saved": {
        "ja": "コンソールの履歴と変数を保存できませんでした: {error}",
        "en": "Could not save the console's history and variables: {error}",
    },
    # ---- help
    "help.title": {"ja": "キー操作", "en": "Keys"},
    "help.close": {"ja": "Esc: 閉じる", "en": "Esc closes this help."},
    "help.key00": {
        "ja": "コマンドを実行（入力欄、またはコマンドの上で）",
        "en": "run a command (in the console, or on a suggested command)",
    },
    "help.key01": {"ja": "入力の履歴", "en": "console history"},
    "help.key02": {"ja": "提案されたコマンドを受け入れる", "en": "accept the suggested command"},
    "help.key03": {
        "ja": "実行中のコマンドを中断（rollout status、get -w）",
        "en": "cancel a running command (rollout status, get -w)",
    },
    "help.key04": {"ja": "出力を消す（コンソールで入力）", "en": "clear the output (type it in the console)"},
    "help.key05": {"ja": "フォーカスを移動（コマンド、チェック、クラスター）", "en": "move focus (commands, checks, cluster)"},
    "help.key06": {
        "ja": "提案されたコマンドの上で: コピー（ほかのキーは入力欄へ）",
        "en": "on a suggested command: copy it (other keys go to the console)",
    },
    "help.key07": {"ja": "次 / 前のステップ", "en": "next / previous step"},
    "help.key08": {"ja": "次のステップへ自動で進まない", "en": "stay on a passed step"},
    "help.key09": {"ja": "ヒントを表示", "en": "show the hint"},
    "help.key10": {"ja": "解答を表示", "en": "show the solution"},
    "help.key11": {"ja": "このステップの始めの状態に戻す", "en": "reset the cluster to the start of this step"},
    "help.restart": {"ja": "止まったクラスターを起動し直す", "en": "restart a cluster that stopped"},
    "help.key12": {"ja": "自分のシェルに切り替える（exit で戻る）", "en": "suspend into your own shell (exit returns)"},
    "help.key13": {"ja": "このヘルプ", "en": "this help"},
    "help.key14": {"ja": "終了（進み具合は保存されます）", "en": "quit (progress is saved)"},
    "help.key15": {"ja": "チェックを 1 行にたたむ / すべて表示", "en": "fold the checks to one line, or show them all"},
    "help.key16": {"ja": "コンソールを広げる / 元に戻す", "en": "make the console fill the screen, or back"},
    "help.key17": {"ja": "レッスンの紹介（始めの状態とステップ）", "en": "the lesson's introduction (its start state and steps)"},
    "help.key18": {"ja": "レッスンのテキストをスクロール（マウスのホイールでも）", "en": "scroll the lesson text (or the mouse wheel)"},
    # ---- intro
    "intro.start": {"ja": "始めの状態", "en": "Where you start"},
    "intro.steps": {"ja": "ステップ", "en": "Steps"},
    "intro.keys": {
        "ja": "何かキーを押すと始まります · F7 でこの画面をもう一度 · F1 でキー操作",
        "en": "Press any key to begin · F7 shows this again · F1 lists every key",
    },
    # ---- end
    "end.title": {"ja": "🎉 レッスン完了です", "en": "🎉 You finished the lesson"},
    "end.title_unfinished": {"ja": "ここまでのまとめ", "en": "Recap so far"},
    "end.title_time": {"ja": "🎉 レッスン完了です（{time}）", "en": "🎉 You finished the lesson in {time}"},
    "end.steps": {"ja": "やったこと", "en": "What you did"},
    "end.not_passed": {"ja": "未完了", "en": "not passed"},
    "end.minutes": {"ja": "{minutes} 分 {seconds} 秒", "en": "{minutes} min {seconds} s"},
    "end.seconds": {"ja": "{seconds} 秒", "en": "{seconds} s"},
    "end.next": {"ja": "次は", "en": "What next"},
    "end.reset": {"ja": "レッスンを最初からやり直す", "en": "play the lesson again from its start"},
    "end.down": {
        "ja": "クラスターを止める（進み具合とオブジェクトは残ります）",
        "en": "stop the cluster (your progress and objects are kept)",
    },
    "end.keys": {"ja": "Esc でレッスンに戻る · Ctrl+Q で終了", "en": "Esc goes back to the lesson · Ctrl+Q quits"},
    "help.events": {
        "ja": "イベント一覧（警告とその意味、新しい順）",
        "en": "events: the warnings and what they mean, newest first",
    },
    "help.tab": {
        "ja": "補完（コマンド、リソースの種類と名前、フラグ）。もう一度押すと候補の一覧",
        "en": "complete (commands, resource types and names, flags); twice lists them",
    },
    # ---- checklist
    "checklist.heading": {"ja": "チェック", "en": "Checks"},
    "checklist.intended": {"ja": "（この失敗は意図したものです）", "en": " (this failure is intended)"},
    "checklist.looking": {"ja": "クラスターを確認しています…", "en": "Looking at the cluster…"},
    "checklist.unfold": {"ja": "(F4)", "en": "(F4)"},
    "checklist.all_hold": {"ja": "すべて満たしています", "en": "all hold"},
    # ---- picker
    "picker.title": {"ja": "レッスンを選んでください", "en": "Pick a lesson"},
    "picker.not_started": {"ja": "未着手", "en": "not started"},
    "picker.step": {"ja": "ステップ {n}/{total}", "en": "step {n} of {total}"},
    "picker.done": {"ja": "完了", "en": "done"},
    "picker.spent": {"ja": "{time}", "en": "{time} spent"},
    "picker.keys": {
        "ja": "↑↓ で選び Enter で始める · 各レッスンは前のレッスンの終わりから始まります",
        "en": "↑↓ to choose, Enter to start · each lesson starts where the previous one ended",
    },
    "binding.close_picker": {"ja": "戻る", "en": "Back"},
    "end.next_lesson": {"ja": "次のレッスン: {title}", "en": "next lesson: {title}"},
    "end.next_key": {"ja": "N キー", "en": "press N"},
    "end.lessons_key": {"ja": "L キー", "en": "press L"},
    "end.lessons": {"ja": "コースのレッスン一覧", "en": "the lessons of the course"},
    "binding.next_lesson": {"ja": "次のレッスン", "en": "Next lesson"},
    "binding.lessons": {"ja": "レッスン一覧", "en": "Lessons"},
    "help.lessons": {"ja": "コースのレッスン一覧（Esc でこのレッスンに戻る）",
                     "en": "the lessons of the course (Esc comes back to this lesson)"},
    "help.end_keys": {"ja": "レッスンの終わりの画面で: 次のレッスン / コースのレッスン一覧",
                      "en": "on the lesson's end screen: the next lesson / the lessons of the course"},
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
    "binding.command_palette": {"ja": "操作", "en": "palette"},
    # ---- palette: Textual's own commands in the command palette (Ctrl+P), found by their English words
    "palette.search": {"ja": "コマンドを検索…", "en": "Search for commands…"},
    "palette.theme": {"ja": "テーマ", "en": "Theme"},
    "palette.theme_help": {"ja": "色のテーマを変える", "en": "Change the current theme"},
    "palette.quit": {"ja": "終了", "en": "Quit"},
    "palette.quit_help": {"ja": "すぐに終了する（進み具合は保存されます）", "en": "Quit the application as soon as possible"},
    "palette.keys": {"ja": "キー", "en": "Keys"},
    "palette.keys_show_help": {
        "ja": "フォーカスのあるウィジェットのヘルプと、使えるキーの一覧を表示する",
        "en": "Show help for the focused widget and a summary of available keys",
    },
    "palette.keys_hide_help": {"ja": "キーとヘルプの一覧を閉じる", "en": "Hide the keys and widget help panel"},
    "palette.maximize": {"ja": "最大化", "en": "Maximize"},
    "palette.maximize_help": {"ja": "フォーカスのあるウィジェットを最大化する", "en": "Maximize the focused widget"},
    "palette.minimize": {"ja": "元に戻す", "en": "Minimize"},
    "palette.minimize_help": {
        "ja": "最大化したウィジェットを元の大きさに戻す",
        "en": "Minimize the widget and restore to normal size",
    },
    "palette.screenshot": {"ja": "スクリーンショット", "en": "Screenshot"},
    "palette.screenshot_help": {
        "ja": "今の画面を SVG の「スクリーンショット」として保存する",
        "en": "Save an SVG 'screenshot' of the current screen",
    },
    "binding.toggle_checklist": {"ja": "チェック", "en": "Checks"},
    "binding.toggle_console": {"ja": "コンソール", "en": "Console"},
    "binding.intro": {"ja": "紹介", "en": "Intro"},
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
    # ---- workshop: a seat's lesson screen (seat mode) and the instructor's dashboard
    "workshop.broadcast": {"ja": "📣 講師より: {text}", "en": "📣 From the instructor: {text}"},
    "workshop.reset_step": {
        "ja": "講師がステップ {n} をやり直しにしました。クラスターをこのステップの始めに戻します。",
        "en": "The instructor reset step {n}: the cluster goes back to the start of this step."},
    "workshop.reset_lesson": {
        "ja": "講師がレッスンを最初からやり直しにしました。クラスターを開始時の状態に戻します。",
        "en": "The instructor restarted the lesson: the cluster goes back to its start state."},
    "workshop.not_reported": {
        "ja": "講師に進み具合を伝えられません（{error}）。レッスンはこのまま続けられます。",
        "en": "Your progress cannot reach the instructor ({error}); the lesson goes on."},
    "dashboard.title": {"ja": "ワークショップ", "en": "Workshop"},
    "dashboard.course": {"ja": "コース", "en": "course"},
    "dashboard.taken": {"ja": "参加 {taken}/{seats} 席", "en": "{taken}/{seats} seats taken"},
    "dashboard.stuck_count": {"ja": "詰まっている人 {stuck}", "en": "{stuck} stuck"},
    "dashboard.join_code": {"ja": "参加コード {code}", "en": "join code {code}"},
    "dashboard.col_seat": {"ja": "席", "en": "Seat"},
    "dashboard.col_name": {"ja": "名前", "en": "Name"},
    "dashboard.col_lesson": {"ja": "レッスン", "en": "Lesson"},
    "dashboard.col_step": {"ja": "ステップ", "en": "Step"},
    "dashboard.col_checks": {"ja": "チェック", "en": "Checks"},
    "dashboard.col_minutes": {"ja": "経過分", "en": "Min"},
    "dashboard.col_help": {"ja": "ヒント/解答", "en": "Hint/Sol"},
    "dashboard.col_command": {"ja": "最後のコマンド", "en": "Last command"},
    "dashboard.col_ago": {"ja": "いつ", "en": "When"},
    "dashboard.free": {"ja": "（空席）", "en": "(free)"},
    "dashboard.not_started": {"ja": "未開始", "en": "not started"},
    "dashboard.done": {"ja": "完了", "en": "done"},
    "dashboard.stuck": {"ja": "⚠ 詰まっている", "en": "⚠ stuck"},
    "dashboard.seconds_ago": {"ja": "{n} 秒前", "en": "{n} s ago"},
    "dashboard.minutes_ago": {"ja": "{n} 分前", "en": "{n} min ago"},
    "dashboard.no_seats": {"ja": "このワークショップにはまだ席がありません。", "en": "This workshop has no seats yet."},
    "dashboard.detail_empty": {"ja": "席を選ぶと、そのクラスターと最後のコマンドが表示されます。",
                               "en": "Select a seat to see its cluster and its last commands."},
    "dashboard.detail_free": {"ja": "{seat} は空席です。", "en": "{seat} is free."},
    "dashboard.detail_waiting": {"ja": "{name} さんはまだレッスンを開いていません。",
                                 "en": "{name} has not opened a lesson yet."},
    "dashboard.cluster": {"ja": "クラスター", "en": "Cluster"},
    "dashboard.commands": {"ja": "最後のコマンド", "en": "Last commands"},
    "dashboard.no_commands": {"ja": "（まだありません）", "en": "(none yet)"},
    "dashboard.exit": {"ja": "終了コード {code}", "en": "exit {code}"},
    "dashboard.confirm_step": {"ja": "{seat}（{name}）のステップ {n} をやり直しにしますか？",
                               "en": "Reset step {n} of {seat} ({name})?"},
    "dashboard.confirm_lesson": {"ja": "{seat}（{name}）のレッスンを最初からやり直しにしますか？",
                                 "en": "Restart the lesson of {seat} ({name}) from step 1?"},
    "dashboard.confirm_keys": {"ja": "y: はい · n / Esc: いいえ", "en": "y: yes · n / Esc: no"},
    "dashboard.reset_sent": {"ja": "{seat} にやり直しを送りました。", "en": "Reset sent to {seat}."},
    "dashboard.free_seat": {"ja": "{seat} は空席です。", "en": "{seat} is free."},
    "dashboard.broadcast_prompt": {"ja": "全員へのメッセージ（Enter で送信、Esc でやめる）",
                                   "en": "A message to every seat (Enter sends, Esc cancels)"},
    "dashboard.broadcast_sent": {"ja": "全員に送りました: {text}", "en": "Sent to every seat: {text}"},
    "dashboard.exported": {"ja": "書き出しました: {files}", "en": "Exported: {files}"},
    "dashboard.failed": {"ja": "できませんでした: {error}", "en": "That failed: {error}"},
    "binding.seat_reset_step": {"ja": "ステップをやり直し", "en": "Reset step"},
    "binding.seat_reset_lesson": {"ja": "レッスンをやり直し", "en": "Reset lesson"},
    "binding.broadcast": {"ja": "全員に送る", "en": "Broadcast"},
    "binding.export": {"ja": "書き出す", "en": "Export"},
    "binding.app.quit": {"ja": "終了", "en": "Quit"},
    "binding.confirm": {"ja": "はい", "en": "Yes"},
    "binding.cancel": {"ja": "いいえ", "en": "No"},
    # ---- the demo's autopilot (tutor/tui/autopilot.py)
    "demo.playing": {"ja": "▶ 自動操作中", "en": "▶ Autopilot"},
    "demo.waiting": {"ja": "⏸ Space か Enter で続けます", "en": "⏸ Space or Enter goes on"},
    "demo.presenter": {"ja": "✋ 操作中はあなたです。{handback} で自動操作に戻します",
                       "en": "✋ You have the keyboard; {handback} hands it back to the autopilot"},
    "demo.take_over": {"ja": "入力すると操作を代わります（{handback} で戻す）",
                       "en": "type to take over ({handback} hands back)"},
    "demo.step": {"ja": "ステップ {n}/{total}：{title}", "en": "Step {n}/{total}: {title}"},
    "demo.to_the_end": {"ja": "全ステップが終わりました。次はまとめの画面です。",
                        "en": "Every step has passed. The summary comes next."},
    "demo.checks_late": {
        "ja": "自動操作：{seconds} 秒たってもステップ {n} のチェックが通りません。ここで止まります（{handback} で再開）。",
        "en": "Autopilot: step {n}'s checks did not pass within {seconds} s; it stops here ({handback} to try again)."},
    "demo.command_late": {
        "ja": "自動操作：{seconds} 秒たっても終わらないので止めました：{line}",
        "en": "Autopilot: stopped a command still running after {seconds} s: {line}"},
    "demo.done": {"ja": "デモはここまでです。Ctrl+Q で終了します。", "en": "That is the end of the demo. Ctrl+Q quits."},
    # ---- the practice cluster's clock (F10; tutor/tui/clock.py)
    "binding.pause_clock": {"ja": "時計を止める", "en": "Pause clock"},
    "help.clock": {
        "ja": "練習用クラスターの時計を止める / 再開する（ロールアウトはその場で止まり、kubectl は使えます）",
        "en": "pause or resume the practice cluster's clock (a rollout stands still where it is; kubectl still works)",
    },
    "clock_paused": {"ja": "⏸ 一時停止中", "en": "⏸ paused"},
    "clock_paused_notice": {
        "ja": "⏸ クラスターの時計を止めました。コントローラーと kubelet は待ち、kubectl には答えます。F10 で再開します。",
        "en": "⏸ the cluster's clock is paused: controllers and the kubelet wait, kubectl still answers. F10 resumes.",
    },
    "clock_resumed_notice": {"ja": "▶ クラスターの時計がまた動き出しました。", "en": "▶ the cluster's clock runs again."},
    "timeline.title": {"ja": "ロールアウトのタイムライン", "en": "Rollout timeline"},
    "timeline.ready": {"ja": "準備完了", "en": "ready"},
    "timeline.not_ready": {"ja": "準備中", "en": "not ready"},
    "timeline.terminating": {"ja": "終了中", "en": "terminating"},
    "timeline.failing": {"ja": "失敗（イメージ取得など）", "en": "failing (e.g. image pull)"},
    "timeline.max_line": {"ja": "Pod の上限 (replicas + maxSurge)", "en": "most pods (replicas + maxSurge)"},
    "timeline.min_line": {"ja": "利用可能の下限 (replicas − maxUnavailable)",
                          "en": "fewest available (replicas − maxUnavailable)"},
    "timeline.cursor": {"ja": "カーソル（←/→ で移動）", "en": "cursor (←/→ moves it)"},
    "timeline.commands_axis": {"ja": "番号 = 実行したコマンド", "en": "numbers = the commands you ran"},
    "timeline.empty": {"ja": "まだ何も記録されていません。", "en": "Nothing recorded yet."},
    "timeline.no_sample": {"ja": "この時点では Deployment がまだありません。", "en": "No Deployment yet at this moment."},
    "timeline.pods_bound": {"ja": "Pod {total} 個（上限 {max} = {replicas} + {surge}）",
                            "en": "{total} pods (at most {max} = {replicas} + {surge})"},
    "timeline.available_bound": {"ja": "利用可能 {available} 個（下限 {min} = {replicas} − {unavailable}）",
                                 "en": "{available} available (at least {min} = {replicas} − {unavailable})"},
    "timeline.more_pods": {"ja": "ほかに {n} 個", "en": "and {n} more"},
    "timeline.events": {"ja": "この時点までのイベント（新しい順）", "en": "Events up to this moment (newest first)"},
    "timeline.no_events": {"ja": "イベントはまだありません。", "en": "No events yet."},
    "timeline.end_key": {"ja": "T: ロールアウトのタイムライン", "en": "T: the rollout timeline"},
    "timeline.summary": {
        "ja": "更新中の Pod は最大 {most} 個（上限 {max}）、利用可能は最少 {fewest} 個（下限 {min}）でした。",
        "en": "During the updates there were at most {most} pods (limit {max}) and at least {fewest} available (floor {min}).",
    },
    "timeline.summary_none": {"ja": "記録されたロールアウトはありません。", "en": "No rollout was recorded."},
    "binding.timeline": {"ja": "タイムライン", "en": "Timeline"},
    "binding.move(-1)": {"ja": "前へ", "en": "Earlier"},
    "binding.move(1)": {"ja": "後へ", "en": "Later"},
    "help.handback": {
        "ja": "デモ（kube-tutor demo）で、自動操作から操作を代わる / 自動操作に戻す",
        "en": "in a demo (kube-tutor demo): take the keyboard from the autopilot, or hand it back",
    },
    "help.timeline": {"ja": "ロールアウトのタイムライン（←/→ で時間を移動）", "en": "the rollout timeline (←/→ move in time)"},
}
"""Every text, by key, then by language."""


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (English for an unknown language), with ``{placeholders}`` filled; a key this
    table lacks is one of the command line's and the backends' (:data:`tutor.text.TEXTS`)."""
    return lookup(TEXTS if key in TEXTS else CLI_TEXTS, key, lang, **values)


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


def localize_command(command: SystemCommand, lang: str) -> SystemCommand:
    """One of Textual's commands of the command palette with its title and help in ``lang`` (``palette.*``, found
    by their English words; a command without them stays as it is)."""
    english = {entry["en"]: entry for key, entry in TEXTS.items() if key.startswith("palette.")}

    def said(words: str) -> str:
        entry = english.get(words)
        return (entry.get(lang) or words) if entry else words

    return command._replace(title=said(command.title), help=said(command.help))


def start_failure(outcome: StartOutcome, lang: str) -> str:
    """Which phase of the start state failed, in ``lang``, then its detail (a command's output, kubectl's error)."""
    lines = [t(f"phase.{outcome.phase}", lang)]
    if outcome.phase == "ready" and outcome.ready is not None:
        lines += [f"  ○ {result.message(lang)}" for result in outcome.ready.results if not result.passed]
    else:
        lines.append(outcome.failure)
    return "\n".join(lines)
