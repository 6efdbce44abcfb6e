"""The organisation's notify policy: every number of the notify rules, audited."""
