-- Model aliases: a name clients send (agents send fixed ones, e.g. `claude-sonnet-4-5-20250929`)
-- mapped to the `provider/model` that serves it. `pattern` is an exact name or a glob (`*`, `?`,
-- `[...]`); an exact pattern wins over globs, and a longer glob over a shorter one.
CREATE TABLE model_aliases (
    id TEXT PRIMARY KEY NOT NULL,
    pattern TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
