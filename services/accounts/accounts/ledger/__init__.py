"""The ledger: charges (orders/invoices), payments allocated oldest first, credit notes."""
