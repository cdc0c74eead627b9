"""Customers written out: CSV, Excel and vCard files."""
