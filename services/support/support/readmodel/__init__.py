"""Read model of accounts, kept from accounts' events (support never asks accounts)."""
