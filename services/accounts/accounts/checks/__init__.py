"""Credit checks for order systems: approve with a reservation, or hold with every reason."""
