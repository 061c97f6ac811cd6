"""Resources: the landing zone and the DuckDB warehouse, located by P06_RAW_DIR and P06_WAREHOUSE_DIR."""

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from p06 import config, lock, warehouse


class LandingZone(dg.ConfigurableResource):
    """raw/<YYYY-MM>/<source>/<file>: where data engineers drop the month's deliveries.

    Without a path, P06_RAW_DIR (default raw/) is read when the resource is used.
    """
    path: Optional[str] = None

    @property
    def root(self) -> Path:
        return Path(self.path) if self.path else config.raw_dir()


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse directory. One writer at a time: a run holds the warehouse's writer lock
    (p06/lock.py) from its start to its end, whoever launched it (sensor, schedule, backfill, UI, `p06 run`).

    Without a directory, P06_WAREHOUSE_DIR (default warehouse/) is read when the resource is used.
    """
    directory: Optional[str] = None
    _held = PrivateAttr(default=None)        # the run's open connection (warehouse.held), from setup to teardown

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        lock.acquire(self.root, say=context.log.info if context.log else print)
        try:
            self._held = warehouse.held(self.database)      # one connection for the run's steps (p06/warehouse.py)
            self._held.__enter__()
        except BaseException:
            lock.release(self.root)
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        try:
            if self._held is not None:
                self._held.__exit__(None, None, None)
                self._held = None
        finally:
            lock.release(self.root)

    @property
    def root(self) -> Path:
        return Path(self.directory) if self.directory else config.warehouse_dir()

    @property
    def database(self) -> Path:
        return self.root / config.warehouse_path().name

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.database, read_only=read_only) as con:
            yield con


def default_resources() -> dict:
    """Resources located by the environment, read at run time."""
    return {"landing_zone": LandingZone(), "warehouse": Warehouse()}
