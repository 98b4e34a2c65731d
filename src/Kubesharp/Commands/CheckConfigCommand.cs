using System.CommandLine;
using Kubesharp.Prerequisites;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp check-config</c>: reports whether this machine has what a node needs (kernel features, cgroup
/// controllers, packages), one line each, and exits 1 when something required is missing.
/// </summary>
internal static class CheckConfigCommand
{
    public static Command Create()
    {
        var packages = new Option<string?>("--node-packages")
        {
            Description = "A package list to check instead of the built-in one (the format of node-packages.txt).",
        };
        var command = new Command("check-config", "Check that this machine has the kernel features and packages a node needs.") { packages };
        command.SetAction(async (result, cancellationToken) =>
        {
            var list = result.GetValue(packages) is { } file
                ? NodePrerequisites.ParsePackages(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false))
                : NodePrerequisites.BuiltInPackages();
            var checks = new NodePrerequisites().Check(list);
            var output = result.InvocationConfiguration.Output;
            foreach (var section in checks.GroupBy(c => c.Section))
            {
                await output.WriteLineAsync($"{section.Key}:").ConfigureAwait(false);
                foreach (var check in section)
                {
                    var mark = check.Ok ? "ok" : check.Required ? "FAIL" : "warn";
                    await output.WriteLineAsync($"  {mark,-4}  {check.Name}: {check.Found}").ConfigureAwait(false);
                }
            }

            var failed = checks.Count(c => !c.Ok && c.Required);
            await output.WriteLineAsync(failed == 0 ? "STATUS: pass" : $"STATUS: {failed} required {(failed == 1 ? "item is" : "items are")} missing").ConfigureAwait(false);
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
