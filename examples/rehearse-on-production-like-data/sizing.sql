-- Run on production (a replica will do): how many rows each table holds, by the planner's statistics.
-- reltuples is an estimate kept by VACUUM, ANALYZE and CREATE INDEX, read without scanning a table;
-- -1 means the table was never vacuumed or analyzed.
SELECT c.relname AS table_name, c.reltuples::bigint AS estimated_rows
FROM pg_class c
WHERE c.relkind IN ('r', 'p')
  AND c.relnamespace = 'public'::regnamespace
ORDER BY c.reltuples DESC;
