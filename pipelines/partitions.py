"""The report month is the partition: '2023-09' holds figures as of that month's cut-off."""
from pathlib import Path

import dagster as dg

from p06.landing import first_month

TIMEZONE = "Asia/Ho_Chi_Minh"

# From the first month the province has data for (the earliest YYYY-MM folder of the landing zone when the
# definitions load; p06.landing.FIRST_MONTH_FALLBACK when there is none): a backfill of "missing" partitions
# then covers the months that can have deliveries. end_offset=1 makes the current month available once its
# deliveries arrive (the cut-off is mid-month, the report goes out the same month).
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=first_month(), fmt="%Y-%m", end_offset=1, timezone=TIMEZONE)


def run_months(context, landing_root: Path) -> list[str]:
    """The months of a run: its partition, or every month of its range (a single-run backfill) that has a
    landing folder; a single month is always run (it may have to say that nothing was delivered)."""
    keys = list(context.partition_keys)
    if len(keys) == 1:
        return keys
    return [k for k in keys if (Path(landing_root) / k).is_dir()]


def delivered_months(landing_root: Path, months: list[str]) -> list[str]:
    """The months with at least one delivered file in the landing zone: a month with none publishes nothing
    (no findings, tables, workbook or analysts' copy), so that a backfill of empty partitions changes nothing."""
    from p06.landing import is_delivery_file
    root = Path(landing_root)
    return [m for m in months if (root / m).is_dir()
            and any(is_delivery_file(f) for folder in (root / m).iterdir() if folder.is_dir() for f in folder.iterdir())]


def publish_months(context, landing_root: Path) -> list[str]:
    """The months of a run that have deliveries; the others are named in the run's log."""
    months = run_months(context, landing_root)
    delivered = delivered_months(landing_root, months)
    for month in sorted(set(months) - set(delivered)):
        context.log.warning(f"{month}: no delivery in {Path(landing_root) / month}/: nothing published for the month")
    return delivered


def consecutive_blocks(months: list[str]) -> list[list[str]]:
    """Months split where the calendar skips: ['2023-08', '2023-09', '2025-06'] -> [['2023-08', '2023-09'], ['2025-06']].
    A run over a range materializes every month of it: runs over these stretches leave the months between alone."""
    from p06.periods import next_period
    blocks: list[list[str]] = []
    for month in sorted(months):
        if blocks and next_period(blocks[-1][-1]) == month:
            blocks[-1].append(month)
        else:
            blocks.append([month])
    return blocks
