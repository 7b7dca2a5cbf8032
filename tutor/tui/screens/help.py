"""Provides HelpScreen: every key of the lesson screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("Enter", "コマンドを実行（入力欄、またはコマンドの上で）", "run a command (in the console, or on a suggested command)"),
    ("↑ / ↓", "入力の履歴", "console history"),
    ("→ / End", "提案されたコマンドを受け入れる", "accept the suggested completion"),
    ("Ctrl+C", "実行中のコマンドを中断（rollout status、get -w）", "cancel a running command (rollout status, get -w)"),
    ("clear", "出力を消す（コンソールで入力）", "clear the output (type it in the console)"),
    ("Tab / Shift+Tab", "フォーカスを移動（コマンド、チェック、クラスター）", "move focus (commands, checks, cluster)"),
    ("c", "フォーカスしたコマンドをコピー", "copy the focused command"),
    ("Ctrl+N / Ctrl+B", "次 / 前のステップ", "next / previous step"),
    ("Esc", "次のステップへ自動で進まない", "stay on a passed step"),
    ("F2", "ヒントを表示", "show the hint"),
    ("F3", "解答を表示", "show the solution"),
    ("F5", "このステップの始めの状態に戻す", "reset the cluster to the start of this step"),
    ("!", "自分のシェルに切り替える（exit で戻る）", "suspend into your own shell (exit returns)"),
    ("F1 / ?", "このヘルプ", "this help"),
    ("Ctrl+Q", "終了（進み具合は保存されます）", "quit (progress is saved)"),
]


class HelpScreen(ModalScreen[None]):
    """Keys, in the learner's language; any of Esc, q, F1 or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 90; height: 90%; max-height: 22;
        border: round $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        title = "キー操作" if self.lang == "ja" else "Keys"
        lines = [f"[b]{title}[/b]", ""]
        for key, ja, en in KEYS:
            lines.append(f"[b]{key}[/b]  {ja if self.lang == 'ja' else en}")
        lines += ["", "Esc: 閉じる" if self.lang == "ja" else "Esc closes this help."]
        with VerticalScroll():
            yield Static("\n".join(lines), id="help-text")
