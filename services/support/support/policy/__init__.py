"""Organisation policy: every number of the support rules, audited."""
