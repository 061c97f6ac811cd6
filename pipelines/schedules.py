"""A monthly run a few days after the cut-off (the 15th), for the current month's partition."""
import dagster as dg

from pipelines.jobs import monthly_job

# 07:00 on the 20th, in the partitions' time zone: five days after the cut-off, before the report is due.
# Built from the partitioned job, so the UI shows its partition set and the partition each tick ran; a tick runs
# the newest partition at its time (the current month: the partitions end one month ahead, end_offset=1).
monthly_schedule = dg.build_schedule_from_partitioned_job(
    monthly_job, name="monthly_schedule", day_of_month=20, hour_of_day=7, minute_of_hour=0, tags={"trigger": "schedule"},
    description="Loads whatever has arrived for the month; the sensor catches later re-sends.")
