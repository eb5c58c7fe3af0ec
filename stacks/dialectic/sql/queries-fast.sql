-- Seed 004 Performance Tests: "Database queries fast (check logs)", from PostgreSQL's own record
-- rather than the logs: the statement of this database with the highest mean time, among those
-- run at least 5 times (pg_stat_statements, since its statistics were last reset), against
-- :max_ms. One line: "fast: ..." or "SLOW ...". Needs the pg_stat_statements extension (Fly
-- Postgres and most managed PostgreSQL offer it: CREATE EXTENSION pg_stat_statements).
select coalesce(
  (select format('SLOW %s ms mean over %s calls: %s', round(mean_exec_time::numeric, 1), calls,
                 left(regexp_replace(query, '\s+', ' ', 'g'), 160))
     from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
      and calls >= 5 and mean_exec_time > :max_ms
      and query not like '%pg_stat_statements%'
    order by mean_exec_time desc limit 1),
  format('fast: no statement of this database averages over %s ms (of those run 5 times or more)', :max_ms));
