"""The seed's I/O-manager pipeline on wharf: raw -> clean -> summary, stored in DuckDB.

Only the imports differ from the Dagster version, and the CSV is a local file.
Run it with `wharf materialize -f sales_pipeline.py` (or `make demo` from the repo root).
"""

from pathlib import Path

import pandas as pd

import wharf as dg
from wharf.duckdb import DuckDBPandasIOManager

CSV = Path(__file__).with_name("sales.csv")


@dg.asset
def raw_sales_data() -> pd.DataFrame:
    return pd.read_csv(CSV)


@dg.asset
# Load the upstream `raw_sales_data` asset as input & specify the returned data type (`pd.DataFrame`)
def clean_sales_data(raw_sales_data: pd.DataFrame) -> pd.DataFrame:
    # Storing data with an I/O manager requires returning the data
    return raw_sales_data.fillna({"amount": 0.0})


@dg.asset
def sales_summary(clean_sales_data: pd.DataFrame) -> pd.DataFrame:
    return clean_sales_data.groupby(["owner"])["amount"].sum().reset_index()


defs = dg.Definitions(
    assets=[raw_sales_data, clean_sales_data, sales_summary],
    # Define the I/O manager and pass it to `Definitions`
    resources={
        "io_manager": DuckDBPandasIOManager(
            database=str(Path(__file__).with_name("sales.duckdb")), schema="public"
        )
    },
)
