"""The trust's rules as pure functions: values in, decisions out (stdlib only)."""
