"""Property checks of the conformance suite: generated frames round-trip exactly through a store.

Each example is written through the store's real I/O manager and read back as the same library;
``assert_frame_equal`` (exact, with dtypes) must pass. Imports hypothesis, so only tests use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import wharf as dg
from wharf.testing.conformance import Check, FrameKind, StoreCase
from wharf.testing.strategies import TEXT, TEXT_NO_NUL, pandas_frames, polars_frames

EXAMPLES = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: for a row whose known gap this check is (a strict xfail): fail at the first failing example,
#: without shrinking it (shrinking a failure of every write took 20 s on deltalake-gcs)
KNOWN_FAILING = settings(EXAMPLES, phases=[Phase.explicit, Phase.reuse, Phase.generate])


def _examples(case: StoreCase, check: str) -> settings:
    """The hypothesis settings of ``check`` on ``case``'s row."""
    from wharf.testing.stores import known_gaps

    return KNOWN_FAILING if known_gaps(case, check) else EXAMPLES


def _round_trip(case: StoreCase, tmp: Path, frame: Any, annotation: Any) -> Any:
    def produce():  # type: ignore[no-untyped-def]
        return frame

    seen: list[Any] = []

    def consume(generated) -> None:  # type: ignore[no-untyped-def]
        seen.append(generated)

    consume.__annotations__ = {"generated": annotation, "return": None}
    assets = [dg.asset(name="generated")(produce), dg.asset(consume)]
    dg.materialize(assets, resources={"io_manager": case.io_manager(tmp)}, record_history=False)
    return seen[0]


def _text(case: StoreCase) -> st.SearchStrategy[str]:
    """Strings the store keeps (PostgreSQL's text holds no NUL)."""
    return TEXT if case.nul_in_text else TEXT_NO_NUL


def _floats(case: StoreCase) -> st.SearchStrategy[float]:
    """Floats the store keeps (``StoreCase.floats``); it refuses the others."""
    return st.floats(allow_nan=case.floats == "ieee", allow_infinity=case.floats != "finite")


def check_pandas_property(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Generated pandas frames come back with equal values and dtypes."""
    import pandas as pd

    @_examples(case, "pandas_property")
    @given(pandas_frames(text=_text(case), floats=_floats(case)))
    def run(df: pd.DataFrame) -> None:
        got = _round_trip(case, tmp, df, pd.DataFrame)
        pd.testing.assert_frame_equal(got, df, check_exact=True)

    run()


def check_polars_property(case: StoreCase, kind: FrameKind, tmp: Path) -> None:
    """Generated polars frames come back with equal values and dtypes."""
    import polars as pl
    from polars.testing import assert_frame_equal

    @_examples(case, "polars_property")
    @given(polars_frames(text=_text(case), floats=_floats(case)))
    def run(df: pl.DataFrame) -> None:
        assert_frame_equal(_round_trip(case, tmp, df, pl.DataFrame), df, check_exact=True)

    run()


PROPERTY_CHECKS: tuple[Check, ...] = (
    Check("pandas_property", check_pandas_property, per_kind=False),
    Check("polars_property", check_polars_property, per_kind=False),
)
