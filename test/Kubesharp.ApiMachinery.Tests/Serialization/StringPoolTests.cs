using System.Reflection;
using System.Runtime;
using System.Text;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class StringPoolTests
{
    [Fact]
    public void Get_SameTextTwice_ReturnsOneInstance_OtherTextItsOwn()
    {
        var pool = new StringPool(8);

        var first = pool.Get("pod-template-hash".AsSpan());
        Assert.Same(first, pool.Get(new string("pod-template-hash".AsSpan())));
        Assert.Same(first, pool.GetUtf8("pod-template-hash"u8));
        Assert.Equal("tier", pool.Get("tier".AsSpan()));
        Assert.Same(string.Empty, pool.Get(ReadOnlySpan<char>.Empty));
    }

    [Fact]
    public void Get_AfterAnotherTextTookTheSlot_ReturnsEqualText()
    {
        // One slot: every text takes it, and a miss still gives the right text.
        var pool = new StringPool(0);

        Assert.Equal("a", pool.Get("a"));
        Assert.Equal("b", pool.Get("b"));
        Assert.Equal("a", pool.Get("a".AsSpan()));
        Assert.Same(pool.Get("a"), pool.Get(new string('a', 1)));
    }

    [Fact]
    public void GetUtf8_LongOrInvalidText_LeftToTheCaller()
    {
        var pool = new StringPool(8);
        var text = new string('x', StringPool.MaxPooledLength);

        Assert.Equal(text, pool.GetUtf8(Encoding.UTF8.GetBytes(text)));
        Assert.Null(pool.GetUtf8(Encoding.UTF8.GetBytes(text + "x")));
        Assert.Null(pool.GetUtf8([0xC3, 0x28]));
        Assert.Equal("значение ✓", pool.GetUtf8(Encoding.UTF8.GetBytes("значение ✓")));
    }

    [Fact]
    public void New_LargePool_HoldsNoLargeObject_AndKeepsEverySlot()
    {
        // Large objects report the oldest generation from the moment they are made; with no collection allowed in
        // between, a table made in the young generation reports 0.
        Assert.True(GC.TryStartNoGCRegion(4 << 20));
        StringPool pool;
        string?[][] segments;
        try
        {
            pool = new StringPool(16);
            segments = (string?[][])typeof(StringPool).GetField("segments", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(pool)!;
            Assert.All(segments, segment => Assert.Equal(0, GC.GetGeneration(segment)));
        }
        finally
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }

        Assert.Equal(1 << 16, segments.Sum(segment => segment.Length));
        // Texts spread over every segment: a text held is given back until another takes its slot.
        var texts = Enumerable.Range(0, 2000).Select(i => $"name-{i}").ToArray();
        var held = texts.Select(text => pool.Get(text)).ToArray();
        var same = texts.Where((text, i) => ReferenceEquals(pool.Get(new string(text.AsSpan())), held[i])).Count();
        Assert.True(same > 1900, $"{same} of {texts.Length} texts were given back from the pool");
        Assert.All(segments, segment => Assert.Contains(segment, slot => slot is not null));
    }
}
