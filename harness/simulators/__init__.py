"""Reference simulators: a passing charge point and central system, with named faults."""
