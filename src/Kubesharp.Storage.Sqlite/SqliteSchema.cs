namespace Kubesharp.Storage.Sqlite;

/// <summary>
/// The database layout: <c>kv</c> is a log with one row per change (revision = row id), tombstones mark
/// deletes, <c>prev_revision</c> links a row to the key's previous row; <c>meta</c> holds counters.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>Marks a file as a Kubesharp store ("KSHP").</summary>
    public const int ApplicationId = 0x4B534850;

    public const int Version = 1;

    // auto_vacuum must be chosen before the first table exists. For the writer connection,
    // synchronous=NORMAL keeps SQLite's syncs around checkpoints; SqliteWriter syncs the log after each
    // commit itself, before acknowledging, which makes every acknowledged commit durable. The writer's page cache
    // (8 MiB) holds the trees' inner pages and the leaves writes touch; a larger one only fills with the old rows
    // compaction reads once, as memory the server keeps (the watch cache, not SQLite, serves reads).
    public const string ConnectionPragmas = """
        PRAGMA synchronous = NORMAL;
        PRAGMA journal_size_limit = 67108864;
        PRAGMA cache_size = -8192;
        """;

    public const string Create = """
        PRAGMA auto_vacuum = INCREMENTAL;
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS kv (
            revision INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            create_revision INTEGER NOT NULL,
            prev_revision INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            value BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS kv_key_revision ON kv (key, revision);
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compact_revision', 0), ('compacted_through', 0);
        """;

    public const string SelectLatest =
        "SELECT revision, create_revision, deleted, value FROM kv WHERE key = $key ORDER BY revision DESC LIMIT 1";

    public const string SelectAtRevision =
        "SELECT revision, create_revision, deleted, value FROM kv WHERE key = $key AND revision <= $rev ORDER BY revision DESC LIMIT 1";

    public const string Insert =
        "INSERT INTO kv (revision, key, create_revision, prev_revision, deleted, value) VALUES ($rev, $key, $create, $prev, $deleted, $value)";

    public const string SetMeta = "UPDATE meta SET value = $value WHERE name = $name";

    public const string SelectMeta = "SELECT name, value FROM meta";

    // Rows superseded inside (lo, hi] and tombstones inside (lo, hi] are history below the compacted
    // revision; the newest row of each key at or below it stays.
    public const string CompactRange = """
        DELETE FROM kv WHERE revision IN (SELECT prev_revision FROM kv WHERE revision > $lo AND revision <= $hi AND prev_revision > 0);
        DELETE FROM kv WHERE revision > $lo AND revision <= $hi AND deleted = 1;
        """;
}
