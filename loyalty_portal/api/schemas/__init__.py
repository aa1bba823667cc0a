"""Request and response schemas, one module per API blueprint (common holds what they share).
They validate input and produce the OpenAPI document."""
