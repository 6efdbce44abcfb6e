"""The CRM's HTTP gateway: authentication, routing by path prefix, rate limits, request ids,
one OpenAPI document and an offline docs page. No business rules live here."""
