"""Read models for the app and the command line: the records as a polars frame, the
customers a record likely is, the counts read without opening a store."""
