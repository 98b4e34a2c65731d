using Kubesharp.Memory;

namespace Kubesharp.IntegrationTests.Memory;

public sealed class MallocArenaLimitTests
{
    [Fact]
    public void Apply_OnGlibcWithoutMallocArenaMax_CapsTheArenas()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.Equal(MallocArenaLimit.Arenas, MallocArenaLimit.Apply(_ => null));
    }

    [Fact]
    public void Apply_WithMallocArenaMaxInTheEnvironment_LeavesTheOperatorsChoice()
    {
        Assert.Null(MallocArenaLimit.Apply(name => name == "MALLOC_ARENA_MAX" ? "4" : null));
    }
}
