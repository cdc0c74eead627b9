"""The ground floor: utilities every floor of the store stands on (errors, text, files,
JSON rows, the garbage collector's pause); imports nothing else of the project."""
