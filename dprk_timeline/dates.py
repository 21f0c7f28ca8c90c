"""Calendar helpers shared by the replay, the tables and the importers."""
import argparse
import datetime as dt

KOREA = dt.timezone(dt.timedelta(hours=9))


def day_of(value: str) -> str:
    """The calendar date of a date or instant string."""
    return value[:10]


def period_end(date: str, precision: str) -> str:
    """Last day a date of this precision can stand for."""
    day = dt.date.fromisoformat(date)
    if precision == "week":
        day += dt.timedelta(days=6)
    elif precision == "month":
        next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        day = next_month - dt.timedelta(days=1)
    return day.isoformat()


def korea_date_of(instant: str) -> str:
    """Korea (UTC+9) calendar date of a UTC instant."""
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(KOREA).date().isoformat()


def day_option(text: str) -> str:
    """A command-line date (argparse type): YYYY-MM-DD, or a one-line usage error."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2022-01-31") from None
