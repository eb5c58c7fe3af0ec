-- A journal as deployctl left it while it used GRDB (one `up` of a one-step stack, `sqlite3 .dump`):
-- its migrations recorded in GRDB's table, which SQLiteMigrator reads.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES('v1: runs, steps, events, locks');
INSERT INTO grdb_migrations VALUES('v2: the process group of each attempt');
INSERT INTO grdb_migrations VALUES('v3: inbound mail processing owed back');
INSERT INTO grdb_migrations VALUES('v4: what probes measured');
INSERT INTO grdb_migrations VALUES('v5: what the lock holder runs; whole logs');
INSERT INTO grdb_migrations VALUES('v6: reviews');
CREATE TABLE runs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, stack TEXT NOT NULL, environment TEXT NOT NULL,
    target TEXT NOT NULL, revision TEXT NOT NULL, revision_subject TEXT NOT NULL,
    descriptor_blob TEXT NOT NULL, inputs TEXT NOT NULL, operator TEXT NOT NULL, host TEXT NOT NULL,
    pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, started_at REAL NOT NULL, ended_at REAL,
    status TEXT NOT NULL, message TEXT, related_run TEXT);
INSERT INTO runs VALUES('20261201-203543-63c4','up','app','prod','app/prod','e3d52414a0ada9d29ebdcfda83a74c4967bc5478','App 1.0','70085f9bfb5ba7bc976d7b1d78d8b703b3a4b1c7','{}','root@vm','vm',5274,3761731,1796157343.4834175109,1796157343.4940733909,'succeeded','all phases succeeded',NULL);
CREATE TABLE steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id),
    phase TEXT NOT NULL, name TEXT NOT NULL, attempt INTEGER NOT NULL, argv TEXT NOT NULL,
    started_at REAL NOT NULL, ended_at REAL, exit_code INTEGER, signal INTEGER, status TEXT NOT NULL,
    duration_ms INTEGER, output_tail TEXT, log_path TEXT, message TEXT, pid INTEGER, pid_start INTEGER, measurements TEXT, log BLOB, log_size INTEGER, log_truncated INTEGER,
    UNIQUE(run_id, phase, name, attempt));
INSERT INTO steps VALUES(1,'20261201-203543-63c4','deploy','hello',1,'["echo","hi"]',1796157343.4895846844,1796157343.4934573173,0,NULL,'succeeded',2,replace('hi\n','\n',char(10)),'/tmp/grdbj/state/logs/20261201-203543-63c4/deploy.hello.1.log',NULL,5281,3761735,NULL,X'789ccbc8e40200021700dc',3,0);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, target TEXT NOT NULL, at REAL NOT NULL,
    kind TEXT NOT NULL, data TEXT NOT NULL);
INSERT INTO events VALUES(1,'20261201-203543-63c4','app/prod',1796157343.4826602935,'lock_acquired','{"host":"vm","operator":"root@vm","pid":5274}');
INSERT INTO events VALUES(2,'20261201-203543-63c4','app/prod',1796157343.5136885643,'lock_released','{}');
CREATE TABLE locks (
    target TEXT PRIMARY KEY, run_id TEXT NOT NULL, operator TEXT NOT NULL, host TEXT NOT NULL,
    pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, since REAL NOT NULL, command TEXT NOT NULL DEFAULT '');
CREATE TABLE inbound_owed (
    target TEXT PRIMARY KEY, run_id TEXT NOT NULL, since REAL NOT NULL, reason TEXT NOT NULL);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id), target TEXT NOT NULL,
    kind TEXT NOT NULL, subject TEXT, score INTEGER, text TEXT, reviewer TEXT NOT NULL, host TEXT NOT NULL, at REAL NOT NULL);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('events',2);
INSERT INTO sqlite_sequence VALUES('steps',1);
CREATE INDEX runs_by_target ON runs(target, started_at);
CREATE INDEX steps_by_run ON steps(run_id, id);
CREATE INDEX events_by_run ON events(run_id, id);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_start ON runs(started_at, id);
CREATE INDEX runs_by_target_start ON runs(target, started_at, id);
CREATE INDEX runs_by_target_kind ON runs(target, kind, started_at, id);
CREATE INDEX reviews_by_run ON reviews(run_id, id);
COMMIT;
