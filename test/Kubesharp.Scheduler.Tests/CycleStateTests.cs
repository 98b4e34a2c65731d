using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Tests;

public sealed class CycleStateTests
{
    [Fact]
    public void Read_KeyBuiltAtRunTime_FindsValueWrittenUnderLiteral()
    {
        var state = new CycleState();
        for (var i = 0; i < 20; i++)
        {
            state.Write("plugin" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        state.Write("plugin3", "overwritten");

        Assert.Equal("overwritten", state.Read<string>(string.Concat("plugin", "3")));
        Assert.Equal("19", state.Read<string>("plugin19"));
        Assert.Null(state.Read<string>("absent"));
    }
}
