"""Finding a service: one entry point, :func:`search_items`, over a per-vendor full-text index.

Indexing joins jieba tokens of the name, aliases, keywords and the department name with spaces.
PostgreSQL matches them through a generated tsvector ('simple' config) with a GIN index, SQLite
through an FTS5 table. Synonyms ("开饭店" → 餐饮 食品经营) expand the query, not the index, so
an edited synonym works at once.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.db import connection, transaction

from tongban.catalog import text
from tongban.catalog.models import ItemImplementation, SearchEntry, Synonym

MAX_CANDIDATES = 300
# Words in most item names: they may match, but they neither select nor rank when the query has
# a more specific word ("开饭店" → 食品经营 should not bring every "…经营许可").
GENERIC = frozenset(
    [
        "经营",
        "许可",
        "许可证",
        "登记",
        "申请",
        "办理",
        "核发",
        "注册",
        "证",
        "证明",
        "审批",
        "服务",
        "管理",
        "备案",
        "确认",
        "认定",
        "申领",
        "领取",
    ]
)


@dataclass
class SearchHit:
    implementation: ItemImplementation
    score: float


def _document_tokens(impl: ItemImplementation) -> str:
    item = impl.basic_item
    text.add_words([item.name, *item.aliases.split(), *item.keywords.split()])
    parts = [item.name, item.aliases, item.keywords, impl.organisation.short_name or impl.organisation.name]
    words = text.tokens(" ".join(parts), drop_stopwords=False)
    # Whole aliases are one token each too, so a phrase typed exactly ranks first.
    words += [a.lower() for a in item.aliases.split() if a]
    return " ".join(dict.fromkeys(words))


def index_implementation(impl: ItemImplementation) -> None:
    """(Re)index one implementation: only published items are findable."""
    with transaction.atomic():
        entry = SearchEntry.objects.filter(implementation=impl).first()
        if impl.published_version_id is None or not impl.basic_item.is_active:
            if entry:
                _fts_delete(entry.pk)
                entry.delete()
            return
        values = {
            "name": impl.basic_item.name,
            "tokens": _document_tokens(impl),
            "region_path": impl.region.path,
            "weight": 1 if impl.basic_item.is_high_frequency else 0,
        }
        if entry is None:
            entry = SearchEntry.objects.create(implementation=impl, **values)
        else:
            for key, value in values.items():
                setattr(entry, key, value)
            entry.save()
        _fts_upsert(entry)


def reindex_basic_item(sender=None, instance=None, **kwargs) -> None:
    """Signal receiver: re-index every implementation of a changed basic item."""
    if instance is None or kwargs.get("raw"):
        return
    for impl in instance.implementations.select_related("basic_item", "organisation", "region"):
        index_implementation(impl)


def rebuild_index() -> int:
    queryset = ItemImplementation.objects.select_related("basic_item", "organisation", "region")
    count = 0
    for impl in queryset:
        index_implementation(impl)
        count += impl.published_version_id is not None
    return count


def _fts_upsert(entry: SearchEntry) -> None:
    if connection.vendor != "sqlite":
        return  # PostgreSQL's tsv column is generated from ``tokens``
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_search_fts WHERE rowid = %s", [entry.pk])
        cursor.execute(
            "INSERT INTO catalog_search_fts(rowid, tokens) VALUES (%s, %s)", [entry.pk, entry.tokens]
        )


def _fts_delete(entry_id: int) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM catalog_search_fts WHERE rowid = %s", [entry_id])


_synonym_cache: dict[str, object] = {"at": 0.0, "value": None}
SYNONYM_CACHE_SECONDS = 30


def _load_synonyms() -> list[tuple[str, list[str]]]:
    """Synonyms, cached briefly per process (an edit in one process clears that process's cache)."""
    now = time.monotonic()
    if _synonym_cache["value"] is None or now - _synonym_cache["at"] > SYNONYM_CACHE_SECONDS:
        synonyms = [(s.phrase, s.expansions.split()) for s in Synonym.objects.all()]
        text.add_words([phrase for phrase, _ in synonyms] + [e for _, exp in synonyms for e in exp])
        _synonym_cache.update(at=now, value=synonyms)
    return _synonym_cache["value"]  # type: ignore[return-value]


def clear_synonym_cache(**kwargs) -> None:
    _synonym_cache["value"] = None


# Measure words and fillers people put inside a phrase ("开个饭店", "开一家奶茶店", "身份证过期了"):
# removed before matching synonym phrases and aliases, never from the text query itself.
_FILLERS = re.compile(r"一个|一家|一间|一下|个|家|间|了|的|啦|呀")


def _phrase_forms(query: str) -> tuple[str, ...]:
    lowered = query.lower()
    return (lowered, _FILLERS.sub("", lowered))


@dataclass
class QueryTerms:
    """A query, segmented and weighed.

    ``typed``: tokens of the query itself; ``phrases``: whole synonym expansions ("食品经营") and
    whole aliases found in the query — the strongest evidence; ``fragments``: the segments of those
    phrases ("食品", "居民", "保障") — weak evidence, they only help rank among real matches.
    """

    typed: list[str]
    phrases: list[str]
    fragments: list[str]

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys(self.typed + self.phrases + self.fragments))


def analyse(query: str) -> QueryTerms:
    synonyms = _load_synonyms()
    forms = _phrase_forms(query)
    typed = text.tokens(query)
    phrases: list[str] = []
    fragments: list[str] = []
    for phrase, expansions in synonyms:
        if any(phrase in form for form in forms):
            for expansion in expansions:
                phrases.append(expansion.lower())
                fragments.extend(text.tokens(expansion, drop_stopwords=False))
    phrases = list(dict.fromkeys(phrases))
    fragments = [t for t in dict.fromkeys(fragments) if t not in phrases and t not in typed]
    return QueryTerms(typed=typed, phrases=phrases, fragments=fragments)


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(terms typed, terms added by synonyms) — both already segmented."""
    terms = analyse(query)
    added = [t for t in terms.phrases + terms.fragments if t not in terms.typed]
    return terms.typed, list(dict.fromkeys(added))


def _candidates(terms: list[str]) -> dict[int, float]:
    """entry id → text rank (higher is better) for entries matching any term."""
    if not terms:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tsquery = " | ".join("'" + t.replace("'", "") + "'" for t in terms)
            cursor.execute(
                "SELECT id, ts_rank(tsv, to_tsquery('simple', %s)) AS r FROM catalog_searchentry "
                "WHERE tsv @@ to_tsquery('simple', %s) ORDER BY r DESC LIMIT %s",
                [tsquery, tsquery, MAX_CANDIDATES],
            )
            return {row[0]: float(row[1]) for row in cursor.fetchall()}
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        cursor.execute(
            "SELECT rowid, -bm25(catalog_search_fts) FROM catalog_search_fts "
            "WHERE catalog_search_fts MATCH %s "
            "ORDER BY bm25(catalog_search_fts) LIMIT %s",
            [match, MAX_CANDIDATES],
        )
        return {row[0]: float(row[1]) for row in cursor.fetchall()}


def _region_filter(queryset, region_code: str | None):
    if not region_code:
        return queryset
    from django.db.models import Q

    from tongban.core.models import Region

    region = Region.objects.filter(code=region_code).first()
    if region is None:
        return queryset.none()
    ancestors = []
    path = ""
    for code in region.path.strip("/").split("/"):
        path += code + "/"
        ancestors.append(path)
    # The region itself and below, plus the levels above that serve it (a city item serves its counties).
    return queryset.filter(Q(region_path__startswith=region.path) | Q(region_path__in=ancestors))


STRONG_MATCH = 3.0
KEEP_RATIO = 0.2


def _score(name: str, entry_tokens: set[str], forms: list[str], terms: QueryTerms) -> float:
    """What the user will recognise as relevant: the item's name first, then its aliases and keywords.

    The query as typed (or without its fillers) inside the name or equal to an alias is the best
    evidence; whole synonym targets come next; typed words; fragments of synonym targets last.
    """
    score = 0.0
    if any(form in name for form in forms):
        score += 4.0
    elif any(form in entry_tokens for form in forms):
        score += 3.5  # an alias typed exactly ("开饭店", "残疾证")
    for phrase in terms.phrases:
        if phrase in name:
            score += 3.0
        elif phrase in entry_tokens:
            score += 1.5
    for token in terms.typed:
        if token in GENERIC:
            continue
        if token in name:
            score += 1.0
        elif token in entry_tokens:
            score += 0.5
    for token in terms.fragments:
        if token in GENERIC:
            continue
        if token in name:
            score += 0.3
        elif token in entry_tokens:
            score += 0.15
    return score


def search_items(
    query: str,
    region: str | None = None,
    *,
    department: str | None = None,
    limit: int = 20,
    collapse: bool = True,
) -> list[SearchHit]:
    """Published implementation-list items matching ``query``, best first.

    ``region``: a region code; items of that region, below it, and of the levels above it.
    ``department``: a department key (market, police …) of the basic item.
    ``collapse``: one hit per basic item (the one nearest to ``region``), as the portal shows.
    """
    query = (query or "").strip()[:100]
    terms = analyse(query)
    specific = [t for t in terms.all if t not in GENERIC]
    ranks = _candidates(specific or terms.all)
    if not ranks:
        return []
    entries = _region_filter(SearchEntry.objects.filter(pk__in=ranks.keys()), region)
    if department:
        entries = entries.filter(implementation__basic_item__department_key=department)
    rows = entries.values_list(
        "pk",
        "name",
        "tokens",
        "region_path",
        "weight",
        "implementation_id",
        "implementation__basic_item_id",
        "implementation__region__code",
    )
    top = max(ranks.values()) or 1.0
    forms = [f for f in _phrase_forms(query) if f]
    scored: list[tuple[float, str, int, int, str]] = []
    for pk, name, tokens, region_path, weight, impl_id, item_id, region_code in rows:
        score = _score(name.lower(), set(tokens.split()), forms, terms) + 0.5 * ranks[pk] / top
        score += 0.3 * weight
        # nearer levels first when several regions implement the same item
        score -= 0.01 * region_path.count("/")
        scored.append((score, region_path, impl_id, item_id, region_code))
    # Once something matches well, drop rows that only share a weak word with the query
    # ("身份证过期" should not list 内地居民结婚登记 because of 居民).
    best_score = max((row[0] for row in scored), default=0.0)
    if best_score >= STRONG_MATCH:
        scored = [row for row in scored if row[0] >= best_score * KEEP_RATIO]
    scored.sort(key=lambda r: (-r[0], r[1], r[2]))
    if collapse:
        scored = _collapse(scored, region)
    scored = scored[:limit]
    implementations = ItemImplementation.objects.select_related(
        "basic_item", "organisation", "region", "published_version"
    ).in_bulk([r[2] for r in scored])
    return [SearchHit(implementations[r[2]], r[0]) for r in scored]


def _collapse(scored: list[tuple], region_code: str | None) -> list[tuple]:
    """One row per basic item, keeping the best score; the region's own implementation wins ties."""
    best: dict[int, tuple] = {}
    order: list[int] = []
    for row in scored:
        item_id = row[3]
        current = best.get(item_id)
        if current is None:
            best[item_id] = row
            order.append(item_id)
        elif region_code and row[4] == region_code and current[4] != region_code:
            best[item_id] = (current[0], *row[1:])
    return [best[k] for k in order]
