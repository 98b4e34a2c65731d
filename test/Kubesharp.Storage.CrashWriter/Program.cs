using System.Globalization;
using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;

// Writes to a store from many tasks until killed. Prints "ack KEY REVISION" only after a write was
// acknowledged, so the parent knows exactly which writes must survive a SIGKILL.
var path = args[0];
var writers = int.Parse(args[1], CultureInfo.InvariantCulture);
var run = args[2];
await using var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = path, CompactionInterval = TimeSpan.Zero }, default);
var output = Console.Out;
var gate = new Lock();
Console.Out.WriteLine($"ready {await store.GetCurrentRevisionAsync(default)}");
Console.Out.Flush();

void Ack(string key, long revision)
{
    lock (gate)
    {
        output.Write($"ack {key} {revision}\n");
        output.Flush();
    }
}

var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
{
    var counterKey = $"/counter/{run}/{w}";
    var counter = await store.CreateAsync(counterKey, "0"u8.ToArray(), default);
    Ack(counterKey, counter.ModRevision);
    for (var n = 0; ; n++)
    {
        var key = $"/crash/{run}/{w}/{n:D6}";
        var created = await store.CreateAsync(key, new byte[64 + (n % 512)], default);
        Ack(key, created.ModRevision);
        counter = await store.UpdateAsync(counterKey, System.Text.Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture)), counter.ModRevision, default);
        Ack(counterKey, counter.ModRevision);
        if (n % 50 == 49 && w == 0)
        {
            // Compaction runs in the crash window too.
            await store.CompactAsync(Math.Max(1, counter.ModRevision - 100), default);
        }
    }
})).ToArray();
await Task.WhenAll(tasks);
