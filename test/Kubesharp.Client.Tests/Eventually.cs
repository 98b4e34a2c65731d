namespace Kubesharp.Client.Tests;

/// <summary>Waits for a condition the tests cannot be told about, polling within a bound.</summary>
internal static class Eventually
{
    /// <summary>How long a test waits for anything: generous, for a shared machine under load.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static Task TrueAsync(Func<bool> condition, string what) => TrueAsync(() => Task.FromResult(condition()), what);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
