import GRDB

/// Numbered schema migrations; a released one is never edited, only followed by a new one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-jobs-tasks-events") { db in
            try db.create(table: "job") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("specJSON", .text).notNull()
                t.column("state", .text).notNull()
                t.column("reason", .text)
                t.column("output", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("latentChecksum", .text)
                t.column("frameChecksum", .text)
            }
            try db.create(table: "task") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobId", .integer).notNull().references("job", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("chunkIndex", .integer).notNull()
                t.column("state", .text).notNull()
                t.column("attempt", .integer).notNull().defaults(to: 0)
                t.column("worker", .text)
                t.column("leaseExpiresAt", .double)
                t.column("checksum", .text)
                t.column("artifact", .text)
                t.column("updatedAt", .double).notNull()
                t.uniqueKey(["jobId", "stage", "chunkIndex"])
            }
            try db.create(index: "task_by_job_state", on: "task", columns: ["jobId", "state"])
            try db.create(table: "event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobId", .integer)
                t.column("taskId", .integer)
                t.column("at", .double).notNull()
                t.column("kind", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        migrator.registerMigration("0002-job-consistency") { db in
            try db.alter(table: "job") { t in t.add(column: "consistencyJSON", .text) }
        }
        migrator.registerMigration("0003-live-leases") { db in
            // Every live lease of a task: one, or two while a straggler has a backup.
            try db.create(table: "lease") { t in
                t.column("taskId", .integer).notNull().references("task", onDelete: .cascade)
                t.column("attempt", .integer).notNull()
                t.column("worker", .text).notNull()
                t.primaryKey(["taskId", "attempt"])
            }
            try db.execute(sql: "INSERT INTO lease SELECT id, attempt, worker FROM task WHERE state = 'leased' AND worker IS NOT NULL")
        }
        migrator.registerMigration("0004-job-owner") { db in
            // Who submitted the job: its CURVE key's name, or "local" on loopback.
            try db.alter(table: "job") { t in t.add(column: "owner", .text).notNull().defaults(to: "local") }
        }
        migrator.registerMigration("0005-api-tokens") { db in
            // Bearer tokens of the HTTP API: only a SHA-256 of each is kept. A revoked token's
            // row stays (who had access, and until when); its name may be given again.
            try db.create(table: "apiToken") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("role", .text).notNull()
                t.column("hash", .text).notNull().unique()
                t.column("createdAt", .double).notNull()
                t.column("revokedAt", .double)
            }
            try db.execute(sql: "CREATE UNIQUE INDEX apiToken_live_name ON apiToken(name) WHERE revokedAt IS NULL")
        }
        migrator.registerMigration("0006-task-counts") { db in
            // A job's task counts by stage and state, kept by triggers in the transaction of
            // every insert, state change and delete, so STATUS reads a few rows instead of
            // counting a 250,000-task job's index.
            try db.execute(
                sql: """
                    CREATE TABLE taskCount(
                        jobId INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                        stage TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,
                        PRIMARY KEY (jobId, stage, state)) WITHOUT ROWID;
                    INSERT INTO taskCount SELECT jobId, stage, state, COUNT(*) FROM task GROUP BY jobId, stage, state;
                    CREATE TRIGGER task_counted_on_insert AFTER INSERT ON task BEGIN
                        INSERT INTO taskCount VALUES (NEW.jobId, NEW.stage, NEW.state, 1)
                            ON CONFLICT (jobId, stage, state) DO UPDATE SET n = n + 1;
                    END;
                    CREATE TRIGGER task_counted_on_update AFTER UPDATE OF state ON task WHEN OLD.state IS NOT NEW.state BEGIN
                        UPDATE taskCount SET n = n - 1 WHERE jobId = OLD.jobId AND stage = OLD.stage AND state = OLD.state;
                        INSERT INTO taskCount VALUES (NEW.jobId, NEW.stage, NEW.state, 1)
                            ON CONFLICT (jobId, stage, state) DO UPDATE SET n = n + 1;
                    END;
                    CREATE TRIGGER task_counted_on_delete AFTER DELETE ON task BEGIN
                        UPDATE taskCount SET n = n - 1 WHERE jobId = OLD.jobId AND stage = OLD.stage AND state = OLD.state;
                    END;
                    """)
        }
        return migrator
    }
}
