"""Standard Webhooks for outside systems: endpoints, signing, retries, delivery log, SSRF guard."""
