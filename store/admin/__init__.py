"""Store upkeep outside the verbs: repair, and migration between backends."""
