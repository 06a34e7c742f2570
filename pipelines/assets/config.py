"""Run configuration shared by the assets that depend on the as-of date."""

import datetime as dt

import dagster as dg


class AsOfConfig(dg.Config):
    """as_of: the last day counted (YYYY-MM-DD); empty means yesterday, the last complete day."""

    as_of: str = ""

    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else dt.date.today() - dt.timedelta(days=1)
