"""The pure part of search (throughline_platform.search): words, typo budgets, edit distance, the tsquery text."""

from throughline_platform.search import close_spellings, edit_distance, normalise, tsquery, typo_budget


def test_normalise_keeps_words_as_postgres_does() -> None:
    assert normalise("  Maya O'Brien maya@Example.com INV-2026-0001 ") == [
        "maya", "o", "brien", "example", "com", "inv", "2026", "0001"]
    assert normalise("Müller \uff21\uff22\uff23")  # full-width ABC == ["müller", "abc"]
    assert normalise("'&|!:*()") == []
    assert len(normalise(" ".join(f"w{i}" for i in range(20)))) == 8


def test_typo_budget_grows_with_the_word() -> None:
    assert [typo_budget(w) for w in ("my", "mya", "company", "partners", "2026")] == [0, 1, 1, 2, 0]


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("mya", "maya", 1) == 1
    assert edit_distance("maya", "amya", 1) == 1
    assert edit_distance("orbitl", "orbital", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # stops past the limit


def test_close_spellings_nearest_first() -> None:
    assert close_spellings("mya", ["maya", "mia", "myra", "mayor", "my"]) == ["maya", "mia", "my", "myra"]
    assert close_spellings("ab", ["abc"]) == []


def test_tsquery_quotes_every_word() -> None:
    assert tsquery(["mya", "o"], {"mya": ["maya"]}) == "('mya':* | 'maya') & 'o':*"
