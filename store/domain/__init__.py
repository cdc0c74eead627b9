"""The product's verbs, by aggregate; `store.Store` puts them together."""
