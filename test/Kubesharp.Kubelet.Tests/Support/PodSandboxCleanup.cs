using Grpc.Core;
using Kubesharp.Cri;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>
/// Stops and removes every pod sandbox of a test node's containerd before the node goes. Container processes outlive
/// their shim once it is killed, so a sandbox skipped here stays running on the machine after the test.
/// </summary>
public static class PodSandboxCleanup
{
    private const int Passes = 3;

    /// <summary>
    /// Each sandbox on its own: one the node is removing at the same time fails alone, and the next pass sees whether
    /// it is gone. Bounded by a few passes.
    /// </summary>
    public static async Task RemoveAllAsync(IRuntimeService runtime, CancellationToken cancellationToken = default)
    {
        for (var pass = 0; pass < Passes; pass++)
        {
            var sandboxes = await runtime.ListPodSandboxAsync(cancellationToken: cancellationToken);
            if (sandboxes.Count == 0)
            {
                return;
            }

            foreach (var sandbox in sandboxes)
            {
                try
                {
                    await runtime.StopPodSandboxAsync(sandbox.Id, cancellationToken);
                    await runtime.RemovePodSandboxAsync(sandbox.Id, cancellationToken);
                }
                catch (RpcException) when (pass < Passes - 1)
                {
                    // The node may be removing the same sandbox; the next pass lists what is left.
                }
            }
        }
    }
}
