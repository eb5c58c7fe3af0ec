-- DotMac post-migration smoke queries (seed 002, "Database + Migrations").
-- Run by the migrate phase with `psql -v ON_ERROR_STOP=1 -v tenant=SLUG`: any failed check raises,
-- psql exits non-zero, and deployctl restores the pre-migration backup.

-- alembic left exactly one head revision behind.
DO $$
BEGIN
  IF (SELECT count(*) FROM alembic_version) <> 1 THEN
    RAISE EXCEPTION 'alembic_version holds % rows, expected exactly 1', (SELECT count(*) FROM alembic_version);
  END IF;
END
$$;

-- No index left INVALID by an interrupted CREATE INDEX CONCURRENTLY.
DO $$
DECLARE
  broken text;
BEGIN
  SELECT string_agg(indexrelid::regclass::text, ', ') INTO broken FROM pg_index WHERE NOT indisvalid;
  IF broken IS NOT NULL THEN
    RAISE EXCEPTION 'invalid indexes after migration: %', broken;
  END IF;
END
$$;

-- No constraint left NOT VALID (added without validation and never validated).
DO $$
DECLARE
  pending text;
BEGIN
  SELECT string_agg(conrelid::regclass::text || '.' || conname, ', ') INTO pending
    FROM pg_constraint WHERE NOT convalidated AND contype IN ('c', 'f');
  IF pending IS NOT NULL THEN
    RAISE EXCEPTION 'constraints still NOT VALID after migration: %', pending;
  END IF;
END
$$;

-- For the journal: where the schema is, and that the tables answer.
SELECT version_num AS alembic_revision FROM alembic_version;
SELECT count(*) AS public_tables FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE';
SELECT current_database() AS database, current_user AS "user", :'tenant' AS tenant;
