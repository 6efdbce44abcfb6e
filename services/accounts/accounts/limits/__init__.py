"""Credit limits: the documents' formula (standard), the limit in force (effective), the view."""
