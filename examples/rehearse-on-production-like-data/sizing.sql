-- Run on production (a replica will do): how many rows each table holds, by the planner's statistics.
-- reltuples is an estimate, updated by VACUUM, ANALYZE and CREATE INDEX and read without scanning a table.
-- It is -1 (PostgreSQL 14 and later) for a table never vacuumed or analyzed. Plain tables and partitions only:
-- a partitioned table's parent holds no rows of its own, and autovacuum never analyzes it.
SELECT n.nspname AS schema_name, c.relname AS table_name, c.reltuples::bigint AS estimated_rows
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY c.reltuples DESC;
