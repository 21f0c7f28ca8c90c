"""Normalising figures as written (1,242 mi) to the dataset's units (1998.8 km)."""

# attribute -> (normalised unit, {unit as written: factor to the normalised unit})
MEASURES = {
    "apogee_km": ("km", {"km": 1.0, "m": 0.001, "mi": 1.609344, "nmi": 1.852}),
    "range_km": ("km", {"km": 1.0, "m": 0.001, "mi": 1.609344, "nmi": 1.852}),
    "max_speed_mach": ("mach", {"mach": 1.0}),
    "flight_time_s": ("s", {"s": 1.0, "min": 60.0}),
    "bearing_deg": ("deg", {"deg": 1.0}),
    "missile_count": ("missiles", {"missiles": 1.0}),
}


# attribute -> the lowest and highest plausible normalised value (a figure that rounds to 0 says nothing)
PLAUSIBLE = {"apogee_km": (0.1, 10_000), "range_km": (0.1, 20_000), "max_speed_mach": (0.1, 100),
             "flight_time_s": (0.1, 36_000), "bearing_deg": (0, 360), "missile_count": (1, 100)}


def normalise(attribute: str, value: float, unit: str) -> tuple[float | int, str]:
    """The value in the attribute's unit, rounded to 0.1 (counts stay integers)."""
    target, factors = MEASURES[attribute]
    if attribute == "missile_count":
        return int(value), target
    return round(value * factors[unit], 1), target


def format_number(value) -> str:
    """One way to write a number in a CSV cell: integers without a decimal point, others as short as exact."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))
