namespace Kubesharp.Kubelet.Probes;

internal enum ProbeKind
{
    Liveness,
    Readiness,
    Startup,
}
