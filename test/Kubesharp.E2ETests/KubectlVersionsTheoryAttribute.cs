namespace Kubesharp.E2ETests;

/// <summary>
/// A theory over kubectl minor versions installed beside the kubectl on PATH; skipped when one is missing, except
/// under CI, where the test runs and fails on the missing binary.
/// </summary>
public sealed class KubectlVersionsTheoryAttribute : TheoryAttribute
{
    public KubectlVersionsTheoryAttribute(params string[] versions)
    {
        var missing = versions.Where(v => Kubectl.OfVersion(v) is null).ToList();
        if (missing.Count > 0 && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"kubectl {string.Join(", ", missing)} not installed beside the kubectl on PATH.";
        }
    }
}
