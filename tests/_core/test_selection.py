"""AssetSelection and Dagster's selection syntax, resolved over a small graph."""

from __future__ import annotations

import pytest

import wharf as dg
from wharf._core.graph import AssetGraph
from wharf.errors import DefinitionError, UnknownAssetError


@dg.asset(group_name="ingest", tags={"tier": "bronze"})
def raw_a() -> int:
    return 1


@dg.asset(group_name="ingest", tags={"tier": "bronze"}, owners=["team:ingest"])
def raw_b() -> int:
    return 2


@dg.asset(group_name="marts", tags={"tier": "gold"}, kinds={"pandas"})
def joined(raw_a: int, raw_b: int) -> int:
    return raw_a + raw_b


@dg.asset(group_name="marts", key_prefix="reports", ins={"joined": dg.AssetIn("joined")})
def summary(joined: int) -> int:
    return joined


@dg.asset(ins={"summary": dg.AssetIn(["reports", "summary"])})
def emailed(summary: int) -> None:
    pass


ASSETS = [raw_a, raw_b, joined, summary, emailed, dg.AssetSpec("external", group_name="ingest")]
GRAPH = AssetGraph(ASSETS)


def names(selection: object) -> list[str]:
    return [k.to_user_string() for k in GRAPH.resolve_selection(selection)]


def keys(selection: dg.AssetSelection) -> set[str]:
    return {k.to_user_string() for k in selection.resolve(ASSETS)}


def test_static_constructors() -> None:
    S = dg.AssetSelection
    assert keys(S.all()) == {"raw_a", "raw_b", "joined", "reports/summary", "emailed"}
    assert "external" in keys(S.all(include_sources=True))
    assert keys(S.assets(raw_a, joined)) == {"raw_a", "joined"}
    assert keys(S.keys("reports/summary", dg.AssetKey("raw_a"))) == {"reports/summary", "raw_a"}
    assert keys(S.keys(["reports", "summary"])) == {"reports/summary"}
    assert keys(S.groups("ingest")) == {"raw_a", "raw_b"}
    assert keys(S.groups("ingest", include_sources=True)) == {"raw_a", "raw_b", "external"}
    assert keys(S.key_prefixes("reports")) == {"reports/summary"}
    assert keys(S.key_prefixes(["reports"])) == {"reports/summary"}
    assert keys(S.tag("tier", "gold")) == {"joined"}
    assert keys(S.tag("tier")) == {"raw_a", "raw_b", "joined"}


def test_algebra_and_traversals() -> None:
    S = dg.AssetSelection
    assert keys(S.groups("ingest") | S.groups("marts")) == keys(S.all()) - {"emailed"}
    assert keys(S.groups("marts") & S.tag("tier", "gold")) == {"joined"}
    assert keys(S.all() - S.groups("ingest")) == {"joined", "reports/summary", "emailed"}
    assert keys(S.assets(joined).upstream()) == {"raw_a", "raw_b", "joined"}
    assert keys(S.assets(joined).downstream()) == {"joined", "reports/summary", "emailed"}
    assert keys(S.assets(raw_a).downstream(depth=1)) == {"raw_a", "joined"}
    assert keys(S.assets(joined).downstream(1, include_self=False)) == {"reports/summary"}
    assert keys(S.groups("marts").roots()) == {"joined"}
    assert keys(S.groups("marts").sinks()) == {"reports/summary"}
    with pytest.raises(DefinitionError, match="expected another AssetSelection"):
        _ = S.all() | "raw_a"  # type: ignore[operator]
    with pytest.raises(DefinitionError, match="depth"):
        S.all().upstream(depth=-1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("joined", ["joined"]),
        ("reports/summary", ["reports/summary"]),
        ("*joined", ["raw_a", "raw_b", "joined"]),
        ("joined*", ["joined", "reports/summary", "emailed"]),
        ("+joined", ["raw_a", "raw_b", "joined"]),
        ("raw_a+", ["raw_a", "joined"]),
        ("raw_a++", ["raw_a", "joined", "reports/summary"]),
        ("raw_a+2", ["raw_a", "joined", "reports/summary"]),
        ("+reports/summary+", ["joined", "reports/summary", "emailed"]),
        ("2+emailed", ["joined", "reports/summary", "emailed"]),
        ('key:"joined"', ["joined"]),
        ('key:"raw_*"', ["raw_a", "raw_b"]),
        ("key:raw_*", ["raw_a", "raw_b"]),
        ('group:"ingest"', ["raw_a", "raw_b"]),
        ("group:marts", ["joined", "reports/summary"]),
        ('tag:"tier"="gold"', ["joined"]),
        ("tag:tier=bronze", ["raw_a", "raw_b"]),
        ('tag:"tier"', ["raw_a", "raw_b", "joined"]),
        ('owner:"team:ingest"', ["raw_b"]),
        ('kind:"pandas"', ["joined"]),
        ("*", ["raw_a", "raw_b", "joined", "reports/summary", "emailed"]),
        ('group:"marts" and tag:"tier"="gold"', ["joined"]),
        ("raw_a or emailed", ["raw_a", "emailed"]),
        ('not group:"ingest"', ["joined", "reports/summary", "emailed"]),
        ('key:"raw_a"+ and +key:"reports/summary"', ["joined"]),
        ('key:"raw_a"+ and +key:"joined"', ["raw_a", "joined"]),
        ('(key:"raw_a" or key:"raw_b")+ and +key:"reports/summary"', ["joined"]),
        ("sinks(*)", ["emailed"]),
        ('roots(group:"marts")', ["joined"]),
        ("not (raw_a or raw_b) and not emailed", ["joined", "reports/summary"]),
    ],
)
def test_selection_syntax(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("raw_a and", "position 9: expected an asset key"),
        ("(raw_a", "expected '\\)'"),
        ("colour:red", "expected one of the attributes key, tag, group, owner, kind"),
        ("raw_a raw_b", "expected 'and', 'or' or the end"),
        ("   ", "is empty"),
    ],
)
def test_bad_selection_strings_say_where(text: str, match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        names(text)


def test_unknown_key_in_selection_names_it() -> None:
    with pytest.raises(UnknownAssetError, match="selection names 'nope', which is no asset"):
        names("+nope")
    with pytest.raises(UnknownAssetError, match="'raw_c'"):
        dg.AssetSelection.keys("raw_c").resolve(ASSETS)


def test_materialize_with_a_selection_string_and_object() -> None:
    io = dg.InMemoryIOManager()
    result = dg.materialize(ASSETS[:-1], resources={"io_manager": io}, selection="*joined")
    assert sorted(k.to_user_string() for k in {o.key for o in result.outcomes}) == [
        "joined", "raw_a", "raw_b",
    ]  # fmt: skip
    result = dg.materialize(
        ASSETS[:-1],
        resources={"io_manager": io},
        selection=dg.AssetSelection.assets(joined).downstream(include_self=False),
    )
    assert [o.key.to_user_string() for o in result.outcomes] == ["reports/summary", "emailed"]
    assert result.output_for_node("reports__summary") == 3


def test_selection_of_sequences_of_strings_unions_them() -> None:
    assert names(["raw_a+", "emailed"]) == ["raw_a", "joined", "emailed"]
