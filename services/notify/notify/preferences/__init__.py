"""Each member of staff's own delivery preferences: channels, language, quiet hours, addresses."""
