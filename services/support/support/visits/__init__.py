"""Return visits: after resolution, for delivered projects; scripts; satisfaction; follow-ups."""
