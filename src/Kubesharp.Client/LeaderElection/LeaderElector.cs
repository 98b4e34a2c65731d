using Kubesharp.Api.Coordination.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.LeaderElection;

/// <summary>
/// Acquires and renews a Lease; runs the leader's work while it holds it and cancels that work once a
/// renewal has failed for RenewDeadline. Expiry is judged by when this candidate last saw the lease change
/// (not by the holder's clock), so clock skew between servers does not matter.
/// </summary>
public sealed partial class LeaderElector
{
    private readonly ResourceClient<Lease> leases;
    private readonly LeaderElectionOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private string? observedHolder;
    private DateTimeOffset? observedRenewTime;
    private DateTimeOffset observedAt;
    private volatile bool isLeader;

    public LeaderElector(KubernetesClient client, LeaderElectionOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.LeaseDuration <= options.RenewDeadline || options.RenewDeadline <= options.RetryPeriod)
        {
            throw new ArgumentException("leader election needs LeaseDuration > RenewDeadline > RetryPeriod", nameof(options));
        }

        leases = client.Resource<Lease>();
        this.options = options;
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    public bool IsLeader => isLeader;

    /// <summary>The holder last seen on the lease.</summary>
    public string? ObservedHolder => observedHolder;

    /// <summary>
    /// Waits for leadership, then runs <paramref name="onStartedLeading"/> with a token that is cancelled when
    /// leadership is lost. Returns when leadership is lost or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> onStartedLeading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onStartedLeading);
        while (!await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(options.RetryPeriod, time, cancellationToken).ConfigureAwait(false);
        }

        isLeader = true;
        LogAcquired(logger, options.LeaseNamespace, options.LeaseName, options.Identity);
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = Task.Run(() => onStartedLeading(leading.Token), CancellationToken.None);
        try
        {
            await RenewLoopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            isLeader = false;
            await leading.CancelAsync().ConfigureAwait(false);
            LogLost(logger, options.LeaseNamespace, options.LeaseName, options.Identity);
        }

        try
        {
            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (cancellationToken.IsCancellationRequested && options.ReleaseOnCancel)
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One attempt: creates, takes over an expired, or renews an own lease. False when another holds it.</summary>
    public async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Lease lease;
        try
        {
            lease = await leases.GetAsync(options.LeaseNamespace, options.LeaseName, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            try
            {
                var created = await leases.CreateAsync(new Lease
                {
                    Metadata = new ObjectMeta { Name = options.LeaseName, Namespace = options.LeaseNamespace },
                    Spec = new LeaseSpec
                    {
                        HolderIdentity = options.Identity,
                        LeaseDurationSeconds = (int)options.LeaseDuration.TotalSeconds,
                        AcquireTime = now,
                        RenewTime = now,
                        LeaseTransitions = 0,
                    },
                }, cancellationToken: cancellationToken).ConfigureAwait(false);
                Observe(created.Spec, now);
                return true;
            }
            catch (StatusException create) when (create.IsAlreadyExists() || create.IsConflict())
            {
                return false;
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or StatusException)
        {
            LogAttemptFailed(logger, options.LeaseNamespace, options.LeaseName, e.Message);
            return false;
        }

        var spec = lease.Spec ?? new LeaseSpec();
        if (spec.HolderIdentity != observedHolder || spec.RenewTime != observedRenewTime)
        {
            Observe(spec, now);
        }

        var holder = spec.HolderIdentity;
        var held = !string.IsNullOrEmpty(holder) && holder != options.Identity;
        var duration = spec.LeaseDurationSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : options.LeaseDuration;
        if (held && observedAt + duration > now)
        {
            return false;
        }

        var updated = lease with
        {
            Spec = spec with
            {
                HolderIdentity = options.Identity,
                LeaseDurationSeconds = (int)options.LeaseDuration.TotalSeconds,
                RenewTime = now,
                AcquireTime = holder == options.Identity ? spec.AcquireTime ?? now : now,
                LeaseTransitions = holder == options.Identity ? spec.LeaseTransitions ?? 0 : (spec.LeaseTransitions ?? 0) + (string.IsNullOrEmpty(holder) ? 0 : 1),
            },
        };
        try
        {
            var written = await leases.UpdateAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
            Observe(written.Spec, now);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or StatusException)
        {
            LogAttemptFailed(logger, options.LeaseNamespace, options.LeaseName, e.Message);
            return false;
        }
    }

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(options.RetryPeriod, time, cancellationToken).ConfigureAwait(false);
            var deadline = time.GetUtcNow() + options.RenewDeadline;
            while (true)
            {
                bool renewed;
                using (var attempt = new CancellationTokenSource(options.RenewDeadline, time))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attempt.Token))
                {
                    try
                    {
                        renewed = await TryAcquireOrRenewAsync(linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        renewed = false;
                    }
                }

                if (renewed)
                {
                    break;
                }

                if (time.GetUtcNow() >= deadline)
                {
                    return;
                }

                await Task.Delay(options.RetryPeriod, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ReleaseAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(options.RenewDeadline, time);
            var lease = await leases.GetAsync(options.LeaseNamespace, options.LeaseName, timeout.Token).ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != options.Identity)
            {
                return;
            }

            var now = time.GetUtcNow();
            await leases.UpdateAsync(lease with
            {
                Spec = lease.Spec with { HolderIdentity = null, LeaseDurationSeconds = 1, RenewTime = now, AcquireTime = now },
            }, cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or StatusException or OperationCanceledException)
        {
            LogAttemptFailed(logger, options.LeaseNamespace, options.LeaseName, e.Message);
        }
    }

    private void Observe(LeaseSpec? spec, DateTimeOffset now)
    {
        if (spec?.HolderIdentity is { Length: > 0 } holder && holder != observedHolder)
        {
            options.OnNewLeader?.Invoke(holder);
        }

        observedHolder = spec?.HolderIdentity;
        observedRenewTime = spec?.RenewTime;
        observedAt = now;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Acquired lease {Namespace}/{Name} as {Identity}")]
    private static partial void LogAcquired(ILogger logger, string @namespace, string name, string identity);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped leading lease {Namespace}/{Name} as {Identity}")]
    private static partial void LogLost(ILogger logger, string @namespace, string name, string identity);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lease {Namespace}/{Name} attempt failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string @namespace, string name, string error);
}
