"""The outside world: files, keys, hashing, schema migrations."""
