namespace Kubesharp.ApiServer.Health;

/// <summary>
/// The named checks behind one of /healthz, /livez and /readyz. A check answers null when it passes, else why
/// not; checks run on every probe, so each reads state already at hand and never waits on I/O.
/// </summary>
public sealed class HealthChecks
{
    private readonly Lock _gate = new();
    private readonly List<(string Name, Func<string?> Check)> _checks = [];

    /// <summary>Adds a check; its name is its path segment (<c>/readyz/NAME</c>) and must be unique.</summary>
    public void Add(string name, Func<string?> check)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(check);
        lock (_gate)
        {
            if (_checks.Exists(c => c.Name == name))
            {
                throw new ArgumentException($"a check named {name} exists already", nameof(name));
            }

            _checks.Add((name, check));
        }
    }

    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
            {
                return [.. _checks.Select(c => c.Name)];
            }
        }
    }

    /// <summary>Runs every check in order; a check that throws fails with its message.</summary>
    public IReadOnlyList<HealthCheckResult> Run()
    {
        (string Name, Func<string?> Check)[] checks;
        lock (_gate)
        {
            checks = [.. _checks];
        }

        var results = new HealthCheckResult[checks.Length];
        for (var i = 0; i < checks.Length; i++)
        {
            string? failure;
            try
            {
                failure = checks[i].Check();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e.Message;
            }

            results[i] = new HealthCheckResult(checks[i].Name, failure);
        }

        return results;
    }

    /// <summary>The first failing check as "name: reason", or null when all pass.</summary>
    public string? FirstFailure() => Run().FirstOrDefault(r => r.Failure is not null) is { } failed ? $"{failed.Name}: {failed.Failure}" : null;
}

/// <param name="Failure">Null when the check passed.</param>
public sealed record HealthCheckResult(string Name, string? Failure);
