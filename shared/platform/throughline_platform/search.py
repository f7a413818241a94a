"""Full-text search with typo tolerance, the same way in the CRM and the ERP (the gateway's `/api/search` fans out to
both): one vocabulary table per database, PostgreSQL full-text indexes per searched table, and the pure query logic.

Typo tolerance without the pg_trgm extension (the embedded PostgreSQL wheel does not ship it, and a production
server then needs no extension either; docs/decisions.md, issue 24):

- `search_terms(term, trigrams)`: every word (no digits, 3 to 64 characters) of every searched text, with its
  trigrams (`search_trigrams(word)`, an IMMUTABLE SQL function cutting `'  ' || word || ' '` as pg_trgm does) under
  a GIN index (text[] array_ops). Triggers on each searched table add the words of new rows (per statement) and
  of rows whose text changed (per row, only when it did); a word is never removed (a stale one only offers a
  spelling that matches nothing).
- A query word of 3 or more letters looks up the vocabulary words that share a trigram with it (GIN `&&`), the
  closest by shared trigrams first, and keeps those within its typo budget by edit distance (`typo_budget`,
  `edit_distance`). The word matches as a prefix (search as you type) or as any of those spellings.
- The searched rows keep a stored, generated `search_vector` (`to_tsvector('simple', ...)`: names are in every
  language, so no stemming) under a GIN index; the query is a `tsquery` of the words, AND between words, OR between
  the spellings of one word. ASCII punctuation separates words on both sides (`maya@example.com` is three
  words, `INV-2026-0001` too; the clusters run with the C locale, where `[[:alnum:]]` knows no umlaut).
- Ranking: `ts_rank` of the full query plus `ts_rank` of the exact (prefix-only) query, so that an exact hit ranks
  above a typo-tolerant one, plus a bonus when the title is, or starts with, what was typed.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
MAX_WORD_LENGTH = 64
MIN_FUZZY_LENGTH = 3  # shorter words match as prefixes only
FUZZY_CANDIDATES = 40  # vocabulary words by shared trigrams, per query word, before the edit-distance check
MAX_SPELLINGS = 6  # typo-tolerant spellings kept per query word
RANK_WINDOW = 500  # a type ranks at most this many matching rows (a one-letter query must stay fast)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LETTERS = re.compile(r"^[^\W\d_]+$", re.UNICODE)


def normalise(query: str) -> list[str]:
    """The words of a query as `to_tsvector('simple', ...)` keeps them: lower case, letters and digits, NFKC;
    at most `MAX_WORDS` distinct words of at most `MAX_WORD_LENGTH` characters each."""
    folded = unicodedata.normalize("NFKC", query[:MAX_QUERY_LENGTH]).lower()
    words: list[str] = []
    for word in _WORD.findall(folded):
        word = word[:MAX_WORD_LENGTH]
        if word not in words:
            words.append(word)
        if len(words) == MAX_WORDS:
            break
    return words


def typo_budget(word: str) -> int:
    """How many edits a word may be away from what was typed: none below 3 letters, one up to 7, two from 8."""
    if len(word) < MIN_FUZZY_LENGTH or not _LETTERS.match(word):
        return 0
    return 1 if len(word) < 8 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap two neighbours); stops early and answers
    `limit + 1` once the distance must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def close_spellings(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates within the word's typo budget, nearest first (then alphabetically), without the word itself."""
    budget = typo_budget(word)
    if budget == 0:
        return []
    scored = sorted((d, c) for c in set(candidates) if c != word
                    and (d := edit_distance(word, c, budget)) <= budget)
    return [c for _, c in scored[:MAX_SPELLINGS]]


def _lexeme(word: str) -> str:
    return "'" + word.replace("'", "''").replace("\\", "\\\\") + "'"


def tsquery(words: Sequence[str], spellings: dict[str, list[str]] | None = None) -> str:
    """A `to_tsquery('simple', ...)` text: every word as a prefix, OR its close spellings; AND between words."""
    parts = []
    for word in words:
        options = [f"{_lexeme(word)}:*", *(_lexeme(s) for s in (spellings or {}).get(word, []))]
        parts.append(options[0] if len(options) == 1 else "(" + " | ".join(options) + ")")
    return " & ".join(parts)


@dataclass(frozen=True)
class SearchQuery:
    words: list[str]
    full: str  # with the typo-tolerant spellings
    exact: str  # prefixes only

    @property
    def empty(self) -> bool:
        return not self.words


async def prepare(session: AsyncSession, query: str) -> SearchQuery:
    """Normalise `query` and look up the close spellings of its words in the database's vocabulary (one statement
    for all the words). Runs in a transaction (not a statement-per-transaction read unit of work: `SET LOCAL`).
    Candidates share a trigram with the word other than its first (`'  m'`, shared by every word starting with
    that letter), closest by shared trigrams first."""
    words = normalise(query)
    fuzzy = [w for w in words if typo_budget(w) > 0]
    spellings: dict[str, list[str]] = {}
    if words:
        # PostgreSQL estimates a prefix match (`'web':*`) at a few per cent of the rows and then reads the whole
        # table rather than the GIN index: 20 ms instead of 1 over 50,000 invoices. Every search statement is an
        # index search, so the transaction (the caller's, which must be one) says so.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
    if fuzzy:
        rows = await session.execute(text(
            "SELECT w.word, t.term FROM unnest(CAST(:words AS text[]), CAST(:budgets AS int[])) AS w(word, budget)"
            " CROSS JOIN LATERAL ("
            "  SELECT term FROM search_terms"
            "  WHERE trigrams && (search_trigrams(w.word))[2:]"
            "  AND length(term) BETWEEN length(w.word) - w.budget AND length(w.word) + w.budget"
            "  ORDER BY cardinality(ARRAY(SELECT unnest(trigrams) INTERSECT SELECT unnest(search_trigrams(w.word))))"
            "  DESC, term LIMIT :n) AS t"),
            {"words": fuzzy, "budgets": [typo_budget(w) for w in fuzzy], "n": FUZZY_CANDIDATES})
        candidates: dict[str, list[str]] = {}
        for word, term in rows:
            candidates.setdefault(word, []).append(term)
        for word, terms in candidates.items():
            found = close_spellings(word, terms)
            if found:
                spellings[word] = found
    return SearchQuery(words, tsquery(words, spellings), tsquery(words))


def search_select(*, table: str, title: str, subtitle: str, where: str = "TRUE", join: str = "",
                  vector: str = "t.search_vector", match: str = "t.search_vector @@ to_tsquery('simple', :q)") -> str:
    """One type's ranked hits of `table t`: `id`, `title`, `subtitle`, `score`. Parameters: `:q` (full), `:qx`
    (exact), `:typed` and `:typed_prefix` (the normalised query, for the title bonus), `:limit`. Ranks at most
    `RANK_WINDOW` matching rows."""
    return f"""
        WITH hits AS (
            SELECT t.id, {title} AS title, {subtitle} AS subtitle, {vector} AS v
            FROM {table} t {join}
            WHERE ({match}) AND {where}
            LIMIT {RANK_WINDOW})
        SELECT id, title, subtitle,
               ts_rank(v, to_tsquery('simple', :q)) + ts_rank(v, to_tsquery('simple', :qx))
               + CASE WHEN lower(title) = :typed THEN 1.0 WHEN lower(title) LIKE :typed_prefix THEN 0.5 ELSE 0 END
               AS score
        FROM hits ORDER BY score DESC, title, id LIMIT :limit"""


def union_select(selects: dict[str, str]) -> str:
    """Several types' `search_select`s as one statement (one round trip), each row tagged with its type."""
    return " UNION ALL ".join(f"SELECT '{kind}' AS type, x.* FROM ({sql}) AS x" for kind, sql in selects.items())


def like_prefix(words: Sequence[str]) -> str:
    escaped = " ".join(words).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_params(query: SearchQuery, limit: int) -> dict[str, Any]:
    return {"q": query.full, "qx": query.exact, "typed": " ".join(query.words),
            "typed_prefix": like_prefix(query.words), "limit": limit}


# --- DDL, used by the services' migrations (CRM 0009, ERP 0013) ------------------------------------------------

VOCABULARY_DDL = [
    """CREATE FUNCTION search_trigrams(word text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT coalesce(array_agg(DISTINCT substr('  ' || word || ' ', i, 3)), '{}'::text[])
         FROM generate_series(1, length(word) + 1) AS i $$""",
    "CREATE TABLE search_terms (term varchar(64) PRIMARY KEY, trigrams text[] NOT NULL)",
    "CREATE INDEX ix_search_terms_trigrams ON search_terms USING gin (trigrams)",
]
VOCABULARY_DROP = ["DROP TABLE search_terms", "DROP FUNCTION search_trigrams(text)"]

_CHANGED_ROW = "(SELECT NEW.search_vector AS search_vector) AS changed"
_ADD_TERMS = """INSERT INTO search_terms (term, trigrams)
    SELECT w, search_trigrams(w) FROM (
        SELECT DISTINCT w FROM {source}, unnest(tsvector_to_array(search_vector)) AS w
        WHERE w ~ '^[^0-9]{{3,64}}$') AS words
    ORDER BY w ON CONFLICT (term) DO NOTHING"""


def searched_table_ddl(table: str, document: str) -> list[str]:
    """A stored `search_vector` of `document` (an SQL expression over the table's columns), its GIN index, the
    triggers that add its words to the vocabulary, and the words of the rows already there."""
    return [
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('simple'::regconfig, regexp_replace({document}, '[[:punct:]]+', ' ', 'g'))) STORED",
        f"CREATE INDEX ix_{table}_search ON {table} USING gin (search_vector)",
        f"""CREATE FUNCTION {table}_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {_ADD_TERMS.format(source="fresh")}; RETURN NULL; END $$""",
        f"CREATE TRIGGER {table}_search_terms_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS fresh "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_search_terms()",
        # An update adds words only when its text changed: a row trigger whose WHEN is false costs no call, and
        # most updates (a deal's stage, a lead's status, a replica's version) leave the text alone.
        f"""CREATE FUNCTION {table}_search_terms_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {_ADD_TERMS.format(source=_CHANGED_ROW)}; RETURN NULL; END $$""",
        f"CREATE TRIGGER {table}_search_terms_update AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector) "
        f"EXECUTE FUNCTION {table}_search_terms_changed()",
        _ADD_TERMS.format(source=table),
    ]


def searched_table_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER {table}_search_terms_update ON {table}",
            f"DROP TRIGGER {table}_search_terms_insert ON {table}",
            f"DROP FUNCTION {table}_search_terms_changed()",
            f"DROP FUNCTION {table}_search_terms()",
            f"ALTER TABLE {table} DROP COLUMN search_vector"]
