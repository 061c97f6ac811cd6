"""The report month is the partition: '2023-09' holds figures as of that month's cut-off."""
import dagster as dg

TIMEZONE = "Asia/Ho_Chi_Minh"

# Project 06 began in January 2022; end_offset=1 makes the current month available once its
# deliveries arrive (the cut-off is mid-month, the report goes out the same month).
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2022-01", fmt="%Y-%m", end_offset=1, timezone=TIMEZONE)
