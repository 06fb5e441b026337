"""Unit conversions, so a Ray figure can sit in the row of a Prism figure with another unit.

Records carry units as prism-bench writes them: times ("us", "ms", "s"), byte rates
("GB/s") and operation rates ("tasks/s", "calls/s", "ops/s"...; any "<thing>/s"). Two
operation rates compare directly; a per-operation latency (ns, us, ms) and a rate are each
other's reciprocal. A time in seconds is taken as a whole run's length, so it is never
turned into a rate: its count of operations is not in the unit.
"""

_TIMES = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
_PER_OP_TIMES = {"ns", "us", "µs", "ms"}
_BYTE_RATES = {"B/s": 1.0, "MB/s": 1e6, "GB/s": 1e9, "MiB/s": 2.0**20, "GiB/s": 2.0**30}


def is_time(unit):
    """Whether smaller is better for figures in `unit`."""
    return unit in _TIMES


def _is_op_rate(unit):
    return unit.endswith("/s") and unit not in _BYTE_RATES


def convert(value, unit, to_unit):
    """`value` in `unit` expressed in `to_unit`, or None when the two do not compare."""
    if unit == to_unit:
        return value
    if unit in _TIMES and to_unit in _TIMES:
        return value * _TIMES[unit] / _TIMES[to_unit]
    if unit in _BYTE_RATES and to_unit in _BYTE_RATES:
        return value * _BYTE_RATES[unit] / _BYTE_RATES[to_unit]
    if _is_op_rate(unit) and _is_op_rate(to_unit):
        return value
    if unit in _PER_OP_TIMES and _is_op_rate(to_unit):
        return 1.0 / (value * _TIMES[unit])
    if _is_op_rate(unit) and to_unit in _PER_OP_TIMES:
        return 1.0 / value / _TIMES[to_unit]
    return None


def advantage(prism, other, unit):
    """How many times better `prism` is than `other` (> 1: Prism is faster)."""
    if prism is None or other is None or prism <= 0 or other <= 0:
        return None
    return other / prism if is_time(unit) else prism / other
