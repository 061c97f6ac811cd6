"""Resources: the landing zone and the DuckDB warehouse, located by P06_RAW_DIR and P06_WAREHOUSE_DIR."""

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from p06 import config, warehouse


class LandingZone(dg.ConfigurableResource):
    """raw/<YYYY-MM>/<source>/<file>: where data engineers drop the month's deliveries."""
    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse directory. One writer at a time: connections wait for the lock."""
    directory: str

    @property
    def root(self) -> Path:
        return Path(self.directory)

    @property
    def database(self) -> Path:
        return self.root / config.warehouse_path().name

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.database, read_only=read_only) as con:
            yield con


def default_resources() -> dict:
    """Resources located by the environment (read when the definitions load)."""
    return {
        "landing_zone": LandingZone(path=str(config.raw_dir())),
        "warehouse": Warehouse(directory=str(config.warehouse_dir())),
    }
