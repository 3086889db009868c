"""Use cases: load state, ask the rules, persist, audit. They get a session and never commit."""
