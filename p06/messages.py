"""What the command line says to people, in Vietnamese by default and in English with P06_LANG=en: the words are
in catalog/cli_messages.yaml; code names a message and gives its values."""
from __future__ import annotations

import os
from functools import cache

import yaml

from p06 import config

LANGUAGES = ("vi", "en")


def language() -> str:
    lang = os.environ.get("P06_LANG", "vi").strip().lower()[:2]
    return lang if lang in LANGUAGES else "vi"


@cache
def _messages() -> dict:
    return yaml.safe_load((config.CATALOG_DIR / "cli_messages.yaml").read_text(encoding="utf-8"))


def say(message: str, /, **values) -> str:
    """The message named `message` ("source_status.loaded" for a nested one) in the current language, with its
    values."""
    entry = _messages()
    for part in message.split("."):
        entry = entry[part]
    return entry[language()].format(**values)


def column(row: dict, vi: str, en: str):
    """The row's Vietnamese or English field (message_vi / message_en), as the language is."""
    return row[vi] if language() == "vi" else row[en]
