"""The validation, normalisation and merge rules the store applies (no storage, no UI)."""
