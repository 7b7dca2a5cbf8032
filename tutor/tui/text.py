"""Provides the TUI's own words in Japanese and English (lesson texts live in the lesson files)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "starting": {"ja": "{backend} クラスターを起動しています…", "en": "Starting the {backend} cluster…"},
    "connecting": {"ja": "クラスターに接続しています…", "en": "Connecting to the cluster…"},
    "start_failed": {"ja": "クラスターを起動できませんでした", "en": "The cluster did not start"},
    "retry": {"ja": "r: もう一度試す · Ctrl+Q: 終了", "en": "r: try again · Ctrl+Q: quit"},
    "step_of": {"ja": "ステップ {n}/{total}", "en": "Step {n}/{total}"},
    "connected": {"ja": "接続中", "en": "connected"},
    "unreachable": {"ja": "応答なし", "en": "not answering"},
    "cluster_down": {
        "ja": "クラスターが応答しません（{error}）。`kube-tutor cluster up` で起動し直してください（オブジェクトは残っています）。"
              "kube-tutor は再接続を続けます。",
        "en": "The cluster is not answering ({error}). Start it again with `kube-tutor cluster up` (your objects "
              "are kept); kube-tutor keeps trying to reconnect."},
    "cluster_back": {"ja": "クラスターに再接続しました。", "en": "Reconnected to the cluster."},
    "passed": {"ja": "✓ ステップ完了！", "en": "✓ Step passed!"},
    "next_in": {"ja": "{seconds} 秒後に次のステップへ進みます（Esc でこのまま）",
                "en": "Moving to the next step in {seconds} s (Esc to stay here)"},
    "stay": {"ja": "このステップに残ります。Ctrl+N で次へ進めます。", "en": "Staying here; Ctrl+N moves on."},
    "lesson_done": {"ja": "🎉 レッスン完了です。おつかれさまでした！", "en": "🎉 You finished the lesson. Well done!"},
    "hint": {"ja": "ヒント", "en": "Hint"},
    "solution": {"ja": "解答（Enter で実行）", "en": "Solution (Enter runs a command)"},
    "copied": {"ja": "コピーしました: {command}", "en": "Copied: {command}"},
    "busy": {"ja": "コマンドの実行中です（Ctrl+C で中断）", "en": "A command is still running (Ctrl+C cancels it)"},
    "resetting": {"ja": "このステップの始めの状態に戻しています…", "en": "Putting the cluster back to the start of this step…"},
    "reset_done": {"ja": "このステップの始めの状態に戻しました。", "en": "The cluster is back at the start of this step."},
    "reset_failed": {"ja": "戻せませんでした: {error}", "en": "Could not reset: {error}"},
    "no_suspend": {
        "ja": "ここではシェルに切り替えられません（ブラウザやテスト）。別の端末で `eval \"$(kube-tutor cluster env)\"` を実行してください。",
        "en": "Cannot switch to a shell here (browser or test). In another terminal run "
              "`eval \"$(kube-tutor cluster env)\"`."},
    "back_from_shell": {"ja": "シェルから戻りました。チェックを更新します。", "en": "Back from your shell; checking the cluster again."},
    "first_step": {"ja": "最初のステップです。", "en": "This is the first step."},
    "last_step": {"ja": "最後のステップです。", "en": "This is the last step."},
    "outline": {"ja": "ステップ", "en": "Steps"},
    "welcome": {"ja": "コマンドを入力するか、提案されたコマンドを選んで Enter を押してください。F1 でヘルプ。",
                "en": "Type a command, or pick a suggested one and press Enter. F1 shows every key."},
}


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang``, with ``{placeholders}`` filled."""
    text = TEXTS[key][lang]
    return text.format(**values) if values else text


KEY_LABELS_JA = {
    "next_step": "次へ", "previous_step": "前へ", "hint": "ヒント", "solution": "解答", "reset_step": "やり直す",
    "help": "ヘルプ", "quit": "終了", "run": "実行", "copy": "コピー", "dismiss": "閉じる",
}
"""Footer labels in Japanese, by binding action."""


def localize_bindings(node: object, lang: str) -> None:
    """Give a widget's or screen's key bindings footer labels in ``lang`` (English is the default)."""
    import dataclasses

    if lang != "ja":
        return
    bindings = getattr(getattr(node, "_bindings", None), "key_to_bindings", None)  # Textual's BindingsMap
    if not isinstance(bindings, dict):
        return
    for key, entries in bindings.items():
        bindings[key] = [dataclasses.replace(b, description=KEY_LABELS_JA.get(b.action, b.description))
                         for b in entries]
