"""SLA clocks: first response and resolution on business time, paused while waiting for the customer."""
