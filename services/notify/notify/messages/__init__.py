"""Messages: one per (recipient, channel), with a delivery state, retries and the §4 rules."""
