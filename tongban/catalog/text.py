"""Chinese tokenisation for search (jieba), shared by indexing and querying."""

from __future__ import annotations

import logging
import re
import threading

import jieba

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
# Words people add around what they want; they match everything and rank nothing.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "我",
        "我要",
        "我想",
        "想",
        "要",
        "想要",
        "怎么",
        "怎样",
        "如何",
        "怎么办",
        "哪里",
        "在哪",
        "去哪",
        "什么",
        "需要",
        "要求",
        "办",
        "办理",
        "申请",
        "一下",
        "需要什么",
        "材料",
        "手续",
        "流程",
        "可以",
        "能",
        "能否",
        "是否",
        "和",
        "与",
        "及",
        "或",
        "在",
        "给",
        "去",
        "到",
        "个",
        "一个",
        "请问",
    ]
)
_lock = threading.Lock()
_known_words: set[str] = set()


def warm_up() -> None:
    """Load jieba's dictionary now (~0.5 s) rather than in a user's first search."""
    jieba.initialize()


def add_words(words) -> None:
    """Teach jieba whole catalogue words (item names, aliases, synonym phrases)."""
    with _lock:
        for word in words:
            word = (word or "").strip()
            if len(word) >= 2 and word not in _known_words:
                jieba.add_word(word, freq=2000)
                _known_words.add(word)


def tokens(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Search-mode segmentation: "食品经营许可" → 食品, 经营, 许可, 食品经营许可 …; unique, in order."""
    seen: dict[str, None] = {}
    for chunk in _WORD.findall(text or ""):
        for token in jieba.cut_for_search(chunk):
            token = token.strip().lower()
            if not token or not _WORD.fullmatch(token):
                continue
            if drop_stopwords and token in STOPWORDS:
                continue
            seen.setdefault(token, None)
    return list(seen)
