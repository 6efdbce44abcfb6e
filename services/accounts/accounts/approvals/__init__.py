"""Limit-change requests (《客户信用额度变更申请表》) and one-order exceptions through the
approval chain; temporary increases that revert on their end date."""
