"""Deals per account through the documents' states 小定 → 大定 → 签约 → 交款, and their registers."""
