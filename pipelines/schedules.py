"""A monthly run a few days after the cut-off (the 15th), for the current month's partition."""
import dagster as dg

from pipelines.jobs import monthly_job
from pipelines.partitions import TIMEZONE

CRON = "0 7 20 * *"      # 07:00 on the 20th: five days after the cut-off, before the report is due


@dg.schedule(cron_schedule=CRON, job=monthly_job, execution_timezone=TIMEZONE,
             description="Loads whatever has arrived for the month; the sensor catches later re-sends.")
def monthly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    period = context.scheduled_execution_time.strftime("%Y-%m")
    return dg.RunRequest(run_key=f"scheduled-{period}", partition_key=period, tags={"trigger": "schedule"})
