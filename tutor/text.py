"""Provides the words kube-tutor says outside the TUI, in Japanese and English, and the one way to look texts up.

:data:`TEXTS` holds what the command line prints (``verify``, ``reset``, which backend it uses and why) and
what a backend says while it starts a cluster; the TUI's own words live in :mod:`tutor.tui.text`, whose lookup
is this module's :func:`lookup` over its table and, for the keys it does not have, this one. Keys are
``area.name``; an unknown language reads English.

A backend does not know the learner's language: it says a :class:`Phrase`, which *is* the English line (a
``str``, so a caller that only prints it needs nothing new) and can be said again in Japanese with
:func:`said`.
"""

from __future__ import annotations

from collections.abc import Mapping

TEXTS: dict[str, dict[str, str]] = {
    # ---- choice: which backend the command line uses, and why (tutor.backends.decide)
    "choice.using": {"ja": "{name} バックエンドを使います（{reason}）", "en": "using the {name} backend ({reason})"},
    "choice.no_docker": {
        "ja": "Docker がインストールされていないので、練習用クラスターを使います",
        "en": "Docker is not installed, so the practice cluster is used",
    },
    "choice.daemon_down": {
        "ja": "Docker デーモンが動いていない（`docker info` が失敗した）ので、練習用クラスターを使います",
        "en": "the Docker daemon is not running (`docker info` failed), so the practice cluster is used",
    },
    "choice.no_kind": {
        "ja": "Docker は動いていますが kind がインストールされていないので、練習用クラスターを使います",
        "en": "Docker runs but kind is not installed, so the practice cluster is used",
    },
    "choice.kind": {
        "ja": "Docker が動いていて kind もインストールされているので、kind クラスターを使います",
        "en": "Docker runs and kind is installed, so a kind cluster is used",
    },
    # ---- practice: what the practice backend says while it starts its cluster
    # ---- what quitting the TUI leaves behind
    "exit.saved": {"ja": "進み具合を保存しました（ステップ {n}/{total}）。同じコマンドで続きから始められます。",
                   "en": "progress saved (step {n}/{total}); the same command resumes it."},
    "exit.finished": {"ja": "レッスンは完了しています。もう一度やるときは `kube-tutor reset` で最初に戻せます。",
                      "en": "lesson finished; `kube-tutor reset` puts it back to the start to play it again."},
    "exit.still_running.practice": {
        "ja": "練習用クラスターは動いたままです（オブジェクトも残っています）。止めるには `{command}`。",
        "en": "the practice cluster is still running (with your objects); stop it with `{command}`."},
    "exit.still_running.kind": {
        "ja": "kind クラスターは動いたままです。削除するには `{command}`。",
        "en": "the kind cluster is still running; `{command}` deletes it."},
    "practice.restarting_scale": {
        "ja": "練習用クラスターを時間の速さ {scale} 倍で起動し直します（これまでは {running} 倍）。オブジェクトは残ります",
        "en": "restarting the practice cluster at time scale {scale} (it ran at {running}); its objects are kept"},
    "practice.restarting_max_pods": {
        "ja": "練習用クラスターを、ノードに Pod {pods} 個の余裕を持たせて起動し直します（これまでは {running} 個）。オブジェクトは残ります",
        "en": "restarting the practice cluster with room for {pods} pods on its node (it had {running}); its objects "
              "are kept"},
    "practice.starting": {"ja": "練習用クラスターを起動しています", "en": "starting the practice cluster"},
    "practice.restarting_sandbox": {
        "ja": "ワークショップ用に練習用クラスターを起動し直します（コンテナのプロセスを bubblewrap のサンドボックスで"
              "動かすため）。オブジェクトは残ります",
        "en": "restarting the practice cluster for the workshop (its containers' processes run in a bubblewrap "
              "sandbox); its objects are kept"},
    "practice.not_answering": {
        "ja": "練習用クラスター（プロセス {pid}）が /livez に応答しません。置き換える前に最大 {seconds} 秒待ちます",
        "en": "the practice cluster (process {pid}) does not answer /livez; waiting up to {seconds} s before "
              "replacing it",
    },
    "practice.answered": {
        "ja": "練習用クラスター（プロセス {pid}）が {seconds} 秒後に応答しました。そのまま使います",
        "en": "the practice cluster (process {pid}) answered after {seconds} s; reusing it",
    },
    "practice.replacing": {
        "ja": "練習用クラスターを置き換えます。プロセス {pid} が {seconds} 秒間 /livez に応答しなかったので、"
              "停止（SIGTERM）して新しく起動します。ログ: {log}",
        "en": "replacing the practice cluster: its process {pid} did not answer /livez for {seconds} s, so it is "
              "stopped (SIGTERM) and a new one started; its log: {log}",
    },
    # ---- kind: what the kind backend says while it creates or reuses its cluster
    "kind.docker": {
        "ja": "Docker デーモンが応答するか確かめています（docker info）",
        "en": "checking that the Docker daemon answers (docker info)",
    },
    "kind.installed": {"ja": "kind がインストールされているか確かめています", "en": "checking that kind is installed"},
    "kind.looking": {
        "ja": "kind クラスター {name} がすでにあるか探しています",
        "en": "looking for an existing kind cluster named {name}",
    },
    "kind.reusing": {"ja": "動いている kind クラスター {name} を使います", "en": "reusing the running kind cluster {name}"},
    "kind.port": {
        "ja": "レッスンの NodePort のために 127.0.0.1 のポート {port} が空いているか確かめています",
        "en": "checking that ports {port} on 127.0.0.1 are free for the lessons' NodePorts",
    },
    "kind.creating": {
        "ja": "kind クラスター {name} を作成しています（1〜2 分かかります。初回は kind のノードイメージもダウンロードします）",
        "en": "creating the kind cluster {name} (this takes a minute or two; the first time also downloads kind's "
              "node image)",
    },
    "kind.pulling": {"ja": "{image} を取得しています", "en": "pulling {image}"},
    "kind.loading": {"ja": "{image} を kind クラスターに読み込んでいます", "en": "loading {image} into the kind cluster"},
    # ---- existing: what the existing backend says while it checks your cluster
    "existing.checking": {"ja": "{server} が応答するか確かめています", "en": "checking that {server} answers"},
    "existing.the_cluster": {"ja": "クラスター", "en": "the cluster"},
    "existing.created": {"ja": "名前空間 {namespace} を作成しました", "en": "created namespace {namespace}"},
    "existing.seat": {
        "ja": "コンテキスト {context} の権限で学習者の席 {namespace} を用意しています（その名前空間だけで admin "
              "権限を持つ ServiceAccount。あなたの認証情報は学習者に渡しません）",
        "en": "preparing the learner seat {namespace} with context {context} (a ServiceAccount with the admin role "
              "in that namespace only; your credentials are not handed to the learner)",
    },
    "existing.seat_ready": {
        "ja": "席 {namespace} の準備ができました（トークンの有効期限: {expires}）",
        "en": "seat {namespace} is ready (its token expires {expires})",
    },
    "existing.own_credentials": {
        "ja": "警告: --own-credentials: 学習者はコンテキスト {context} の権限をすべて持ったまま操作します"
              "（自分だけのクラスター向けです。共有クラスターでは使わないでください）",
        "en": "warning: --own-credentials: the learner acts with all the rights of context {context} (for a "
              "cluster of your own only, never a shared one)",
    },
    # ---- verify and reset (tutor.lesson.verify)
    "verify.header": {
        "ja": "{lesson} を {backend} で検証します（名前空間 {namespace}）",
        "en": "verify {lesson} on {backend} (namespace {namespace})",
    },
    "verify.no_answer": {"ja": "クラスターが応答しません: {error}", "en": "the cluster does not answer: {error}"},
    "verify.no_answer_detail": {"ja": "応答なし", "en": "no answer"},
    "verify.setup": {"ja": "準備", "en": "setup"},
    "verify.reset": {"ja": "リセット", "en": "reset"},
    "verify.took": {"ja": "({seconds} 秒)", "en": "({seconds} s)"},
    "verify.command_failed": {"ja": "コマンドが失敗しました", "en": "a command failed"},
    "verify.passes_early": {
        "ja": "解答を実行する前からチェックが通ります（失敗することのないチェックです）",
        "en": "its checks pass before the solution runs (a check that cannot fail)",
    },
    "verify.solution_failed": {"ja": "解答が失敗しました: {detail}", "en": "the solution failed: {detail}"},
    "verify.exited": {
        "ja": "`{command}` が終了ステータス {code} で終わりました: {output}",
        "en": "`{command}` exited {code}: {output}",
    },
    "verify.never_run": {
        "ja": "チェックは通りますが、その Pod はいつまでも動きません:",
        "en": "its checks pass, but on pods that will never run:",
    },
    "verify.intended": {"ja": "（意図どおりの失敗）", "en": " (failed as intended)"},
    "verify.not_passed": {
        "ja": "{seconds} 秒たっても通りません。まだ足りないもの:",
        "en": "not passed after {seconds} s; still missing:",
    },
    "verify.summary": {
        "ja": "{total} ステップ中 {passed} ステップが通りました（{seconds} 秒）",
        "en": "{passed} of {total} steps passed in {seconds} s",
    },
    "verify.course_header": {
        "ja": "コース {course}（{count} レッスン）を {backend} で順に検証します。各レッスンは前のレッスンの終わりから始まります",
        "en": "verify the course {course} ({count} lessons) on {backend}, in order, each lesson from the previous one's end",
    },
    "verify.course_header_one": {
        "ja": "コース {course}（1 レッスン）を {backend} で検証します",
        "en": "verify the course {course} (1 lesson) on {backend}",
    },
    "verify.course_lesson": {"ja": "── レッスン {n}/{count}: {lesson}（{title}）", "en": "── lesson {n}/{count}: {lesson} ({title})"},
    "verify.chained": {
        "ja": "{previous} の終わりの状態が、すでにこのレッスンの開始時の状態です",
        "en": "the end state of {previous} already is this lesson's start state",
    },
    "verify.not_chained": {
        "ja": "{previous} の終わりの状態は、このレッスンの開始時の状態ではありません（準備で作ります）。足りないもの:",
        "en": "the end state of {previous} is not this lesson's start state (the setup builds it); missing:",
    },
    "verify.course_stopped": {
        "ja": "✗ コース {course}: レッスン {n}/{count} {lesson} が通らなかったので、ここで止めました",
        "en": "✗ course {course}: stopped at lesson {n}/{count} {lesson}, which did not pass",
    },
    "verify.course_summary": {
        "ja": "✓ コース {course}: {count} レッスンすべてが通りました（{seconds} 秒）",
        "en": "✓ course {course}: all {count} lessons passed in {seconds} s",
    },
    "verify.course_summary_one": {
        "ja": "✓ コース {course}: ただ 1 つのレッスンが通りました（{seconds} 秒）",
        "en": "✓ course {course}: its one lesson passed in {seconds} s",
    },
    "reset.done": {"ja": "{title}: 開始時の状態に戻しました。{setup}", "en": "{title}: back at the start. {setup}"},
    # ---- clock: pausing the practice cluster's time (`kube-tutor cluster pause|resume`, the TUI's key)
    "clock.practice_only": {
        "ja": "一時停止できるのは練習用クラスターの時計だけです（{name} バックエンドでは使えません）",
        "en": "only the practice cluster's clock can be paused (not on the {name} backend)"},
    "clock.not_running": {
        "ja": "練習用クラスターが動いていないので、時計を止められません（`kube-tutor cluster up` で起動します）",
        "en": "the practice cluster is not running, so its clock cannot be paused (start it: `kube-tutor cluster up`)"},
    "clock.failed": {"ja": "練習用クラスターの時計を変えられませんでした: {reason}",
                     "en": "the practice cluster's clock could not be changed: {reason}"},
    "clock.paused": {
        "ja": "練習用クラスターの時計を止めました（コントローラーと kubelet は待ち、API は答えます）。"
              "再開: `kube-tutor cluster resume`",
        "en": "the practice cluster's clock is paused (controllers and the kubelet wait; the API answers); "
              "resume it: `kube-tutor cluster resume`"},
    "clock.resumed": {"ja": "練習用クラスターの時計を再開しました（時間の速さ {scale} 倍）",
                      "en": "the practice cluster's clock runs again (time scale {scale})"},
}
"""Every text of the command line and the backends, by key, then by language."""


def lookup(table: Mapping[str, Mapping[str, str]], key: str, lang: str, **values: object) -> str:
    """The text ``key`` of ``table`` in ``lang`` (English for an unknown language), ``{placeholders}`` filled;
    a value that is a :class:`Phrase` is said in ``lang`` too.

    Raises:
        KeyError: no such key in ``table``.
    """
    entry = table[key]
    text = entry.get(lang) or entry["en"]
    if not values:
        return text
    return text.format(**{name: said(value, lang) if isinstance(value, str) else value
                          for name, value in values.items()})


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` of :data:`TEXTS` in ``lang``."""
    return lookup(TEXTS, key, lang, **values)


class Phrase(str):
    """A line that is the English text of ``key`` and can be said in another language (:func:`said`).

    ``Phrase("kind.pulling", image="nginx")`` equals ``"pulling nginx"``.
    """

    key: str
    """The key of the text in :data:`TEXTS`."""
    values: dict[str, object]
    """The values of its placeholders (a value may be a Phrase too)."""

    def __new__(cls, key: str, **values: object) -> Phrase:
        phrase = super().__new__(cls, t(key, "en", **values))
        phrase.key = key
        phrase.values = values
        return phrase

    def __reduce__(self) -> tuple[object, ...]:
        return (_phrase, (self.key, self.values))


def _phrase(key: str, values: dict[str, object]) -> Phrase:
    return Phrase(key, **values)


def said(line: str, lang: str) -> str:
    """``line`` in ``lang`` when it is a :class:`Phrase`; any other string as it is."""
    if isinstance(line, Phrase):
        return t(line.key, lang, **line.values)
    return str(line)
