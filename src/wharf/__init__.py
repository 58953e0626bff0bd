"""wharf."""
